"""Who else scales a workload: HorizontalPodAutoscalers, KEDA ScaledObjects and WorkloadProfiles, read
from their raw bodies (the kopf indexes of :mod:`augur.operator.conflicts` feed them in from watches)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict, cast

HPA = "HorizontalPodAutoscaler"
SCALED_OBJECT = "ScaledObject"
WORKLOAD_PROFILE = "WorkloadProfile"


@dataclass(frozen=True, order=True)
class TargetKey:
    """A scale target as autoscalers name it: namespace, API group (not version), kind and name."""

    namespace: str
    group: str
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class ScaleClaim:
    """One object that scales ``target``."""

    kind: str
    """``HorizontalPodAutoscaler``, ``ScaledObject`` or ``WorkloadProfile``."""
    namespace: str
    name: str
    target: TargetKey
    created: str = ""
    """``metadata.creationTimestamp`` (RFC 3339, so it sorts as text)."""
    scaled_object: str = ""
    """For an HPA that KEDA made: the name of its ``ScaledObject``."""

    @property
    def owner(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


class _TargetRef(TypedDict, total=False):
    apiVersion: str
    kind: str
    name: str


class _OwnerRef(TypedDict, total=False):
    apiVersion: str
    kind: str
    name: str


def group_of(api_version: str) -> str:
    """``apps/v1`` → ``apps``; ``v1`` → the core group ``""``."""
    return api_version.rpartition("/")[0]


def _target(namespace: str, ref: _TargetRef, default_kind: str = "") -> TargetKey | None:
    kind, name = ref.get("kind") or default_kind, ref.get("name") or ""
    if not kind or not name:
        return None
    return TargetKey(namespace, group_of(ref.get("apiVersion") or "apps/v1"), kind, name)


def claim_from_body(kind: str, body: dict[str, Any]) -> ScaleClaim | None:
    """The claim an HPA, ScaledObject or WorkloadProfile body makes; None when it names no target or is
    being deleted."""
    meta = body.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return None
    namespace = str(meta.get("namespace") or "")
    ref = cast(_TargetRef, (body.get("spec") or {}).get("scaleTargetRef") or {})
    # KEDA defaults a ScaledObject's target to an apps/v1 Deployment
    target = _target(namespace, ref, "Deployment" if kind == SCALED_OBJECT else "")
    if target is None:
        return None
    owners = cast(list[_OwnerRef], meta.get("ownerReferences") or [])
    keda = next((o.get("name", "") for o in owners if o.get("kind") == SCALED_OBJECT), "") if kind == HPA else ""
    name, created = str(meta.get("name") or ""), str(meta.get("creationTimestamp") or "")
    return ScaleClaim(kind, namespace, name, target, created, keda)
