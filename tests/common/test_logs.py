"""Logging: one line per poll outcome; the dashboard logs to a file only; headless stdout stays pure JSON."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import types

from cli.main import main
from common import logs
from common.config import SourceConfig
from common.records import DataError
from sources.polling import BodyResult, run_poll
from store import Store


def test_each_poll_outcome_is_one_key_value_line(tmp_path, now, caplog):
    store = Store.open(tmp_path / "s.db")
    cfg = SourceConfig("deribit", "http://127.0.0.1:9", 60.0)

    async def good():
        return BodyResult(written=3, revisions=1)

    async def refused():
        raise DataError("markPrice: 'x\nforged=1' is not a number")

    try:
        with caplog.at_level(logging.INFO, logger="sources.polling"):
            asyncio.run(run_poll(store, "deribit", cfg, good, now=now))
            asyncio.run(run_poll(store, "okx", cfg, refused, now=now))
    finally:
        store.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "sources.polling"]
    assert lines[0] == "poll source=deribit state=ok rows=3 revisions=1 warning=-"
    assert lines[1].startswith('poll source=okx state=error rows=0 error="parse error: markPrice:')
    assert "\n" not in lines[1] and "\\nforged=1" in lines[1]  # outside text cannot start a line of its own
    assert [r.levelno for r in caplog.records if r.name == "sources.polling"] == [logging.INFO, logging.WARNING]


def test_dashboard_logs_to_its_file_and_never_to_the_terminal(tmp_path, monkeypatch, capfd):
    """Through cli.main's dashboard path, with a stand-in app that runs one real refresh (the demo's)."""
    monkeypatch.delenv("FLOWTAPE_LOG", raising=False)
    monkeypatch.delenv("FLOWTAPE_LOG_LEVEL", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("FLOWTAPE_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")

    class App:
        def __init__(self, *, store, config, transport, clock, **_):
            self.store, self.config, self.transport, self.clock = store, config, transport, clock

        def run(self, mouse=True):
            from sources.refresh import refresh_once

            asyncio.run(refresh_once(self.store, self.config, transport=self.transport, now=self.clock()))
            logging.getLogger("httpx").info("HTTP Request: GET https://example.invalid/full/url")

    monkeypatch.setitem(sys.modules, "tui.app", types.SimpleNamespace(FlowtapeApp=App))
    assert main(["--demo", "--db", str(tmp_path / "d.db")]) == 0
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    text = (tmp_path / "state" / "flowtape" / "flowtape.log").read_text()
    assert "poll source=farside_btc state=ok" in text and "poll source=cme state=blocked" in text
    assert "example.invalid" not in text  # httpx's per-request INFO lines (full URLs) stay off


def test_headless_stdout_is_pure_json_and_logs_go_to_stderr(monkeypatch, capsys):
    monkeypatch.delenv("FLOWTAPE_LOG", raising=False)
    monkeypatch.setenv("FLOWTAPE_LOG_LEVEL", "info")
    assert main(["snapshot", "--json", "--demo"]) == 0
    out, err = capsys.readouterr()
    json.loads(out)  # nothing but the document
    assert "poll source=farside_btc state=ok" in err


def test_log_level_from_the_environment_is_checked(monkeypatch, capsys):
    monkeypatch.setenv("FLOWTAPE_LOG_LEVEL", "chatty")
    assert main(["snapshot", "--json", "--offline"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_flowtape_log_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWTAPE_LOG", str(tmp_path / "x" / "f.log"))
    assert logs.setup(logs.HEADLESS) == tmp_path / "x" / "f.log"
    logging.getLogger("sources.polling").warning("poll %s", logs.kv(source="a b"))
    assert 'source="a b"' in (tmp_path / "x" / "f.log").read_text()
