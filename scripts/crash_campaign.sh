#!/usr/bin/env bash
# The large crash campaign: every crash point x 16 seeds (109 distinct crash schedules of
# live sessions against the loopback fake, 114 SIGKILLs; about 6 minutes), each compared
# with the uncrashed run. Prints the kills per point. The clock runs at 250x, as the CI
# sweep's 2 seeds do (500x left a resumed session 0.11 s of real time to place an order
# within its bar; a machine busy right after a build missed that now and then, and the run
# then differed by timing, not by a fault). Campaigns run SWEEP_JOBS (default 3) at a time,
# each on its own fake and account: they spend over 90 % of their time waiting for the
# fake's clock. Loopback only, no keys needed.
set -euo pipefail
cd "$(dirname "$0")/.."
SWEEP_SEEDS="${SWEEP_SEEDS:-16}" SWEEP_SPEED="${SWEEP_SPEED:-250}" cargo test --release --test crash_sweep -- --nocapture --test-threads 1
