"""`flowtape` command line: the dashboard (default), `view` (the dashboard following a store another process
collects into), and the headless `collect`, `snapshot`, `scenarios`, `coinshares add`, `export`, `info`,
`completion` and `--version`.

Headless commands never import textual, so scripts stay fast. Every user error is one line on stderr
naming the problem, with exit status 2; nothing stored is touched by a bad flag.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import os
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from common import logs
from common.bounds import FIRST_ETF_SESSION
from common.calendar import end_of_day, new_york_today
from common.config import (
    Config,
    default_config_path,
    default_db_path,
    is_store_url,
    load_config,
    shown_store,
    store_target,
)
from common.records import ASSETS, DEMO_STORE_MARK
from common.sanitize import clean, json_safe
from store import Store, StoreError

from .completion import SHELLS
from .export import FORMATS, WHAT

EXIT_USAGE = 2
EXIT_FAILURE = 1


def wall_clock() -> dt.datetime:
    """Now, in UTC: the one clock of live commands (tests pin it to replay recorded upstreams)."""
    return dt.datetime.now(dt.UTC)


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage dump
        raise UsageError(message)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _session_date(text: str) -> dt.date:
    """A date flowtape has flows for: 0001-01-01 overflowed the week arithmetic downstream."""
    day = _date(text)
    if day < FIRST_ETF_SESSION:
        raise argparse.ArgumentTypeError(f"{text!r} is before {FIRST_ETF_SESSION.isoformat()}, the first US spot ETF session")
    return day


def _common(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    # A subcommand's own defaults would overwrite what was given before it (`flowtape --config x snapshot`
    # silently ignored x): subcommands set these only when given.
    default: dict[str, Any] = {"default": argparse.SUPPRESS} if sub else {}
    p.add_argument("--db", type=Path, help="SQLite store to use (default: the user data dir)", **default)
    p.add_argument(
        "--store",
        metavar="URL",
        help="the store: postgresql://USER@HOST/DB or a SQLite path (default: $FLOWTAPE_STORE, [store] url, --db's default)",
        **default,
    )
    p.add_argument("--config", type=Path, help="config file (default: $FLOWTAPE_CONFIG or the user config dir)", **default)
    p.add_argument("--offline", action="store_true", help="do not fetch: show only what the store holds", **default)
    p.add_argument(
        "--demo", action="store_true", help="replay the bundled demo dataset (no network, clearly labelled)", **default
    )


def _dashboard_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-mouse", action="store_true", help="do not capture the mouse (keyboard only)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="flowtape", description="Terminal monitor for the crypto ETF flow tape.")
    parser.add_argument("--version", action="store_true", help="print flowtape's version and exit")
    _common(parser)
    _dashboard_flags(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    view = sub.add_parser("view", help="open the dashboard read-only, following the store another flowtape collects into")
    _common(view, sub=True)
    view.add_argument("--no-mouse", action="store_true", default=argparse.SUPPRESS, help="do not capture the mouse")
    snap = sub.add_parser("snapshot", help="refresh once, print the figures (JSON, or a CSV table), exit")
    _common(snap, sub=True)
    snap.add_argument("--json", action="store_true", help="print JSON (the default; same as --format json)")
    snap.add_argument("--format", choices=("json", "csv"), help="json (default) or csv: one flat table for a spreadsheet")
    snap.add_argument("--as-of", type=_session_date, help="compute as of this New York date (default: today)")
    scen = sub.add_parser("scenarios", help="print the scenarios' states and their history of changes")
    _common(scen, sub=True)
    scen.add_argument("--history", action="store_true", help="list every state change over the stored history")
    scen.add_argument("--json", action="store_true", help="print JSON instead of text")
    scen.add_argument("--as-of", type=_session_date, help="evaluate as of this New York date (default: today)")
    cs = sub.add_parser("coinshares", help="record CoinShares' weekly fund-flows print by hand")
    cs_sub = cs.add_subparsers(dest="cs_command", parser_class=_Parser, required=True)
    add = cs_sub.add_parser("add", help="add (or correct) one week's print")
    _common(add, sub=True)
    add.add_argument("--week-ending", type=_session_date, required=True, help="the Friday the report's week ends on")
    add.add_argument("--total-usd-m", type=_number, required=True, help="total net flow, US$ millions (outflow negative)")
    add.add_argument("--btc", type=_number, help="bitcoin products' net flow, US$ millions")
    exp = sub.add_parser("export", help="write stored flows, derivatives and scenario history as CSV or Parquet")
    _common(exp, sub=True)
    exp.add_argument("--from", dest="first", type=_session_date, help="first date to include (default: the first stored)")
    exp.add_argument("--to", dest="last", type=_session_date, help="last date to include (default: the last stored)")
    exp.add_argument("--format", choices=FORMATS, default="csv", help="csv (default) or parquet")
    exp.add_argument("--what", choices=(*WHAT, "all"), default="all", help="one table, or all of them (default)")
    exp.add_argument("--out", type=Path, help="file for one table (CSV: stdout if omitted); directory for all")
    info = sub.add_parser("info", help="print the config and store paths, versions and each source's state")
    _common(info, sub=True)
    col = sub.add_parser("collect", help="poll every source into the store, compute and alert: the store's one writer, headless")
    col.add_argument("--db", type=Path, help="SQLite store to write (default: the user data dir)", default=argparse.SUPPRESS)
    col.add_argument(
        "--store",
        metavar="URL",
        help="the store to write: postgresql://USER@HOST/DB or a SQLite path (default: $FLOWTAPE_STORE, [store] url, --db's)",
        default=argparse.SUPPRESS,
    )
    col.add_argument(
        "--config", type=Path, help="config file (default: $FLOWTAPE_CONFIG or the user config dir)", default=argparse.SUPPRESS
    )
    col.add_argument(
        "--demo", action="store_true", help="replay the bundled demo dataset through the real path", default=argparse.SUPPRESS
    )
    col.add_argument("--log-file", type=Path, help="log one line per poll to this file (default: stderr)")
    comp = sub.add_parser("completion", help="print a shell completion script (see the README to install it)")
    comp.add_argument("shell", choices=SHELLS, help="the shell: bash, zsh or fish")
    return parser


def _number(text: str) -> float:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of US$ millions") from None
    if not math.isfinite(value) or abs(value) > 1e6:
        raise argparse.ArgumentTypeError(f"{text!r} is not a plausible weekly flow in US$ millions")
    return value


def _say(message: object) -> None:
    """One line on stderr, whatever the message quotes (a key or path with a newline, a megabyte value)."""
    print(f"flowtape: {clean(message, max_len=500)}", file=sys.stderr)


def _check_db(db: Path | None) -> None:
    """--db is a SQLite file or not there yet: /dev/null, a FIFO, a socket or a directory is refused unopened."""
    if db is None:
        return
    try:
        mode = os.stat(db).st_mode
    except FileNotFoundError:
        return  # created on first use
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise UsageError(f"--db {db}: cannot use it ({exc})") from None
    if not stat.S_ISREG(mode):
        raise UsageError(f"--db {db}: not a regular file (a directory, FIFO, socket or device), refused")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.version:
            print(f"flowtape {version()}")
            return 0
        if args.command == "completion":
            from .completion import script

            sys.stdout.write(script(parser, args.shell))
            return 0
        _check_flags(args)
        store_flag = getattr(args, "store", None)
        _check_db(args.db or (Path(store_flag) if store_flag and not is_store_url(store_flag) else None))
        try:  # the dashboard logs to a file, never to the terminal it draws on; headless commands to stderr
            if args.command == "collect":
                logs.setup(logs.COLLECTOR, path=args.log_file)
            else:
                logs.setup(logs.HEADLESS if args.command not in (None, "view") else logs.DASHBOARD)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    except UsageError as exc:
        _say(exc)
        return EXIT_USAGE
    try:
        config = load_config(args.config)
        from analytics.scenarios import load_rules  # rules are checked at start-up, before anything runs

        args.rules = load_rules(config.scenarios, config.path, streak_size_usd_m=config.streak_size_usd_m)
    except ValueError as exc:  # ConfigError and whatever else a hostile value raises while it is read
        _say(f"config error: {exc}")
        return EXIT_USAGE
    # --store/--db, then $FLOWTAPE_STORE, then [store] url, then the default file (the demo: its temporary store)
    given = getattr(args, "store", None) or args.db
    args.db = store_target(given, config) if not args.demo or given else None
    try:
        if args.command == "snapshot":
            return snapshot(args, config)
        if args.command == "scenarios":
            return scenarios_command(args, config)
        if args.command == "coinshares":
            return coinshares_add(args, config)
        if args.command == "export":
            return export_command(args, config)
        if args.command == "info":
            return info_command(args, config)
        if args.command == "collect":
            return collect_command(args, config)
        return dashboard(args, config)  # and `view`: the same screen on a read-only store
    except UsageError as exc:  # found once the session started (a future --as-of)
        _say(str(exc))
        return EXIT_USAGE
    except StoreError as exc:
        _say(exc)
        return EXIT_FAILURE
    except BrokenPipeError:  # `flowtape snapshot --json | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:  # Ctrl+C outside the dashboard (which binds it to quit): stop, no traceback
        return 130


def version() -> str:
    """flowtape's version from the installed package's metadata (pyproject), never a second copy of it."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("flowtape")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _check_flags(args: argparse.Namespace) -> None:
    """What argparse cannot see: flags that contradict each other. Raised before anything is opened."""
    if getattr(args, "store", None) and args.db:
        raise UsageError("--db and --store both name the store; give one")
    if args.command == "snapshot":
        if args.json and args.format not in (None, "json"):
            raise UsageError(f"snapshot: --json and --format {args.format} contradict each other; give one")
        args.format = args.format or "json"
    if args.command == "collect":
        if args.offline:
            raise UsageError("collect writes the store: --offline contradicts it (a read-only screen is `flowtape --offline`)")
        if args.log_file is not None:
            try:  # an explicit log that cannot be written is said now, not lost to stderr later
                args.log_file.parent.mkdir(parents=True, exist_ok=True)
                with open(args.log_file, "a", encoding="utf-8"):
                    pass
            except (OSError, ValueError) as exc:
                raise UsageError(
                    f"--log-file {args.log_file}: cannot write it ({getattr(exc, 'strerror', None) or exc})"
                ) from None
    if args.command == "view" and args.demo:
        raise UsageError("view: --demo replays into a store of its own, which no collector writes; run flowtape --demo")
    if args.command == "export":
        if args.first and args.last and args.first > args.last:
            raise UsageError(f"export: --from {args.first.isoformat()} is after --to {args.last.isoformat()}")
        if args.what == "all" and args.out is None:
            raise UsageError("export: --out DIRECTORY is needed for all tables (or choose one with --what)")
        if args.what == "all" and args.out.exists() and not args.out.is_dir():
            raise UsageError(f"export: --out {args.out} is a file; all tables go to a directory")
        if args.format == "parquet" and args.out is None:
            raise UsageError("export: Parquet is binary: give --out FILE")
        if args.what != "all" and args.out is not None and args.out.is_dir():
            args.out = args.out / f"{args.what}.{args.format}"


def _as_of(args: argparse.Namespace, session: Session) -> dt.date:
    """--as-of or today in New York; a future date is a usage error."""
    today = new_york_today(session.started_at)
    as_of = args.as_of or today
    if as_of > today:
        raise UsageError(f"--as-of {as_of.isoformat()} is in the future (today in New York is {today.isoformat()})")
    return as_of


@contextlib.contextmanager
def one_shot(args: argparse.Namespace, config: Config) -> Iterator[tuple[Session, Store, dt.date]]:
    """What `snapshot` and `scenarios` share: the session, the as-of date, and the store refreshed once from
    every enabled source (unless offline or read-only); the store and the session are closed after."""
    from sources.refresh import refresh_once

    session = Session(args, config, one_shot=True)
    try:
        as_of = _as_of(args, session)
        store = session.open_store()
        try:
            if session.mode != "offline" and not store.readonly:
                asyncio.run(refresh_once(store, session.config, transport=session.transport, now=session.started_at))
            yield session, store, as_of
        finally:
            store.close()
    finally:
        session.close()


class Session:
    """What the dashboard and the headless commands need: mode, clock, transport and store path (demo: a temporary store)."""

    def __init__(self, args: argparse.Namespace, config: Config, *, one_shot: bool = False) -> None:
        self.config = config
        self.transport = None
        self.notice: str | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.db = args.db
        if args.demo:
            from demo import DEMO_NOTICE, DEMO_NOW, demo_config, demo_transport

            started, self.started_at = time.monotonic(), DEMO_NOW
            # The dashboard's demo clock starts at the demo's "now" and then runs, so ages tick naturally;
            # one-shot commands keep it frozen so every figure is as of exactly that moment.
            if one_shot:
                self.clock = lambda: DEMO_NOW
            else:
                self.clock = lambda: DEMO_NOW + dt.timedelta(seconds=time.monotonic() - started)
            self.transport, self.notice, self.mode = demo_transport(self.clock), DEMO_NOTICE, "demo"
            self.config = demo_config(config)
            if self.db is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="flowtape-demo-")
                self.db = Path(self._tmp.name) / "demo.db"
        else:
            self.clock = wall_clock
            self.started_at = self.clock()
            self.mode = "offline" if args.offline else "live"
        self.db = self.db or default_db_path()

    def open_store(self, *, view: bool = False) -> Store:
        """The store; read-only offline and for a viewer (`flowtape view`: it follows what another process writes)."""
        store = Store.open(self.db, readonly=self.mode == "offline" or view)
        self.fill_demo(store)
        return store

    def fill_demo(self, store: Store) -> None:
        if self.mode == "demo" and not store.readonly and store.meta(DEMO_STORE_MARK) != "1":
            store.set_meta(DEMO_STORE_MARK, "1")  # its readers (viewers, snapshot) say DEMO too
        if self.mode == "demo" and not store.readonly and not store.has_observations():
            from demo import replay_history

            asyncio.run(replay_history(store, self.config, [self.started_at]))  # derivatives history for charts

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM before the dashboard draws (the demo replaying its history): unwind, so `finally` removes the
    demo's temporary store. Once the app runs, its own handler (tui/app.py on_mount) exits it cleanly."""
    raise SystemExit(0)


def dashboard(args: argparse.Namespace, config: Config) -> int:
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    session = Session(args, config)
    try:
        return _run_dashboard(args, session)
    finally:
        session.close()
        signal.signal(signal.SIGTERM, previous)


def _run_dashboard(args: argparse.Namespace, session: Session) -> int:
    store = session.open_store(view=args.command == "view")
    try:
        from tui.app import FlowtapeApp  # textual loads only for the dashboard

        app = FlowtapeApp(
            store=store,
            config=session.config,
            mode=session.mode,
            transport=session.transport,
            clock=session.clock,
            notice=session.notice,
            scenarios=args.rules,
        )
        app.run(mouse=not args.no_mouse)
        if store.disk_full and not store.flush_held():
            print(
                f"flowtape: {store.held_report()}; {store.held_batches} writes could not be stored before exit", file=sys.stderr
            )
            return 1
    finally:
        store.close()
    return 0


def collect_command(args: argparse.Namespace, config: Config) -> int:
    """The store's single writer, headless (collector/service.py). A second writer is refused in one line, exit 2."""
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)  # until the loop answers it (the demo's replay)
    session = Session(args, config)
    try:
        store = Store.open(session.db)
        try:
            if store.readonly:
                _say(f"collect: {_writer_holding(store)}; one process writes a store: stop it first (screens: flowtape view)")
                return EXIT_USAGE
            for note in store.notices:  # a corrupt file moved aside, and such
                logging.getLogger("collector").warning("store %s", logs.kv(note=clean(note, max_len=300)))
            session.fill_demo(store)
            asyncio.run(_collect(args, session, store))
            if store.disk_full and not store.flush_held():
                _say(f"{store.held_report()}; {store.held_batches} writes could not be stored before exit")
                return EXIT_FAILURE
        finally:
            store.close()  # the clean-shutdown marker
    finally:
        session.close()
        signal.signal(signal.SIGTERM, previous)
    return 0


def _writer_holding(store: Store) -> str:
    """Who holds the store's writer lock, as far as the heartbeat says (a dashboard writing it does not beat)."""
    from collector.heartbeat import ROLE

    try:
        beat = store.heartbeat(ROLE)
    except Exception:  # noqa: BLE001 - an old or damaged store: the lock alone says enough
        beat = None
    who = "another flowtape process"
    if beat is not None and beat.detail != "stopped":
        who = f"the collector pid {beat.pid} on {beat.host} (last beat {beat.beat_at})"
    return f"{who} is writing to {store.location}"


async def _collect(args: argparse.Namespace, session: Session, store: Store) -> None:
    from collector.service import Collector, quiet_poll_log

    collector = Collector(
        store, session.config, mode=session.mode, clock=session.clock, scenarios=args.rules, transport=session.transport
    )
    loop = asyncio.get_running_loop()
    # SIGHUP too: a collector started in a terminal (tmux, ssh) whose terminal goes stops as cleanly as on SIGTERM.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # the polls in flight finish; a second signal stops them
        loop.add_signal_handler(sig, collector.request_stop)
    with quiet_poll_log():
        await collector.run()


def snapshot_document(
    store: Store, config: Config, *, as_of: dt.date, now: dt.datetime, mode: str, notice: str | None = None, rules: tuple = ()
) -> dict:
    """What `snapshot --json` prints, from what the store holds (tests call it to see that document)."""
    from analytics.settings import AnalyticsSettings
    from analytics.snapshot import build_snapshot  # polars loads only when needed

    # Derivatives as of the end of the as-of day (New York), or now when that is today.
    return build_snapshot(
        store,
        as_of=as_of,
        mode="demo" if store.meta(DEMO_STORE_MARK) == "1" else mode,  # a store the demo wrote holds demo figures
        assets=ASSETS,
        now=now,
        settings=AnalyticsSettings.of(config),
        notice=notice,
        derivatives_as_of=end_of_day(as_of, now),
        scenarios=rules,
    )


def snapshot(args: argparse.Namespace, config: Config) -> int:
    with one_shot(args, config) as (session, store, as_of):
        doc = snapshot_document(
            store,
            session.config,
            as_of=as_of,
            now=session.started_at,
            mode=session.mode,
            notice=f"DEMO: {session.notice}" if session.notice else None,
            rules=args.rules,
        )
    if args.format == "csv":
        from .export import snapshot_csv

        safe = json_safe(doc)  # non-finite numbers to empty cells, text cleaned, as in the JSON
        assert isinstance(safe, dict)
        sys.stdout.write(snapshot_csv(safe))
        return 0
    _print_json(doc)
    return 0


def _print_json(doc: dict) -> None:
    """Strict JSON (null where a value is not a finite number), outside text cleaned, ASCII only."""
    json.dump(json_safe(doc), sys.stdout, indent=2, ensure_ascii=True, allow_nan=False)
    sys.stdout.write("\n")


def scenarios_command(args: argparse.Namespace, config: Config) -> int:
    """Current states (with each condition) and, with --history, every state change in the store."""
    from analytics.frames import load_asset
    from analytics.scenario_inputs import load_inputs
    from analytics.scenarios import evaluate
    from analytics.snapshot import scenario_document

    with one_shot(args, config) as (session, store, as_of):
        now = session.started_at
        frames = {a: load_asset(store, a) for a in ASSETS}
        derivatives_at = _derivatives_at(store, session.config, now)
        errors: list[str] = []
        try:
            results = evaluate(args.rules, load_inputs(store, frames, as_of, now, derivatives_at(as_of)))
        except Exception as exc:  # noqa: BLE001 - said in one line / in the JSON, never a traceback
            results, errors = (), [f"internal error computing the scenarios: {type(exc).__name__}: {exc}"]
        try:  # each closed day's states are computed once and kept in the store (analytics/cache.py)
            timeline = _history(store, frames, args.rules, session.config, until=as_of, now=now) if args.history else ()
        except Exception as exc:  # noqa: BLE001
            timeline, errors = (), [*errors, f"internal error replaying the history: {type(exc).__name__}: {exc}"]
    if args.json:
        doc = {"as_of": as_of.isoformat(), "mode": session.mode, "scenarios": [scenario_document(r) for r in results]}
        if args.history:
            doc["history"] = [
                {"date": t.date.isoformat(), "scenario": t.scenario, "from": t.before, "to": t.after, "kind": t.kind}
                for t in timeline
            ]
        doc["errors"] = errors
        _print_json(doc)
        return 0
    out = [
        f"flowtape scenarios as of {as_of.isoformat()} ({session.mode})"
        + (" - DEMO, partly illustrative data" if session.mode == "demo" else "")
    ]
    for r in results:
        out.append(f"\n{r.scenario.name} [{r.scenario.id}]: {r.label}")
        for c in r.conditions:
            mark = "?" if c.met is None else "x" if c.met else " "
            value = "missing" if c.value is None else (f"{c.value:g}" if isinstance(c.value, float) else str(c.value))
            out.append(f"  [{mark}] {c.condition.label}: {value}" + (" (stale)" if c.stale else "") + f"  ({c.source})")
    out.extend(f"\n{clean(e, max_len=300)}" for e in errors)
    if args.history:
        out.append("\nHistory of state changes:")
        out.extend(
            f"  {t.date.isoformat()}  {t.name}: {t.before} -> {t.after}" + (" (data health)" if t.kind == "data_health" else "")
            for t in timeline
        )
        if not timeline:
            out.append("  none in the stored history")
    print("\n".join(out))
    return 0


def _derivatives_at(store: Store, cfg: Config, now: dt.datetime):
    """The derivatives figures as of the end of a New York day (never after `now`); None when nothing is stored."""
    from analytics.derivatives import load_derivatives
    from analytics.settings import AnalyticsSettings

    settings = AnalyticsSettings.of(cfg)

    def at(day: dt.date):
        d = load_derivatives(store, end_of_day(day, now), band_edges=settings.band_edges, trend_pct=settings.oi_trend_pct)
        return None if d.empty else d

    return at


def _history(store: Store, frames: dict, rules: tuple, cfg: Config, *, until: dt.date, now: dt.datetime) -> tuple:
    """Every scenario state change up to `until`, through the same per-day cache as the dashboard: a day
    computed once is read back from the store (a read-only store computes and keeps nothing)."""
    from analytics.cache import AnalyticsCache, scenario_history
    from analytics.settings import AnalyticsSettings

    settings = AnalyticsSettings.of(cfg)
    return scenario_history(store, frames, rules, settings, until=until, now=now, cache=AnalyticsCache())


def _stored(args: argparse.Namespace, config: Config) -> contextlib.AbstractContextManager[tuple[Session, Store, dt.date]]:
    """The store as it is, opened read-only and never refreshed (the demo: its temporary store, filled once)."""
    if not args.demo:
        db = args.db or default_db_path()
        if not is_store_url(db) and not Path(db).exists():
            raise StoreError(f"no store at {db} yet: run flowtape (or flowtape snapshot) once to fill it")
        args.offline = True
    args.as_of = None
    return one_shot(args, config)


def export_command(args: argparse.Namespace, config: Config) -> int:
    from analytics.export import derivatives_frame, flows_frame, scenarios_frame
    from analytics.frames import load_asset

    from .export import export_all

    with _stored(args, config) as (session, store, today):
        now = session.started_at

        def scenarios() -> Any:
            frames = {a: load_asset(store, a) for a in ASSETS}
            until = min(args.last or today, today)
            timeline = _history(store, frames, args.rules, session.config, until=until, now=now)
            return scenarios_frame(timeline, args.first, args.last)

        builders = {
            "flows": lambda: flows_frame(store, args.first, args.last),
            "derivatives": lambda: derivatives_frame(store, args.first, args.last),
            "scenarios": scenarios,
        }
        what = WHAT if args.what == "all" else (args.what,)
        try:
            written = export_all(builders, what, args.out, args.format)
        except OSError as exc:
            raise StoreError(f"export: cannot write {args.out}: {exc.strerror or exc}") from None
    for path in written:
        print(f"flowtape: wrote {path}", file=sys.stderr)
    return 0


def _age(iso: object, now: dt.datetime) -> str:
    """`2h 5m ago` from a stored ISO time; `never` when there is none."""
    if not isinstance(iso, str):
        return "never"
    try:
        seconds = (now - dt.datetime.fromisoformat(iso)).total_seconds()
    except (ValueError, TypeError):
        return f"unreadable time {clean(iso, max_len=40)!r}"
    if seconds < 0:
        return "in the future"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return (
        f"{days}d {hours}h" if days else f"{hours}h {minutes}m" if hours else f"{minutes}m {secs}s" if minutes else f"{secs}s"
    ) + " ago"


def info_command(args: argparse.Namespace, config: Config) -> int:
    """Where flowtape reads and writes, what it runs on, and each source's state with its age (read-only)."""
    import platform
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    from common.records import SourceStatus
    from sources import registry

    def ver(name: str) -> str:
        try:
            return package_version(name)
        except PackageNotFoundError:
            return "not installed"

    db = args.db or default_db_path()
    lines = [
        f"flowtape {version()}",
        f"config: {config.path or f'{default_config_path()} (not there: every default applies)'}",
        f"store:  {'(demo: a temporary store)' if args.demo else shown_store(db)}",
        f"python {platform.python_version()}, textual {ver('textual')}, polars {ver('polars')}, httpx {ver('httpx')}",
        "sources:",
    ]
    status: dict[str, dict[str, object]] = {}
    if args.demo or is_store_url(db) or Path(db).exists():
        with _stored(args, config) as (session, store, _):
            status, now = store.all_status(), session.started_at
    else:
        now = wall_clock()
        lines[2] += " (not created yet)"
    enabled = {s.id for s in registry.enabled(config)}
    for spec in registry.REGISTRY:
        st = SourceStatus.from_row(status.get(spec.id, {}))
        where = "disabled in the config" if spec.id not in enabled else st.state.value
        detail = f"last success {_age(st.last_success, now)}, last attempt {_age(st.last_attempt, now)}"
        if st.last_error:
            detail += f"; last error: {clean(st.last_error, max_len=120)}"
        lines.append(f"  {spec.id:<16} {where:<12} {detail}  ({spec.label})")
    print("\n".join(lines))
    return 0


def coinshares_add(args: argparse.Namespace, config: Config) -> int:
    if args.week_ending.weekday() != 4:
        print(
            f"flowtape: --week-ending {args.week_ending.isoformat()} is a {args.week_ending:%A};"
            " CoinShares weeks end on a Friday",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.week_ending > new_york_today(wall_clock()):
        print(
            f"flowtape: --week-ending {args.week_ending.isoformat()} is in the future; CoinShares reports a week after it ends",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.demo or args.offline:
        print("flowtape: coinshares add writes to your store; run it without --demo or --offline", file=sys.stderr)
        return EXIT_USAGE
    store = Store.open(args.db or default_db_path())
    try:
        if store.readonly:
            print(f"flowtape: {store.notices[0]}; try again when it has stopped", file=sys.stderr)
            return EXIT_FAILURE
        replaced = store.add_coinshares(args.week_ending, args.total_usd_m, args.btc, entered_at=wall_clock())
    finally:
        store.close()
    print(
        f"{'replaced' if replaced else 'recorded'} CoinShares week ending {args.week_ending.isoformat()}:"
        f" {args.total_usd_m:+,.1f} US$m"
    )
    return 0
