#!/usr/bin/env bash
# A lockstep parameter sweep as a Slurm job array: one array task per shard, then one merge
# job that runs once every shard has finished (afterok dependency). Submit from the repo
# root after `cargo build --release`:
#
#   SHARDS=8 CONFIG=scenarios/goog_sma_cross.toml \
#   GRID="--grid strategy.fast=5,10,20 --grid strategy.slow=30,50,100" \
#   OUT=/shared/sweeps/goog bash scripts/slurm_sweep.sh
#
# Each task writes $OUT/shard-$I/sweep-shard-$I-of-$SHARDS.parquet (and every point's report
# under points/); the merge job writes $OUT/sweep.parquet/.csv, byte for byte what an
# unsharded `lockstep sweep` writes. OUT must be on a file system all nodes share.
set -euo pipefail
: "${SHARDS:?set SHARDS, the number of array tasks}"
: "${CONFIG:?set CONFIG, the config file of the sweep}"
: "${GRID:?set GRID, e.g. --grid strategy.fast=5,10}"
: "${OUT:?set OUT, a folder every node can write}"
BIN="${BIN:-$(pwd)/target/release/lockstep}"
CPUS="${CPUS:-4}"
mkdir -p "$OUT"

array_id=$(sbatch --parsable \
  --job-name=lockstep-sweep \
  --array="0-$((SHARDS - 1))" \
  --cpus-per-task="$CPUS" \
  --output="$OUT/slurm-%A_%a.out" \
  --wrap="\"$BIN\" sweep \"$CONFIG\" $GRID --shard \$SLURM_ARRAY_TASK_ID/$SHARDS --threads $CPUS --quiet --out \"$OUT/shard-\$SLURM_ARRAY_TASK_ID\"")

sbatch --parsable \
  --job-name=lockstep-sweep-merge \
  --dependency="afterok:$array_id" \
  --output="$OUT/slurm-merge-%j.out" \
  --wrap="\"$BIN\" sweep merge \"$OUT\"/shard-* --out \"$OUT\""
echo "submitted array $array_id ($SHARDS shards) and its merge; results in $OUT/sweep.parquet"
