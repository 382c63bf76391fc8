"""From raw API objects (and Prometheus samples) to the rebalancer's :class:`ClusterSnapshot` (kopf-free).

- Nodes: allocatable CPU/memory, zone/region labels of the ``NetworkTopology`` (default labels without
  one), cordon, ``NoSchedule``/``NoExecute`` taint keys.
- Pods: requests (sum over containers), controller (a Deployment's ReplicaSet folds into the
  Deployment), ``WorkloadProfile`` (its selector matched by the API server), movability
  (:func:`augur.migration.movability.check_movable`, the executor's rules), namespaces the policy excludes,
  forecast cores from the profile's forecast within the lead time.
- Rules and topology through :func:`augur.placement.rules_from_api` and :func:`topology_from_api`, as the
  extender builds them.
- Recent moves and pods busy with a Migration, from the ``Migration`` objects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kubernetes.utils import parse_quantity
from pydantic import ValidationError

from augur.api import GROUP, VERSION
from augur.api.durations import parse_duration
from augur.api.meta import parse_time
from augur.api.quantity import pod_requests
from augur.api.v1alpha1.migration import TERMINAL_PHASES
from augur.api.v1alpha1.networktopology import NetworkTopologySpec, NetworkTopologyStatus
from augur.api.v1alpha1.rebalancepolicy import RebalancePolicySpec
from augur.api.v1alpha1.workloadprofile import WorkloadProfileSpec, WorkloadProfileStatus
from augur.constants import REGION_LABEL, ZONE_LABEL
from augur.migration.movability import available_by_controller, check_movable, controller_of
from augur.migration.result import Proposal
from augur.migration.snapshot import ClusterSnapshot, NodeState, PastMove, PodState
from augur.placement.constants import DEFAULT_MAX_PODS
from augur.placement.convert import rules_from_api, topology_from_api
from augur.placement.model import WorkloadRules, workload_key
from augur.placement.topology import TopologyModel

Raw = dict[str, Any]
GIB = 1024.0**3
CREATED_BY = "augur.dev/created-by"
"""Label on the Migrations the rebalancer creates (value ``rebalancer``)."""
OWNER_ANNOTATION = "augur.dev/owner"
"""Annotation with the moved pod's owner key (rate limits and cool-down read it back)."""
SOURCE_ANNOTATION = "augur.dev/source-node"
STATEFULSET_NOTE = (
    "StatefulSet pods are not moved by the rebalancer: only ReservationFirst places the replacement on the "
    "chosen node, and it supports ReplicaSet pods only"
)


@dataclass(frozen=True)
class Loads:
    """Measured CPU cores per node and per ``namespace/pod`` (empty when load comes from requests)."""

    nodes: Mapping[str, float]
    pods: Mapping[str, float]


def _quantity(value: Any) -> float:
    """A Kubernetes quantity (``500m``, ``2Gi``) as a number."""
    return float(parse_quantity(value))  # type: ignore[no-untyped-call]


def owner_key(pod: Raw) -> str:
    """``namespace/Kind/name`` of the pod's controller; a ReplicaSet named ``<deployment>-<pod-template-hash>``
    counts as its Deployment."""
    meta = pod.get("metadata") or {}
    owner = controller_of(pod)
    if owner is None:
        return ""
    kind, name = owner.kind, owner.name
    digest = (meta.get("labels") or {}).get("pod-template-hash")
    if kind == "ReplicaSet" and digest and name.endswith(f"-{digest}"):
        kind, name = "Deployment", name[: -len(digest) - 1]
    return f"{meta.get('namespace', '')}/{kind}/{name}"


def node_state(raw: Raw, zone_label: str, region_label: str, used: float | None) -> NodeState:
    meta, spec, status = raw.get("metadata") or {}, raw.get("spec") or {}, raw.get("status") or {}
    alloc = status.get("allocatable") or {}
    labels = dict(meta.get("labels") or {})
    taints = frozenset(
        str(t.get("key", "")) for t in spec.get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute")
    )
    return NodeState(
        name=str(meta["name"]),
        zone=labels.get(zone_label, ""),
        region=labels.get(region_label, ""),
        cpu=_quantity(alloc.get("cpu", "0")),
        memory=_quantity(alloc.get("memory", "0")) / GIB,
        max_pods=_max_pods(alloc.get("pods")),
        cpu_used=used,
        schedulable=not spec.get("unschedulable", False),
        taints=taints,
        labels=labels,
    )


def _max_pods(value: Any) -> float:
    """``status.allocatable.pods``; 110 (kubelet's default) when absent or unreadable."""
    try:
        return DEFAULT_MAX_PODS if value is None else _quantity(value)
    except (ValueError, ArithmeticError):
        return DEFAULT_MAX_PODS


def _tolerates(pod: Raw) -> frozenset[str]:
    keys = set()
    for t in (pod.get("spec") or {}).get("tolerations") or []:
        if t.get("effect") not in (None, "", "NoSchedule", "NoExecute"):
            continue
        keys.add("*" if not t.get("key") and t.get("operator") == "Exists" else str(t.get("key", "")))
    return frozenset(keys)


def topology(objects: list[Raw]) -> tuple[TopologyModel, str, str]:
    """The ``NetworkTopology`` named ``default``, else the first by name (as the extender picks it): model,
    zone label and region label."""
    ordered = sorted(objects, key=lambda o: (o["metadata"]["name"] != "default", o["metadata"]["name"]))
    for obj in ordered:
        try:
            spec = NetworkTopologySpec.model_validate(obj.get("spec") or {})
            status = NetworkTopologyStatus.model_validate(obj["status"]) if obj.get("status") else None
        except ValidationError:
            continue
        return topology_from_api(spec, status), spec.zone_label, spec.region_label
    return TopologyModel(), ZONE_LABEL, REGION_LABEL


@dataclass(frozen=True)
class Profile:
    key: str
    rules: WorkloadRules
    pods: frozenset[str]
    """``namespace/name`` of the pods its selector matches."""
    growth: float | None
    """Expected cores per pod at the forecast peak within the lead time, relative to now."""


def profile(raw: Raw, select: Callable[[str, str], set[str]], now: datetime, lead_time: float) -> Profile | None:
    """A ``WorkloadProfile``'s rules, pods and forecast growth; None when its spec does not validate (its own
    reconcile reports that)."""
    meta = raw.get("metadata") or {}
    ns, name = str(meta.get("namespace", "")), str(meta["name"])
    try:
        spec = WorkloadProfileSpec.model_validate(raw.get("spec") or {})
        status = WorkloadProfileStatus.model_validate(raw["status"]) if raw.get("status") else None
    except ValidationError:
        return None
    replicas = status.desired_replicas if status else None
    rules = rules_from_api(ns, name, spec, replicas, status)
    selector = spec.selector or (status.selector if status else "")
    pods = frozenset(f"{ns}/{p}" for p in select(ns, selector))
    return Profile(workload_key(ns, name), rules, pods, _growth(status, now, lead_time))


def _growth(status: WorkloadProfileStatus | None, now: datetime, lead_time: float) -> float | None:
    """Per-pod demand at the forecast peak over per-pod demand now: (peak / now) x (replicas now / replicas
    planned by then). None without a forecast peak within the lead time or without current demand."""
    f = status.forecast if status else None
    if status is None or f is None or f.peak_upper is None or f.peak_at is None or not status.demand:
        return None
    if f.peak_at > now + timedelta(seconds=lead_time):
        return None
    current = status.current_replicas or 0
    planned = max(current, status.desired_replicas or 0, f.next_scale_up.replicas if f.next_scale_up else 0)
    if current <= 0 or planned <= 0:
        return None
    return max(0.0, f.peak_upper / status.demand) * current / planned


@dataclass(frozen=True)
class History:
    """What the Migrations say: the rebalancer's recent moves, pods with a Migration in progress, and the
    approved Migrations in progress (pod key, target node)."""

    recent: tuple[PastMove, ...]
    busy: frozenset[str]
    in_flight: tuple[tuple[str, str], ...]
    finished: tuple[tuple[datetime, frozenset[str]], ...] = ()
    """Approved Migrations that acted and finished (until garbage-collected): when, and the nodes touched."""


def past_moves(migrations: list[Raw], now: datetime, horizon: float, dry_plan_life: float) -> History:
    """Moves by the rebalancer within ``horizon`` seconds, the Migrations in progress (a dry-run plan keeps
    its pod busy for ``dry_plan_life`` seconds), and when each approved one that acted finished."""
    recent, busy, in_flight, finished = [], set(), [], []
    for m in migrations:
        meta, spec = m.get("metadata") or {}, m.get("spec") or {}
        status = m.get("status") or {}
        created = parse_time(meta.get("creationTimestamp")) or now
        age = (now - created).total_seconds()
        annotations = meta.get("annotations") or {}
        if (meta.get("labels") or {}).get(CREATED_BY) == "rebalancer" and age <= horizon:
            source = str(status.get("sourceNode") or annotations.get(SOURCE_ANNOTATION, ""))
            owner, target = str(annotations.get(OWNER_ANNOTATION, "")), str(spec.get("targetNode", ""))
            recent.append(PastMove(owner, source, target, created, planned=spec.get("approved") is False))
        approved = bool(spec.get("approved", True))
        if status.get("phase", "Pending") in TERMINAL_PHASES:
            done = parse_time(status.get("completionTime"))
            if approved and done is not None and status.get("startTime"):  # it acted on the placement
                touched = (status.get("sourceNode"), status.get("destinationNode"), spec.get("targetNode"))
                finished.append((done, frozenset(str(n) for n in touched if n)))
            continue
        key = f"{meta.get('namespace', '')}/{spec.get('podName', '')}"
        if approved or age <= dry_plan_life:
            busy.add(key)
        if approved:
            in_flight.append((key, str(spec.get("targetNode", ""))))
    return History(tuple(recent), frozenset(busy), tuple(sorted(in_flight)), tuple(finished))


def _in_scope(policy: RebalancePolicySpec, namespace: str) -> bool:
    """A namespace whose pods the policy may move (its moves there count for its limits)."""
    return namespace not in policy.excluded_namespaces and (not policy.namespaces or namespace in policy.namespaces)


def to_measure(
    migrations: list[Raw], now: datetime, horizon: float, settle: float = 0.0
) -> list[tuple[Raw, str, str, str]]:
    """The rebalancer's Migrations that succeeded within ``horizon`` seconds, at least ``settle`` seconds
    ago (measured load shows a move only after its query's window), and have no ``measuredGain`` yet:
    (Migration, ``namespace/pod`` running now, source node, gain kind)."""
    out = []
    for m in migrations:
        meta, spec, status = m.get("metadata") or {}, m.get("spec") or {}, m.get("status") or {}
        if (meta.get("labels") or {}).get(CREATED_BY) != "rebalancer" or status.get("phase") != "Succeeded":
            continue
        done = parse_time(status.get("completionTime"))
        if status.get("measuredGain") or done is None or not settle <= (now - done).total_seconds() <= horizon:
            continue
        pod, source = str(status.get("replacementPod") or ""), str(status.get("sourceNode") or "")
        kind = str((spec.get("expectedGain") or {}).get("kind") or "NodeLoadStdDev")
        if pod and source:
            out.append((m, f"{meta.get('namespace', '')}/{pod}", source, kind))
    return out


def build_snapshot(
    policy: RebalancePolicySpec,
    nodes: list[Raw],
    pods: list[Raw],
    profiles: list[Profile],
    topology_model: TopologyModel,
    zone_labels: tuple[str, str],
    migrations: list[Raw],
    loads: Loads | None,
    now: datetime,
) -> ClusterSnapshot:
    measured = loads is not None
    available = available_by_controller(pods)  # over every node: a replica elsewhere still serves
    wanted = policy.node_selector.items()
    nodes = [n for n in nodes if all((n["metadata"].get("labels") or {}).get(k) == v for k, v in wanted)]
    node_states = tuple(
        node_state(n, *zone_labels, loads.nodes.get(n["metadata"]["name"]) if loads else None) for n in nodes
    )
    names = {n.name for n in node_states}
    pods = [p for p in pods if (p.get("spec") or {}).get("nodeName") in names]
    of_pod = {p: prof for prof in profiles for p in prof.pods}
    states = []
    for raw in pods:
        meta, spec = raw.get("metadata") or {}, raw.get("spec") or {}
        ns, name = str(meta.get("namespace", "")), str(meta["name"])
        key = f"{ns}/{name}"
        owner = controller_of(raw)
        verdict = check_movable(raw, available[owner.uid] if owner else 0)
        blocked = "" if verdict.movable else verdict.message or verdict.reason
        if not blocked and owner is not None and owner.kind == "StatefulSet":
            blocked = STATEFULSET_NOTE
        if not blocked and not _in_scope(policy, ns):
            blocked = f"namespace {ns} is excluded by the RebalancePolicy"
        cpu, mem = pod_requests(raw.get("spec"))
        used = loads.pods.get(key) if loads else None
        prof = of_pod.get(key)
        growth = prof.growth if prof else None
        states.append(
            PodState(
                namespace=ns,
                name=name,
                node=str(spec.get("nodeName", "")),
                owner=owner_key(raw),
                workload=prof.key if prof else None,
                cpu=cpu,
                memory=mem,
                cpu_used=used,
                cpu_forecast=None if growth is None else growth * (used if used is not None else cpu),
                blocked=blocked,
                tolerates=_tolerates(raw),
                node_selector=dict(spec.get("nodeSelector") or {}),
                terminating=bool(meta.get("deletionTimestamp")),
            )
        )
    window = max(parse_duration(policy.limits.window), parse_duration(policy.cooldown))
    mine = [m for m in migrations if _in_scope(policy, str((m.get("metadata") or {}).get("namespace", "")))]
    history = past_moves(mine, now, window, parse_duration(policy.cooldown))
    keys = {p.key for p in states}
    in_flight = sum(1 for pod, target in history.in_flight if pod in keys or target in names)
    last_finished = max((done for done, touched in history.finished if touched & names), default=None)
    return ClusterSnapshot(
        nodes=node_states,
        pods=tuple(states),
        rules=tuple(p.rules for p in profiles),
        topology=topology_model,
        recent=history.recent,
        busy=history.busy,
        in_flight=in_flight,
        measured=measured,
        last_finished=last_finished,
    )


def migration_body(p: Proposal, approved: bool) -> dict[str, Any]:
    """The ``Migration`` for one proposal (ReservationFirst to the chosen node); ``expectedGain`` except for
    ``HardRule`` moves, which are made to restore a rule."""
    gain_kind = "NetworkCost" if p.reason == "NetworkCost" else "NodeLoadStdDev"
    gain = {"expectedGain": {"kind": gain_kind, "value": round(max(p.gain, 0.0), 6)}}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Migration",
        "metadata": {
            "generateName": f"{p.pod[:200]}-",
            "namespace": p.namespace,
            "labels": {CREATED_BY: "rebalancer"},
            "annotations": {OWNER_ANNOTATION: p.owner, SOURCE_ANNOTATION: p.source},
        },
        "spec": {
            "podName": p.pod,
            "reason": p.reason,
            "targetNode": p.target,
            "mode": "ReservationFirst",
            "approved": approved,
            **(gain if p.reason != "HardRule" else {}),  # a hard-rule move restores a rule: no gain predicted
            "explanation": p.explanation[:4096],
        },
    }
