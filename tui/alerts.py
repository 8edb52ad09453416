"""Deliver alerts: a toast, the terminal bell, and an optional command run without a shell.

The command gets the alert as JSON on stdin; it may not hang flowtape (a deadline) and its failure is
reported, never raised. It runs in its own process group, so at the deadline everything it started
(`sh -c 'sleep 100 & sleep 100'`: both sleeps) is stopped with it, not only its first process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Sequence

from common.sanitize import clean

COMMAND_DEADLINE_S = 10.0  # for the command and anything it started
STOP_GRACE_S = 1.0  # between SIGTERM and SIGKILL to the group
_POLL_S = 0.05


async def run_alert_command(argv: Sequence[str], payload: dict) -> str | None:
    """Run `argv` with `payload` as JSON on stdin. Returns None on success, else a short reason."""
    deadline = COMMAND_DEADLINE_S
    name = clean(repr(argv[0]), max_len=60)
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # its own group (pgid = pid): the deadline reaches its children too
        )
    except (OSError, ValueError) as exc:  # ValueError: a NUL in an argument
        return clean(f"alert command {name} could not start: {getattr(exc, 'strerror', None) or exc}")
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline
    try:
        try:
            await asyncio.wait_for(proc.communicate(json.dumps(payload).encode()), deadline)
            timed_out = False
        except TimeoutError:
            timed_out = True
        # Done in time: what it left running in the background gets the rest of the deadline, then is stopped
        # too (zombies under an init that does not reap also count as running; signalling them is harmless).
        while not timed_out and _group_alive(proc.pid) and loop.time() < until:
            await asyncio.sleep(_POLL_S)
        if timed_out or _group_alive(proc.pid):
            await _stop_group(proc)
    except asyncio.CancelledError:  # flowtape is quitting: nothing the command started outlives it
        _signal_group(proc.pid, signal.SIGKILL)
        raise
    if timed_out:
        return clean(f"alert command {name} took longer than {deadline:g}s and was stopped")
    if proc.returncode != 0:
        return clean(f"alert command {name} exited with status {proc.returncode}")
    return None


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member changed its uid (setuid): still there, and not ours to signal
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


async def _stop_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM to the whole group, SIGKILL after a short grace to whatever is left; the leader is reaped."""
    _signal_group(proc.pid, signal.SIGTERM)
    loop = asyncio.get_running_loop()
    until = loop.time() + STOP_GRACE_S
    while _group_alive(proc.pid) and loop.time() < until:
        await asyncio.sleep(_POLL_S)
    _signal_group(proc.pid, signal.SIGKILL)
    await proc.wait()
