"""`flowtape snapshot --json`: schema, modes, bad input, and live figures from a 127.0.0.1 Farside."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import json
import threading

import pytest

from cli.main import main
from common.config import KEYED, SECTIONS
from demo import load_dataset
from sources.farside import HISTORY_PATHS, RECENT_PATHS
from sources.farside_render import render_page
from sources.registry import ISSUER_PREFIX, REGISTRY

D = dt.date
# Derivatives venues default to real hosts: tests turn them off or point them at 127.0.0.1.
OTHERS = tuple(name for name in SECTIONS if name != "farside")  # every config section besides Farside's
NO_VENUES = "".join(f"\n[sources.{v}]\nenabled = false\n" for v in OTHERS)
DEAD_VENUES = "".join(f'\n[sources.{v}]\nbase_url = "http://127.0.0.1:9"\ndeadline = 2\n' for v in OTHERS)


@contextlib.contextmanager
def farside_server(pages: dict[str, str]):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = pages.get(self.path)
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config(tmp_path, monkeypatch):
    def write(text: str):
        path = tmp_path / "config.toml"
        path.write_text(text)
        monkeypatch.setenv("FLOWTAPE_CONFIG", str(path))
        return path

    return write


def test_live_snapshot_equals_published_figures(tmp_path, capsys, config):
    tickers, rows = load_dataset("btc")
    history = [r for r in rows if r[0] < D(2025, 11, 24)]  # complete days only
    pages = {
        HISTORY_PATHS["btc"]: render_page(tickers, history),
        RECENT_PATHS["btc"]: render_page(tickers, history[-10:], footer_over=history),
    }
    with farside_server(pages) as base:
        config(f'[sources.farside]\nbase_url = "{base}"\ndeadline = 5\n' + NO_VENUES)
        code, out, err = run(capsys, "snapshot", "--json", "--db", str(tmp_path / "s.db"), "--as-of", "2025-11-18")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["mode"] == "live" and doc["as_of"] == "2025-11-18"
    btc = doc["assets"]["btc"]
    assert btc["latest"]["date"] == "2025-11-18" and btc["latest"]["total_usd_m"] == -372.7
    assert btc["latest"]["funds"]["IBIT"] == -523.2
    assert btc["record_outflow_month"] == {"month": "2025-02", "total_usd_m": -3560.4}
    assert btc["record_outflow_day"] == {"date": "2025-02-25", "total_usd_m": -1113.7}
    best = max(history, key=lambda r: r[2] or 0.0)  # an illustrative day (demo/data/README.md): whichever it is
    assert btc["record_inflow_day"] == {"date": best[0].isoformat(), "total_usd_m": best[2]}
    assert btc["fund_records"]["IBIT"]["max_outflow"] == {"date": "2025-11-18", "usd_m": -523.2}
    assert btc["fund_records"]["IBIT"]["latest_sets_outflow"] is True
    assert btc["last_week"] == {"start": "2025-11-10", "end": "2025-11-14", "total_usd_m": -1111.6, "sessions": 5}
    assert btc["week_to_date"] == {"start": "2025-11-17", "total_usd_m": -627.2, "sessions": 2}
    assert btc["streak"]["direction"] == "red" and btc["streak"]["sessions"] == 5
    assert round(btc["month_to_date"]["total_usd_m"]) == -2947 and btc["month_to_date"]["sessions"] == 12
    assert doc["sources"]["farside_btc"]["state"] in ("ok", "stale")
    assert doc["sources"]["farside_eth"]["state"] == "error"  # the server has no ETH page
    assert doc["assets"]["eth"]["latest"] is None
    assert doc["sources"]["farside_btc"]["warning"] is None or "cross-check" not in doc["sources"]["farside_btc"]["warning"]


def test_schema_keys_in_demo(capsys):
    code, out, _ = run(capsys, "snapshot", "--json", "--demo")
    assert code == 0
    doc = json.loads(out)
    assert doc["mode"] == "demo" and "DEMO" in doc["notice"]
    # keyed sources are off without a key; the demo records no issuer holdings files (demo.demo_config)
    assert set(doc["sources"]) == {s.id for s in REGISTRY if s.section not in KEYED and not s.id.startswith(ISSUER_PREFIX)}
    assert doc["sources"]["cme"]["state"] == "blocked"  # the demo replays CME's bot wall
    deriv = doc["derivatives"]
    assert deriv["basis_3m"]["band"] == "deleveraged" and 3 < deriv["basis_3m"]["constant_maturity_pct"] < 6
    assert deriv["basis_3m"]["deribit"]["instrument"] == "BTC-27MAR26"
    assert set(deriv["basis_3m"]["deribit"]) >= {"annualized_pct", "instrument", "days_to_expiry", "as_of"}
    assert set(deriv["funding"]["okx"]) >= {"rate", "interval_hours", "annualized_pct", "as_of"}
    assert deriv["funding"]["oi_weighted_annualized_pct"] is not None
    oi = deriv["open_interest"]
    assert oi["trend"] == "bleeding" and oi["change_7d_pct"] < -5 and oi["cme_btc"] > 0
    assert set(oi["binance"]) >= {"usd", "btc", "as_of"}
    for src in doc["sources"].values():
        assert {"state", "last_success", "last_error"} <= set(src)
    for asset in ("btc", "eth", "sol"):
        a = doc["assets"][asset]
        for key in (
            "latest",
            "month_to_date",
            "record_outflow_month",
            "record_inflow_month",
            "record_outflow_day",
            "record_inflow_day",
            "fund_records",
            "streak",
            "week_to_date",
            "last_week",
            "cumulative_usd_m",
        ):
            assert key in a, (asset, key)
        assert set(a["latest"]) >= {"date", "total_usd_m", "provisional", "funds"}
        assert set(a["month_to_date"]) >= {"month", "total_usd_m", "sessions", "projected_usd_m"}
    assert doc["assets"]["btc"]["latest"]["provisional"] is True
    assert "IBIT" in doc["assets"]["btc"]["latest"]["missing_funds"]
    assert doc["assets"]["eth"]["latest"]["date"] == "2025-11-21"  # ETH page: 4 header rows, empty Total header
    _, eth_rows = load_dataset("eth")
    expected = round(sum(t for d, _, t in eth_rows if (d.year, d.month) == (2025, 11)), 1)
    assert doc["assets"]["eth"]["month_to_date"]["total_usd_m"] == expected  # the Total column is not summed in


def test_offline_reads_store_without_fetching(tmp_path, capsys, config):
    config('[sources.farside]\nbase_url = "http://127.0.0.1:9"\n' + DEAD_VENUES)
    db = str(tmp_path / "s.db")
    code, _, _ = run(capsys, "snapshot", "--json", "--demo", "--db", db)
    assert code == 0
    code, out, err = run(capsys, "snapshot", "--json", "--offline", "--db", db, "--as-of", "2025-11-21")
    assert code == 0, err
    doc = json.loads(out)
    # the store the demo wrote holds demo figures: read offline, it is still said to be the demo's
    assert doc["mode"] == "demo" and doc["assets"]["btc"]["latest"]["date"] == "2025-11-21"
    assert doc["sources"]["farside_btc"]["last_attempt"] == "2025-11-24T22:00:00+00:00"  # no new attempt


def test_dead_source_costs_its_deadline(tmp_path, capsys, config):
    config('[sources.farside]\nbase_url = "http://127.0.0.1:9"\ndeadline = 2\n' + DEAD_VENUES)
    code, out, _ = run(capsys, "snapshot", "--json", "--db", str(tmp_path / "s.db"))
    assert code == 0
    doc = json.loads(out)
    assert all(s["state"] == "error" and s["last_error"] for s in doc["sources"].values())
    assert doc["assets"]["btc"]["latest"] is None


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["snapshot", "--json", "--as-of", "2025-02-30"], "YYYY-MM-DD"),
        (["snapshot", "--json", "--as-of", "2999-01-01"], "future"),
        (["snapshot", "--json", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["snapshot", "--json", "--format", "csv"], "contradict each other"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_flags_one_line_exit_2(tmp_path, capsys, argv, needle):
    code, out, err = run(capsys, *argv, "--db", str(tmp_path / "x.db")) if argv[0] == "snapshot" else run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err


@pytest.mark.parametrize(
    "text,needle",
    [
        ('[sources.farside]\ninterval = "abc"\n', "sources.farside.interval: expected a number of seconds"),
        ('[sources.farside]\nbase_url = "ftp://x"\n', "sources.farside.base_url: expected an http(s) URL"),
        ("[sources.farside]\nenabled = 1\n", "sources.farside.enabled: expected true or false"),
        ("[sources.farside]\nintervall = 60\n", "sources.farside.intervall: unknown key"),
        ("[sources.nasdaq]\n", "sources.nasdaq: unknown source"),
        ("[analytics]\nstreak_size_usd_m = -5\n", "analytics.streak_size_usd_m"),
        ("this is = = not toml", "not valid TOML"),
        ("sources = 3\n", "sources: expected a table"),
    ],
)
def test_config_errors_name_file_key_and_expectation(tmp_path, capsys, config, text, needle):
    path = config(text)
    code, out, err = run(capsys, "snapshot", "--json", "--offline", "--db", str(tmp_path / "x.db"))
    assert code == 2 and out == ""
    assert str(path) in err and needle in err and err.count("\n") == 1


def test_missing_explicit_config_is_an_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FLOWTAPE_CONFIG", str(tmp_path / "nope.toml"))
    code, _, err = run(capsys, "snapshot", "--json", "--offline")
    assert code == 2 and "no such file" in err


def test_corrupt_db_in_offline_mode_is_explained_and_kept(tmp_path, capsys):
    db = tmp_path / "bad.db"
    db.write_bytes(b"not a database" * 50)
    code, out, err = run(capsys, "snapshot", "--json", "--offline", "--db", str(db))
    assert code == 1 and out == "" and "without --offline" in err
    assert db.read_bytes() == b"not a database" * 50
