"""`flowtape view`: the dashboard on a read-only store that follows another process's writes (issue 15)."""

from __future__ import annotations

from cli.main import EXIT_USAGE, Session, build_parser, main
from common.config import parse_config
from store import Store


def test_view_opens_the_store_read_only_even_with_no_other_writer(tmp_path):
    db = tmp_path / "desk.db"
    Store.open(db).close()  # nobody writes it now: a plain flowtape would collect
    args = build_parser().parse_args(["view", "--db", str(db)])
    session = Session(args, parse_config({}, tmp_path / "none.toml"))
    store = session.open_store(view=args.command == "view")
    try:
        assert store.readonly and session.mode == "live"  # live: the screen follows the store
    finally:
        store.close()
    assert not Store.open(db).readonly  # and it left no lock behind


def test_view_flags_may_come_before_or_after_it(tmp_path):
    args = build_parser().parse_args(["--no-mouse", "view", "--db", str(tmp_path / "x.db")])
    assert args.no_mouse and args.command == "view" and args.db == tmp_path / "x.db"
    assert build_parser().parse_args(["view", "--no-mouse"]).no_mouse


def test_view_refuses_the_demo_in_one_line(capsys):
    assert main(["view", "--demo"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "view: --demo" in err
