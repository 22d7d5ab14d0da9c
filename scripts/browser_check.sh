#!/usr/bin/env bash
# Renders report.html (default run), sweep.html and walkforward.html in headless Chromium and
# checks them (scripts/browser_check.py). Installs Debian's chromium when it is missing.
# Uses the release binary the tests built; screenshots land in target/browser-check/.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/lockstep
out=target/browser-check
if ! command -v chromium >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    sudo=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo="sudo -E"; fi
    $sudo apt-get install -y -q chromium fonts-dejavu-core >/dev/null 2>&1 ||
        { $sudo apt-get update -q >/dev/null &&
            $sudo apt-get install -y -q chromium fonts-dejavu-core >/dev/null; }
fi
rm -rf "$out" && mkdir -p "$out"
"$bin" backtest --quiet --out "$out/run"
"$bin" sweep scenarios/goog_sma_cross.toml --grid strategy.fast=5,10,20 \
    --grid strategy.slow=30,50 --quiet --out "$out/sweep"
cat > "$out/wf.toml" <<TOML
[data]
paths = ["$(pwd)/data/backtestingpy_goog_1d.csv"]
interval = "1d"

[strategy]
name = "sma_cross"
fast = 10
slow = 30
qty = 100

[walkforward]
train = "730d"
test = "365d"
mode = "rolling"
learner = "param_search"
objective = "realized_pnl"
min_trades = 1
grid = { "strategy.fast" = [5, 10, 20], "strategy.slow" = [30, 50] }
TOML
"$bin" walkforward "$out/wf.toml" --quiet --out "$out/wf"
python3 scripts/browser_check.py "$(command -v chromium)" "$out/shots" "$out/run" "$out/sweep" "$out/wf"
