"""User configuration: TOML at the platform config dir (or $FLOWTAPE_CONFIG), validated into frozen dataclasses.

Unknown keys are errors (a typo must not silently fall back to a default), and every error names the
file, the key and what was expected.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import platformdirs

from .bounds import BOUNDS

APP = "flowtape"
MAX_CONFIG_BYTES = 1024 * 1024  # a hand-written config is a few KiB; anything larger is a wrong path
# Sane ranges, not physics: a poll more than a day apart is not monitoring, and one poll may not stall
# its source for more than ten minutes (an interval of 1e300 s overflowed the scheduler).
MAX_INTERVAL_S = 86400.0
MAX_DEADLINE_S = 600.0
MAX_SESSIONS = 10_000  # a session count (streaks, windows): ~40 years of trading days


class ConfigError(ValueError):
    """The configuration file is unusable; the message names the file, the key and the expectation."""


@dataclass(frozen=True)
class SourceConfig:
    name: str
    base_url: str
    interval: float  # seconds between polls (jittered)
    enabled: bool = True
    deadline: float = 30.0  # seconds for one whole poll, all requests included
    # A keyed source's key ([sources.X] api_key or its environment variable, KEYED). Never in a repr, a log line,
    # an error or `snapshot --json`: repr=False keeps it out of every printed config.
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AlertsConfig:
    bell: bool = True
    toast: bool = True
    command: tuple[str, ...] = ()  # run without a shell, the alert as JSON on stdin
    red_streak: int = 4  # alert when a red streak reaches this many sessions
    green_streak_at_size: int = 3  # ... or this many green sessions at the streak size


@dataclass(frozen=True)
class FedConfig:
    # Decision days added to the built-in FOMC calendar (common/fomc.py), for years it does not cover yet.
    decision_days: tuple[dt.date, ...] = ()


# The dashboard's colour themes (tui/theme.py defines them; a test keeps the two lists equal).
THEMES = ("dark", "light", "colorblind", "monochrome")


@dataclass(frozen=True)
class FlowsConfig:
    """[flows]: when two sources' figures for one (date, fund) disagree. A cell disagrees when the two differ by
    more than tolerance_usd_m AND by more than tolerance_pct of the larger magnitude: the absolute floor keeps
    rounding (Farside publishes one decimal, issuers' derived flows carry price noise) from flagging small funds,
    the relative part keeps a 1% difference on a $1bn day from being a warning."""

    tolerance_usd_m: float = 5.0
    tolerance_pct: float = 2.0

    def disagree(self, a: float, b: float) -> bool:
        diff = abs(a - b)
        return diff > self.tolerance_usd_m and diff > self.tolerance_pct / 100.0 * max(abs(a), abs(b))


@dataclass(frozen=True)
class UiConfig:
    # An explicit choice ([ui] theme, or FLOWTAPE_THEME which wins over it); None: NO_COLOR, then the theme
    # remembered from the last session, then dark.
    theme: str | None = None


@dataclass(frozen=True)
class Config:
    path: Path | None
    sources: Mapping[str, SourceConfig]
    streak_size_usd_m: float = 200.0  # the "green sessions of >= $200M" size used by streak counts
    # Upper edges (annualized %) of the basis bands backwardation | compressed | deleveraged | rebuild | snapback.
    basis_band_edges: tuple[float, float, float, float] = (0.0, 3.5, 7.0, 11.0)
    oi_trend_pct: float = 5.0  # 7-day OI change beyond +/- this: rebuilding / bleeding
    # [[scenarios]] tables as written; analytics.scenarios validates them against its metrics.
    scenarios: tuple[Mapping[str, Any], ...] = ()
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    cycle_start: dt.date = dt.date(2022, 11, 21)  # crosses are counted from here (the 2022 cycle low)
    fed: FedConfig = field(default_factory=FedConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    flows: FlowsConfig = field(default_factory=FlowsConfig)
    # [store] url: a postgresql:// URL (a desk whose screens run on other machines); None: the SQLite file.
    store_url: str | None = None

    def source(self, name: str) -> SourceConfig:
        return self.sources[name]

    def with_source(self, name: str, **changes: Any) -> Config:
        sources = dict(self.sources)
        sources[name] = replace(sources[name], **changes)
        return replace(self, sources=MappingProxyType(sources))


@dataclass(frozen=True)
class Section:
    """A `[sources.NAME]` config section and its defaults (one section can feed several sources; which
    sources each feeds is sources/registry.py)."""

    name: str
    base_url: str
    interval: float  # seconds between polls, jittered
    deadline: float  # seconds for one whole poll


SECTIONS: dict[str, Section] = {
    s.name: s
    for s in (
        Section("farside", "https://farside.co.uk", 900.0, 30.0),
        Section("deribit", "https://www.deribit.com/api/v2", 60.0, 20.0),
        Section("binance", "https://fapi.binance.com", 60.0, 20.0),
        Section("binance_coinm", "https://dapi.binance.com", 60.0, 20.0),
        Section("bybit", "https://api.bybit.com", 60.0, 20.0),
        Section("okx", "https://www.okx.com", 60.0, 20.0),
        # CME's JSON is bot-protected: hourly, best effort. CFTC publishes weekly (Tuesday's positions on Friday).
        Section("cme", "https://www.cmegroup.com", 3600.0, 20.0),
        Section("cftc", "https://publicreporting.cftc.gov", 21600.0, 30.0),
        # Daily candles for the 50/200-day averages: hourly is plenty for daily bars.
        Section("coinbase", "https://api.exchange.coinbase.com", 3600.0, 60.0),
        # BTC spot for the title line (ticker and 24 h stats): every minute.
        Section("coinbase_spot", "https://api.exchange.coinbase.com", 60.0, 20.0),
        Section("polymarket", "https://gamma-api.polymarket.com", 900.0, 20.0),
        Section("kalshi", "https://api.elections.kalshi.com/trade-api/v2", 900.0, 20.0),
        # Issuer holdings files (issue 16): they change once a session, after the US close; every 3 hours is plenty.
        Section("issuer_ishares", "https://www.ishares.com", 10800.0, 60.0),
        Section("issuer_vaneck", "https://www.vaneck.com", 10800.0, 60.0),
        # Keyed, off without a key. The free (Demo) plan allows 1,000 calls a month and 20 a minute: one poll is
        # 3 calls (one per ETF type) every 3 h, plus 3 history calls once a day, about 810 calls a month.
        Section("sosovalue", "https://api.sosovalue.xyz", 10800.0, 60.0),
    )
}
# Sources that need a key: section -> the environment variable that supplies it (it wins over the file's
# api_key). Without a key the source stays off, whatever `enabled` says.
KEYED = {"sosovalue": "SOSOVALUE_API_KEY"}
KEY_HELP = {  # how to get each key, for the sources screen and the error without one
    "sosovalue": "free key: sign up at sosovalue.com, open its OpenAPI page (Demo plan: 1,000 calls a month, "
    "20 a minute), then set SOSOVALUE_API_KEY or [sources.sosovalue] api_key",
}
MAX_API_KEY_CHARS = 200

DEFAULT_SOURCES = {name: SourceConfig(name, s.base_url, interval=s.interval, deadline=s.deadline) for name, s in SECTIONS.items()}

_SOURCE_KEYS = {"base_url", "interval", "enabled", "deadline"}
_ANALYTICS_KEYS = {"streak_size_usd_m", "basis_band_edges", "oi_trend_pct", "cycle_start"}


def default_config_path() -> Path:
    env = os.environ.get("FLOWTAPE_CONFIG")
    if env:
        return Path(env).expanduser()
    return platformdirs.user_config_path(APP) / "config.toml"


def default_db_path() -> Path:
    return platformdirs.user_data_path(APP) / "flowtape.db"


STORE_SCHEMES = ("postgresql", "postgres")
STORE_ENV = "FLOWTAPE_STORE"


def is_store_url(where: object) -> bool:
    """A postgresql:// (or postgres://) URL, not a path: the store is a PostgreSQL database."""
    return isinstance(where, str) and where.split("://", 1)[0].lower() in STORE_SCHEMES and "://" in where


def shown_store(where: str | os.PathLike[str]) -> str:
    """The store as it may be shown (screen, logs, `snapshot --json`, errors): a path as it is, a URL without
    its password (in the user part or as a `password=` parameter), which only the connection itself sees."""
    text = str(where)
    if not is_store_url(text):
        return text
    try:
        parts = urlsplit(text)
        netloc = parts.netloc
        if "@" in netloc:
            user, host = netloc.rsplit("@", 1)
            netloc = f"{user.split(':', 1)[0]}@{host}"
        query = urlencode([(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(parts.query)], safe="/:*")
        return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")  # urlunsplit drops an empty //
    except ValueError:
        return f"{text.split('://', 1)[0]}://(unparsable URL)"


def store_target(flag: str | os.PathLike[str] | None, config: Config | None) -> str | Path:
    """Which store to open: --store/--db, then $FLOWTAPE_STORE, then [store] url, then the default SQLite file.
    A URL comes back as a string, anything else as a Path."""
    for where in (flag, os.environ.get(STORE_ENV) or None, config.store_url if config else None):
        if where is not None and str(where) != "":
            return str(where) if is_store_url(str(where)) else Path(where).expanduser()
    return default_db_path()


def default_state_path() -> Path:
    """Where the dashboard remembers the trader's choices (the theme): $FLOWTAPE_STATE or the user state dir."""
    env = os.environ.get("FLOWTAPE_STATE")
    return Path(env).expanduser() if env else platformdirs.user_state_path(APP) / "ui.json"


def load_config(path: Path | None = None) -> Config:
    """Load and validate the config; a missing default file means all defaults."""
    explicit = path is not None or "FLOWTAPE_CONFIG" in os.environ
    path = path or default_config_path()
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{path}: no such file (FLOWTAPE_CONFIG or --config points at it)") from None
        return _theme_from_env(parse_config({}, None))  # all defaults, but a key from the environment
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise ConfigError(f"{path}: cannot read it ({exc})") from None
    # Checked before opening: opening a FIFO blocks until a writer comes, a device reads forever.
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{path}: not a regular file (a directory, FIFO, socket or device), refused")
    try:
        # O_NONBLOCK and fstat: a file swapped for a FIFO after the stat still cannot hang us.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ConfigError(f"{path}: not a regular file, refused")
            data = f.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 1024} KiB, refused (is it the config?)")
        raw = tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:  # tomllib recurses once per nested table/array
        raise ConfigError(f"{path}: not valid TOML (tables or arrays nested too deeply)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from None
    return _theme_from_env(parse_config(raw, path))


def _theme(value: Any, where: str) -> str:
    if not isinstance(value, str) or value.strip().lower() not in THEMES:
        raise ConfigError(f"{where}: expected one of {', '.join(THEMES)}, got {str(value)[:40]!r}")
    return value.strip().lower()


def _api_key(value: Any, where: str) -> str:
    """A key as given (stripped). Its value is never quoted back: an error names only the place and the rule."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > MAX_API_KEY_CHARS or not text.isascii() or not text.isprintable() or " " in text:
        raise ConfigError(f"{where}: expected an API key (printable ASCII, no spaces, 1-{MAX_API_KEY_CHARS} characters)")
    return text


def _theme_from_env(config: Config) -> Config:
    """FLOWTAPE_THEME, when set, wins over the file's [ui] theme (one run's choice)."""
    env = os.environ.get("FLOWTAPE_THEME", "").strip()
    return replace(config, ui=UiConfig(theme=_theme(env, "FLOWTAPE_THEME"))) if env else config


def parse_config(raw: Mapping[str, Any], path: Path | None) -> Config:
    _only(raw, {"sources", "analytics", "scenarios", "alerts", "fed", "ui", "flows", "store"}, path, "")
    alerts_raw = _table(raw, "alerts", path, "")
    _only(alerts_raw, {"bell", "toast", "command", "red_streak", "green_streak_at_size"}, path, "alerts.")
    command = alerts_raw.get("command", [])
    if not isinstance(command, list) or not all(isinstance(x, str) and x and "\0" not in x for x in command):
        raise ConfigError(f'{path}: alerts.command: expected a list of strings like ["notify-send", "flowtape"], got {command!r}')
    alerts = AlertsConfig(
        bell=_bool(alerts_raw.get("bell", True), path, "alerts.bell"),
        toast=_bool(alerts_raw.get("toast", True), path, "alerts.toast"),
        command=tuple(command),
        red_streak=int(
            _number(
                alerts_raw.get("red_streak", 4),
                path,
                "alerts.red_streak",
                "sessions",
                minimum=1,
                maximum=MAX_SESSIONS,
                whole=True,
            )
        ),
        green_streak_at_size=int(
            _number(
                alerts_raw.get("green_streak_at_size", 3),
                path,
                "alerts.green_streak_at_size",
                "sessions",
                minimum=1,
                maximum=MAX_SESSIONS,
                whole=True,
            )
        ),
    )
    scenarios = raw.get("scenarios", [])
    if not isinstance(scenarios, list) or not all(isinstance(x, Mapping) for x in scenarios):
        raise ConfigError(f"{path}: scenarios: expected [[scenarios]] tables")
    sources = dict(DEFAULT_SOURCES)
    for name, table in _table(raw, "sources", path, "").items():
        if name not in DEFAULT_SOURCES:
            raise ConfigError(f"{path}: sources.{name}: unknown source (known: {', '.join(sorted(DEFAULT_SOURCES))})")
        key = f"sources.{name}"
        table = _table(raw["sources"], name, path, "sources.")
        _only(table, _SOURCE_KEYS | ({"api_key"} if name in KEYED else set()), path, key + ".")
        base = sources[name]
        sources[name] = SourceConfig(
            name=name,
            base_url=_url(table.get("base_url", base.base_url), path, f"{key}.base_url"),
            interval=_number(
                table.get("interval", base.interval), path, f"{key}.interval", "seconds", minimum=5, maximum=MAX_INTERVAL_S
            ),
            enabled=_bool(table.get("enabled", True), path, f"{key}.enabled"),
            deadline=_number(
                table.get("deadline", base.deadline), path, f"{key}.deadline", "seconds", minimum=1, maximum=MAX_DEADLINE_S
            ),
            api_key=_api_key(table["api_key"], f"{path}: {key}.api_key") if "api_key" in table else None,
        )
    for name, env in KEYED.items():  # the environment's key wins; without any key the source stays off
        from_env = os.environ.get(env, "").strip()
        keyed = replace(sources[name], api_key=_api_key(from_env, env)) if from_env else sources[name]
        wanted = name not in raw.get("sources", {}) or sources[name].enabled
        sources[name] = replace(keyed, enabled=wanted and keyed.api_key is not None)
    analytics = _table(raw, "analytics", path, "")
    _only(analytics, _ANALYTICS_KEYS, path, "analytics.")
    size = _number(
        analytics.get("streak_size_usd_m", 200.0),
        path,
        "analytics.streak_size_usd_m",
        "US$ millions",
        minimum=0,
        maximum=BOUNDS["flow_usd_m"].high,
    )
    edges = analytics.get("basis_band_edges", [0.0, 3.5, 7.0, 11.0])
    key = "analytics.basis_band_edges"
    if not isinstance(edges, list) or len(edges) != 4:
        raise ConfigError(f"{path}: {key}: expected a list of 4 increasing percentages, got {edges!r}")
    edges = tuple(_number(e, path, key, "percent", minimum=-100, maximum=BOUNDS["basis_annualized_pct"].high) for e in edges)
    if list(edges) != sorted(set(edges)):
        raise ConfigError(f"{path}: {key}: expected 4 strictly increasing percentages, got {list(edges)!r}")
    trend = _number(
        analytics.get("oi_trend_pct", 5.0), path, "analytics.oi_trend_pct", "percent", minimum=0, maximum=100
    )  # OI cannot fall more than 100%: a larger edge makes "bleeding" unreachable
    cycle_start = analytics.get("cycle_start", dt.date(2022, 11, 21))
    if not isinstance(cycle_start, dt.date) or isinstance(cycle_start, dt.datetime) or cycle_start < dt.date(2015, 1, 1):
        raise ConfigError(
            f"{path}: analytics.cycle_start: expected a date like 2022-11-21 (TOML date, no quotes), got {cycle_start!r}"
        )
    return Config(
        path=path,
        sources=MappingProxyType(sources),
        streak_size_usd_m=size,
        basis_band_edges=edges,
        oi_trend_pct=trend,
        scenarios=tuple(scenarios),
        alerts=alerts,
        cycle_start=cycle_start,
        fed=_fed(raw, path),
        ui=_ui(raw, path),
        flows=_flows(raw, path),
        store_url=_store(raw, path),
    )


def _flows(raw: Mapping[str, Any], path: Path | None) -> FlowsConfig:
    """[flows] tolerance_usd_m = 5.0, tolerance_pct = 2.0: when two sources' figures disagree (FlowsConfig)."""
    table = _table(raw, "flows", path, "")
    _only(table, {"tolerance_usd_m", "tolerance_pct"}, path, "flows.")
    return FlowsConfig(
        tolerance_usd_m=_number(
            table.get("tolerance_usd_m", 5.0),
            path,
            "flows.tolerance_usd_m",
            "US$ millions",
            minimum=0,
            maximum=BOUNDS["flow_usd_m"].high,
        ),
        tolerance_pct=_number(table.get("tolerance_pct", 2.0), path, "flows.tolerance_pct", "percent", minimum=0, maximum=100),
    )


def _store(raw: Mapping[str, Any], path: Path | None) -> str | None:
    """[store] url = "postgresql://user@host/db" (the password belongs in ~/.pgpass or PGPASSWORD, not here)."""
    table = _table(raw, "store", path, "")
    _only(table, {"url"}, path, "store.")
    if "url" not in table:
        return None
    url = table["url"]
    if not isinstance(url, str) or not is_store_url(url) or not url.isprintable():
        raise ConfigError(
            f'{path}: store.url: expected a URL like "postgresql://flowtape@db.example/flowtape", got {shown_store(str(url))!r}'
        )
    if shown_store(url) != url:  # a config file is copied between desks and read by anyone with the account
        raise ConfigError(f"{path}: store.url: holds a password; put it in ~/.pgpass (or PGPASSWORD) and leave it out of the URL")
    return url


def _ui(raw: Mapping[str, Any], path: Path | None) -> UiConfig:
    """[ui] theme = "dark" | "light" | "colorblind" | "monochrome"."""
    table = _table(raw, "ui", path, "")
    _only(table, {"theme"}, path, "ui.")
    return UiConfig(theme=_theme(table["theme"], f"{path}: ui.theme") if "theme" in table else None)


def _fed(raw: Mapping[str, Any], path: Path | None) -> FedConfig:
    """[fed] decision_days = [2027-01-27, ...]: TOML dates (no quotes) in 2020..2100, any order."""
    table = _table(raw, "fed", path, "")
    _only(table, {"decision_days"}, path, "fed.")
    days = table.get("decision_days", [])
    ok = isinstance(days, list) and all(
        isinstance(d, dt.date) and not isinstance(d, dt.datetime) and 2020 <= d.year <= 2100 for d in days
    )
    if not ok:
        raise ConfigError(
            f"{path}: fed.decision_days: expected a list of dates like [2027-01-27, 2027-03-17] "
            f"(TOML dates, no quotes, years 2020-2100), got {repr(days)[:80]}"
        )
    return FedConfig(decision_days=tuple(sorted(set(days))))


def _table(raw: Mapping[str, Any], key: str, path: Path | None, prefix: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: {prefix}{key}: expected a table ([{prefix}{key}]), got {type(value).__name__}")
    return value


def _only(table: Mapping[str, Any], allowed: set[str], path: Path | None, prefix: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{path}: {prefix}{key}: unknown key (expected one of: {', '.join(sorted(allowed))})")


def finite_number(value: Any) -> float | None:
    """A TOML number as a finite float, else None: bools, strings, nan, inf and integers too large for a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # a 400-digit integer
        return None
    return number if math.isfinite(number) else None


def _number(value: Any, path: Path | None, key: str, unit: str, *, minimum: float, maximum: float, whole: bool = False) -> float:
    number = finite_number(value)
    if number is None or not minimum <= number <= maximum or (whole and not number.is_integer()):
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{path}: {key}: expected {kind} of {unit} from {minimum:g} to {maximum:g}, got {value!r}")
    return number


def _bool(value: Any, path: Path | None, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: {key}: expected true or false, got {value!r}")
    return value


def _url(value: Any, path: Path | None, key: str) -> str:
    parts = None
    if isinstance(value, str) and value.isprintable() and " " not in value:
        try:
            parts = urlsplit(value)  # "http://[::1" (an unclosed IPv6 bracket) raises
            parts.port  # noqa: B018 - raises for a port out of range or not a number
        except ValueError:
            parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f'{path}: {key}: expected an http(s) URL like "https://farside.co.uk", got {value!r}')
    return value.rstrip("/")
