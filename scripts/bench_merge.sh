#!/usr/bin/env bash
# Multi-symbol merge benchmark (issue 15's scale goal): sma_cross 10/30 over MERGE_FILES
# symbols of MERGE_ROWS bars each, one Parquet file per symbol merged by time, against one
# file holding as many bars of one symbol. Both are whole processes writing the full report
# (all tables and their Parquet twins; no HTML page, which would chart 100 symbols against
# one); they alternate, BENCH_RUNS times each (default 5), so a shared machine's slow minutes fall
# on both. Prints bars/s and peak RSS of each (best and median run) and the merge's speed as
# a share of the single file's, from best and from median times (the goal is >= 70 %).
# With SAFETY=1 both runs carry the safety core of scripts/bench.sh.
# Data is generated once into bench-data/ (git-ignored): 100 x 500 k bars is about 0.5 GB.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/lockstep
files=${MERGE_FILES:-100}
rows=${MERGE_ROWS:-500000}
runs=${BENCH_RUNS:-5}
total=$((files * rows))

dir="bench-data/merge-$files-$rows"
mkdir -p "$dir"
merged=()
for ((i = 0; i < files; i++)); do
  f="$dir/S$i.parquet"
  [ -f "$f" ] || "$bin" data synth --rows "$rows" --seed $((i + 1)) --symbol "S$i" --out "$f" >/dev/null
  merged+=(--data "$f")
done
single="bench-data/synth-$total.parquet"
[ -f "$single" ] || "$bin" data synth --rows "$total" --seed 1 --out "$single" >/dev/null

extra=()
label="sma 10/30"
if [ "${SAFETY:-0}" = 1 ]; then
  # The safety core exactly as scripts/bench.sh sets it.
  mapfile -t extra < <(sed -n '/^safety=(/,/)$/p' scripts/bench.sh | tr -d '()' |
    sed 's/^safety=//' | tr -s ' \n' '\n' | grep -v '^$')
  label="10/30 + safety core"
fi

python3 - "$total" "$files" "$runs" "$label" \
  -- "$bin" backtest --quiet --no-html --name merge --out bench-data/run-merge "${merged[@]}" "${extra[@]}" \
  -- "$bin" backtest --quiet --no-html --name single --out bench-data/run-single --data "$single" "${extra[@]}" <<'PY'
import os, statistics, subprocess, sys, time
total, files, runs, label = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rest = sys.argv[5:]
cut = [i for i, a in enumerate(rest) if a == "--"]
merge_cmd, single_cmd = rest[cut[0] + 1:cut[1]], rest[cut[1] + 1:]
walls = {"merge": [], "single": []}
rss = {"merge": 0, "single": 0}
for _ in range(max(runs, 1)):
    for name, cmd in (("merge", merge_cmd), ("single", single_cmd)):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        walls[name].append(time.perf_counter() - start)
        if status != 0:
            sys.exit(f"{name} run failed: {' '.join(cmd)}")
        rss[name] = max(rss[name], usage.ru_maxrss)
for name, what in (("merge", f"{files} files"), ("single", "one file")):
    best, median = min(walls[name]), statistics.median(walls[name])
    print(f"{total:>10} bars  {label}, {what:<10} best {best:7.3f} s ({total / best / 1e6:5.2f} M bars/s)"
          f"  median {median:7.3f} s  peak RSS {rss[name] / 1024:.1f} MiB")
best = min(walls["single"]) / min(walls["merge"])
median = statistics.median(walls["single"]) / statistics.median(walls["merge"])
print(f"merge speed / single speed: {best:.0%} (best runs), {median:.0%} (median runs); goal >= 70 %")
PY
