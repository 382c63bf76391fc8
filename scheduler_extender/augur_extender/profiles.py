"""A ``WorkloadProfile`` object (camelCase dict) read into the extender's :class:`~augur_extender.view.Profile`.

The spec gives the rules and the selector (else ``status.selector``); of the status only what placement
uses is read: the replica count the operator expects, the traffic it measured and the size of one pod
(``podRequests``, from the target's pod template). Other status fields
are not parsed, so a newer operator's status never makes the extender drop a profile. A spec that does
not validate gives no profile (logged); a bad selector or traffic entry is logged and left out.
:class:`RuleSizer` gives a profile's rules the replica count and pod size the cache knows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from augur.api.quantity import GIB, quantity
from augur.api.v1alpha1.workloadprofile import (
    MeasuredTraffic,
    PodRequests,
    WorkloadProfileSpec,
    WorkloadProfileStatus,
)
from augur.api.validation import SpecError, parse
from augur.placement import WorkloadRules, rules_from_api, workload_key
from augur_extender.selector import parse_selector
from augur_extender.view import Profile

log = logging.getLogger(__name__)


def profile_from(namespace: str, name: str, obj: Mapping[str, Any]) -> Profile | None:
    """The profile of the ``WorkloadProfile`` ``obj``; ``None`` (logged) when its spec does not validate."""
    key = workload_key(namespace, name)
    try:
        spec = parse(WorkloadProfileSpec, obj.get("spec"))
    except SpecError as exc:
        log.warning("ignoring WorkloadProfile %s: %s", key, exc)
        return None
    text = spec.selector or str((obj.get("status") or {}).get("selector") or "")
    selector = None
    try:
        selector = parse_selector(text) if text else None
    except ValueError as exc:
        log.warning("WorkloadProfile %s: %s", key, exc)
    status = _traffic_status(key, obj.get("status"))
    rules = rules_from_api(namespace, name, spec, _expected_replicas(obj.get("status")), status)
    return Profile(key, namespace, rules, selector, _pod_size(key, obj.get("status")))


def _traffic_status(key: str, status: Any) -> WorkloadProfileStatus | None:
    """Only ``status.traffic`` (measured by the operator) matters here; other status fields are not
    parsed, so a newer operator's status never makes the extender drop a profile."""
    raw = status.get("traffic") if isinstance(status, Mapping) else None
    if not isinstance(raw, list) or not raw:
        return None
    entries = []
    for item in raw:
        try:
            entries.append(MeasuredTraffic.model_validate(item))
        except ValueError as exc:
            log.warning("WorkloadProfile %s: ignoring status.traffic entry %r: %s", key, item, exc)
    return WorkloadProfileStatus(traffic=entries)


def _pod_size(key: str, status: Any) -> tuple[float, float] | None:
    """Cores and GiB of ``status.podRequests`` (``None`` when absent, requesting no CPU, or malformed:
    logged, and the size of a pod seen is waited for as before)."""
    raw = status.get("podRequests") if isinstance(status, Mapping) else None
    if raw is None:
        return None
    try:
        size = PodRequests.model_validate(raw)
        cpu, memory = quantity(size.cpu), quantity(size.memory) / GIB
    except ValueError as exc:
        log.warning("WorkloadProfile %s: ignoring status.podRequests %r: %s", key, raw, exc)
        return None
    return (cpu, memory) if cpu > 0 else None


def _expected_replicas(status: Any) -> int | None:
    """``status.desiredReplicas``, else ``status.currentReplicas`` of a WorkloadProfile (``None`` if absent)."""
    if not isinstance(status, Mapping):
        return None
    for key in ("desiredReplicas", "currentReplicas"):
        value = status.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


class RuleSizer:
    """A workload's rules with the replica count the cache expects and the pod size it knows (a pod seen,
    else the profile's template), memoized per workload: a pod event re-sizes only its own workload when the
    rule book is rebuilt, and unchanged inputs give the very same rules object."""

    def __init__(self) -> None:
        self._memo: dict[str, tuple[WorkloadRules, int | None, tuple[float, float] | None, WorkloadRules]] = {}

    def sized(self, rules: WorkloadRules, expected: int | None, size: tuple[float, float] | None) -> WorkloadRules:
        memo = self._memo.get(rules.key)
        if memo is not None and memo[0] is rules and memo[1] == expected and memo[2] == size:
            return memo[3]
        out = rules
        if expected != rules.replicas:
            out = replace(out, replicas=expected)
        if size is not None and out.pod_cpu is None:
            out = replace(out, pod_cpu=size[0], pod_memory=size[1])
        self._memo[rules.key] = (rules, expected, size, out)
        return out
