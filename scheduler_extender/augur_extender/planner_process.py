"""The planner's search in a child process, so that it never holds the request path's interpreter lock.

:class:`PlannerProcess` has the pure :class:`~augur.placement.plan.Planner`'s ``update(snapshot, now)``
and runs that very function in a child (``spawn``: no copy of the extender's threads or sockets;
:mod:`augur_extender.planner_child` is the child's side), at a lower CPU priority than the extender
(:func:`~augur_extender.planner_child.lower_priority`: nice +10 by default, or ``SCHED_IDLE``), so that the
requests go first. The background planner's thread calls it and blocks on the pipe (without the GIL) while
the child searches. Per update only what changed crosses the pipe:

- the node table without its memo, when the node set or the topology changed (rare);
- the plannable workloads' rules, when the rule book changed;
- each time: requested cores, memory and pod counts per node (three arrays) and where the plannable
  workloads' pods run.

The child keeps its node table between updates, so a repair stays incremental exactly as in process. The
plan comes back without its node names and rules (the parent has them), so that a request's check that the
plan is current stays ``O(1)``. Like the in-process search, the child's search steps aside while the
extender serves requests: :attr:`PlannerProcess.busy` is a shared-memory integer the extender mirrors its
in-flight request count into (:class:`~augur_extender.inflight.InFlight`), read by the search's pause
callback. A child that fails or dies raises :class:`PlannerProcessError`, and so does one that stalls:
:class:`Patience` waits as long as the child works (its CPU time grows, or it steps aside for requests)
and gives up after ``timeout`` seconds without progress or ``cpu_limit`` seconds of CPU for one update.
A fixed wall-clock limit killed children that were slow but working, at nice +10 on a busy node. The
caller counts the failure and starts a new child (:meth:`close` first).

A full plan can be abandoned as in process (:class:`~augur.placement.plan.PlanSuperseded`): while it
waits, the parent asks its ``superseded`` callable every :data:`POLL_SECONDS` and, on ``True``, raises
:attr:`PlannerProcess.cancel`, a shared-memory flag the child's search reads at its pauses; the child
answers that it abandoned the plan (keeping its previous search) and the parent raises
:class:`~augur.placement.plan.PlanSuperseded`.

With ``publish``, the child also sends the best plan so far of a full plan while it searches
(:attr:`~augur.placement.plan.Planner.publish`); the parent hands each to ``publish`` (with its node names and
rules restored) while it waits for the final answer. With ``latest`` too, the child asks for the newest view
whenever its :attr:`~augur.placement.plan.Planner.latest` is called (before each provisional plan is handed
over), and the parent answers at once with ``latest()``: the same three arrays and pods, and the plannable
rules when they are not the update's (a rule book rebuilt since, e.g. once a workload's first pod is seen),
or that there is none over the update's nodes. So the child repairs against the view the thread would have
used at that moment; whether that view can be repaired for is the planner's decision, as on the thread.
(Until session 38 the parent sent views at its polls and after each provisional plan, and only with the
update's very rule book object: in a burst the first provisional plan was never repaired and later ones
rarely, and bursts cost 1.9x the thread's, ``bench/results/replay_burst_planner_process_61.json``.)
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from augur.placement import Snapshot, WorkloadRules
from augur.placement.plan import Plan, PlanSettings, PlanSuperseded, plan_signature
from augur_extender.planner_child import CHILD_NICENESS, PRIORITIES, arrays, priority_of, serve

START_TIMEOUT_SECONDS = 120.0
"""Longest wait without progress for the child's first answer (it imports numpy and the placement package)."""
CPU_LIMIT_SECONDS = 120.0
"""Most CPU one update may use (a first plan at 1,000 nodes and 500 pods took 6.9 s)."""
POLL_SECONDS = 0.5
"""How often the parent checks the child's progress while it waits."""


class PlannerProcessError(RuntimeError):
    """The child failed to plan, died, or did not answer in time."""


@dataclass
class Patience:
    """How long the parent waits for an answer: while the child works. ``check`` is called with the
    child's CPU seconds (None where the platform does not say: then only the wall clock counts), whether
    it is stepping aside for requests, and the time; it returns why to give up, or None."""

    stall: float
    cpu_limit: float
    started: float
    cpu_at_start: float | None = None
    progress_at: float = field(init=False)
    cpu_seen: float | None = field(init=False)

    def __post_init__(self) -> None:
        self.progress_at, self.cpu_seen = self.started, self.cpu_at_start

    def check(self, cpu: float | None, stepping_aside: bool, now: float) -> str | None:
        if cpu is not None and self.cpu_at_start is not None and cpu - self.cpu_at_start > self.cpu_limit:
            return f"the planner process used more than {self.cpu_limit:g} s of CPU on one update"
        working = stepping_aside or (cpu is not None and self.cpu_seen is not None and cpu > self.cpu_seen)
        if working:
            self.progress_at = now
        self.cpu_seen = cpu
        if now - self.progress_at > self.stall:
            idle = "did not answer" if cpu is None else "did not answer and used no CPU"
            return f"the planner process {idle} for {self.stall:g} s"
        return None


def _cpu_seconds(pid: int | None) -> float | None:
    """User plus system CPU seconds of process ``pid`` (Linux ``/proc``; None elsewhere or when gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class PlannerProcess:
    """A :class:`Planner` in a child process (one owner thread calls :meth:`update`)."""

    def __init__(
        self,
        settings: PlanSettings | None = None,
        timeout: float = 60.0,
        niceness: int = CHILD_NICENESS,
        priority: str = "nice",
        cpu_limit: float = CPU_LIMIT_SECONDS,
        superseded: Callable[[], bool] | None = None,
        publish: Callable[[Plan], None] | None = None,
        latest: Callable[[], Snapshot | None] | None = None,
    ) -> None:
        """``timeout``: seconds without progress (no CPU used, not stepping aside) before giving up;
        ``superseded``: asked while a plan is awaited, ``True`` abandons it (:class:`PlanSuperseded`);
        ``publish``: called with each provisional plan of a full plan while it is awaited; ``latest``: with
        ``publish``, the newest snapshot, sent to the child while it searches (provisional plans are
        repaired against it); ``priority``: one of :data:`PRIORITIES` (``niceness`` is the ``nice`` increment)."""
        if priority not in PRIORITIES:
            raise ValueError(f"planner priority must be one of {', '.join(PRIORITIES)}, not {priority!r}")
        self.settings = settings or PlanSettings()
        self.timeout, self.cpu_limit, self.superseded = timeout, cpu_limit, superseded
        self.publish = publish
        self.latest = latest if publish is not None else None
        ctx = multiprocessing.get_context("spawn")
        self.busy: Any = ctx.RawValue("i", 0)
        """Requests the extender is serving (it writes, the child's search reads and steps aside)."""
        self.cancel: Any = ctx.RawValue("i", 0)
        """1 while the plan in progress is to be abandoned (the parent writes, the child's search reads)."""
        self._conn, theirs = ctx.Pipe()
        self._proc = ctx.Process(
            target=serve,
            args=(
                theirs,
                self.settings,
                niceness,
                priority,
                self.busy,
                self.cancel,
                publish is not None,
                self.latest is not None,
            ),
            name="augur-planner",
            daemon=True,
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

    def priority_in_effect(self) -> str | None:
        """The child's CPU priority as the kernel has it (:func:`priority_of`); ``None`` before the child
        answered its first update (it lowers its priority first thing) or where the platform cannot say."""
        return priority_of(self._proc.pid) if self._started else None

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
            self.cancel.value = 0
            self._conn.send(("update", *arrays(snapshot, rules), now))
        except (OSError, ValueError) as exc:  # the pipe is closed: the child is gone
            raise self._died(exc) from exc
        stall = self.timeout if self._started else max(self.timeout, START_TIMEOUT_SECONDS)
        while (reply := self._receive(stall))[0] in ("provisional", "newest"):
            if reply[0] == "newest":
                self._send_newest()
            elif self.publish is not None:
                self.publish(replace(reply[1], nodes=self._names, signature=rules))
        self._started = True
        if reply[0] == "superseded":
            raise PlanSuperseded(float(reply[1]))
        if reply[0] == "error":
            self._table_memo = self._rules = None  # the child starts over: send everything again
            raise PlannerProcessError(str(reply[1]))
        plan: Plan | None = reply[1]
        self.plan = None if plan is None else replace(plan, nodes=self._names, signature=rules)
        return self.plan

    def _receive(self, stall: float) -> tuple[str, Any]:
        pid = self._proc.pid
        patience = Patience(stall, self.cpu_limit, time.monotonic(), _cpu_seconds(pid))
        try:
            while not self._conn.poll(POLL_SECONDS):
                why = patience.check(_cpu_seconds(pid), self.busy.value > 0, time.monotonic())
                if why is not None:
                    raise PlannerProcessError(why)
                if not self.cancel.value and self.superseded is not None and self.superseded():
                    self.cancel.value = 1
            reply: tuple[str, Any] = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise self._died(exc) from exc
        return reply

    def _send_newest(self) -> None:
        """Answer the child's request for the newest view: :attr:`latest` over the update's nodes (with its
        plannable rules when they are not the update's), else that there is none."""
        newest = self.latest() if self.latest is not None else None
        try:
            if newest is None or newest.table.memo is not self._table_memo:
                self._conn.send(("none",))
                return
            rules = plan_signature(newest.rulebook)
            self._conn.send(("view", None if rules is self._rules else rules, *arrays(newest, rules)))
        except (OSError, ValueError) as exc:  # the pipe is closed: the child is gone
            raise self._died(exc) from exc

    def _died(self, exc: BaseException) -> PlannerProcessError:
        """One message however the death shows (a broken pipe on send, end of file on receive)."""
        self._proc.join(timeout=0.5)  # reap it, so that the exit code is known
        return PlannerProcessError(f"the planner process died (exit code {self._proc.exitcode}): {exc!r}")

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
