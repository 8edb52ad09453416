"""Hostile configs and flags: every malformed value is one line on stderr naming it, exit status 2.

Each case here printed a traceback (or hung, or was silently accepted and crashed later) before the
validation it names. Special files are refused before they are opened.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.scenarios import load_rules
from cli import main as cli
from cli.main import main
from common.config import MAX_CONFIG_BYTES, ConfigError, parse_config


def one_line(capsys, argv, *, needle: str):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == "", (code, err)
    assert err.startswith("flowtape:") and err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err and needle in err, err
    return err


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


SCENARIO = (
    '[[scenarios]]\nid = "snapback"\n'
    'conditions = [{{ metric = "btc_max_day_usd_m", sessions = {s}, op = ">=", threshold = 750 }}]\n'
)


@pytest.mark.parametrize(
    "text,needle",
    [
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),  # RecursionError in tomllib
        ("a = " + "{ b = " * 3000 + "1" + " }" * 3000 + "\n", "nested too deeply"),
        ("[sources.farside]\ninterval = " + "9" * 400 + "\n", "sources.farside.interval"),  # OverflowError
        ("[analytics]\nstreak_size_usd_m = " + "9" * 400 + "\n", "analytics.streak_size_usd_m"),
        ("[analytics]\nbasis_band_edges = [0, 1, 2, " + "9" * 400 + "]\n", "analytics.basis_band_edges"),
        ('[sources.farside]\nbase_url = "http://[::1"\n', "sources.farside.base_url"),  # urlsplit ValueError
        ('[sources.farside]\nbase_url = "http://host:99999"\n', "sources.farside.base_url"),  # .port raises
        ('[sources.farside]\nbase_url = "http://host:abc"\n', "sources.farside.base_url"),
        ('[sources.farside]\nbase_url = "http://:80"\n', "sources.farside.base_url"),  # no host
        ('[sources.farside]\nbase_url = "http://far side.co.uk"\n', "sources.farside.base_url"),
        ("[sources.farside]\ninterval = 1e300\n", "sources.farside.interval"),  # overflowed the scheduler
        ("[sources.farside]\ninterval = 86401\n", "sources.farside.interval"),
        ("[sources.farside]\ndeadline = 601\n", "sources.farside.deadline"),
        ("[sources.farside]\ndeadline = nan\n", "sources.farside.deadline"),
        ("[alerts]\nred_streak = 2.5\n", "alerts.red_streak"),  # was truncated to 2 silently
        ("[alerts]\ngreen_streak_at_size = 1e300\n", "alerts.green_streak_at_size"),
        ('[alerts]\ncommand = ["notify\\u0000send"]\n', "alerts.command"),  # a NUL: ValueError at alert time
        ("[analytics]\noi_trend_pct = 101\n", "analytics.oi_trend_pct"),
        (SCENARIO.format(s="inf"), "sessions is a count of sessions"),  # int(inf) at every evaluation
        (SCENARIO.format(s="2.5"), "sessions is a count of sessions"),
        (SCENARIO.format(s="0"), "sessions is a count of sessions"),
        ('[[scenarios]]\nid = "caution"\nthresholds = { btc_red_sessions = 0.5 }\n', "threshold for btc_red_sessions"),
        (
            '[[scenarios]]\nid = "rebuild"\nthresholds = { btc_green_sessions_at_size = inf }\n',
            "threshold for btc_green_sessions_at_size",
        ),
        ('[[scenarios]]\nid = "caution"\nthresholds = { basis_3m_pct = nan }\n', "threshold for basis_3m_pct"),  # never met
        ('[[scenarios]]\nid = "caution"\nthresholds = { basis_3m_pct = ' + "9" * 400 + " }\n", "threshold for basis_3m_pct"),
        ('[[scenarios]]\nid = "caution"\nenabled = "no"\n', "enabled must be true or false"),
        ('[[scenarios]]\nid = "caution"\nname = ["x"]\nthresholds = { basis_3m_pct = 3 }\n', "name must be a string"),
        ('"sour\\nces" = 1\n', "unknown key"),  # a key with a newline: still one line
        ('[sources.farside]\nbase_url = "' + "x" * 100_000 + '"\n', "sources.farside.base_url"),  # a huge value: capped
    ],
)
def test_hostile_value_is_one_line_naming_it(tmp_path, capsys, text, needle):
    path = write(tmp_path, text)
    err = one_line(
        capsys, ["snapshot", "--json", "--offline", "--db", str(tmp_path / "s.db"), "--config", str(path)], needle=needle
    )
    assert "config error" in err and str(path) in err and len(err) <= 600


def test_session_count_threshold_of_zero_is_allowed():
    """`btc_red_sessions == 0` means the last session was not red: a count, and a meaningful one."""
    rules = load_rules(({"id": "calm", "conditions": [{"metric": "btc_red_sessions", "op": "==", "threshold": 0}]},), None)
    assert rules[-1].conditions[0].threshold == 0.0


def _run_with_timeout(argv, seconds=10.0):
    """main() in a thread: a config read that blocks (a FIFO) must fail the test, not hang it."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(main(argv)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"main({argv}) still running after {seconds}s"
    return result[0]


@pytest.fixture
def specials():
    """A FIFO, a socket, a character device and a directory (short paths: a socket path is <= 107 bytes)."""
    base = Path(tempfile.mkdtemp(prefix="ft-", dir="/tmp"))
    fifo = base / "fifo"
    os.mkfifo(fifo)
    sock_path = base / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    yield {"fifo": fifo, "socket": sock_path, "device": Path("/dev/null"), "directory": base}
    sock.close()
    for p in (fifo, sock_path):
        p.unlink()
    base.rmdir()


@pytest.mark.parametrize("kind", ["fifo", "socket", "device", "directory"])
def test_config_that_is_not_a_regular_file_is_refused_unopened(tmp_path, capsys, specials, kind):
    argv = ["snapshot", "--json", "--offline", "--db", str(tmp_path / "s.db"), "--config", str(specials[kind])]
    assert _run_with_timeout(argv) == 2  # a FIFO hung here: open() waits for a writer
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "not a regular file" in err and str(specials[kind]) in err


def test_config_from_the_environment_that_is_a_fifo_is_refused(tmp_path, capsys, specials, monkeypatch):
    monkeypatch.setenv("FLOWTAPE_CONFIG", str(specials["fifo"]))
    assert _run_with_timeout(["snapshot", "--json", "--offline", "--db", str(tmp_path / "s.db")]) == 2
    assert "not a regular file" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["fifo", "socket", "device", "directory"])
def test_db_that_is_not_a_regular_file_is_refused(tmp_path, capsys, specials, kind):
    write(tmp_path, "")
    argv = ["snapshot", "--json", "--offline", "--config", str(tmp_path / "config.toml"), "--db", str(specials[kind])]
    code = _run_with_timeout(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("flowtape: --db ") and "not a regular file" in err


def test_oversized_config_is_refused(tmp_path, capsys):
    path = write(tmp_path, "# padding\n" * (MAX_CONFIG_BYTES // 10 + 1))
    one_line(
        capsys,
        ["snapshot", "--json", "--offline", "--db", str(tmp_path / "s.db"), "--config", str(path)],
        needle="larger than 1024 KiB",
    )


@pytest.mark.parametrize("flag", ["--as-of", "--week-ending"])
@pytest.mark.parametrize("day", ["0001-01-01", "2024-01-05"])  # before the first US spot ETF session
def test_dates_before_the_first_etf_session_are_refused(tmp_path, capsys, flag, day):
    argv = (
        ["snapshot", "--json", "--offline", flag, day]
        if flag == "--as-of"
        else ["coinshares", "add", flag, day, "--total-usd-m", "1"]
    )
    one_line(capsys, [*argv, "--db", str(tmp_path / "s.db")], needle=f"argument {flag}: '{day}' is before 2024-01-11")


def test_first_etf_session_itself_is_a_valid_as_of():
    assert cli._session_date("2024-01-11") == dt.date(2024, 1, 11)


def test_week_ending_in_the_future_is_refused(tmp_path, capsys):
    one_line(
        capsys,
        ["coinshares", "add", "--week-ending", "9999-12-31", "--total-usd-m", "1", "--db", str(tmp_path / "s.db")],
        needle="--week-ending 9999-12-31 is in the future",
    )
    assert not (tmp_path / "s.db").exists()


def test_config_given_before_the_subcommand_is_used(tmp_path, capsys):
    """`flowtape --config x snapshot` used to drop x: the subcommand's own default overwrote it."""
    path = write(tmp_path, "[sources.farside]\ninterval = 1e300\n")
    one_line(
        capsys,
        ["--config", str(path), "snapshot", "--json", "--offline", "--db", str(tmp_path / "s.db")],
        needle="sources.farside.interval",
    )


def test_offline_given_before_the_subcommand_is_used(tmp_path, capsys):
    """`flowtape --offline snapshot` fetched live: the subcommand's default False overwrote it."""
    from common.config import DEFAULT_SOURCES

    dead = "".join(f'[sources.{s}]\nbase_url = "http://127.0.0.1:9"\ndeadline = 1\n' for s in DEFAULT_SOURCES)
    path = write(tmp_path, dead)  # should the flag be lost again, nothing real is asked
    code = main(["--offline", "--config", str(path), "snapshot", "--json", "--db", str(tmp_path / "s.db")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert '"mode": "offline"' in out


def test_a_nul_in_a_path_is_one_line(tmp_path, capsys):
    one_line(
        capsys, ["snapshot", "--json", "--offline", "--config", "a\0b", "--db", str(tmp_path / "s.db")], needle="cannot read it"
    )
    one_line(capsys, ["snapshot", "--json", "--offline", "--db", "a\0b"], needle="--db a")


def test_any_value_error_while_loading_is_one_line_but_bugs_stay_visible(tmp_path, capsys, monkeypatch):
    def value_error(path):
        raise ValueError("a value\nnobody validated")

    monkeypatch.setattr(cli, "load_config", value_error)
    one_line(capsys, ["snapshot", "--json", "--offline", "--db", str(tmp_path / "s.db")], needle="config error: a value")

    def bug(path):
        raise TypeError("a genuine bug")

    monkeypatch.setattr(cli, "load_config", bug)
    with pytest.raises(TypeError):  # not disguised as a config error
        main(["snapshot", "--json", "--offline", "--db", str(tmp_path / "s.db")])


# Property: whatever TOML values sit under the known keys, the config and its rules load or raise ConfigError.
_numbers = st.one_of(st.integers(), st.integers(min_value=10**300, max_value=10**400), st.floats())
_scalars = st.one_of(
    st.booleans(),
    _numbers,
    st.text(max_size=20),
    st.sampled_from(["http://[::1", "http://h:99999", "http://h:x", "https://ok.example"]),
    st.dates(),
    st.none(),
)
_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12
)
_metrics = st.sampled_from(["btc_red_sessions", "btc_max_day_usd_m", "basis_3m_pct", "oi_trend", "btc_green_sessions_at_size"])


@st.composite
def _configs(draw):
    raw: dict = {}
    if draw(st.booleans()):
        raw["sources"] = {
            "farside": draw(st.dictionaries(st.sampled_from(["base_url", "interval", "deadline"]), _numbers | _values))
        }
    if draw(st.booleans()):
        raw["alerts"] = draw(st.dictionaries(st.sampled_from(["command", "red_streak", "green_streak_at_size", "bell"]), _values))
    if draw(st.booleans()):
        raw["analytics"] = draw(
            st.dictionaries(st.sampled_from(["streak_size_usd_m", "basis_band_edges", "oi_trend_pct", "cycle_start"]), _values)
        )
    if draw(st.booleans()):
        condition = {
            "metric": draw(_metrics),
            "op": draw(st.sampled_from([">=", "==", "~"])),
            "threshold": draw(_numbers | _values),
        }
        if draw(st.booleans()):
            condition["sessions"] = draw(_numbers | _values)
        rule = {"id": draw(st.sampled_from(["caution", "new"])), "conditions": [condition]}
        if draw(st.booleans()):
            rule = {"id": "caution", "thresholds": {draw(_metrics): draw(_numbers | _values)}, "enabled": draw(_values)}
        raw["scenarios"] = [rule]
    return raw


@settings(max_examples=200, deadline=None)
@given(_configs())
def test_any_values_load_or_raise_config_error(raw):
    try:
        config = parse_config(raw, Path("c.toml"))
        rules = load_rules(config.scenarios, config.path, streak_size_usd_m=config.streak_size_usd_m)
    except ConfigError:
        return
    farside = config.source("farside")
    assert 5 <= farside.interval <= 86400 and 1 <= farside.deadline <= 600
    for rule in rules:
        for c in rule.conditions:
            if isinstance(c.threshold, float):
                assert c.threshold == c.threshold and abs(c.threshold) != float("inf")
            for _, value in c.params:
                assert 0 < value < float("inf")
