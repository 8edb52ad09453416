"""A strict JSON codec for the analytics' frozen records (analytics/views.py), driven by their type annotations.

Persisted views (analytics/persisted.py) live in the store, which a desk shares (possibly over PostgreSQL): what
comes back out is outside input, so it is text read against the declared types, never pickle (a code-execution
path). Supported: dataclasses and NamedTuples (an object with exactly their fields), bool, int, float (finite),
str, dates and datetimes (ISO, canonical), enums (their value), `X | None`, unions of several types (tagged
`[type name, value]`: a date and a datetime are both strings), `tuple[X, ...]` and fixed tuples (lists),
`dict[str, X]` (objects) and other keys (lists of pairs), `Any` (plain JSON: the weekly ledger).

Decoding is exact: a missing or extra field, a wrong type, a duplicated key, a non-finite or oversized number,
a string with control characters, a non-canonical date or a payload too large is refused with a CodecError
naming where (`views.btc.report.streak.sessions: expected int, got str`). No polars here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import types
import typing
from collections.abc import Callable
from functools import cache, partial
from typing import Any

from common.records import DataError
from common.sanitize import clean

# The payload of a year-sized store's views is ~1-2 MB; anything far beyond is not ours.
MAX_PAYLOAD_CHARS = 32_000_000
# Integers the records hold are counts (sessions, conditions): beyond 2**53 a number is not one of ours.
MAX_INT = 2**53
NoneType = type(None)


class CodecError(DataError):
    """A value that cannot be written or a payload that does not decode exactly: says where and why."""


def dumps(value: object, tp: Any) -> str:
    """`value` (of declared type `tp`) as compact JSON text; CodecError when it is not of that type."""
    try:
        return json.dumps(_encode(value, tp, ""), separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    except _Bad as exc:
        raise exc.error() from None
    except RecursionError:
        raise CodecError("$: nested too deeply") from None


def loads(text: str, tp: Any) -> Any:
    """The value of type `tp` that `text` encodes, exactly; CodecError otherwise."""
    if not isinstance(text, str):
        raise CodecError(f"$: expected text, got {type(text).__name__}")
    if len(text) > MAX_PAYLOAD_CHARS:
        raise CodecError(f"$: payload of {len(text):,} characters exceeds {MAX_PAYLOAD_CHARS:,}")
    try:
        data = json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
    except CodecError:
        raise
    except RecursionError:
        raise CodecError("$: nested too deeply") from None
    except ValueError as exc:  # malformed or truncated JSON, an integer past Python's digit limit
        raise CodecError(f"$: not JSON ({clean(exc, max_len=120)})") from None
    try:
        return _decode(data, tp)
    except RecursionError:
        raise CodecError("$: nested too deeply") from None


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise CodecError(f"$: key {clean(key, max_len=40)!r} appears twice")
        out[key] = value
    return out


def _constant(name: str) -> float:
    raise CodecError(f"$: {name} is not a number")


# ---- the declared types ---------------------------------------------------------------------------------
@cache
def _fields(tp: Any) -> tuple[tuple[str, Any], ...]:
    """(name, declared type) of a dataclass's init fields or a NamedTuple's fields, in order."""
    hints = typing.get_type_hints(tp)
    if dataclasses.is_dataclass(tp):
        return tuple((f.name, hints[f.name]) for f in dataclasses.fields(tp) if f.init)
    return tuple((name, hints[name]) for name in tp._fields)  # type: ignore[attr-defined]


def _is_record(tp: Any) -> bool:
    return isinstance(tp, type) and (dataclasses.is_dataclass(tp) or (issubclass(tp, tuple) and hasattr(tp, "_fields")))


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


def _fits(value: object, tp: Any) -> bool:
    """Whether `value` is of union member `tp` (exact for the scalars: a bool is no int, a datetime no date)."""
    if tp is float:
        return type(value) in (int, float)
    if tp is int:
        return type(value) is int
    if tp is dt.date:
        return type(value) is dt.date
    origin = typing.get_origin(tp)
    return isinstance(value, origin or tp)


def _got(value: object) -> str:
    return type(value).__name__


# ---- encode ---------------------------------------------------------------------------------------------
def _encode(value: Any, tp: Any, path: str) -> Any:
    if tp is Any:
        return _plain(value, path)
    if _is_union(tp):
        members = [m for m in typing.get_args(tp) if m is not NoneType]
        if value is None:
            if len(members) < len(typing.get_args(tp)):
                return None
            raise _Bad(f"None where {_name(tp)} is declared", path)
        if len(members) == 1:
            return _encode(value, members[0], path)
        for member in members:
            if _fits(value, member):
                return [_name(member), _encode(value, member, path)]
        raise _Bad(f"{_got(value)} is none of {_name(tp)}", path)
    if tp is NoneType:
        if value is not None:
            raise _Bad(f"expected None, got {_got(value)}", path)
        return None
    if tp is bool or tp is str:
        if type(value) is not tp:
            raise _Bad(f"expected {tp.__name__}, got {_got(value)}", path)
        return value
    if tp is int:
        return _check_int(value, path)
    if tp is float:
        if type(value) not in (int, float):
            raise _Bad(f"expected float, got {_got(value)}", path)
        return _check_float(float(value), path)
    if tp is dt.datetime:
        if not isinstance(value, dt.datetime):
            raise _Bad(f"expected datetime, got {_got(value)}", path)
        return value.isoformat()
    if tp is dt.date:
        if type(value) is not dt.date:
            raise _Bad(f"expected date, got {_got(value)}", path)
        return value.isoformat()
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        if not isinstance(value, tp):
            raise _Bad(f"expected {tp.__name__}, got {_got(value)}", path)
        return value.value
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple:
        if not isinstance(value, tuple):
            raise _Bad(f"expected a tuple, got {_got(value)}", path)
        if len(args) == 2 and args[1] is Ellipsis:
            return [_encode(v, args[0], f"{path}[{i}]") for i, v in enumerate(value)]
        if len(value) != len(args):
            raise _Bad(f"expected {len(args)} items, got {len(value)}", path)
        return [_encode(v, t, f"{path}[{i}]") for i, (v, t) in enumerate(zip(value, args, strict=True))]
    if origin is dict:
        if not isinstance(value, dict):
            raise _Bad(f"expected a dict, got {_got(value)}", path)
        key_tp, value_tp = args
        if key_tp is str:
            return {_encode(k, str, f"{path} key"): _encode(v, value_tp, f"{path}.{k}") for k, v in value.items()}
        return [[_encode(k, key_tp, f"{path} key"), _encode(v, value_tp, f"{path}[{k}]")] for k, v in value.items()]
    if _is_record(tp):
        fields = _fields(tp)
        if type(value) is not tp:
            raise _Bad(f"expected {tp.__name__}, got {_got(value)}", path)
        return {name: _encode(getattr(value, name), ftp, f"{path}.{name}") for name, ftp in fields}
    raise _Bad(f"type {_name(tp)} is not supported", path)


def _plain(value: Any, path: str) -> Any:
    """`Any`: plain JSON values only (dicts with str keys, lists, str, int, float, bool, None)."""
    if value is None or type(value) is bool:
        return value
    if type(value) is str:
        return _check_str(value, path)
    if type(value) is int:
        return _check_int(value, path)
    if type(value) is float:
        return _check_float(value, path)
    if type(value) is list:
        return [_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if type(value) is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise _Bad(f"key {_got(k)} is not text", path)
            out[_check_str(k, f"{path} key")] = _plain(v, f"{path}.{k}")
        return out
    raise _Bad(f"{_got(value)} is not plain JSON", path)


# ---- decode: a decoder per declared type, built once ----------------------------------------------------------
class _Bad(Exception):
    """A refusal on the way up: `path` where it was found, to which each container on the way out adds its step
    (innermost first); dumps() and loads() say it as a CodecError."""

    def __init__(self, msg: str, path: str = "") -> None:
        super().__init__(msg)
        self.msg, self.path, self.where = msg, path, list[str]()

    def error(self) -> CodecError:
        return CodecError(f"${''.join(reversed(self.where))}{self.path}: {self.msg}")


def _check_int(value: object, path: str = "") -> int:
    if type(value) is not int:
        raise _Bad(f"expected int, got {_got(value)}", path)
    if abs(value) > MAX_INT:
        raise _Bad(f"{value:.3g} is out of range", path)
    return value


def _check_float(value: float, path: str = "") -> float:
    if not math.isfinite(value):
        raise _Bad(f"{value} is not finite", path)
    return value


def _check_str(value: str, path: str = "") -> str:
    """Text drawn on a terminal: no control or invisible characters (what common/sanitize.clean removes)."""
    if clean(value, max_len=len(value) + 1, newlines=True) != value:
        raise _Bad(f"text with control characters: {clean(value, max_len=40)!r}", path)
    return value


def _decode(data: Any, tp: Any) -> Any:
    try:
        return _decoder(tp)(data)
    except _Bad as exc:
        raise exc.error() from None


Decoder = Callable[[Any], Any]


def _exact(tp: type, name: str) -> Decoder:
    def decode(data: Any) -> Any:
        if type(data) is not tp:
            raise _Bad(f"expected {name}, got {_got(data)}")
        return data

    return decode


def _text(data: Any) -> str:
    if type(data) is not str:
        raise _Bad(f"expected str, got {_got(data)}")
    return _check_str(data)


def _float(data: Any) -> float:
    if type(data) is not float:  # we write every float with its point: an int here was not written by us
        raise _Bad(f"expected float, got {_got(data)}")
    return _check_float(data)


def _within(where: str, decode: Decoder, data: Any) -> Any:
    try:
        return decode(data)
    except _Bad as exc:
        exc.where.append(where)
        raise


@cache
def _decoder(tp: Any) -> Decoder:
    if tp is Any:
        return partial(_plain, path="")
    if _is_union(tp):
        return _union(tp)
    if tp is NoneType:
        return _exact(NoneType, "null")
    if tp is bool:
        return _exact(bool, "bool")
    if tp is str:
        return _text
    if tp is int:
        return _check_int
    if tp is float:
        return _float
    if tp is dt.datetime or tp is dt.date:
        return partial(_when, tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return partial(_enum, tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple:
        return _variadic(_decoder(args[0])) if len(args) == 2 and args[1] is Ellipsis else _fixed(tuple(map(_decoder, args)))
    if origin is dict:
        return _object_of(_decoder(args[1])) if args[0] is str else _pairs(_decoder(args[0]), _decoder(args[1]))
    if _is_record(tp):
        return _record(tp, tuple((name, _decoder(ftp)) for name, ftp in _fields(tp)))
    raise _Bad(f"type {_name(tp)} is not supported")


def _union(tp: Any) -> Decoder:
    members = [m for m in typing.get_args(tp) if m is not NoneType]
    optional = len(members) < len(typing.get_args(tp))
    if len(members) == 1:
        one = _decoder(members[0])

        def maybe(data: Any) -> Any:
            return None if data is None and optional else one(data)

        return maybe
    tagged = {_name(m): _decoder(m) for m in members}

    def decode(data: Any) -> Any:
        if data is None:
            if optional:
                return None
            raise _Bad(f"null where {_name(tp)} is declared")
        if not (type(data) is list and len(data) == 2 and type(data[0]) is str):
            raise _Bad(f"expected a [type, value] pair for {_name(tp)}")
        member = tagged.get(data[0])
        if member is None:
            raise _Bad(f"{clean(data[0], max_len=40)!r} is none of {_name(tp)}")
        return member(data[1])

    return decode


def _enum(tp: type[enum.Enum], data: Any) -> enum.Enum:
    try:
        return tp(data)
    except (ValueError, TypeError):
        raise _Bad(f"{clean(repr(data), max_len=40)} is no {tp.__name__}") from None


def _variadic(item: Decoder) -> Decoder:
    def decode(data: Any) -> tuple:
        if type(data) is not list:
            raise _Bad(f"expected a list, got {_got(data)}")
        out = []
        for i, v in enumerate(data):
            try:
                out.append(item(v))
            except _Bad as exc:
                exc.where.append(f"[{i}]")
                raise
        return tuple(out)

    return decode


def _fixed(items: tuple[Decoder, ...]) -> Decoder:
    def decode(data: Any) -> tuple:
        if type(data) is not list:
            raise _Bad(f"expected a list, got {_got(data)}")
        if len(data) != len(items):
            raise _Bad(f"expected {len(items)} items, got {len(data)}")
        return tuple(_within(f"[{i}]", d, v) for i, (d, v) in enumerate(zip(items, data, strict=True)))

    return decode


def _object_of(value: Decoder) -> Decoder:
    def decode(data: Any) -> dict:
        if type(data) is not dict:
            raise _Bad(f"expected an object, got {_got(data)}")
        return {_within(" key", _check_str, k): _within(f".{k}", value, v) for k, v in data.items()}

    return decode


def _pairs(key: Decoder, value: Decoder) -> Decoder:
    def decode(data: Any) -> dict:
        if type(data) is not list or not all(type(p) is list and len(p) == 2 for p in data):
            raise _Bad("expected a list of [key, value] pairs")
        out = {}
        for k, v in data:
            got = _within(" key", key, k)
            if got in out:
                raise _Bad(f"key {got!r} appears twice")
            out[got] = _within(f"[{got}]", value, v)
        return out

    return decode


def _record(tp: type, fields: tuple[tuple[str, Decoder], ...]) -> Decoder:
    names = frozenset(name for name, _ in fields)

    def decode(data: Any) -> Any:
        if type(data) is not dict:
            raise _Bad(f"expected an object for {tp.__name__}, got {_got(data)}")
        if data.keys() != names:
            extra, missing = sorted(set(data) - names), sorted(names - set(data))
            said = "; ".join([f"missing {', '.join(missing)}"] * bool(missing) + [f"unknown {', '.join(extra)}"] * bool(extra))
            raise _Bad(f"{tp.__name__} fields do not match ({clean(said, max_len=120)})")
        kwargs = {}
        for name, decode_field in fields:
            try:
                kwargs[name] = decode_field(data[name])
            except _Bad as exc:
                exc.where.append(f".{name}")
                raise
        return tp(**kwargs)

    return decode


def _when(tp: type[dt.date], data: Any) -> dt.date:
    """A date or datetime in the canonical ISO form we write (anything else was not written by us)."""
    if type(data) is not str or len(data) > 40:
        raise _Bad(f"expected an ISO {tp.__name__}, got {_got(data)}")
    try:
        value = tp.fromisoformat(data)
    except ValueError:
        value = None
    if value is None or type(value) is not tp or value.isoformat() != data:
        raise _Bad(f"{clean(data, max_len=40)!r} is not an ISO {tp.__name__}")
    return value
