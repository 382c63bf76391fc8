"""The planner's child process (:class:`~augur_extender.planner_process.PlannerProcess` starts it): its CPU
priority (:func:`lower_priority`), its loop (:func:`serve`: apply messages, answer each ``update`` with a
plan) and what crosses the pipe each update (:func:`arrays`). The parent side is
:mod:`augur_extender.planner_process`, whose docstring describes the protocol."""

from __future__ import annotations

import functools
import os
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from augur.placement import Occupancy, RuleBook, Snapshot, WorkloadRules
from augur.placement.plan import Plan, Planner, PlanSettings, PlanSuperseded
from augur.placement.table import NodeTable
from augur_extender.inflight import wait_while_busy

CHILD_NICENESS = 10
"""How much lower the child's CPU priority is than the extender's (``os.nice`` increment) with priority
``nice``, or ``idle`` where ``SCHED_IDLE`` is refused."""
PRIORITIES = ("nice", "idle", "normal")
"""The child's CPU priority (``--planner-priority``):

- ``nice`` (the default): ``os.nice(CHILD_NICENESS)``: the child still gets about a tenth of a core that
  busy threads of its CPU group (the extender's pod, in Kubernetes) want (weight 110 against 1,024), so it
  plans on a saturated pod.
- ``idle``: Linux's ``SCHED_IDLE`` policy, the lowest there is: the child runs only on CPU time no normal
  task of its group wants, and a waking request thread preempts it at once; where the platform has no
  ``SCHED_IDLE`` or refuses it, ``nice`` instead. Not the default: prioritize latency under churn was the
  same within the spread at 1,000 nodes on a 2-core machine (p99 median 1.27 ms against 1.20 ms at
  ``nice``, 12 node orders each; docs/placement-results.md, Prioritize latency), and a saturated pod would starve
  the planner.
- ``normal``: nothing lowered: the child competes for CPU like the extender's own threads (without sharing
  their interpreter's lock).
"""


def arrays(snapshot: Snapshot, rules: tuple[WorkloadRules, ...]) -> tuple[Any, ...]:
    """What an update or a view sends: requested cores, memory and pods per node, and where the plannable
    workloads' pods run."""
    table = snapshot.table
    occupancy = {r.key: dict(snapshot.occupancy.nodes_of(r.key)) for r in rules}
    return table.cpu_requested, table.memory_requested, table.pods, occupancy


def serve(
    conn: Connection,
    settings: PlanSettings,
    niceness: int,
    priority: str,
    busy: Any,
    cancel: Any,
    provisional: bool = False,
    views: bool = False,
) -> None:
    """The child: apply messages until the pipe closes; answer every ``update`` with a plan, that it
    abandoned the plan (``cancel`` raised), or an error; with ``provisional``, preceded by the full plan's
    provisional plans (with ``views``, repaired against the newest view, asked of the parent each time)."""
    lower_priority(priority, niceness)
    pause = functools.partial(wait_while_busy, busy)

    def send_provisional(plan: Plan) -> None:
        conn.send(("provisional", replace(plan, nodes=(), signature=())))

    def newest() -> Snapshot | None:
        """The parent's newest view (its answer is the only message it sends while an update runs)."""
        try:
            conn.send(("newest",))
            answer = conn.recv()
        except (EOFError, OSError):  # the parent is gone: search on; the loop below ends at the next message
            return None
        if answer[0] != "view" or table is None:
            return None
        rules, arrays = answer[1], answer[2:]
        return _snapshot(table, rulebook if rules is None else RuleBook(rules), *arrays)

    def new_planner() -> Planner:
        publish = send_provisional if provisional else None
        latest = newest if provisional and views else None
        return Planner(settings, pause=pause, superseded=lambda: cancel.value > 0, publish=publish, latest=latest)

    planner = new_planner()
    table: NodeTable | None = None
    rulebook = RuleBook()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        kind = message[0]
        if kind == "table":
            table = message[1]
        elif kind == "rules":
            rulebook = RuleBook(message[1])
        elif kind == "update":
            try:
                plan = _update(planner, table, rulebook, *message[1:])
            except PlanSuperseded as exc:  # the planner kept its previous search
                conn.send(("superseded", exc.cpu_seconds))
            except Exception as exc:  # reported to the parent, which counts it and starts a new child
                planner, table, rulebook = new_planner(), None, RuleBook()
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
            else:
                conn.send(("plan", plan))


def lower_priority(priority: str, niceness: int) -> str:
    """Lower the calling process's CPU priority as :data:`PRIORITIES` says; returns the policy in effect
    (``idle`` falls back to ``nice`` where ``SCHED_IDLE`` is missing or refused, ``nice`` to ``normal`` where
    it is refused or the process already runs at the lowest niceness, 19, so nothing was lowered)."""
    if priority == "normal":
        return "normal"
    if priority == "idle" and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return "idle"
        except OSError:
            pass
    try:
        before = os.nice(0)
        after = os.nice(niceness)
    except OSError:
        return "normal"
    return "nice" if after > before else "normal"


def priority_of(pid: int | None) -> str | None:
    """The CPU priority of process ``pid`` in :func:`lower_priority`'s terms: ``idle`` (``SCHED_IDLE``),
    ``nice`` (a higher niceness than this process's), ``normal``; ``None`` where it cannot be read (no such
    process, or a platform without these calls)."""
    if pid is None or not hasattr(os, "sched_getscheduler"):
        return None
    try:
        if os.sched_getscheduler(pid) == os.SCHED_IDLE:
            return "idle"
        higher = os.getpriority(os.PRIO_PROCESS, pid) > os.getpriority(os.PRIO_PROCESS, 0)
    except OSError:
        return None
    return "nice" if higher else "normal"


def _update(
    planner: Planner,
    table: NodeTable | None,
    rulebook: RuleBook,
    cpu: np.ndarray,
    memory: np.ndarray,
    pods: np.ndarray,
    occupancy: dict[str, dict[str, int]],
    now: float,
) -> Plan | None:
    if table is None:
        raise RuntimeError("no node table received")
    started = time.process_time()
    plan = planner.update(_snapshot(table, rulebook, cpu, memory, pods, occupancy), now)
    if plan is None:
        return None
    # the parent restores node names and rules; cpu_seconds include rebuilding the snapshot here
    return replace(plan, nodes=(), signature=(), cpu_seconds=time.process_time() - started)


def _snapshot(
    table: NodeTable,
    rulebook: RuleBook,
    cpu: np.ndarray,
    memory: np.ndarray,
    pods: np.ndarray,
    occupancy: dict[str, dict[str, int]],
) -> Snapshot:
    return Snapshot(table.with_requested(cpu, memory, pods), Occupancy(occupancy), rulebook)
