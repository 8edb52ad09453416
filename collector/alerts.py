"""The alert policy: which alerts fire now (each once for the store, across restarts and across processes: the
store's alert log), and the alert command that delivers them. Whoever writes the store decides and runs the
command (`flowtape collect`, or the dashboard when it is the writer); the toast and the bell are the screen's.

The command gets the alert as JSON on stdin; it may not hang flowtape (a deadline) and its failure is
reported, never raised. It runs in its own process group, so at the deadline everything it started
(`sh -c 'sleep 100 & sleep 100'`: both sleeps) is stopped with it, not only its first process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from common.config import AlertsConfig
from common.sanitize import clean
from store import Store

if TYPE_CHECKING:
    from analytics.alerts import Alert
    from analytics.dashboard import AssetView
    from analytics.scenarios import ScenarioResult


def new_alerts(
    store: Store,
    results: Sequence[ScenarioResult],
    views: Mapping[str, AssetView],
    as_of: dt.date,
    *,
    cfg: AlertsConfig,
    mode: str,
    now: dt.datetime,
) -> list[tuple[Alert, dict]]:
    """The scenario changes, data-health notices and flow events as of `as_of` that have not fired before, with their payloads;
    each is logged in the store as it is returned, so it fires once for this store."""
    from analytics.alerts import flow_alerts, scenario_alerts

    previous = {r.scenario.id: store.meta(f"scenario_label:{r.scenario.id}") for r in results}
    # Each condition's last outcome too: a label change made only by data going stale is data health, not a transition.
    marks = {r.scenario.id: store.meta(f"scenario_marks:{r.scenario.id}") for r in results}
    alerts = scenario_alerts(
        tuple(results),
        {k: v for k, v in previous.items() if v},
        as_of.isoformat(),
        {k: v for k, v in marks.items() if v},
    )
    for r in results:
        if previous.get(r.scenario.id) != r.label:
            store.set_meta(f"scenario_label:{r.scenario.id}", r.label)
        if marks.get(r.scenario.id) != r.marks:
            store.set_meta(f"scenario_marks:{r.scenario.id}", r.marks)
    for view in views.values():
        alerts += flow_alerts(view.report, red_streak=cfg.red_streak, green_streak_at_size=cfg.green_streak_at_size)
    fired = []
    for alert in alerts:
        payload = {**alert.payload(), "mode": mode, "as_of": as_of.isoformat()}
        if store.log_alert(alert.key, alert.kind, json.dumps(payload), created_at=now):  # False: fired before
            fired.append((alert, payload))
    return fired


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
