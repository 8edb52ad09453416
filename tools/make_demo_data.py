"""Build the demo dataset (demo/data/*.csv) from published figures plus labelled illustrative splits.

Run once by a developer (`python tools/make_demo_data.py`); the CSVs are committed. What is published
and what is illustrative is listed in demo/data/README.md. Per-fund splits are illustrative
except where a published per-fund figure exists (launch day, IBIT on 18 Nov 2025).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common.calendar import trading_days  # noqa: E402  (the parser's own calendar: no flows on a holiday)

OUT = Path(__file__).resolve().parent.parent / "demo" / "data"
D = dt.date

BTC = ["IBIT", "FBTC", "BITB", "ARKB", "BTCO", "EZBC", "BRRR", "HODL", "BTCW", "GBTC", "BTC"]
BTC_WEIGHTS = {"IBIT": 0.50, "FBTC": 0.22, "BITB": 0.05, "ARKB": 0.08, "HODL": 0.03, "GBTC": 0.09, "BTC": 0.03}
ETH = ["ETHA", "FETH", "ETHW", "TETH", "ETHV", "QETH", "EZET", "ETHE", "ETH"]
ETH_WEIGHTS = {"ETHA": 0.55, "FETH": 0.2, "ETHW": 0.05, "ETHE": 0.12, "ETH": 0.08}
SOL = ["BSOL", "GSOL", "VSOL", "FSOL", "TSOL", "SOEZ"]
SOL_WEIGHTS = {"BSOL": 0.8, "GSOL": 0.15, "VSOL": 0.05}


def split(
    total: float, weights: dict[str, float], funds: list[str], fixed: dict[str, float] | None = None
) -> dict[str, float | None]:
    """Split a published total across funds (illustrative), exact to 0.1 so the funds add up to the total."""
    fixed = fixed or {}
    rest = round(total - sum(fixed.values()), 1)
    free = {f: w for f, w in weights.items() if f not in fixed}
    scale = sum(free.values())
    out: dict[str, float | None] = {f: 0.0 for f in funds}
    out.update(fixed)
    for f, w in free.items():
        out[f] = round(rest * w / scale, 1)
    drift = round(total - sum(v for v in out.values() if v is not None), 1)
    anchor = next(f for f in free)  # the largest free fund absorbs the rounding
    out[anchor] = round(out[anchor] + drift, 1)
    return out


def write(name: str, funds: list[str], rows: list[tuple[dt.date, dict[str, float | None]]]) -> None:
    with open(OUT / f"{name}.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["date", *funds])
        for day, values in rows:
            w.writerow([day.isoformat(), *("-" if values.get(f) is None else f"{values[f]:.1f}" for f in funds)])


def btc() -> list:
    rows = []
    # Launch day, 11 Jan 2024: total +655.3; IBIT/FBTC/BITB/ARKB/GBTC published, the rest illustrative.
    launch = {
        "IBIT": 111.7,
        "FBTC": 227.0,
        "BITB": 237.9,
        "ARKB": 65.3,
        "BTCO": 17.4,
        "EZBC": 50.1,
        "BRRR": 0.0,
        "HODL": 10.6,
        "BTCW": 30.4,
        "GBTC": -95.1,
        "BTC": None,
    }
    rows.append((D(2024, 1, 11), launch))
    # Feb 2025: month -3,560.4 over 19 sessions and 25 Feb -1,113.7 are published; other days illustrative.
    feb = [
        (3, -234.5),
        (4, 340.7),
        (5, 66.4),
        (6, -140.2),
        (7, 171.0),
        (10, 186.6),
        (11, -56.8),
        (12, -251.0),
        (13, -156.0),
        (14, -580.2),
        (18, -60.6),
        (19, -65.1),
        (20, 94.3),
        (21, -62.0),
        (24, -516.4),
        (25, -1113.7),
        (26, -754.6),
        (27, -274.7),
    ]
    feb.append((28, round(-3560.4 - sum(t for _, t in feb), 1)))
    for day, total in feb:
        rows.append((D(2025, 2, day), split(total, BTC_WEIGHTS, BTC, {"IBIT": round(total * 0.3, 1)})))
    # Nov 2025: 3-7, 10, 11, 13 and 18 Nov totals are published (seeds); IBIT -523.2 on 18 Nov is published.
    # 12, 14, 17, 19, 20, 21 Nov totals and every other per-fund split are illustrative.
    nov = [
        (3, -186.5, -80.0),
        (4, -566.4, -261.5),
        (5, -137.0, 0.0),
        (6, 239.9, 112.4),
        (7, -558.4, -131.4),
        (10, 1.2, 0.0),
        (11, 524.0, 224.2),
        (12, -278.0, -210.4),
        (13, -866.7, -463.1),
        (14, -492.1, -328.6),
        (17, -254.5, -145.9),
        (18, -372.7, -523.2),
        (19, 75.4, 60.6),
        (20, -903.2, -355.5),
        (21, 238.4, 20.1),
    ]
    for day, total, ibit in nov:
        rows.append((D(2025, 11, day), split(total, BTC_WEIGHTS, BTC, {"IBIT": ibit})))
    # 24 Nov 2025: the demo's "today", half reported (IBIT and others not yet in): illustrative.
    today = {f: None for f in BTC}
    today.update({"FBTC": 42.1, "BITB": 8.0, "ARKB": -12.4, "GBTC": 0.0, "BTC": 11.2})
    rows.append((D(2025, 11, 24), today))
    return rows


def eth() -> list:
    # 18 Nov 2025 total -74.2 is published (seed); every other value is illustrative.
    totals = [
        (3, -135.8),
        (4, -219.4),
        (5, -118.5),
        (6, 12.5),
        (7, -46.6),
        (10, 0.0),
        (11, -107.1),
        (12, -183.7),
        (13, -259.6),
        (14, -177.9),
        (17, -182.7),
        (18, -74.2),
        (19, -37.4),
        (20, -261.6),
        (21, 55.7),
    ]
    return [(D(2025, 11, d), split(t, ETH_WEIGHTS, ETH)) for d, t in totals]


def sol() -> list:
    # 18 Nov 2025 +26.2 is published (seed), as is the cumulative "more than $421M" by then; the rest illustrative.
    totals = [(28, 69.5), (29, 46.5), (30, 37.3), (31, 44.5)]
    rows = [(D(2025, 10, d), split(t, SOL_WEIGHTS, SOL)) for d, t in totals]
    for day, t in [
        (3, 70.1),
        (4, 14.8),
        (5, 9.7),
        (6, 9.7),
        (7, 12.9),
        (10, 6.8),
        (11, 8.0),
        (12, 1.5),
        (13, 1.5),
        (14, 12.0),
        (17, 8.3),
        (18, 26.2),
        (19, 30.1),
        (20, 23.7),
        (21, 19.6),
    ]:
        rows.append((D(2025, 11, day), split(t, SOL_WEIGHTS, SOL)))
    return rows


# Fill-in history (illustrative, seeded): every trading day from a fund family's launch to the demo's last
# complete session that has no row above, so the demo holds the history a user has (BTC since 11 Jan 2024,
# ETH since 23 Jul 2024). Regimes follow the era's broad shape (heavy early inflows, GBTC's and ETHE's
# launch outflows, the late-2024 rally, the spring-2025 drawdown, the summer-2025 ETH run); magnitudes stay
# inside the largest days ever published (about 1,300 a day for BTC, 730 for ETH).
LAST_COMPLETE = D(2025, 11, 21)
BTC_MINI_LAUNCH = D(2024, 7, 31)
IBIT_FLOOR = -480.0  # Grayscale's BTC mini trust: "-" before its first session


def _regime(day: dt.date, anchors: list[tuple[dt.date, float]]) -> float:
    """Piecewise-linear mean daily flow between dated anchors."""
    for (d0, m0), (d1, m1) in zip(anchors, anchors[1:], strict=False):
        if d0 <= day <= d1:
            return m0 + (m1 - m0) * (day - d0).days / max((d1 - d0).days, 1)
    return anchors[-1][1]


BTC_MEAN = [
    (D(2024, 1, 11), 150.0),
    (D(2024, 3, 15), 250.0),
    (D(2024, 5, 1), -150.0),
    (D(2024, 7, 15), 250.0),
    (D(2024, 9, 5), -100.0),
    (D(2024, 11, 15), 380.0),
    (D(2025, 1, 20), 150.0),
    (D(2025, 3, 15), -250.0),
    (D(2025, 5, 20), 250.0),
    (D(2025, 7, 15), 250.0),
    (D(2025, 9, 1), -50.0),
    (D(2025, 10, 10), 250.0),
    (D(2025, 11, 21), -350.0),
]
ETH_MEAN = [
    (D(2024, 7, 23), -80.0),
    (D(2024, 9, 1), -20.0),
    (D(2024, 12, 10), 120.0),
    (D(2025, 2, 15), -40.0),
    (D(2025, 5, 1), -20.0),
    (D(2025, 7, 20), 260.0),
    (D(2025, 8, 25), 50.0),
    (D(2025, 10, 15), -50.0),
    (D(2025, 11, 21), -150.0),
]


def _noisy_split(
    rng: random.Random, total: float, weights: dict[str, float], funds: list[str], absent: set[str]
) -> dict[str, float | None]:
    """Split a day's total across funds with per-fund noise; small funds often report 0.0, as they do."""
    out: dict[str, float | None] = {f: (None if f in absent else 0.0) for f in funds}
    live = {f: w * rng.uniform(0.4, 1.6) for f, w in weights.items() if f not in absent}
    scale = sum(live.values())
    for f, w in live.items():
        if f != next(iter(live)) and w / scale < 0.06 and rng.random() < 0.55:
            continue  # a small fund's quiet day
        out[f] = round(total * w / scale + rng.gauss(0, 4.0), 1)
    return out


def _total(values: dict[str, float | None]) -> float:
    return sum(v for v in values.values() if v is not None)


def fill(
    rows: list, funds: list[str], first: dt.date, mean: list, sd: float, cap: float, outflow: tuple[str, float, float], seed: int
) -> list:
    """`rows` plus a seeded illustrative row for every missing trading day in [first, LAST_COMPLETE]."""
    rng = random.Random(seed)
    have = {d for d, _ in rows}
    bleeder, start_out, half_life = outflow  # the converted trust's outflows, decaying from launch
    weights = BTC_WEIGHTS if funds is BTC else ETH_WEIGHTS
    days = trading_days(first, LAST_COMPLETE)
    flows = {day: max(-cap, min(cap, rng.gauss(_regime(day, mean), sd))) for day in days}
    # The published record outflow month (BTC Feb 2025, -3,560.4) stays the record: a generated month
    # below `floor` is lifted evenly (the demo's story has Nov 2025 closing in on that record).
    floor = -2800.0 if funds is BTC else -1500.0
    for month in {(d.year, d.month) for d in days}:
        mine = [d for d in days if (d.year, d.month) == month and d not in have]
        total = sum(flows[d] for d in mine) + sum(t for d, v in rows if (d.year, d.month) == month for t in [_total(v)])
        if mine and total < floor:
            for d in mine:
                flows[d] += (floor - total) / len(mine) + 50.0
    for day in days:
        flow = flows[day]
        if day in have:
            continue  # published or already-listed figures win
        age = (day - first).days
        out = start_out * math.exp(-age / half_life) * rng.uniform(0.5, 1.5)
        absent = {"BTC"} if funds is BTC and day < BTC_MINI_LAUNCH else set()
        values = _noisy_split(rng, flow - out, {f: w for f, w in weights.items() if f != bleeder}, funds, absent)
        values[bleeder] = round(out + rng.gauss(0, 6.0) * (0.3 if age > 200 else 1.0), 1)
        # IBIT's published -523.2 on 18 Nov 2025 was its record outflow day: no generated day beats it.
        if (values.get("IBIT") or 0.0) < IBIT_FLOOR:
            values["IBIT"] = round(IBIT_FLOOR + rng.uniform(0, 60), 1)
        rows.append((day, values))
    return sorted(rows, key=lambda r: r[0])


if __name__ == "__main__":
    write("btc", BTC, fill(btc(), BTC, D(2024, 1, 11), BTC_MEAN, 380.0, 1300.0, ("GBTC", -420.0, 70.0), 11))
    write("eth", ETH, fill(eth(), ETH, D(2024, 7, 23), ETH_MEAN, 130.0, 730.0, ("ETHE", -330.0, 25.0), 23))
    write("sol", SOL, sol())
    print(f"wrote {OUT}")
