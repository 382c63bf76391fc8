"""The operational side of a profile's scaling cycle, called by :func:`augur.operator.cycle.scale_profile`:

- **conflicts**: the ``Conflict`` condition from the kopf indexes (:mod:`augur.operator.conflicts`), one
  Event when a conflict starts (``Conflict``, naming the other owner) and one when it ends
  (``ConflictResolved``); while it holds, the cycle runs with ``blocked`` set and writes nothing;
- **leadership**: ``blocked`` also when this replica does not hold the Lease, and
  :class:`GuardedTargets` checks the Lease again right before each ``/scale`` write;
- **lead time**: measured from the workload's pods (:mod:`augur.scaling.leadtime`), re-read at most every
  :data:`LEAD_TIME_REFRESH_SECONDS`, kept in ``status.measuredLeadTime`` (restored from it after a
  restart) and handed to the cycle, which uses it when the policy says ``leadTime: auto``;
- **metrics** (:mod:`augur.operator.metrics`) about the cycle.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from augur.api.conditions import ConditionUpdate, find_condition, merge_condition
from augur.api.v1alpha1.workloadprofile import MeasuredLeadTime
from augur.kube.client import ApiStatus, KubeError
from augur.kube.resources import ScaleInfo
from augur.kube.workload import TargetReplicas
from augur.operator import metrics
from augur.operator.conflicts import CONFLICT, Conflict, condition, conflict_for_profile
from augur.operator.leader import LEADERSHIP
from augur.operator.reconcile import EventToPost
from augur.scaling.leadtime import LeadTimeState, PodStartup, estimate, observe

LEAD_TIME_REFRESH_SECONDS = 60.0
"""How often a profile's pods are listed for the lead time (at most; only when its cycle runs)."""

PodReader = Callable[[str, str], list[PodStartup]]
"""``(namespace, selector) -> startups`` (:func:`augur.kube.pods.pod_startups` bound to a client)."""


@dataclass(frozen=True)
class Guard:
    """What the cycle must know before it runs."""

    blocked: str | None
    """Why writes are not allowed now (``Conflict: ...``, ``NotLeader: ...``), None when they are."""
    conflict: Conflict | None
    update: ConditionUpdate | None
    """The ``Conflict`` condition (None when the body names no target)."""


def guard(body: Mapping[str, Any], index_kwargs: Mapping[str, Any]) -> Guard:
    found = conflict_for_profile(body, index_kwargs)
    if found is None:
        return Guard(None, None, None)
    target, conflict = found
    update = condition(conflict, target)
    if conflict is not None:
        return Guard(f"Conflict: {conflict.message}", conflict, update)
    if not LEADERSHIP.may_act():
        return Guard("NotLeader: this replica does not hold the leader-election Lease", None, update)
    return Guard(None, None, update)


def merge_conflict(
    conditions: list[dict[str, Any]], update: ConditionUpdate, generation: int | None
) -> tuple[list[dict[str, Any]], list[EventToPost]]:
    """Set the ``Conflict`` condition; an Event when a conflict starts or changes owner (Warning
    ``Conflict``) and when it ends (Normal ``ConflictResolved``), none while nothing changes."""
    previous = find_condition(conditions, CONFLICT)
    merged, _ = merge_condition(conditions, update, generation)
    was = previous is not None and previous.get("status") == "True"
    if update.status == "True" and (not was or previous is None or previous.get("message") != update.message):
        return merged, [EventToPost("Warning", CONFLICT, update.message)]
    if update.status == "False" and was:
        return merged, [EventToPost("Normal", "ConflictResolved", update.message)]
    return merged, []


class Targets(Protocol):
    def read(
        self, api_version: str, kind: str, name: str, namespace: str, known: ScaleInfo | None = None
    ) -> TargetReplicas: ...

    def set_replicas(self, api_version: str, kind: str, name: str, namespace: str, replicas: int) -> None: ...


class GuardedTargets:
    """Wraps the ``/scale`` adapter: refuses a write when this replica no longer holds the Lease (checked
    right before writing, after the cycle's reads), and counts writes for the metrics."""

    def __init__(self, inner: Targets) -> None:
        self.inner = inner

    def read(
        self, api_version: str, kind: str, name: str, namespace: str, known: ScaleInfo | None = None
    ) -> TargetReplicas:
        return self.inner.read(api_version, kind, name, namespace, known)

    def set_replicas(self, api_version: str, kind: str, name: str, namespace: str, replicas: int) -> None:
        if not LEADERSHIP.may_act():
            metrics.scale_write_blocked("NotLeader")
            raise KubeError(
                f"writing {kind} {namespace}/{name}/scale",
                ApiStatus(0, "NotLeader", "this replica lost the leader-election Lease; it writes nothing"),
            )
        try:
            self.inner.set_replicas(api_version, kind, name, namespace, replicas)
        except Exception:
            metrics.scale_write(succeeded=False)
            raise
        metrics.scale_write(succeeded=True)


def _state_from_status(raw: Mapping[str, Any] | None) -> LeadTimeState:
    if not raw:
        return LeadTimeState()
    try:
        saved = MeasuredLeadTime.model_validate(raw)
    except ValueError:
        return LeadTimeState()
    newest = saved.newest_ready_at.timestamp() + 0.5 if saved.newest_ready_at else 0.0  # counted: skip it
    return LeadTimeState(tuple(saved.samples), newest, ())


class LeadTimes:
    """Per profile: the measured lead time, refreshed from its pods at most every ``refresh`` seconds."""

    def __init__(
        self,
        read_pods: PodReader,
        refresh: float = LEAD_TIME_REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read_pods, self.refresh, self.clock = read_pods, refresh, clock
        self._states: dict[str, tuple[LeadTimeState, float | None]] = {}
        self._lock = threading.Lock()

    def measure(self, uid: str, namespace: str, selector: str, saved: Mapping[str, Any] | None) -> LeadTimeState:
        """The state after re-reading the pods when due; starts from ``saved`` (status) on first sight.
        A failed pod listing keeps the previous state (the lead time is not worth failing a cycle for)."""
        with self._lock:
            state, read_at = self._states.get(uid) or (_state_from_status(saved), None)
        now = self.clock()
        if read_at is not None and now - read_at < self.refresh:
            return state
        with contextlib.suppress(KubeError):
            state = observe(state, self.read_pods(namespace, selector))
        with self._lock:
            self._states[uid] = (state, now)
        return state

    def known(self, uid: str, saved: Mapping[str, Any] | None) -> LeadTimeState:
        with self._lock:
            entry = self._states.get(uid)
        return entry[0] if entry else _state_from_status(saved)

    def forget(self, uid: str) -> None:
        with self._lock:
            self._states.pop(uid, None)


def lead_time_status(state: LeadTimeState, used: bool) -> dict[str, Any] | None:
    """``status.measuredLeadTime`` (None before any pod was counted)."""
    if not state.samples and not state.watermark:
        return None
    seconds = estimate(state)
    newest = datetime.fromtimestamp(round(state.watermark), UTC) if state.watermark else None
    model = MeasuredLeadTime(
        seconds=None if seconds is None else round(seconds, 3),
        samples=[round(s, 3) for s in state.samples],
        newest_ready_at=newest,
        used=used and seconds is not None,
    )
    out: dict[str, Any] = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    return out


def record_cycle(
    target: ConditionUpdate | None, namespace: str, name: str, mode: str, interval: float, report: Any, conflict: bool
) -> None:
    """Metrics about one profile after a reconcile; ``target`` is the Conflict condition (None when the
    profile names no target), ``report`` the cycle's :class:`~augur.operator.scalestatus.Report` or None
    when no cycle ran."""
    metrics.profile(namespace, name, mode=mode or None, conflict=conflict if target is not None else None)
    cycle = getattr(report, "cycle", None)
    if cycle is None:
        return
    decision = getattr(report, "decision", None)
    if decision is not None:
        metrics.decision(str(decision.kind), float(cycle.decision_seconds))
    metrics.cadence(namespace, name, time.monotonic(), interval)
    if cycle.query_error:
        metrics.query_error(cycle.query_error)
    forecast = report.fields.get("forecast") or {}
    metrics.profile(
        namespace,
        name,
        forecast_error=forecast.get("rollingError"),
        lead_time_seconds=report.fields.get("leadTimeSeconds"),
    )


def record_blocked(blocked: str, report: Any) -> None:
    """Count a write the decision wanted but ``blocked`` held back."""
    decision = report.fields.get("lastDecision") or {}
    if decision.get("desiredReplicas") is not None and decision.get("desiredReplicas") != decision.get("fromReplicas"):
        metrics.scale_write_blocked(blocked.split(":", 1)[0])
