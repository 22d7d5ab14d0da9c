#!/usr/bin/env python3
"""Writes data/signals_scanner_20131007_09.jsonl: the recorded scanner of the scanner profile.

Synthetic, reproducible signals in the manner of seed 003's scanner (every 2 minutes it
scores a universe by velocity and acceleration and writes buy signals over a threshold;
for this universe of large caps, 40), over data/lean_aig_bac_ibm_spy_1m_20131007_09.parquet (QuantConnect/Lean minute bars of AIG,
BAC, IBM and SPY, 2013-10-07..09). At each even minute from 09:40 to 15:30 ET, for each
symbol: velocity = 5-bar return in basis points, acceleration = velocity minus the
velocity 5 bars earlier, volume ratio = last 5 bars' volume over the 30 before, scaled to
5 bars; score = velocity x volume ratio + acceleration. A score >= 40 with velocity > 0
writes a `long` signal, received 3 s after the scan, with the last close as `price`, the
`score`, timeframe `2` and id `<symbol>-<n>`. Like the seed's scanner it writes the same
symbol again on every scan while it qualifies (the duplicates the buyer must not act on).
Needs pyarrow.
"""
import datetime as dt
import json
import pathlib
import pyarrow.parquet as pq

ROOT = pathlib.Path(__file__).resolve().parent.parent
rows = pq.read_table(ROOT / "data/lean_aig_bac_ibm_spy_1m_20131007_09.parquet").to_pylist()
ET = dt.timezone(dt.timedelta(hours=-4))  # EDT in October 2013
by_symbol = {}
for r in rows:
    by_symbol.setdefault(r["symbol"], []).append(r)
out, counts = [], {}
days = sorted({r["ts"].astimezone(ET).date() for r in rows})
for day in days:
    t = dt.datetime.combine(day, dt.time(9, 40), ET)
    while t.time() <= dt.time(15, 30):
        for sym in sorted(by_symbol):
            bars = [b for b in by_symbol[sym] if b["ts"] + dt.timedelta(minutes=1) <= t and b["ts"].astimezone(ET).date() == day]
            if len(bars) < 40:
                continue
            c = [b["close"] for b in bars]
            v = [b["volume"] for b in bars]
            vel = (c[-1] / c[-6] - 1) * 10000
            vel_before = (c[-6] / c[-11] - 1) * 10000
            base = sum(v[-35:-5]) / 6 or 1
            score = vel * (sum(v[-5:]) / base) + (vel - vel_before)
            if score >= 40 and vel > 0:
                counts[sym] = counts.get(sym, 0) + 1
                out.append({
                    "ts": (t + dt.timedelta(seconds=3)).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "symbol": sym,
                    "direction": "long",
                    "timeframe": "2",
                    "id": f"{sym}-{counts[sym]}",
                    "price": f"{c[-1]:.2f}",
                    "score": round(score, 1),
                })
        t += dt.timedelta(minutes=2)
path = ROOT / "data/signals_scanner_20131007_09.jsonl"
path.write_text("".join(json.dumps(o) + "\n" for o in out))
print(f"{len(out)} signals ({counts}) -> {path}")
