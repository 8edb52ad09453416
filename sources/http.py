"""The one HTTP path every source uses: shared client, deadline, capped body, fault classes.

Retries live in the scheduler only (one layer): a fetch here is a single attempt. Every failure
becomes a FetchError subclass whose message is short, sanitised and fit for the status bar.
"""

from __future__ import annotations

import asyncio
import codecs
import datetime as dt
import email.utils
import json
import zlib

import httpx

from common.records import SourceState
from common.sanitize import clean

# The longest a host can stop us with Retry-After (any form): an HTTP date in 9999 banned a source forever,
# and the ban end is persisted, so it outlived restarts. polling.stored_wait applies it to stored bans too.
MAX_RETRY_AFTER = dt.timedelta(days=1)
MAX_BODY_BYTES = 8 * 1024 * 1024  # decoded; Farside's all-data page is well under 2 MiB
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 flowtape/0.1"
BROWSER_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.9",
    "Accept-Encoding": "gzip, deflate",  # only what we can inflate with a cap
}
_CHALLENGE_MARKERS = (
    "cf-chl",
    "challenge-platform",
    "just a moment...",
    "attention required! | cloudflare",
    "cf-browser-verification",
)


class FetchError(Exception):
    """A fetch failed; `state` is what the source status should say."""

    state: SourceState = SourceState.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(clean(message, max_len=160))


class BlockedError(FetchError):
    """A bot challenge (Cloudflare and the like) instead of the data."""

    state = SourceState.BLOCKED


class RateLimitedError(FetchError):
    """The host asked us to stop until `retry_at` (None: it did not say, or said garbage)."""

    state = SourceState.RATE_LIMITED

    def __init__(self, message: str, retry_at: dt.datetime | None, *, banned: bool = False) -> None:
        super().__init__(message)
        self.retry_at = retry_at
        if banned:
            self.state = SourceState.BANNED


def make_client(transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The shared client: explicit timeouts, no redirects (a mirror that redirects must be configured directly)."""
    return httpx.AsyncClient(
        headers=BROWSER_HEADERS,
        timeout=httpx.Timeout(15.0, connect=5.0),
        follow_redirects=False,
        transport=transport,
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
    )


def parse_retry_after(value: str | None, now: dt.datetime) -> dt.datetime | None:
    """`Retry-After` as seconds or an HTTP-date -> an aware UTC time at most MAX_RETRY_AFTER ahead; garbage -> None."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is true and int("²") raises
        return now + min(dt.timedelta(seconds=int(value[:12])), MAX_RETRY_AFTER)  # 12 digits: already > a day
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # OverflowError: an absurd zone offset
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return min(max(when, now), now + MAX_RETRY_AFTER)


def body_retry_after(body: bytes | str) -> str | None:
    """`retry_after` (seconds) from a JSON rate-limit body, top level or under `details`, as Retry-After text."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None
    for where in (doc, doc.get("details") if isinstance(doc, dict) else None):
        value = where.get("retry_after") if isinstance(where, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return str(value)
    return None


def looks_like_challenge(text: str) -> bool:
    head = text[:20000].lower()
    return any(marker in head for marker in _CHALLENGE_MARKERS)


async def fetch_text(
    client: httpx.AsyncClient,
    url: str,
    *,
    deadline: float,
    now: dt.datetime,
    max_bytes: int = MAX_BODY_BYTES,
    headers_out: dict[str, str] | None = None,
    post_json: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> str:
    """GET `url` (POST `post_json` when given) and return its decoded text, or raise FetchError. Never takes longer
    than `deadline` s. `headers_out`, if given, receives the response headers (lower-case names) of a successful
    fetch. `headers` go out with the request and never into a message (an API key travels there)."""
    try:
        async with asyncio.timeout(deadline):
            return await _fetch(client, url, max_bytes, now, headers_out, post_json, headers)
    except TimeoutError:
        raise FetchError(f"no complete answer within {deadline:g}s") from None
    except httpx.TimeoutException:
        raise FetchError("timed out") from None
    except httpx.ConnectError as exc:
        raise FetchError(f"cannot connect: {_reason(exc)}") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    max_bytes: int,
    now: dt.datetime,
    headers_out: dict | None,
    post_json: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> str:
    method = "GET" if post_json is None else "POST"
    async with client.stream(method, url, json=post_json, headers=headers) as resp:
        status = resp.status_code
        if status in (429, 418):
            retry_at = parse_retry_after(resp.headers.get("Retry-After"), now)
            if retry_at is None and status == 429:  # SoSoValue says how long in the body: details.retry_after
                try:
                    retry_at = parse_retry_after(body_retry_after(await _read_capped(resp, 64 * 1024)), now)
                except FetchError:  # an unreadable body: the state stays rate-limited, with the default backoff
                    retry_at = None
            raise RateLimitedError(f"HTTP {status}", retry_at, banned=status == 418)
        if status in (301, 302, 303, 307, 308):
            raise FetchError(f"HTTP {status} redirect to {resp.headers.get('Location', '?')}: set base_url to the final address")
        body = await _read_capped(resp, max_bytes)
        text = _decode(body, resp)
        if status in (403, 503) and looks_like_challenge(text):
            raise BlockedError(f"HTTP {status} bot challenge")
        if status == 403 and "too frequent" in text.lower():
            raise RateLimitedError("HTTP 403 access too frequent (IP ban)", now + dt.timedelta(minutes=10), banned=True)
        if status >= 400:
            retry_at = parse_retry_after(resp.headers.get("Retry-After"), now) if status == 503 else None
            if retry_at:
                raise RateLimitedError(f"HTTP {status}", retry_at)
            raise FetchError(f"HTTP {status}")
        if status != 200:
            raise FetchError(f"unexpected HTTP {status}")
        if headers_out is not None:
            headers_out.update((k.lower(), v) for k, v in resp.headers.items())
        return text


async def _read_capped(resp: httpx.Response, max_bytes: int) -> bytes:
    """Read the raw stream and inflate it ourselves, so a gzip bomb stops at `max_bytes`."""
    if resp.is_stream_consumed:  # an in-memory response (demo replay): already whole and decoded
        if len(resp.content) > max_bytes:
            raise FetchError(f"body larger than {max_bytes // (1024 * 1024)} MiB, refused")
        return resp.content
    encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = zlib.decompressobj()
    elif encoding in ("identity", ""):
        inflater = None
    else:
        raise FetchError(f"unsupported Content-Encoding {encoding!r}")
    out = bytearray()
    async for chunk in resp.aiter_raw():
        if inflater is None:
            out += chunk
        else:
            try:
                # Inflate in bounded steps so one small chunk cannot expand to gigabytes at once.
                data = inflater.decompress(chunk, max_bytes + 1 - len(out))
                out += data
                while inflater.unconsumed_tail and len(out) <= max_bytes:
                    out += inflater.decompress(inflater.unconsumed_tail, max_bytes + 1 - len(out))
            except zlib.error:
                raise FetchError("corrupt compressed body") from None
        if len(out) > max_bytes:
            raise FetchError(f"body larger than {max_bytes // (1024 * 1024)} MiB, refused")
    if inflater is not None and not inflater.eof:
        raise FetchError("truncated compressed body")
    return bytes(out)


def _decode(body: bytes, resp: httpx.Response) -> str:
    charset = resp.charset_encoding or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"  # an unknown label must not become a crash
    try:
        return body.decode(charset)
    except UnicodeError:
        raise FetchError(f"body is not valid {charset} text") from None
    except LookupError:  # a known codec that is not a text encoding (`charset=rot13`, `base64`)
        raise FetchError(f"body declares charset {charset!r}, which is not a text encoding") from None
