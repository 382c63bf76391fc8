"""The Kubernetes objects a placement scenario becomes for a replay on a real cluster (pure).

One kwok node per scenario node (its zone, region and size; a taint and a label that only the replay's
pods tolerate and select), a ``NetworkTopology`` with the scenario's distances, and per workload a
``WorkloadProfile`` (traffic, placement rules, expected replicas) and a ``Deployment`` scaled up one
pod at a time. Node names carry their position in the replay's node order, so the order in which the
API server lists nodes (by name) is the order chosen for the run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from augur.api import GROUP, VERSION
from augur.api.quantity import pod_requests
from augur.api.v1alpha1.workloadprofile import PodRequests
from augur.api.validation import FieldError, SpecError
from augur.constants import PLAN_GATE, REGION_LABEL, ZONE_LABEL
from augur.devcluster.nodes import KWOK_TOLERATION, NodeSpec, node_manifest
from augur.sim.placement import Scenario, ScenarioWorkload

REPLAY_LABEL = "augur.dev/replay"
"""Label (nodes, pods) and taint key (nodes) that tie a replay's pods to its nodes."""
REPLAY_GATE = "augur.dev/replay"
"""Scheduling gate of a replay pod while the extender's planner catches up with it."""
SCHEDULER_NAME = "augur-replay"
"""``schedulerName`` of the replay's pods: only the replay's own kube-scheduler places them."""
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_INVALID = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class ReplayNames:
    """Cluster names of one replay run: nodes (in the run's order), namespaces, topology."""

    run: str
    """Short id (lowercase hex) unique to the run."""
    nodes: tuple[str, ...]
    """Cluster node name of each scenario node, by scenario index."""

    @classmethod
    def build(cls, sc: Scenario, run: str, order: Sequence[int]) -> ReplayNames:
        """``order[k]`` is the scenario index of the node listed k-th."""
        if sorted(order) != list(range(len(sc.nodes))):
            raise ValueError(f"node order must be a permutation of 0..{len(sc.nodes) - 1}")
        names = [""] * len(sc.nodes)
        for k, i in enumerate(order):
            base = _INVALID.sub("-", sc.nodes[i].name.lower()).strip("-") or "node"
            names[i] = f"replay-{run}-{k:04d}-{base}"[:63].rstrip("-")
        return cls(run, tuple(names))

    def namespace(self, variant: str) -> str:
        return f"replay-{self.run}-{variant}"

    @property
    def topology(self) -> str:
        return f"replay-{self.run}"


def cluster_errors(sc: Scenario) -> list[FieldError]:
    """What a scenario needs beyond the simulator's checks to become Kubernetes objects."""
    errors: list[FieldError] = []
    for i, wl in enumerate(sc.workloads):
        if not (_DNS_LABEL.match(wl.name) and len(wl.name) <= 50):
            errors.append(FieldError(f"workloads[{i}].name", f"{wl.name!r} is not a Deployment name (a-z, 0-9, -)"))
        if len(wl.talks_to) + len(set(wl.max_distance) - set(wl.talks_to)) > 64:
            errors.append(FieldError(f"workloads[{i}].talksTo", "a WorkloadProfile takes at most 64 dependencies"))
        if (wl.prefer_zones and wl.avoid_zones) or (wl.prefer_regions and wl.avoid_regions):
            errors.append(FieldError(f"workloads[{i}]", "a WorkloadProfile cannot both prefer and avoid zones/regions"))
    for i, n in enumerate(sc.nodes):
        for key, value in (("zone", n.zone), ("region", n.region)):
            if not (_LABEL_VALUE.match(value) and len(value) <= 63):
                errors.append(FieldError(f"nodes[{i}].{key}", f"{value!r} is not a valid label value"))
    values = [*sc.topology.levels.as_pairs(), *_overrides_raw(sc)]
    errors += [
        FieldError(f"distances.{k}", f"the NetworkTopology takes whole numbers, not {v}")
        for k, v in values
        if v != int(v)
    ]
    return errors


def _overrides_raw(sc: Scenario) -> list[tuple[str, float]]:
    t = sc.topology
    out: list[tuple[str, float]] = []
    for scope, table in (("zones", t.zones), ("regions", t.regions), ("nodes", t.nodes)):
        out += [(f"{scope}.{a}|{b}", d) for (a, b), d in table.items()]
    return out


def check_cluster_scenario(sc: Scenario) -> None:
    """Raise :class:`SpecError` when the scenario cannot be replayed on a cluster."""
    errors = cluster_errors(sc)
    if errors:
        raise SpecError(errors)


def _millicores(cores: float) -> str:
    return f"{round(cores * 1000)}m"


def _kibibytes(gib: float) -> str:
    return f"{round(gib * 1024 * 1024)}Ki"


def node_manifests(sc: Scenario, names: ReplayNames) -> list[dict[str, Any]]:
    """kwok nodes in the run's order (the order they are created in)."""
    out = []
    for i, node in enumerate(sc.nodes):
        spec = NodeSpec(
            names.nodes[i],
            node.zone,
            node.region,
            cpu=_millicores(node.cpu),
            memory=_kibibytes(node.memory),
            pods=int(node.max_pods),
            labels={REPLAY_LABEL: names.run},
        )
        manifest = node_manifest(spec)
        manifest["spec"]["taints"].append({"key": REPLAY_LABEL, "value": names.run, "effect": "NoSchedule"})
        for key, value in ((ZONE_LABEL, node.zone), (REGION_LABEL, node.region)):
            if not value:
                del manifest["metadata"]["labels"][key]
        out.append(manifest)
    return sorted(out, key=lambda m: str(m["metadata"]["name"]))


def topology_manifest(sc: Scenario, names: ReplayNames) -> dict[str, Any]:
    t, lv = sc.topology, sc.topology.levels
    node_name = {n.name: names.nodes[i] for i, n in enumerate(sc.nodes)}
    overrides = []
    for scope, table in (("Zone", t.zones), ("Region", t.regions), ("Node", t.nodes)):
        rename = node_name if scope == "Node" else {}
        for (a, b), d in sorted(table.items()):
            overrides.append({"scope": scope, "from": rename.get(a, a), "to": rename.get(b, b), "distance": int(d)})
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "NetworkTopology",
        "metadata": {"name": names.topology, "labels": {REPLAY_LABEL: names.run}},
        "spec": {"levels": {k: int(v) for k, v in lv.as_pairs()}, "overrides": overrides},
    }


def profile_manifest(wl: ScenarioWorkload, namespace: str, names: ReplayNames, sc: Scenario) -> dict[str, Any]:
    """The workload's ``WorkloadProfile`` (the simulator's :meth:`ScenarioWorkload.profile_spec`, with node
    names as they are in the cluster), selecting the Deployment's pods by ``app``."""
    node_name = {n.name: names.nodes[i] for i, n in enumerate(sc.nodes)}
    spec = wl.profile_spec()
    if spec.placement is not None:
        avoid = [node_name.get(n, n) for n in spec.placement.avoid_nodes]
        spec = spec.model_copy(update={"placement": spec.placement.model_copy(update={"avoid_nodes": avoid})})
    body = spec.model_dump(by_alias=True, exclude_defaults=True, mode="json")
    body["selector"] = f"app={wl.name}"
    body["scaleTargetRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": wl.name}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "WorkloadProfile",
        "metadata": {"name": wl.name, "namespace": namespace},
        "spec": body,
    }


def profile_status(wl: ScenarioWorkload, deployment: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the operator would have written once it forecast the workload: the replicas to come and, given
    the workload's ``deployment``, the requests of one pod of its template (``status.podRequests``, read as
    the operator reads them)."""
    status: dict[str, Any] = {"desiredReplicas": wl.replicas}
    if deployment is not None:
        cpu, memory = pod_requests(deployment["spec"]["template"]["spec"])
        if cpu or memory:
            status["podRequests"] = PodRequests.of(cpu, memory).model_dump(by_alias=True)
    return {"status": status}


def deployment_manifest(
    wl: ScenarioWorkload, namespace: str, names: ReplayNames, gated: bool = False, plan_gate: bool = False
) -> dict[str, Any]:
    """A Deployment at zero replicas whose pods only go to the run's nodes, through the replay's scheduler;
    ``gated``: each pod waits behind the scheduling gate :data:`REPLAY_GATE` until the replay lifts it;
    ``plan_gate``: behind the product's :data:`~augur.constants.PLAN_GATE` until the extender lifts it."""
    gates = [{"name": REPLAY_GATE}] if gated else []
    gates += [{"name": PLAN_GATE}] if plan_gate else []
    requests = {}
    if wl.cpu:
        requests["cpu"] = _millicores(wl.cpu)
    if wl.memory:
        requests["memory"] = _kibibytes(wl.memory)
    labels = {"app": wl.name, REPLAY_LABEL: names.run}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": wl.name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": wl.name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "schedulerName": SCHEDULER_NAME,
                    "nodeSelector": {REPLAY_LABEL: names.run},
                    "tolerations": [
                        KWOK_TOLERATION,
                        {"key": REPLAY_LABEL, "operator": "Exists", "effect": "NoSchedule"},
                    ],
                    "terminationGracePeriodSeconds": 0,
                    **({"schedulingGates": gates} if gates else {}),
                    "containers": [
                        {"name": "app", "image": f"example/{wl.name}:1", "resources": {"requests": requests}}
                    ],
                },
            },
        },
    }


def scheduler_config(kubeconfig: str, extenders: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The replay's ``KubeSchedulerConfiguration``: kube-scheduler's defaults, the replay's profile name,
    and ``extenders`` (the shipped entry, or none for the default scheduler)."""
    config: dict[str, Any] = {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": {"kubeconfig": kubeconfig, "qps": 500, "burst": 1000},
        "leaderElection": {"leaderElect": False},
        "profiles": [{"schedulerName": SCHEDULER_NAME}],
    }
    if extenders:
        config["extenders"] = [dict(e) for e in extenders]
    return config
