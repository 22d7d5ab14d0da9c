#!/usr/bin/env bash
# Whole-process benchmark (one thread, Parquet in, full report out) on synthetic 1-minute
# bars from `data synth`: sma_cross 10/30 and 200/1000, the same with the safety core on,
# and `data inspect` (read + validate). Prints bars/s from the process's wall time and its
# peak RSS. Then the same sma_cross 10/30 as a vectorised numpy computation
# (scripts/numpy_sma.py, in a virtualenv under bench-data/ made on first use, or skipped
# with a message) with the ratio of numpy's compute time to lockstep's whole process, each
# the fastest of its runs; the two must agree on round trips and realized P&L.
# Data is generated once into bench-data/ (git-ignored). BENCH_ROWS overrides the sizes,
# BENCH_RUNS (default 3) the runs per line.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/lockstep
mkdir -p bench-data
rows=${BENCH_ROWS:-"1000000 5000000"}

# The safety core as a cautious user sets it: risk limits, exit rules, NYSE EOD guard.
safety=(--set data.calendar=nyse --set data.session=extended
  --set risk.max_order_notional=1000000 --set risk.max_position_qty=1000
  --set risk.max_open_positions=5 --set risk.max_daily_trades=10000
  --set risk.daily_loss_limit=50000 --set risk.stale_after_secs=600
  --set risk.loss_streak=50 --set exits.hard_stop_pct=0.02
  --set exits.take_profit_pct=0.04 --set exits.trailing_pct=0.01
  --set exits.trailing_activation_pct=0.005 --set exits.max_hold_secs=86400)

# Runs per measurement: each line reports the fastest wall time and the largest peak RSS of
# this many runs (a shared machine's noise only ever slows a run down).
runs=${BENCH_RUNS:-3}

# timed N LABEL CMD...: runs CMD $runs times, prints bars/s and peak RSS; leaves the best
# wall time in $wall. Wall time is taken around each process (perf_counter), peak RSS from
# the kernel's accounting of the finished children (getrusage).
timed() {
  local n=$1 label=$2
  shift 2
  python3 - "$n" "$label" "$runs" bench-data/.wall "$@" <<'PY'
import resource, subprocess, sys, time
n, label, runs, out, cmd = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
wall = float("inf")
for _ in range(max(runs, 1)):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    wall = min(wall, time.perf_counter() - start)
rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{n:>9} bars  {label:<20} {n / wall / 1e6:6.2f} M bars/s  wall {wall:.3f} s  peak RSS {rss_kib / 1024:.1f} MiB")
open(out, "w").write(f"{wall}\n")
PY
  read -r wall <bench-data/.wall
}

for n in $rows; do
  f="bench-data/synth-$n.parquet"
  [ -f "$f" ] || "$bin" data synth --rows "$n" --seed 1 --out "$f" >/dev/null
  run=("$bin" backtest --quiet --data "$f" --name "bench-$n")
  timed "$n" "sma 10/30" "${run[@]}" --out "bench-data/run-$n-plain"
  wall_10_30=$wall
  timed "$n" "sma 200/1000" "${run[@]}" --out "bench-data/run-$n-slow" \
    --set strategy.fast=200 --set strategy.slow=1000
  timed "$n" "10/30 + safety core" "${run[@]}" --out "bench-data/run-$n-safety" "${safety[@]}"
  timed "$n" "data inspect" "$bin" data inspect "$f"
done

# numpy on the largest file.
venv=bench-data/.venv
if [ ! -x "$venv/bin/python" ]; then
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet numpy pyarrow; } >/dev/null 2>&1; then
    rm -rf "$venv"
    echo "numpy comparison skipped: could not make a virtualenv with numpy and pyarrow (python3 -m venv, pip install numpy pyarrow)"
    exit 0
  fi
fi
"$venv/bin/python" scripts/numpy_sma.py "$f" >bench-data/.numpy.json
python3 - bench-data/.numpy.json "bench-data/run-$n-plain/summary.json" "$wall_10_30" <<'PY'
import json, sys
np_ = json.load(open(sys.argv[1]))
ls = json.load(open(sys.argv[2]))
wall = float(sys.argv[3])
same = np_["round_trips"] == ls["round_trips"] and np_["realized_pnl"] == ls["realized_pnl"]
print(f"numpy sma 10/30: {np_['round_trips']} round trips, realized {np_['realized_pnl']}, "
      f"compute {np_['compute_secs']:.3f} s; lockstep whole process {wall:.3f} s; "
      f"ratio numpy/lockstep {np_['compute_secs'] / wall:.2f}")
if not same:
    print(f"MISMATCH: lockstep has {ls['round_trips']} round trips, realized {ls['realized_pnl']}")
    sys.exit(1)
PY
