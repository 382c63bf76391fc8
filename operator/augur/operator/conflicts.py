"""Conflict detection: Augur never writes ``/scale`` of a workload another autoscaler also scales.

:func:`find_conflict` is the pure rule; kopf indexes over HorizontalPodAutoscalers (``autoscaling/v2``),
KEDA ``ScaledObject``s (``keda.sh/v1alpha1``, watched only while that API is served; without KEDA the
index stays empty; also listed every 30 s, :mod:`augur.operator.late_claims`, for a KEDA installed after
the operator) and ``WorkloadProfile``s feed it. Rules:

- An HPA or a ScaledObject on the same target always wins: the profile gets ``Conflict=True`` with reason
  ``HorizontalPodAutoscaler`` or ``ScaledObject``. An HPA that KEDA created for a ScaledObject is reported
  as that ScaledObject.
- Of several ``WorkloadProfile``s on one target the oldest (``creationTimestamp``, then name) acts; the
  others get reason ``WorkloadProfile`` naming it. The profile index is never sharded, so this holds
  across shards.
- Targets match by namespace, API group (not version), kind and name.

While ``Conflict=True`` Augur still observes and forecasts (status stays informative) but writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from augur.api.conditions import ConditionUpdate
from augur.kube.autoscalers import HPA, SCALED_OBJECT, WORKLOAD_PROFILE, ScaleClaim, TargetKey, claim_from_body

CONFLICT = "Conflict"
NO_CONFLICT = "NoConflict"
INDEXES = {
    HPA: "augur_hpa_claims",
    SCALED_OBJECT: "augur_scaledobject_claims",
    WORKLOAD_PROFILE: "augur_profile_claims",
}
"""Names of the kopf indexes (kopf passes each to handlers as a keyword argument of that name)."""
POLLED = "augur_scaledobject_poll"
"""Key of the claims read by a periodic list rather than a watch (:mod:`augur.operator.late_claims`): a
ScaledObject seen only there still makes a conflict when kopf never started watching ``keda.sh``."""


@dataclass(frozen=True)
class Conflict:
    reason: str
    """Kind of the other owner: ``HorizontalPodAutoscaler``, ``ScaledObject`` or ``WorkloadProfile``."""
    owner: str
    """``Kind namespace/name`` of the other owner."""
    message: str


def _rank(claim: ScaleClaim) -> tuple[str, str]:
    return (claim.created or "9999", claim.name)


def find_conflict(me: ScaleClaim, others: Iterable[ScaleClaim]) -> Conflict | None:
    """The other autoscaler ``me`` (a ``WorkloadProfile``'s claim) must yield to, if any."""
    rivals = sorted(
        (c for c in others if c.target == me.target and not (c.kind == WORKLOAD_PROFILE and c.name == me.name)),
        key=lambda c: (c.kind != SCALED_OBJECT and not c.scaled_object, c.kind == WORKLOAD_PROFILE, _rank(c)),
    )
    for other in rivals:
        if other.scaled_object:
            owner = f"{SCALED_OBJECT} {other.namespace}/{other.scaled_object}"
            return _conflict(SCALED_OBJECT, owner, me.target, f" (through its {other.owner})")
        if other.kind in (HPA, SCALED_OBJECT):
            return _conflict(other.kind, other.owner, me.target)
        if other.kind == WORKLOAD_PROFILE and _rank(other) < _rank(me):
            return _conflict(WORKLOAD_PROFILE, other.owner, me.target, "; the oldest profile on a target acts")
    return None


def _conflict(reason: str, owner: str, target: TargetKey, detail: str = "") -> Conflict:
    message = f"{owner} also scales {target}{detail}; Augur writes no /scale while it does"
    return Conflict(reason, owner, message)


def condition(conflict: Conflict | None, target: TargetKey) -> ConditionUpdate:
    """The ``Conflict`` condition to set."""
    if conflict is None:
        return ConditionUpdate(CONFLICT, "False", NO_CONFLICT, f"no other autoscaler scales {target}")
    return ConditionUpdate(CONFLICT, "True", conflict.reason, conflict.message)


def indexed_claims(index_kwargs: Mapping[str, Any], target: TargetKey) -> list[ScaleClaim]:
    """Every claim on ``target`` in the kopf indexes passed to a handler and in the polled claims
    (:data:`POLLED`), each object once; missing indexes count as empty."""
    claims: dict[tuple[str, str, str], ScaleClaim] = {}
    for name in (*INDEXES.values(), POLLED):
        index = index_kwargs.get(name)
        if index is not None and target in index:
            for claim in index[target]:
                claims.setdefault((claim.kind, claim.namespace, claim.name), claim)
    return list(claims.values())


def conflict_for_profile(
    body: Mapping[str, Any], index_kwargs: Mapping[str, Any]
) -> tuple[TargetKey, Conflict | None] | None:
    """The profile's target and its conflict; None when the body names no target."""
    me = claim_from_body(WORKLOAD_PROFILE, dict(body))
    if me is None:
        return None
    return me.target, find_conflict(me, indexed_claims(index_kwargs, me.target))
