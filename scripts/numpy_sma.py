#!/usr/bin/env python3
"""sma_cross as a vectorised numpy computation, for scripts/bench.sh to compare against.

Same rules as lockstep's sma_cross (long only, one symbol): the fast and slow simple moving
averages of the close are compared exactly (slow * sum_fast against fast * sum_slow, in
integer cents); a cross up while flat buys `qty`, a cross down while long sells it, and
every order fills at the next bar's open. Prints one JSON line: round trips, realized P&L
(which must equal lockstep's summary) and the seconds spent computing, the file already
in memory: the fastest of RUNS computations (default 5; the first often pays for page
faults of fresh arrays, so one run alone can be several times too slow).
Usage: numpy_sma.py FILE.parquet [FAST SLOW QTY [RUNS]]
"""

import json
import sys
import time

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq


def cents(column):
    """A price column as int64 cents (decimal or float columns alike)."""
    return np.rint(pc.cast(column, "float64").to_numpy() * 100).astype(np.int64)


def sma_cross(opens, closes, fast, slow):
    """Entry and exit bar indexes (signal bars) of every round trip, and whether the
    last position is still open."""
    cs = np.concatenate(([0], np.cumsum(closes)))
    t = np.arange(slow - 1, len(closes))
    sum_fast = cs[t + 1] - cs[t + 1 - fast]
    sum_slow = cs[t + 1] - cs[t + 1 - slow]
    rel = np.sign(slow * sum_fast - fast * sum_slow)
    prev, cur = rel[:-1], rel[1:]
    up = (cur > 0) & (prev <= 0)
    down = (cur < 0) & (prev >= 0)
    bars = t[1:]
    # Wanted position after each signal bar: 1 after an up, 0 after a down, else unchanged.
    want = np.full(len(bars), -1, dtype=np.int8)
    want[up] = 1
    want[down] = 0
    last = np.where(want >= 0, np.arange(len(want)), -1)
    np.maximum.accumulate(last, out=last)
    held = np.where(last >= 0, want[np.maximum(last, 0)], 0)
    change = np.diff(np.concatenate(([0], held)))
    entries = bars[change > 0]
    exits = bars[change < 0]
    # An order on the last bar never fills: there is no next open.
    entries = entries[entries + 1 < len(opens)]
    exits = exits[exits + 1 < len(opens)]
    n = min(len(entries), len(exits))
    return entries[:n], exits[:n]


def main():
    path = sys.argv[1]
    fast, slow, qty = (int(a) for a in sys.argv[2:5]) if len(sys.argv) >= 5 else (10, 30, 100)
    runs = int(sys.argv[5]) if len(sys.argv) >= 6 else 5
    table = pq.read_table(path, columns=["open", "close"])
    opens, closes = cents(table["open"]), cents(table["close"])
    secs = float("inf")
    for _ in range(max(runs, 1)):
        start = time.perf_counter()
        entries, exits = sma_cross(opens, closes, fast, slow)
        pnl = int(np.sum(opens[exits + 1] - opens[entries + 1])) * qty
        secs = min(secs, time.perf_counter() - start)
    print(json.dumps({
        "round_trips": int(len(entries)),
        "realized_pnl": f"{pnl / 100:.2f}",
        "compute_secs": secs,
    }))


if __name__ == "__main__":
    main()
