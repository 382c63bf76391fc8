"""The planner's search in a child process, so that it never holds the request path's interpreter lock.

:class:`PlannerProcess` has the pure :class:`~augur.placement.plan.Planner`'s ``update(snapshot, now)``
and runs that very function in a child (``spawn``: no copy of the extender's threads or sockets), at a
lower CPU priority (``nice``) than the extender, so that on a busy node kube-scheduler and the requests go
first. The background planner's thread calls it and blocks on the pipe (without the GIL) while the child
searches. Per update only what changed crosses the pipe:

- the node table without its memo, when the node set or the topology changed (rare);
- the plannable workloads' rules, when the rule book changed;
- each time: requested cores, memory and pod counts per node (three arrays) and where the plannable
  workloads' pods run.

The child keeps its node table between updates, so a repair stays incremental exactly as in process. The
plan comes back without its node names and rules (the parent has them), so that a request's check that the
plan is current stays ``O(1)``. Like the in-process search, the child's search steps aside while the
extender serves requests: :attr:`PlannerProcess.busy` is a shared-memory integer the extender mirrors its
in-flight request count into (:class:`~augur_extender.inflight.InFlight`), read by the search's pause
callback. A child that fails, dies or exceeds ``timeout`` raises :class:`PlannerProcessError`; the caller
counts the failure and starts a new one (:meth:`close` first).
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from augur.placement import Occupancy, RuleBook, Snapshot, WorkloadRules
from augur.placement.plan import Plan, Planner, PlanSettings, plan_signature
from augur.placement.table import NodeTable
from augur_extender.inflight import wait_while_busy

CHILD_NICENESS = 10
"""How much lower the child's CPU priority is than the extender's (``os.nice`` increment)."""
START_TIMEOUT_SECONDS = 120.0
"""Longest wait for the child's first answer (it imports numpy and the placement package)."""


class PlannerProcessError(RuntimeError):
    """The child failed to plan, died, or did not answer in time."""


class PlannerProcess:
    """A :class:`Planner` in a child process (one owner thread calls :meth:`update`)."""

    def __init__(
        self, settings: PlanSettings | None = None, timeout: float = 60.0, niceness: int = CHILD_NICENESS
    ) -> None:
        self.settings = settings or PlanSettings()
        self.timeout = timeout
        ctx = multiprocessing.get_context("spawn")
        self.busy: Any = ctx.RawValue("i", 0)
        """Requests the extender is serving (it writes, the child's search reads and steps aside)."""
        self._conn, theirs = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve, args=(theirs, self.settings, niceness, self.busy), name="augur-planner", daemon=True
        )
        self._proc.start()
        theirs.close()
        self._started = False
        self._table_memo: object | None = None
        self._names: tuple[str, ...] = ()
        self._rules: tuple[WorkloadRules, ...] | None = None
        self.plan: Plan | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def update(self, snapshot: Snapshot, now: float = 0.0) -> Plan | None:
        """The plan for ``snapshot``, computed by the child (the same function as :meth:`Planner.update`)."""
        table, rules = snapshot.table, plan_signature(snapshot.rulebook)
        try:
            if table.memo is not self._table_memo:
                self._conn.send(("table", replace(table, memo={})))
                self._table_memo, self._names = table.memo, table.names_tuple
            if rules is not self._rules:
                self._conn.send(("rules", rules))
                self._rules = rules
            occupancy = {r.key: dict(snapshot.occupancy.nodes_of(r.key)) for r in rules}
            self._conn.send(("update", table.cpu_requested, table.memory_requested, table.pods, occupancy, now))
        except (OSError, ValueError) as exc:
            raise PlannerProcessError(f"the planner process is gone: {exc}") from exc
        reply = self._receive(self.timeout if self._started else max(self.timeout, START_TIMEOUT_SECONDS))
        self._started = True
        if reply[0] == "error":
            self._table_memo = self._rules = None  # the child starts over: send everything again
            raise PlannerProcessError(str(reply[1]))
        plan: Plan | None = reply[1]
        self.plan = None if plan is None else replace(plan, nodes=self._names, signature=rules)
        return self.plan

    def _receive(self, timeout: float) -> tuple[str, Any]:
        try:
            if not self._conn.poll(timeout):
                raise PlannerProcessError(f"the planner process did not answer within {timeout:g} s")
            reply: tuple[str, Any] = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise PlannerProcessError(f"the planner process died (exit code {self._proc.exitcode})") from exc
        return reply

    def close(self) -> None:
        """Stop the child (a polite end of input, then terminate, then kill)."""
        with contextlib.suppress(OSError):
            self._conn.close()
        self._proc.join(timeout=2.0)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout=2.0)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout=2.0)


def _serve(conn: Connection, settings: PlanSettings, niceness: int, busy: Any) -> None:
    """The child: apply messages until the pipe closes; answer every ``update`` with a plan or an error."""
    with contextlib.suppress(OSError):
        os.nice(niceness)
    pause = functools.partial(wait_while_busy, busy)
    planner = Planner(settings, pause=pause)
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
            except Exception as exc:  # reported to the parent, which counts it and starts a new child
                planner, table, rulebook = Planner(settings, pause=pause), None, RuleBook()
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
            else:
                conn.send(("plan", plan))


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
    snapshot = Snapshot(table.with_requested(cpu, memory, pods), Occupancy(occupancy), rulebook)
    plan = planner.update(snapshot, now)
    if plan is None:
        return None
    # the parent restores node names and rules; cpu_seconds include rebuilding the snapshot here
    return replace(plan, nodes=(), signature=(), cpu_seconds=time.process_time() - started)
