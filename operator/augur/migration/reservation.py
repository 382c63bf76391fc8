"""The reservation pod of a ``ReservationFirst`` move (pure: manifests and patches, no I/O).

Why a reservation pod and not a ``/scale`` surge or a placeholder: kube-scheduler places the pods a
ReplicaSet creates from its template, and a running pod's affinity cannot be changed, so neither a surge
nor a placeholder makes *the replacement* land on ``targetNode``. Changing the template would roll the
whole Deployment. So the replacement is started by Augur itself:

1. **Reserve.** A pod is created from the ReplicaSet's own template, pinned to the target with required
   node affinity on ``metadata.name`` (or kept off the current node when no target is given), with one
   label of the ReplicaSet's selector withheld (``pod-template-hash`` for a Deployment's ReplicaSet) so
   that the ReplicaSet does not adopt and immediately delete it as surplus. It carries every other label,
   so Services send it traffic and PodDisruptionBudgets count it once it is Ready. It runs at the
   workload's own priority through a PriorityClass ``augur-reservation-<value>`` with
   ``preemptionPolicy: Never``: a reservation never preempts anything, a full target makes it
   Unschedulable. The Migration owns it (not as controller), so deleting the Migration removes it.
2. **Evict** the original pod through the Eviction API once the reservation is Ready.
3. **Adopt**, in the same breath as the eviction: the withheld label is restored and Augur's owner
   reference removed, so the ReplicaSet adopts the pod before a replacement it may have started on the
   eviction can be Ready. It then has one pod too many and deletes the lowest ranked: a pending or
   not-Ready pod first, and among Ready ones the lower ``controller.kubernetes.io/pod-deletion-cost``; the
   reservation carries a high cost until the ReplicaSet has settled, then the annotation is removed. So a
   move costs one Ready pod (docs/migration.md, "One Ready pod per move").

Capacity exists before the eviction, and ``/scale`` is never touched, so no autoscaler (HPA, Augur's own
scaler) fights a surge and no surge can be left behind.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MIGRATION_LABEL = "augur.dev/migration"
"""Label on reservation pods: the Migration's name."""
DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
RESERVATION_DELETION_COST = "1000000"
PRIORITY_CLASS_PREFIX = "augur-reservation-"
HASH_LABEL = "pod-template-hash"


@dataclass(frozen=True)
class OwnerTemplate:
    """What a ReplicaSet says about the pods it makes."""

    name: str
    uid: str
    match_labels: Mapping[str, str]
    """``spec.selector.matchLabels``."""
    template: Mapping[str, Any]
    """``spec.template`` (raw)."""
    replicas: int
    """``spec.replicas``."""
    status_replicas: int
    """``status.replicas``: pods it currently owns."""


class ReservationNotPossibleError(Exception):
    """The owner's selector leaves no label to withhold (only ``matchExpressions``)."""


def withheld_label(owner: OwnerTemplate) -> str:
    """The selector label left off the reservation pod until adoption."""
    if HASH_LABEL in owner.match_labels:
        return HASH_LABEL
    if owner.match_labels:
        return sorted(owner.match_labels)[0]
    raise ReservationNotPossibleError(
        f"ReplicaSet {owner.name} selects its pods by matchExpressions only; a reservation pod could not be kept "
        "from being adopted too early (use mode EvictDirectly)"
    )


def reservation_name(pod_name: str, migration_uid: str) -> str:
    return f"{pod_name[:50]}-mig-{migration_uid[:6]}"


def priority_class_name(priority: int) -> str:
    return f"{PRIORITY_CLASS_PREFIX}{priority}" if priority >= 0 else f"{PRIORITY_CLASS_PREFIX}minus{-priority}"


def priority_of_class(name: str) -> int:
    """Inverse of :func:`priority_class_name`."""
    suffix = name.removeprefix(PRIORITY_CLASS_PREFIX)
    return -int(suffix.removeprefix("minus")) if suffix.startswith("minus") else int(suffix)


def priority_class(priority: int) -> dict[str, Any]:
    """The PriorityClass of reservations at ``priority``: the workload's value, never preempting."""
    return {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": priority_class_name(priority), "labels": {"app.kubernetes.io/part-of": "augur"}},
        "value": priority,
        "preemptionPolicy": "Never",
        "globalDefault": False,
        "description": "Augur reservation pods (Migration ReservationFirst): the workload's priority, no preemption.",
    }


def _pin(affinity: Mapping[str, Any] | None, target: str, avoid: str) -> dict[str, Any]:
    """Add ``metadata.name In [target]`` (or ``NotIn [avoid]``) to every required node selector term
    (terms are ORed, so the field requirement must be in each)."""
    out = copy.deepcopy(dict(affinity or {}))
    requirement = (
        {"key": "metadata.name", "operator": "In", "values": [target]}
        if target
        else {"key": "metadata.name", "operator": "NotIn", "values": [avoid]}
    )
    node = out.setdefault("nodeAffinity", {})
    required = node.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    terms = required.get("nodeSelectorTerms") or [{}]
    required["nodeSelectorTerms"] = [{**t, "matchFields": [*(t.get("matchFields") or []), requirement]} for t in terms]
    return out


def reservation_pod(
    owner: OwnerTemplate,
    *,
    name: str,
    namespace: str,
    migration: tuple[str, str],
    target: str,
    source: str,
    priority: int,
) -> dict[str, Any]:
    """The reservation pod's manifest; ``migration`` is the owning Migration's (name, uid)."""
    template = owner.template
    meta = template.get("metadata") or {}
    withheld = withheld_label(owner)
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != withheld}
    labels[MIGRATION_LABEL] = migration[0]
    annotations = {**(meta.get("annotations") or {}), DELETION_COST_ANNOTATION: RESERVATION_DELETION_COST}
    spec = copy.deepcopy(dict(template.get("spec") or {}))
    spec.pop("nodeName", None)
    spec["affinity"] = _pin(spec.get("affinity"), target, source)
    spec["priorityClassName"] = priority_class_name(priority)
    spec.pop("priority", None)
    spec.pop("preemptionPolicy", None)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": "augur.dev/v1alpha1",
                    "kind": "Migration",
                    "name": migration[0],
                    "uid": migration[1],
                    "controller": False,
                    "blockOwnerDeletion": False,
                }
            ],
        },
        "spec": spec,
    }


def adoption_patch(owner: OwnerTemplate) -> dict[str, Any]:
    """Merge patch that lets the ReplicaSet adopt the reservation: the withheld label back, no owners."""
    key = withheld_label(owner)
    value = ((owner.template.get("metadata") or {}).get("labels") or {}).get(key, owner.match_labels.get(key))
    return {"metadata": {"labels": {key: value}, "ownerReferences": None}}


CLEAR_DELETION_COST_PATCH: dict[str, Any] = {"metadata": {"annotations": {DELETION_COST_ANNOTATION: None}}}
