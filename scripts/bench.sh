#!/usr/bin/env bash
# Full-pipeline benchmark: sma_cross over 1M and 5M synthetic 1-minute bars from Parquet,
# including the report. Prints bars/s (from run.json) and peak RSS (from /usr/bin/time or
# run.json). Data is generated once into bench-data/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/lockstep
mkdir -p bench-data
for n in 1000000 5000000; do
  f="bench-data/synth-$n.parquet"
  [ -f "$f" ] || "$bin" data synth --rows "$n" --seed 1 --out "$f" >/dev/null
  out="bench-data/run-$n"
  "$bin" backtest --quiet --data "$f" --out "$out" --name "bench-$n" >/dev/null
  python3 - "$out/run.json" "$n" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rss = r.get("peak_rss_bytes") or 0
print(f"{int(sys.argv[2]):>9} bars  {r['bars_per_sec']/1e6:6.2f} M bars/s  wall {r['wall_secs']:.3f} s  peak RSS {rss/2**20:.1f} MiB")
PY
done
