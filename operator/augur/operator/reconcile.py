"""What a ``WorkloadProfile`` reconcile decides, separated from kopf so it can be unit-tested.

:func:`reconcile_profile` reads through a :class:`Reader` (the real one is :class:`augur.kube.resources.Resources`)
and returns the status to apply and the Event to post, if any.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from augur.api.conditions import ConditionUpdate, find_condition, merge_condition, now_rfc3339
from augur.api.v1alpha1 import ScalingPolicySpec, WorkloadProfileSpec
from augur.api.v1alpha1.workloadprofile import PodRequests
from augur.api.validation import SpecError, parse
from augur.kube.client import KubeError
from augur.kube.resources import ScaleInfo, TargetError
from augur.operator.traffic import Query, measure_traffic


class Reader(Protocol):
    def get_scale(self, api_version: str, kind: str, name: str, namespace: str) -> ScaleInfo: ...

    def get_policy(self, name: str, namespace: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class EventToPost:
    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class Outcome:
    status: dict[str, Any]
    events: tuple[EventToPost, ...]
    ready: bool
    spec: WorkloadProfileSpec | None = None
    """The parsed spec when the profile is Ready (the scaling cycle uses it)."""
    policy: ScalingPolicySpec | None = None
    """The parsed policy, None without a ``policyRef``."""
    scale: ScaleInfo | None = None
    """The target's ``/scale`` as read by this reconcile (the scaling cycle does not read it again)."""


READY = "Ready"
NORMAL_WHEN_FALSE = frozenset({"ForecastOnly", "ModeOff", "NoDemandMetric", "NotReady", "LearningHistory"})
"""Reasons of a False/Unknown condition that are a choice or a consequence, not a problem: Normal Events."""


def _resolve(
    spec: WorkloadProfileSpec, namespace: str, reader: Reader
) -> tuple[ScaleInfo, str, ScalingPolicySpec | None]:
    """Raises :class:`TargetError` for what the user must fix (including API refusals such as a
    missing RBAC rule for a custom kind's ``/scale``); transient API failures propagate as ``KubeError``."""
    ref = spec.scale_target_ref
    try:
        scale = reader.get_scale(ref.api_version, ref.kind, ref.name, namespace)
    except KubeError as exc:
        if exc.status.transient:
            raise
        raise TargetError("TargetUnreadable", str(exc)) from exc
    if spec.policy_ref is None:
        return scale, "ForecastOnly", None
    try:
        raw = reader.get_policy(spec.policy_ref.name, namespace)
    except KubeError as exc:
        if exc.status.transient:
            raise
        raise TargetError("PolicyUnreadable", str(exc)) from exc
    if raw is None:
        raise TargetError("PolicyNotFound", f"ScalingPolicy {namespace}/{spec.policy_ref.name} not found")
    try:
        policy = parse(ScalingPolicySpec, raw.get("spec"), prefix="policy.spec")
    except SpecError as exc:
        raise TargetError("PolicyInvalid", f"ScalingPolicy {spec.policy_ref.name} is invalid: {exc}") from exc
    return scale, policy.mode, policy


def reconcile_profile(body: dict[str, Any], reader: Reader, query: Query | None = None) -> Outcome:
    """Validate the spec, resolve the target and the policy, measure dependency traffic, and compute
    the new status. ``query`` evaluates PromQL (None without Prometheus)."""
    meta, old_status = body.get("metadata", {}), body.get("status") or {}
    namespace, generation = meta.get("namespace", ""), meta.get("generation")
    status: dict[str, Any] = {"observedGeneration": generation} if generation is not None else {}
    traffic_update: ConditionUpdate | None = None
    scale: ScaleInfo | None = None
    spec: WorkloadProfileSpec | None = None
    policy: ScalingPolicySpec | None = None
    try:
        spec = parse(WorkloadProfileSpec, body.get("spec"))
        scale, mode, policy = _resolve(spec, namespace, reader)
    except SpecError as exc:
        update = ConditionUpdate(READY, "False", "InvalidSpec", f"spec is invalid: {exc}")
    except TargetError as exc:
        update = ConditionUpdate(READY, "False", exc.reason, str(exc))
    else:
        status["traffic"], traffic_update = measure_traffic(spec, old_status.get("traffic") or [], query, now_rfc3339())
        selector = spec.selector or scale.selector
        status.update(targetKind=scale.kind, selector=selector, currentReplicas=scale.status_replicas, mode=mode)
        if scale.pod_requests is not None:
            status["podRequests"] = PodRequests.of(*scale.pod_requests).model_dump(by_alias=True)
        target = f"{scale.kind} {namespace}/{spec.scale_target_ref.name}"
        update = ConditionUpdate(
            READY, "True", "TargetResolved", f"{target} has {scale.status_replicas} replicas; mode {mode}"
        )
    updates = [u for u in (update, traffic_update) if u is not None]
    status["conditions"], events = apply_updates(old_status.get("conditions") or [], updates, generation)
    ready = update.status == "True"
    return Outcome(status, events, ready, spec if ready else None, policy if ready else None, scale if ready else None)


def apply_updates(
    conditions: list[dict[str, Any]], updates: list[ConditionUpdate], generation: int | None
) -> tuple[list[dict[str, Any]], tuple[EventToPost, ...]]:
    """Merge condition updates; an Event for each one whose status or reason changed."""
    events = []
    for u in updates:
        event = _event_for(find_condition(conditions, u.type), u)
        if event is not None:
            events.append(event)
        conditions, _ = merge_condition(conditions, u, generation)
    return conditions, tuple(events)


def _event_for(previous: dict[str, Any] | None, update: ConditionUpdate) -> EventToPost | None:
    """An Event only when a condition's status or reason changes, so resyncs stay quiet."""
    if previous is not None and previous.get("status") == update.status and previous.get("reason") == update.reason:
        return None
    normal = update.status == "True" or update.reason in NORMAL_WHEN_FALSE
    return EventToPost("Normal" if normal else "Warning", update.reason, update.message)
