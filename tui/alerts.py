"""Deliver alerts: a toast, the terminal bell, and an optional command run without a shell.

The command gets the alert as JSON on stdin; it may not hang flowtape (a deadline) and its failure is
reported, never raised.
"""

from __future__ import annotations

import asyncio
import json
from typing import Sequence

from sources.sanitize import clean

COMMAND_DEADLINE_S = 10.0


async def run_alert_command(argv: Sequence[str], payload: dict) -> str | None:
    """Run `argv` with `payload` as JSON on stdin. Returns None on success, else a short reason."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
    except OSError as exc:
        return clean(f"alert command {argv[0]!r} could not start: {exc.strerror}")
    try:
        await asyncio.wait_for(proc.communicate(json.dumps(payload).encode()), COMMAND_DEADLINE_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return clean(f"alert command {argv[0]!r} took longer than {COMMAND_DEADLINE_S:g}s and was stopped")
    if proc.returncode != 0:
        return clean(f"alert command {argv[0]!r} exited with status {proc.returncode}")
    return None
