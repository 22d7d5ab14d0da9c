#!/usr/bin/env python3
"""Small samples of the shared FX and crypto files for the price-scale tests (issue 15).

- data/backtestingpy_eurusd_1h_1000.csv: the first 1,000 rows of
  ../shared/data/backtestingpy_eurusd_1h.csv (PyPI backtesting==0.6.6 test data), unchanged.
- data/freqtrade_dash_btc_5m_floats.parquet: the first 1,000 DASH/BTC rows of
  ../shared/data/freqtrade_altbtc_5m.parquet (freqtrade test data, Bittrex), float columns
  only: the exact *_text columns are dropped, so lockstep must infer the 8 decimals.
Run from the repository root with numpy and pyarrow (bench-data/.venv has both).
"""

import pyarrow.compute as pc
import pyarrow.parquet as pq

SHARED = "../shared/data"

with open(f"{SHARED}/backtestingpy_eurusd_1h.csv") as src:
    lines = src.readlines()[:1001]
with open("data/backtestingpy_eurusd_1h_1000.csv", "w") as out:
    out.writelines(lines)

table = pq.read_table(f"{SHARED}/freqtrade_altbtc_5m.parquet")
dash = table.filter(pc.equal(table["symbol"], "DASH/BTC")).slice(0, 1000)
dash = dash.select(["ts", "symbol", "open", "high", "low", "close", "volume"])
meta = dict(table.schema.metadata or {})
meta[b"sample"] = b"first 1000 DASH/BTC rows, float columns only (text columns dropped)"
pq.write_table(dash.replace_schema_metadata(meta), "data/freqtrade_dash_btc_5m_floats.parquet",
               compression="zstd")
