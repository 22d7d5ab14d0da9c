#!/usr/bin/env bash
# Full-pipeline benchmark: sma_cross over 1M and 5M synthetic 1-minute bars from Parquet,
# including the report, without and with the safety core. Prints bars/s (from run.json) and peak RSS (from /usr/bin/time or
# run.json). Data is generated once into bench-data/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/lockstep
mkdir -p bench-data
for n in 1000000 5000000; do
  f="bench-data/synth-$n.parquet"
  [ -f "$f" ] || "$bin" data synth --rows "$n" --seed 1 --out "$f" >/dev/null
  for mode in plain safety; do
    out="bench-data/run-$n-$mode"
    extra=()
    if [ "$mode" = safety ]; then
      # The safety core as a cautious user sets it: risk limits, exit rules, NYSE EOD guard.
      extra=(--set data.calendar=nyse --set data.session=extended
        --set risk.max_order_notional=1000000 --set risk.max_position_qty=1000
        --set risk.max_open_positions=5 --set risk.max_daily_trades=10000
        --set risk.daily_loss_limit=50000 --set risk.stale_after_secs=600
        --set risk.loss_streak=50 --set exits.hard_stop_pct=0.02
        --set exits.take_profit_pct=0.04 --set exits.trailing_pct=0.01
        --set exits.trailing_activation_pct=0.005 --set exits.max_hold_secs=86400)
    fi
    "$bin" backtest --quiet --data "$f" --out "$out" --name "bench-$n" "${extra[@]}" >/dev/null
    python3 - "$out/run.json" "$n" "$mode" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rss = r.get("peak_rss_bytes") or 0
print(f"{int(sys.argv[2]):>9} bars  {sys.argv[3]:>6}  {r['bars_per_sec']/1e6:6.2f} M bars/s  wall {r['wall_secs']:.3f} s  peak RSS {rss/2**20:.1f} MiB")
PY
  done
done
