#!/usr/bin/env bash
# Walk-forward benchmark: param_search over a 4-point sma_cross grid on 1 M synthetic
# 1-minute bars (about 694 days, 24x7), rolling 60-day train / 30-day test windows (22
# windows, 6 backtests each), with 1 and 2 worker threads. Prints windows, wall time, speed-up
# and peak RSS, and checks both runs give the same hash. Data goes to bench-data/ (ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/lockstep
mkdir -p bench-data
data=bench-data/synth-1000000.parquet
[ -f "$data" ] || "$bin" data synth --rows 1000000 --seed 1 --out "$data" >/dev/null
cfg=bench-data/walkforward.toml
cat > "$cfg" <<'TOML'
[data]
paths = ["synth-1000000.parquet"]
[strategy]
name = "sma_cross"
[walkforward]
train = "60d"
test = "30d"
learner = "param_search"
objective = "realized_pnl"
grid = { "strategy.fast" = [10, 20], "strategy.slow" = [60, 120] }
TOML
declare -A wall
for t in 1 2; do
  out="bench-data/walkforward-$t"
  rm -rf "$out"
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "bench-data/wf-rss-$t" "$bin" walkforward "$cfg" --threads "$t" --quiet --out "$out"
  end=$(date +%s.%N)
  wall[$t]=$(python3 -c "print(f'{$end - $start:.2f}')")
  windows=$(python3 -c "import json; print(json.load(open('$out/walkforward.json'))['windows'])")
  rss=$(( $(cat "bench-data/wf-rss-$t") / 1024 ))
  echo "threads $t: $windows windows in ${wall[$t]} s, peak RSS $rss MiB"
done
python3 -c "print(f'speed-up 2 vs 1 thread: {${wall[1]} / ${wall[2]}:.2f}x')"
h1=$(python3 -c "import json; print(json.load(open('bench-data/walkforward-1/walkforward.json'))['hash'])")
h2=$(python3 -c "import json; print(json.load(open('bench-data/walkforward-2/walkforward.json'))['hash'])")
[ "$h1" = "$h2" ] && echo "same hash with 1 and 2 threads: $h1"
