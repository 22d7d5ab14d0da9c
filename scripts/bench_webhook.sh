#!/usr/bin/env bash
# Webhook acknowledgement latency: a real-time paper session against the loopback fake
# takes 100 signed signals a second (BENCH_SECS, default 30) and the script prints p50,
# p90, p99 and the worst answer time. Target: p99 under 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --test webhook_cli -- --ignored --nocapture webhook_ack_latency 2>&1 \
  | grep -E "^webhook|test result"
