"""`flowtape` command line: the dashboard (default) and `snapshot --json`.

Headless commands never import textual, so scripts stay fast. Every user error is one line on stderr
naming the problem, with exit status 2; nothing stored is touched by a bad flag.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn, Sequence

from sources.calendar import new_york_today
from sources.config import Config, ConfigError, default_db_path, load_config
from sources.records import ASSETS
from sources.store import Store, StoreError

EXIT_USAGE = 2
EXIT_FAILURE = 1


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


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, help="SQLite store to use (default: the user data dir)")
    p.add_argument("--config", type=Path, help="config file (default: $FLOWTAPE_CONFIG or the user config dir)")
    p.add_argument("--offline", action="store_true", help="do not fetch: show only what the store holds")
    p.add_argument("--demo", action="store_true", help="replay the bundled demo dataset (no network, clearly labelled)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="flowtape", description="Terminal monitor for the crypto ETF flow tape.")
    _common(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    snap = sub.add_parser("snapshot", help="refresh once, print one JSON document, exit")
    _common(snap)
    snap.add_argument("--json", action="store_true", help="print JSON (the only format)")
    snap.add_argument("--as-of", type=_date, help="compute as of this New York date (default: today)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "snapshot" and not args.json:
            raise UsageError("snapshot needs --json (the only output format so far)")
        config = load_config(args.config)
    except UsageError as exc:
        print(f"flowtape: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"flowtape: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "snapshot":
            return snapshot(args, config)
        print("flowtape: the dashboard is not built yet; use `flowtape snapshot --json`", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as exc:
        print(f"flowtape: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:  # `flowtape snapshot --json | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def snapshot(args: argparse.Namespace, config: Config) -> int:
    from analytics.snapshot import build_snapshot  # polars loads only when needed
    from sources.refresh import refresh_once

    now = dt.datetime.now(dt.timezone.utc)
    transport, notice, tmp = None, None, None
    if args.demo:
        from sources.demo import DEMO_BASE_URL, DEMO_NOTICE, DEMO_NOW, demo_transport

        now, transport, notice, mode = DEMO_NOW, demo_transport(), DEMO_NOTICE, "demo"
        config = config.with_source("farside", base_url=DEMO_BASE_URL, enabled=True)
        if args.db is None:
            tmp = tempfile.TemporaryDirectory(prefix="flowtape-demo-")
            args.db = Path(tmp.name) / "demo.db"
    else:
        mode = "offline" if args.offline else "live"
    today = new_york_today(now)
    as_of = args.as_of or today
    if as_of > today:
        print(f"flowtape: --as-of {as_of.isoformat()} is in the future (today in New York is {today.isoformat()})", file=sys.stderr)
        return EXIT_USAGE
    store = Store.open(args.db or default_db_path(), readonly=args.offline and not args.demo)
    try:
        if (args.demo or not args.offline) and not store.readonly:
            asyncio.run(refresh_once(store, config, transport=transport, now=now))
        doc = build_snapshot(
            store, as_of=as_of, mode=mode, assets=ASSETS, streak_size_usd_m=config.streak_size_usd_m, now=now, notice=notice
        )
    finally:
        store.close()
        if tmp is not None:
            tmp.cleanup()
    json.dump(doc, sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")
    return 0
