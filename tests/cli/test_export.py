"""`flowtape export`, `snapshot --format csv`, `--version`, `completion` and `info`: exported tables read back
equal to the store, nothing stored is touched, bad flags are one usage line, completion scripts parse and complete."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess
from importlib.metadata import version as package_version
from pathlib import Path

import polars as pl
import pytest

from analytics.frames import load_asset
from analytics.scenario_inputs import coinshares_prints, history
from analytics.scenarios import load_rules
from cli.main import _derivatives_at, build_parser, main
from common.config import load_config
from common.records import ASSETS, TOTAL
from sources.registry import REGISTRY
from store import Store
from tests.dashboard_fixtures import demo_store

D = dt.date


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """A filled store (the demo's recordings through the real fetch path), closed: export opens it itself."""
    path = tmp_path_factory.mktemp("export") / "demo.db"
    demo_store(path).close()
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read(path: Path, fmt: str) -> pl.DataFrame:
    if fmt == "parquet":
        return pl.read_parquet(path)
    return pl.read_csv(path, schema_overrides={"date": pl.Date, "flow_usd_m": pl.Float64, "value": pl.Float64})


def stored_flows(db: Path, first: dt.date | None = None, last: dt.date | None = None) -> set[tuple]:
    """(asset, date, fund, US$m, provisional) as the store holds them, the published total as fund TOTAL."""
    store = Store.open(db, readonly=True)
    try:
        sessions = {(a, d): (t, p) for a, d, t, p in store.sessions()}
        cells = {(a, d, f): v for a, d, f, v in store.flows()}
    finally:
        store.close()
    for (a, d), (t, _) in sessions.items():
        cells.setdefault((a, d, TOTAL), t)
    return {
        (a, D.fromisoformat(d), f, v, sessions[(a, d)][1])
        for (a, d, f), v in cells.items()
        if (first is None or D.fromisoformat(d) >= first) and (last is None or D.fromisoformat(d) <= last)
    }


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_round_trips_every_table_and_touches_nothing(stored, tmp_path, capsys, fmt):
    before = digest(stored)
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "export", "--db", str(stored), "--format", fmt, "--out", str(out))
    assert code == 0, err
    assert stdout == "" and sorted(p.name for p in out.iterdir()) == sorted(
        f"{w}.{fmt}" for w in ("flows", "derivatives", "scenarios")
    )
    assert digest(stored) == before  # opened read-only: not a byte changed

    flows = read(out / f"flows.{fmt}", fmt)
    assert flows.columns == ["asset", "date", "fund", "flow_usd_m", "provisional", "source", "fetched_at"]
    got = {(r["asset"], r["date"], r["fund"], r["flow_usd_m"], r["provisional"]) for r in flows.iter_rows(named=True)}
    assert got == stored_flows(stored) and len(got) == flows.height
    assert set(flows["source"]) == {f"farside_{a}" for a in ASSETS}
    assert flows.filter(pl.col("provisional"))["date"].n_unique() >= 1  # the demo's provisional BTC session

    derivs = read(out / f"derivatives.{fmt}", fmt)
    store = Store.open(stored, readonly=True)
    try:
        observations = store.observations()
        frames = {a: load_asset(store, a) for a in ASSETS}
        now = dt.datetime.now(dt.UTC)
        rules = load_rules((), None)
        timeline = history(
            rules, frames, _derivatives_at(store, load_config(), now), coinshares_prints(store), until=now.date(), now=now
        )
    finally:
        store.close()
    assert [(r["venue"], r["instrument"], r["metric"], r["ts_utc"], r["value"]) for r in derivs.iter_rows(named=True)] == [
        tuple(o) for o in observations
    ]
    assert derivs.filter(pl.col("metric") == "oi_usd")["unit"].unique().to_list() == ["USD"]

    scen = read(out / f"scenarios.{fmt}", fmt)
    assert [(r["date"], r["scenario"], r["from_state"], r["to_state"], r["kind"]) for r in scen.iter_rows(named=True)] == [
        (t.date, t.scenario, t.before, t.after, t.kind) for t in timeline
    ]
    assert timeline  # the demo's history has state changes to export


def test_export_one_table_for_a_date_range_to_stdout(stored, capsys):
    first, last = D(2025, 11, 17), D(2025, 11, 21)
    code, out, err = run(capsys, "export", "--db", str(stored), "--what", "flows", "--from", "2025-11-17", "--to", "2025-11-21")
    assert code == 0, err
    flows = pl.read_csv(io.StringIO(out), schema_overrides={"date": pl.Date, "flow_usd_m": pl.Float64})
    got = {(r["asset"], r["date"], r["fund"], r["flow_usd_m"], r["provisional"]) for r in flows.iter_rows(named=True)}
    assert got == stored_flows(stored, first, last) and flows["date"].min() == first and flows["date"].max() == last


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--from", "2025-11-21", "--to", "2025-11-20"], "--from 2025-11-21 is after --to 2025-11-20"),
        (["--from", "2025-13-01", "--out", "x"], "YYYY-MM-DD"),
        (["--format", "xlsx", "--out", "x"], "invalid choice: 'xlsx'"),
        (["--what", "trades", "--out", "x"], "invalid choice: 'trades'"),
        (["--what", "flows", "--format", "parquet"], "Parquet is binary: give --out FILE"),
        ([], "--out DIRECTORY is needed"),
    ],
)
def test_export_bad_flags_are_one_usage_line(stored, tmp_path, capsys, argv, needle):
    before = digest(stored)
    code, out, err = run(capsys, "export", "--db", str(stored), *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err, err
    assert digest(stored) == before


def test_export_without_a_store_says_so_and_creates_none(tmp_path, capsys):
    db = tmp_path / "none.db"
    code, out, err = run(capsys, "export", "--db", str(db), "--what", "flows")
    assert code == 1 and out == "" and "no store at" in err and not db.exists()


def test_snapshot_csv_is_one_flat_table_of_the_json_figures(stored, capsys):
    code, out, err = run(capsys, "snapshot", "--offline", "--db", str(stored), "--as-of", "2025-11-21")
    assert code == 0, err
    doc = json.loads(out)  # JSON stays the default, with or without --json
    code, text, err = run(capsys, "snapshot", "--offline", "--db", str(stored), "--as-of", "2025-11-21", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["section", "asset", "item", "value", "unit", "date", "note"]
    for asset in ASSETS:
        latest = doc["assets"][asset]["latest"]
        funds = {r["item"]: r["value"] for r in rows if r["section"] == "flows" and r["asset"] == asset}
        assert funds == {
            **{f: "" if v is None else str(v) for f, v in latest["funds"].items()},
            "Total": str(latest["total_usd_m"]),
        }
        assert {r["date"] for r in rows if r["section"] == "flows" and r["asset"] == asset} == {latest["date"]}
        mtd = next(r for r in rows if r["asset"] == asset and r["item"] == "month to date")
        assert float(mtd["value"]) == doc["assets"][asset]["month_to_date"]["total_usd_m"] and mtd["unit"] == "US$m"
    labels = {r["item"]: r["value"] for r in rows if r["section"] == "scenarios"}
    assert labels == {s["name"]: s["label"] for s in doc["scenarios"]}


def test_snapshot_json_and_csv_flags_contradicting_is_a_usage_line(tmp_path, capsys):
    code, out, err = run(capsys, "snapshot", "--json", "--format", "csv", "--db", str(tmp_path / "x.db"))
    assert code == 2 and out == "" and "contradict" in err and not (tmp_path / "x.db").exists()


def test_version_is_one_line_from_the_package_metadata(capsys):
    code, out, err = run(capsys, "--version")
    assert code == 0 and out == f"flowtape {package_version('flowtape')}\n" and err == ""


def words_of(parser) -> set[str]:
    from cli.completion import commands

    return {w for c in commands(parser) for w, _ in c.words} | {o.flag for c in commands(parser) for o in c.options}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_are_valid_and_know_every_command(capsys, tmp_path, shell):
    code, out, err = run(capsys, "completion", shell)
    assert code == 0 and err == ""
    flag = "-l " if shell == "fish" else "--"  # fish declares long options without their dashes
    for word in ("snapshot", "export", "info", "completion", f"{flag}what", f"{flag}format", "parquet", f"{flag}week-ending"):
        assert word in out, (shell, word)
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed: the script is generated but not parsed (CI installs it)")
    path = tmp_path / f"flowtape.{shell}"
    path.write_text(out)
    check = subprocess.run([shell, "-n", str(path)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize(
    "line,expected",
    [
        ("flowtape ex", {"export"}),
        ("flowtape export --what ", {"flows", "derivatives", "scenarios", "all"}),
        ("flowtape export --format p", {"parquet"}),
        ("flowtape snapshot --format ", {"json", "csv"}),
        ("flowtape coinshares add --we", {"--week-ending"}),
        ("flowtape completion ", {"bash", "zsh", "fish", "--help"}),
    ],
)
def test_bash_completion_completes(capsys, tmp_path, line, expected):
    main(["completion", "bash"])
    script = tmp_path / "c.bash"
    script.write_text(capsys.readouterr().out)
    words = line.split(" ")
    probe = (
        f"source {script}; COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; "
        "_flowtape; printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=60)
    assert set(done.stdout.split()) == expected, done.stderr


def test_info_prints_paths_versions_and_every_source_without_creating_a_store(tmp_path, capsys):
    db = tmp_path / "none.db"
    code, out, err = run(capsys, "info", "--db", str(db))
    assert code == 0, err
    assert f"flowtape {package_version('flowtape')}" in out and str(db) in out and "not created yet" in out
    for name in ("python", "textual", "polars", "httpx"):
        assert f"{name} " in out
    assert "config: " in out
    for spec in REGISTRY:
        assert f"  {spec.id} " in out
    assert not db.exists()


def test_info_reads_each_sources_state_and_age_from_the_store(stored, capsys):
    before = digest(stored)
    code, out, err = run(capsys, "info", "--db", str(stored))
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "blocked" in lines["cme"] and "HTTP 403" in lines["cme"]  # the demo replays CME's bot wall
    assert " ok " in lines["farside_btc"] and "last success" in lines["farside_btc"] and " ago" in lines["farside_btc"]
    assert digest(stored) == before


def test_the_parser_words_all_reach_the_completion(capsys):
    words = words_of(build_parser())
    main(["completion", "fish"])
    fish = capsys.readouterr().out
    assert all(w.lstrip("-") in fish for w in words)
