#!/usr/bin/env bash
# The large crash campaign: every crash point x 16 seeds (208 crashed-and-resumed live
# sessions against the loopback fake), each compared with the uncrashed run. Prints the
# kills per point; about 15 minutes on 2 cores. Loopback only, no keys needed.
set -euo pipefail
cd "$(dirname "$0")/.."
SWEEP_SEEDS="${SWEEP_SEEDS:-16}" cargo test --release --test crash_sweep -- --nocapture --test-threads 1
