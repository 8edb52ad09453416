"""A recorded upstream on 127.0.0.1 for the benchmark's live runs: every source's demo recording, frozen at one
instant, so every poll gets the same answer (an idle app must send nothing but its age ticker), and one
Farside cell that can be changed on demand (the one-changed-cell figure).

It serves the demo transport's answers over real HTTP, so the app under test runs its live path (client,
polling loops, parsers, store) exactly as against the real sites.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from common.config import SECTIONS
from demo import Rows, demo_transport, farside_pages
from sources.farside import RECENT_PATHS

CHANGED_PATH = RECENT_PATHS["btc"]


def _one_cell_changed(asset: str, rows: Rows) -> Rows:
    """The newest complete BTC session's first fund, 12.3 higher (its total follows, as Farside's does)."""
    if asset != "btc":
        return rows
    rows = list(rows)
    i = max(n for n, (_, values, _) in enumerate(rows) if all(v is not None for v in values))
    day, values, total = rows[i]
    values = [round((values[0] or 0.0) + 12.3, 1), *values[1:]]
    rows[i] = (day, values, None if total is None else round(total + 12.3, 1))
    return rows


class Upstream:
    """Serve until close(); `base_url` is where every source is pointed (Farside at the root, venue X under /X)."""

    def __init__(self, frozen: dt.datetime) -> None:
        self.pages = farside_pages()
        self._changed = farside_pages(_one_cell_changed)[CHANGED_PATH]
        self.transport = demo_transport(lambda: frozen, pages=self.pages)
        self.changed_served_at: float | None = None  # monotonic time the changed page was first served
        self.requests = 0  # every request served (the desk test: one poller, however many screens)
        self._count = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                with upstream._count:
                    upstream.requests += 1
                resp = upstream.transport.handle_request(httpx.Request("GET", "http://upstream" + self.path))
                body = resp.content
                if self.path.split("?")[0] == CHANGED_PATH and upstream.pages[CHANGED_PATH] is upstream._changed:
                    upstream.changed_served_at = upstream.changed_served_at or time.monotonic()
                self.send_response(resp.status_code)
                self.send_header("Content-Type", resp.headers.get("Content-Type", "text/plain"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="bench upstream", daemon=True)
        self._thread.start()

    def change_one_cell(self) -> None:
        self.changed_served_at = None
        self.pages[CHANGED_PATH] = self._changed

    def config_file(self, folder: Path, *, farside_interval: float) -> Path:
        """A flowtape config pointing every source here (Farside polled every `farside_interval` s)."""
        lines = []
        for section in SECTIONS:
            base = self.base_url if section == "farside" else f"{self.base_url}/{section}"
            lines += [f"[sources.{section}]", f'base_url = "{base}"', "enabled = true"]
            if section == "farside":
                lines.append(f"interval = {farside_interval}")
        path = folder / "bench-config.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
