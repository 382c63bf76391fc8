"""Which pods may be moved at all: one pure function for the executor and the rebalancer.

:func:`check_movable` reads a raw pod (the API's JSON, camelCase) and the number of available (Ready)
pods of its controller, and answers with a :class:`Movability`: movable, or not with a CamelCase reason
and a message. Never movable:

- a pod being deleted (``PodTerminating``) or not running on a node (``PodNotRunning``);
- mirror (static) pods (``MirrorPod``), DaemonSet pods (``DaemonSetPod``), pods without a controller
  (``NoController``), pods of controllers other than a ReplicaSet or StatefulSet (``OwnerNotSupported``:
  a Job's pod would restart its work);
- pods at a system-critical priority (``CriticalPod``);
- pods annotated ``augur.dev/evict: "never"`` (``EvictionDisabled``);
- pods with local data (``LocalStorage``): a ``hostPath`` volume, or an ``emptyDir`` whose ``medium`` is
  not ``Memory``, unless the volume is named in the annotation
  ``augur.dev/safe-to-evict-local-volumes: "cache,scratch"``;
- the last available replica of its controller (``LastAvailableReplica``) unless annotated
  ``augur.dev/evict-last-replica: "true"``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

EVICT_ANNOTATION = "augur.dev/evict"
"""``"never"``: Augur never moves the pod."""
SAFE_LOCAL_VOLUMES_ANNOTATION = "augur.dev/safe-to-evict-local-volumes"
"""Comma-separated names of local volumes (emptyDir on disk, hostPath) whose data may be lost."""
LAST_REPLICA_ANNOTATION = "augur.dev/evict-last-replica"
"""``"true"``: the pod may be moved even when it is its controller's last available replica."""
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
MOVABLE_OWNERS = ("ReplicaSet", "StatefulSet")
CRITICAL_PRIORITY_CLASSES = ("system-node-critical", "system-cluster-critical")


@dataclass(frozen=True)
class Owner:
    """The controller of a pod (its ``ownerReferences`` entry with ``controller: true``)."""

    api_version: str
    kind: str
    name: str
    uid: str


@dataclass(frozen=True)
class Movability:
    movable: bool
    reason: str
    """``Movable``, or the CamelCase reason the pod may not move."""
    message: str = ""


MOVABLE = Movability(True, "Movable")


def controller_of(pod: Mapping[str, Any]) -> Owner | None:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return Owner(str(ref.get("apiVersion", "")), str(ref.get("kind", "")), str(ref["name"]), str(ref["uid"]))
    return None


def is_ready(pod: Mapping[str, Any]) -> bool:
    """Running, not being deleted, and its Ready condition is True."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    if meta.get("deletionTimestamp") or status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def available_by_controller(pods: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """Ready pods per controller UID (what :func:`check_movable` needs as ``available``)."""
    out: Counter[str] = Counter()
    for pod in pods:
        owner = controller_of(pod)
        if owner is not None and is_ready(pod):
            out[owner.uid] += 1
    return out


def local_volumes(pod: Mapping[str, Any]) -> list[str]:
    """Names of volumes holding node-local data that an eviction loses (not annotated as safe)."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    safe = {v.strip() for v in str(annotations.get(SAFE_LOCAL_VOLUMES_ANNOTATION, "")).split(",") if v.strip()}
    out = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        empty_dir = volume.get("emptyDir")
        local = "hostPath" in volume or (empty_dir is not None and (empty_dir or {}).get("medium") != "Memory")
        if local and volume.get("name") not in safe:
            out.append(str(volume.get("name")))
    return out


def check_movable(pod: Mapping[str, Any], available: int) -> Movability:
    """Whether ``pod`` may be moved; ``available``: Ready pods of its controller, this one included
    (:func:`available_by_controller`)."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    annotations = meta.get("annotations") or {}
    name = meta.get("name", "")
    if meta.get("deletionTimestamp"):
        return Movability(False, "PodTerminating", f"pod {name} is being deleted")
    if not spec.get("nodeName") or status.get("phase") != "Running":
        return Movability(False, "PodNotRunning", f"pod {name} is not running on a node (phase {status.get('phase')})")
    if MIRROR_ANNOTATION in annotations:
        return Movability(
            False, "MirrorPod", f"pod {name} is a mirror of a static pod; only its node's kubelet runs it"
        )
    owner = controller_of(pod)
    if owner is None:
        return Movability(False, "NoController", f"pod {name} has no controller to recreate it")
    if owner.kind == "DaemonSet":
        return Movability(False, "DaemonSetPod", f"pod {name} belongs to DaemonSet {owner.name}: one per node")
    if owner.kind not in MOVABLE_OWNERS:
        return Movability(
            False,
            "OwnerNotSupported",
            f"pod {name} is controlled by {owner.kind} {owner.name}; only ReplicaSet "
            "(Deployment) and StatefulSet pods are moved",
        )
    if spec.get("priorityClassName") in CRITICAL_PRIORITY_CLASSES:
        return Movability(False, "CriticalPod", f"pod {name} runs at priority {spec['priorityClassName']}")
    if str(annotations.get(EVICT_ANNOTATION, "")).lower() == "never":
        return Movability(False, "EvictionDisabled", f'pod {name} is annotated {EVICT_ANNOTATION}: "never"')
    local = local_volumes(pod)
    if local:
        return Movability(
            False,
            "LocalStorage",
            f"pod {name} keeps node-local data in {', '.join(local)} (name safe volumes in "
            f"the annotation {SAFE_LOCAL_VOLUMES_ANNOTATION})",
        )
    opted_in = str(annotations.get(LAST_REPLICA_ANNOTATION, "")).lower() == "true"
    if available <= 1 and not opted_in:
        return Movability(
            False,
            "LastAvailableReplica",
            f"pod {name} is the last available replica of {owner.kind} {owner.name} "
            f'({available} available; annotate {LAST_REPLICA_ANNOTATION}: "true" to allow)',
        )
    return MOVABLE
