#!/usr/bin/env python3
"""Writes data/signals_goog_20151224.jsonl: the recorded alerts of the dual_engine profile.

Synthetic, reproducible TradingView-style alerts on GOOG's one-minute chart of 2015-12-24
(data/lean_goog_1m_20151223_28.parquet, QuantConnect/Lean minute bars): an alert fires
when a bar's close crosses its 10-bar simple moving average, from 09:40 to 12:45 ET; long
on a cross up, short on a cross down. Each alert is received 2 s after its bar closes
(`ts`), carries the bar's close as `price`, timeframe `1`, id `goog-<n>` and a `confidence`
of |close / sma - 1| x 20,000 capped to 99 (whole numbers). Needs pyarrow.
"""
import datetime as dt
import json
import pathlib
import pyarrow.parquet as pq

ROOT = pathlib.Path(__file__).resolve().parent.parent
bars = pq.read_table(ROOT / "data/lean_goog_1m_20151223_28.parquet").to_pylist()
day = [b for b in bars if b["ts"].astimezone(dt.timezone(dt.timedelta(hours=-5))).date() == dt.date(2015, 12, 24)]
day.sort(key=lambda b: b["ts"])
closes, out, prev, n = [], [], None, 0
for b in day:
    closes.append(b["close"])
    if len(closes) < 10:
        continue
    sma = sum(closes[-10:]) / 10
    side = "above" if b["close"] > sma else "below" if b["close"] < sma else prev
    et = (b["ts"] + dt.timedelta(minutes=1)).astimezone(dt.timezone(dt.timedelta(hours=-5))).time()
    if prev is not None and side != prev and dt.time(9, 40) <= et <= dt.time(12, 45):
        n += 1
        received = b["ts"] + dt.timedelta(minutes=1, seconds=2)
        out.append({
            "ts": received.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "symbol": "GOOG",
            "direction": "long" if side == "above" else "short",
            "timeframe": "1",
            "id": f"goog-{n}",
            "price": f"{b['close']:.2f}",
            "confidence": min(99, round(abs(b["close"] / sma - 1) * 20000)),
        })
    prev = side
path = ROOT / "data/signals_goog_20151224.jsonl"
path.write_text("".join(json.dumps(o) + "\n" for o in out))
print(f"{len(out)} signals -> {path}")
