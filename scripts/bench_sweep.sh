#!/usr/bin/env bash
# Sweep benchmark: a 100-point grid of sma_cross (fast 5..14 x slow 30..120) over 1 M
# synthetic 1-minute bars, with 1 and with 2 worker threads. Prints points/s, wall time, the
# speed-up and peak RSS, and checks the two tables are identical. Data is generated once into
# bench-data/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/lockstep
mkdir -p bench-data
data=bench-data/synth-1000000.parquet
[ -f "$data" ] || "$bin" data synth --rows 1000000 --seed 1 --out "$data" >/dev/null
cfg=bench-data/sweep.toml
printf '[data]\npaths = ["synth-1000000.parquet"]\n[strategy]\nname = "sma_cross"\n' > "$cfg"
declare -A wall
for t in 1 2; do
  out="bench-data/sweep-$t"
  rm -rf "$out"
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "bench-data/rss-$t" "$bin" sweep "$cfg" \
    --grid strategy.fast=5,6,7,8,9,10,11,12,13,14 \
    --grid strategy.slow=30,40,50,60,70,80,90,100,110,120 \
    --threads "$t" --quiet --out "$out"
  end=$(date +%s.%N)
  wall[$t]=$(python3 -c "print(f'{$end - $start:.2f}')")
  rss=$(( $(cat "bench-data/rss-$t") / 1024 ))
  python3 -c "print(f'threads {$t}: 100 points in {${wall[$t]}} s, {100 / ${wall[$t]}:.2f} points/s, {100e6 / ${wall[$t]} / 1e6:.2f} M bars/s, peak RSS $rss MiB')"
done
python3 -c "print(f'speed-up 2 vs 1 thread: {${wall[1]} / ${wall[2]}:.2f}x')"
cmp bench-data/sweep-1/sweep.parquet bench-data/sweep-2/sweep.parquet && echo "tables identical"
