#!/usr/bin/env bash
# The bar readers under mutation, large run: 100,000 mutated CSV files and 10,000
# corrupted Parquet files through open_source, read to the end (CI runs 3,000 and 300).
# Nothing may panic; every refusal names the file. About 30 s.
set -euo pipefail
cd "$(dirname "$0")/.."
READER_FUZZ_CASES="${READER_FUZZ_CASES:-100000}" cargo test --release -p lockstep-data --test reader_fuzz
