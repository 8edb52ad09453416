"""The demo replay: the bundled dataset served as Farside pages to the real fetchers, no network.

Everything the demo shows goes through the same fetch -> parse -> store -> analytics path as live
data; only the transport and the clock are replaced. See demo/data/README.md for what is published
and what is illustrative.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import json
import logging
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TypedDict

import httpx
import platformdirs

from common.config import KEYED, SECTIONS, Config
from sources.farside import HISTORY_PATHS, RECENT_PATHS
from sources.farside_render import render_page
from store import Store

from . import sosovalue as demo_sosovalue
from . import venues as demo_venues

DEMO_BASE_URL = "https://demo.flowtape.invalid"
# The demo's clock: Monday 24 Nov 2025, 17:00 New York, with that day half reported.
DEMO_NOW = dt.datetime(2025, 11, 24, 22, 0, tzinfo=dt.UTC)
DEMO_NOTICE = "13 published flow days, rest illustrative"
# Where the demo's data came from and its gaps (demo/data/README.md has the detail): shown in the help
# screen and once as a toast when `flowtape --demo` starts.
PROVENANCE = (
    "demo data: Farside-format flows for BTC since 11 Jan 2024 (470 sessions), ETH since 23 Jul 2024 and SOL "
    "since 28 Oct 2025 (their launches); 13 daily totals and the Feb 2025 BTC month are published figures, "
    "every other flow is illustrative (seeded); 24 Nov 2025 is half reported. Venue, candle and Fed-odds "
    "observations are illustrative: a year of them, thinned as the store keeps its own (daily past 30 days, "
    "hourly past 48 h, 10-minute polls since); CME replays its bot wall."
)
RECENT_ROWS = 15
Rows = list[tuple[dt.date, list[float | None], float | None]]  # (day, per-fund values, Farside's Total)


def load_dataset(asset: str) -> tuple[list[str], Rows]:
    text = resources.files("demo").joinpath("data", f"{asset}.csv").read_text(encoding="utf-8")
    reader = csv.reader(text.splitlines())
    header = next(reader)
    tickers = header[1:]
    rows: list[tuple[dt.date, list[float | None], float | None]] = []
    for line in reader:
        values = [None if v == "-" else float(v) for v in line[1:]]
        present = [v for v in values if v is not None]
        total = round(sum(present), 1) + 0.0  # Farside's Total is the running sum of what has reported
        rows.append((dt.date.fromisoformat(line[0]), values, total))
    return tickers, rows


class _PageStyle(TypedDict, total=False):
    """render_page's layout options a demo page overrides."""

    fee_rows: int
    total_header: str


BTC_LAUNCH = dt.date(2024, 1, 11)


def compact_rows(asset: str, rows: Rows) -> Rows:
    """The compact demo the test suite uses (36 BTC / 15 ETH / 19 SOL sessions, quick to compute): the seed
    sessions only, that is the published days and the hand-written ones around them (BTC's launch day, Feb
    2025 and Nov 2025; ETH's Nov 2025; all of SOL)."""

    def seed(day: dt.date) -> bool:
        month = (day.year, day.month)
        return asset == "sol" or month == (2025, 11) or (asset == "btc" and (day == BTC_LAUNCH or month == (2025, 2)))

    return [r for r in rows if seed(r[0])]


def farside_pages(edit: Callable[[str, Rows], Rows] | None = None) -> dict[str, str]:
    """The demo's Farside pages by path; `edit(asset, rows)` may change the rows first (the benchmark's
    one changed cell)."""
    pages = {}
    for asset in ("btc", "eth", "sol"):
        tickers, rows = load_dataset(asset)
        if edit is not None:
            rows = edit(asset, rows)
        # The ETH page has an extra staking-fee header row and an empty Total header, as the real one does.
        style: _PageStyle = {"fee_rows": 2, "total_header": ""} if asset == "eth" else {}
        today = DEMO_NOW.date()
        pages[RECENT_PATHS[asset]] = render_page(tickers, rows[-RECENT_ROWS:], today=today, footer_over=rows, **style)
        if asset != "sol":
            pages[HISTORY_PATHS[asset]] = render_page(tickers, rows, today=today, **style)
    return pages


def venue_base_url(venue: str) -> str:
    return f"{DEMO_BASE_URL}/{venue}"


def compact_by_default() -> bool:
    """$FLOWTAPE_DEMO_COMPACT=1 makes `--demo` the compact demo (the test suite sets it: its `snapshot --demo`
    runs would otherwise compute over a year of history, seconds each until issue 14's compute-once lands)."""
    return os.environ.get("FLOWTAPE_DEMO_COMPACT") == "1"


BOT_WALL = "<html><title>Just a moment...</title><div id='cf-chl'></div></html>"


def demo_transport(
    clock: Callable[[], dt.datetime] = lambda: DEMO_NOW,
    pages: dict[str, str] | None = None,
    *,
    compact: bool | None = None,
    farside_blocked: bool = False,
) -> httpx.MockTransport:
    """Farside pages at their usual paths; venue `X` under `/X/...`, answering as of `clock()`. `pages` is
    read at each request (a caller may swap one page for another); `compact` serves compact_rows' pages.
    `farside_blocked` answers Farside with a bot wall (the run where SoSoValue fills the tape)."""
    if compact is None:
        compact = compact_by_default()
    if pages is None:
        pages = farside_pages(compact_rows if compact else None)
    datasets: dict[str, tuple[list[str], Rows]] = {}  # read at SoSoValue's first request only

    def dataset(asset: str) -> tuple[list[str], Rows]:
        if asset not in datasets:
            tickers, rows = load_dataset(asset)
            datasets[asset] = (tickers, compact_rows(asset, rows) if compact else rows)
        return datasets[asset]

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        page = pages.get(path)
        if page is not None:
            if farside_blocked:
                return httpx.Response(403, text=BOT_WALL)
            return httpx.Response(200, text=page, headers={"Content-Type": "text/html; charset=utf-8"})
        venue, _, rest = path.lstrip("/").partition("/")
        if venue == "cme":  # the real CME site refuses bots: replay that, so the demo shows "blocked"
            return httpx.Response(403, text=BOT_WALL)
        if venue == "sosovalue" and request.method == "POST":  # illustrative, in SoSoValue's format (demo/sosovalue.py)
            etf_type = str(json.loads(request.content or b"{}").get("type"))
            asset = demo_sosovalue.ASSET_OF_TYPE.get(etf_type, "btc")
            tickers, rows = dataset(asset)
            text = demo_sosovalue.body("/" + rest, etf_type, tickers, rows)
            if text is None:
                return httpx.Response(404, text="not found")
            return httpx.Response(200, text=text, headers={"Content-Type": "application/json"})
        text = demo_venues.body(venue, "/" + rest + ("?" + request.url.query.decode() if request.url.query else ""), clock())
        if text is None:
            return httpx.Response(404, text="not found")
        return httpx.Response(200, text=text, headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handler)


# The demo's SoSoValue key: not a key, never sent anywhere but the demo transport.
DEMO_KEY = "demo-not-a-key"


def demo_config(config: Config, *, keyed: bool = False) -> Config:
    """Every source pointed at the demo transport's addresses. The keyed sources (SoSoValue) join only when
    asked (`keyed`): the plain demo shows what a user without a key sees."""
    for section in SECTIONS:  # Farside at the root (its real paths), every other upstream under /NAME
        base = DEMO_BASE_URL if section == "farside" else venue_base_url(section)
        if section in KEYED:
            config = config.with_source(section, base_url=base, enabled=keyed, api_key=DEMO_KEY if keyed else None)
        else:  # the issuer files, which the demo does not record, off
            config = config.with_source(section, base_url=base, enabled=not section.startswith("issuer_"))
    return config


# The replayed year of venue polls, at the store's own retention (store.sqlite RETENTION keeps one observation
# a day past 30 days and one an hour past 48 h): a poll a day for the year, one an hour for the month, one
# every 10 minutes for the last two days (live polling is about one a minute; 10 keeps the build short).
HISTORY_DAYS = 365
HOURLY_DAYS = 30
RECENT_HOURS = 48
RECENT_STEP = dt.timedelta(minutes=10)
KEEP_CACHED = 3  # cached demo stores of other versions kept beside the current one
ODDS_DAYS = 32  # Fed odds a month back, for the one-month change


def poll_times(now: dt.datetime = DEMO_NOW, *, compact: bool = False) -> list[dt.datetime]:
    """When the replayed history polled the venues, oldest first (compact: every 6 h for 8 days)."""
    if compact:
        return [now - dt.timedelta(hours=192 - 6 * n) for n in range(32)]
    times = [now - dt.timedelta(days=d, hours=8) for d in range(HISTORY_DAYS, HOURLY_DAYS, -1)]  # 14:00 UTC
    times += [now - dt.timedelta(hours=h) for h in range(HOURLY_DAYS * 24, RECENT_HOURS, -1)]
    t = now - dt.timedelta(hours=RECENT_HOURS)
    while t < now:
        times.append(t)
        t += RECENT_STEP
    return times


async def _replay_into(store: Store, config: Config, clock_box: list[dt.datetime], rng, *, compact: bool = False) -> None:
    from sources import registry
    from sources.refresh import refresh_odds, refresh_once, refresh_venues

    transport = demo_transport(lambda: clock_box[0], compact=compact)  # one transport: its pages render once
    for when in poll_times(compact=compact):
        clock_box[0] = when
        await refresh_venues(store, config, transport=transport, now=when, rng=rng)
    for days_back in range(ODDS_DAYS, 0, -2):
        clock_box[0] = DEMO_NOW - dt.timedelta(days=days_back)
        await refresh_odds(store, config, transport=transport, now=clock_box[0], rng=rng)
    # The flow history and daily candles a user's store holds, fetched as of the demo's clock.
    clock_box[0] = DEMO_NOW
    await refresh_once(store, config, transport=transport, now=DEMO_NOW, rng=rng, kinds=(registry.FLOWS, registry.CANDLES))


def cache_dir() -> Path:
    env = os.environ.get("FLOWTAPE_DEMO_CACHE")
    return Path(env).expanduser() if env else platformdirs.user_cache_path("flowtape") / "demo"


def cache_key(config: Config) -> str:
    """A hash of everything the replayed store depends on: the demo's data and code, the code that parses
    and stores it (sources, store, common) and the sources' settings (not the config's path or analytics
    settings, which store nothing). Any change builds a new one."""
    digest = hashlib.sha256(repr(sorted(config.sources.items())).encode())
    root = Path(__file__).resolve().parent.parent
    for package in ("demo", "sources", "store", "common"):
        for path in sorted((root / package).rglob("*")):
            if path.suffix in (".py", ".csv") and path.is_file():
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:20]


def _copy_into(source: Path, store: Store) -> None:
    """Page-copy a built store into `store`'s (empty, just opened) file with SQLite's backup API: the
    store's own connection sees the copied rows on its next read."""
    src = sqlite3.connect(f"file:{source}?mode=ro&immutable=1", uri=True)  # never changed once cached: no -shm
    dst = sqlite3.connect(store.path, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


async def _build_cache(cached: Path, config: Config, clock_box: list[dt.datetime]) -> None:
    cached.parent.mkdir(parents=True, exist_ok=True)
    print(
        "flowtape demo: building a year of replayed history once: a minute or two, longer on a busy machine "
        f"(cached in {cached.parent})",
        file=sys.stderr,
    )
    # Built in RAM where there is a tmpfs: the store fsyncs every write (about 20,000 of them here).
    scratch = "/dev/shm" if os.access("/dev/shm", os.W_OK) else str(cached.parent)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="flowtape-demo-") as tmp:
        built = Store.open(Path(tmp) / "demo.db")
        try:  # seeded whoever builds it: the cached store is the same for the app, the tests and the bench
            await _replay_into(built, config, clock_box, random.Random(0))
        finally:
            built.close()  # checkpoints the WAL: the one file holds it all
        partial = cached.with_suffix(f".{os.getpid()}.part")
        shutil.copyfile(Path(tmp) / "demo.db", partial)
        os.replace(partial, cached)  # atomic: a concurrent start sees all of it or builds its own
    # Earlier keys' stores (about 19 MB each) go, but the newest few stay: checkouts of different versions
    # (a developer's branches) would otherwise rebuild each other's away.
    others = sorted((p for p in cached.parent.glob("demo-*.db") if p != cached), key=lambda p: p.stat().st_mtime)
    for old in others[:-KEEP_CACHED]:
        old.unlink(missing_ok=True)


BUILDING = (
    "demo: this first start shows a short history (36 BTC sessions, 8 days of venue polls); the year-sized "
    "history is being built in the background (a few minutes) and is used from the next start"
)


def _build_in_background(config: Config) -> None:
    """Start `python -m demo.build_cache` detached (it outlives this process; one builder at a time)."""
    with contextlib.suppress(OSError):
        subprocess.Popen(
            [sys.executable, "-m", "demo.build_cache", str(config.path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # SIGINT/SIGHUP to the dashboard's terminal do not stop the build
            cwd=Path(__file__).resolve().parent.parent,
        )


async def replay_history(
    store: Store, config: Config, clock_box: list[dt.datetime], *, rng=None, cache: bool = True, compact: bool | None = None
) -> None:
    """A year of demo venue polls (plus a month of Fed odds) through the real fetch -> parse -> store path.

    Replaying ~1,300 polls takes a while, so the result is built once into the user cache dir (keyed by
    cache_key) and page-copied into `store` on later starts; `cache=False` replays into `store` directly.
    `compact` replays the test suite's small demo (compact_rows, 8 days of venue polls; about a second)."""
    # Past polls replayed to build history are not outcomes to report: the poll log stays quiet meanwhile
    # (the demo's CME bot wall would otherwise print a warning per replayed poll).
    poll_log = logging.getLogger("sources.polling")
    level = poll_log.level
    poll_log.setLevel(logging.ERROR)
    try:
        chosen, compact = compact, compact_by_default() if compact is None else compact
        if compact or not cache:
            await _replay_into(store, config, clock_box, rng, compact=compact)
            return
        cached = cache_dir() / f"demo-{cache_key(config)}.db"
        if not cached.exists() and chosen is None:
            # A first start does not wait minutes for the year: the compact demo now, the year built in the
            # background for the next start (said on screen; callers asking compact=False wait for it).
            _build_in_background(config)
            await _replay_into(store, config, clock_box, rng, compact=True)
            store.notices.append(BUILDING)
            return
        if not cached.exists():
            await _build_cache(cached, config, clock_box)
        else:
            with contextlib.suppress(OSError):
                os.utime(cached)  # recently used: kept when other versions clean up
        _copy_into(cached, store)
        store.notices.append(PROVENANCE)
    finally:
        poll_log.setLevel(level)
        clock_box[0] = DEMO_NOW
