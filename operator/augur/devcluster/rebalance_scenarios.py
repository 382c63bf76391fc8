"""Generated rebalancing scenarios and the Kubernetes objects they become (pure: no API calls).

A scenario is a placement scenario (``augur placement simulate`` format, so network cost and balance are
computed by the simulator's functions) plus an **initial placement** given as phases: each phase's
Deployments are created while only that phase's nodes are schedulable (the others cordoned), so the
real kube-scheduler places them skewed; then every node is uncordoned and a rebalancer (the descheduler
or Augur's) gets to work. Families:

- ``load``: 8 nodes of 4 cores in 3 zones of 2 regions, Deployments totalling ~30 % of the cluster's CPU
  all started on 3 nodes (~80 % each, the others empty); a zone spread constraint
  (``ScheduleAnyway``) on every Deployment, as many teams set; light chain traffic.
- ``network``: 8 nodes of 4 cores in 4 zones of 2 regions, pairs of chatty services (front end and back
  end, heavy traffic from the first to the second) with the front end started in one region and the
  back end in the other; each region ~35 % loaded, so the load is already even.
- ``mixed``: ``load`` with pods of mixed sizes, as most clusters run them: each Deployment's pods request
  0.1, 0.25, 0.5 or 1 core (drawn with weights 0.35, 0.3, 0.2, 0.15), where ``load``'s request a quarter
  or half a core. Which pods a rebalancer evicts matters here: moving the large ones balances the nodes
  with fewer evictions.
- ``usage``: requests even (every node ~45 % requested) but CPU use skewed: "hot" Deployments, whose pods
  use 1.4-1.8x their requests, started on 3 nodes, "cold" ones (0.2-0.4x) on the other 5. Only a
  rebalancer that reads measured use sees the skew; ``RebalanceScenario.usage`` holds each workload's
  cores used per pod, what the benchmark's exporter reports and what balance is measured on
  (``RebalanceScenario.measured``).

Every Deployment has a PodDisruptionBudget (``maxUnavailable: 1``) and a ``WorkloadProfile`` whose
``dependencies`` carry the traffic (what :func:`augur.placement.rules_from_api` reads); the scenario's
distances become a ``NetworkTopology``. Nodes carry a run label and taint, so only the run's pods go there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from augur.constants import DEFAULT_LEVELS, ZONE_LABEL
from augur.devcluster.nodes import KWOK_TOLERATION, NodeSpec, node_manifest
from augur.devcluster.replay_manifests import ReplayNames, profile_manifest, topology_manifest
from augur.sim.placement import Scenario, ScenarioWorkload, parse_scenario

RUN_LABEL = "augur.dev/rebalance-run"
"""Label (nodes, pods) and taint key (nodes) tying a run's pods to its nodes."""
FAMILIES = ("load", "network", "mixed", "usage")
LOAD_CPU = (0.25, 0.5)
"""Pod CPU requests (cores) of ``load``, drawn with equal weights."""
MIXED_CPU = ((0.1, 0.35), (0.25, 0.3), (0.5, 0.2), (1.0, 0.15))
"""Pod CPU requests (cores) of ``mixed`` and their weights."""
HOT_USE, COLD_USE = (1.4, 1.8), (0.2, 0.4)
"""``usage``: cores used per core requested, drawn uniformly per workload, of hot and cold workloads."""


@dataclass(frozen=True)
class Phase:
    """Deployments created while only ``nodes`` (scenario node names) accept pods."""

    workloads: tuple[str, ...]
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class RebalanceScenario:
    family: str
    seed: int
    raw: dict[str, Any] = field(hash=False, compare=False)
    """The placement scenario (``augur placement simulate`` format)."""
    phases: tuple[Phase, ...]
    spread: bool
    """Deployments carry a zone ``topologySpreadConstraint`` (``maxSkew: 1``, ``ScheduleAnyway``)."""
    usage: dict[str, float] = field(default_factory=dict, hash=False, compare=False)
    """Cores each pod of a workload uses, where it differs from its request (``usage`` family only)."""

    @cached_property
    def scenario(self) -> Scenario:
        """The scenario as requested: what the Deployments ask for."""
        return parse_scenario(self.raw)

    @cached_property
    def measured(self) -> Scenario:
        """The scenario with each workload's CPU as used: what balance is measured on (the same as
        :attr:`scenario` where no ``usage`` is given)."""
        if not self.usage:
            return self.scenario
        workloads = [{**w, "cpu": self.usage.get(w["name"], w["cpu"])} for w in self.raw["workloads"]]
        return parse_scenario({**self.raw, "workloads": workloads})

    @property
    def name(self) -> str:
        return f"{self.family}-{self.seed}"


def _node(i: int, zone: str, region: str, cpu: float = 4) -> dict[str, Any]:
    return {"name": f"n{i}", "zone": zone, "region": region, "cpu": cpu, "memory": 4 * cpu}


def load_skew(seed: int, family: str = "load", nodes: int = 8, hot: int = 3, fill: float = 0.8) -> RebalanceScenario:
    """Workloads adding up to ``fill`` of the ``hot`` nodes' CPU, all started on those nodes. Each workload's
    pods request one CPU size: one of ``LOAD_CPU`` (equally likely) for ``load``, ``MIXED_CPU`` (cores,
    weight) for ``mixed``."""
    if family not in ("load", "mixed"):
        raise ValueError(f"load_skew builds the load and mixed families, not {family!r}")
    rng = np.random.default_rng(seed)
    node_list = _three_zones(nodes)
    workloads = _draw(rng, fill * hot * 4, MIXED_CPU if family == "mixed" else None)
    _chain(rng, workloads)
    hot_nodes = tuple(sorted(str(node_list[int(k)]["name"]) for k in rng.choice(nodes, size=hot, replace=False)))
    raw = {"nodes": node_list, "distances": _distances(), "workloads": workloads, "seed": seed}
    return RebalanceScenario(family, seed, raw, (Phase(tuple(w["name"] for w in workloads), hot_nodes),), True)


def usage_skew(seed: int, nodes: int = 8, hot: int = 3, fill: float = 0.45) -> RebalanceScenario:
    """Every node's requests near ``fill`` of its CPU; hot workloads (``HOT_USE``) on ``hot`` nodes, cold ones
    (``COLD_USE``) on the others, so that the nodes differ in use only."""
    rng = np.random.default_rng(seed)
    node_list = _three_zones(nodes)
    hot_wl = _draw(rng, fill * hot * 4)
    cold_wl = _draw(rng, fill * (nodes - hot) * 4, first=len(hot_wl))
    usage = {}
    for group, (low, high) in ((hot_wl, HOT_USE), (cold_wl, COLD_USE)):
        for w in group:
            usage[w["name"]] = round(w["cpu"] * float(rng.uniform(low, high)), 3)
    workloads = hot_wl + cold_wl
    _chain(rng, workloads)
    picked = {int(k) for k in rng.choice(nodes, size=hot, replace=False)}
    hot_nodes = tuple(sorted(str(node_list[k]["name"]) for k in picked))
    cold_nodes = tuple(sorted(str(node_list[k]["name"]) for k in range(nodes) if k not in picked))
    raw = {"nodes": node_list, "distances": _distances(), "workloads": workloads, "seed": seed}
    phases = (
        Phase(tuple(w["name"] for w in hot_wl), hot_nodes),
        Phase(tuple(w["name"] for w in cold_wl), cold_nodes),
    )
    return RebalanceScenario("usage", seed, raw, phases, True, usage)


def _three_zones(nodes: int) -> list[dict[str, Any]]:
    zones = [("east-a", "east"), ("east-b", "east"), ("west-a", "west")]
    return [_node(i, *zones[i % len(zones)]) for i in range(nodes)]


def _draw(
    rng: np.random.Generator, budget: float, sizes: tuple[tuple[float, float], ...] | None = None, first: int = 0
) -> list[dict[str, Any]]:
    """Workloads ``svc<first>``, ``svc<first+1>``... of 2-5 pods, each requesting one of ``sizes`` (cores,
    weight; ``LOAD_CPU`` equally likely when None), until their requests add up to ``budget`` cores (the
    last ones shrunk to fill it)."""
    choices = [c for c, _ in sizes] if sizes else list(LOAD_CPU)
    weights = [w / sum(w for _, w in sizes) for _, w in sizes] if sizes else None
    smallest = min(choices)
    workloads: list[dict[str, Any]] = []
    total = 0.0
    while True:
        replicas, cpu = int(rng.integers(2, 6)), float(rng.choice(choices, p=weights))
        if total + replicas * cpu > budget:
            if total + 2 * smallest > budget:
                return workloads
            replicas, cpu = 2, smallest
        name = f"svc{first + len(workloads)}"
        workloads.append({"name": name, "replicas": replicas, "cpu": cpu, "memory": 0.25})
        total += replicas * cpu


def _chain(rng: np.random.Generator, workloads: list[dict[str, Any]]) -> None:
    """Light traffic from each workload to the next."""
    for i, w in enumerate(workloads[:-1]):
        w["talksTo"] = {workloads[i + 1]["name"]: float(rng.integers(1, 11))}


def network_skew(seed: int, nodes: int = 8, fill: float = 0.35) -> RebalanceScenario:
    """Pairs of chatty services, each pair split across the two regions; ~``fill`` CPU in each region."""
    rng = np.random.default_rng(seed)
    zones = [("east-a", "east"), ("east-b", "east"), ("west-a", "west"), ("west-b", "west")]
    node_list = [_node(i, *zones[i % len(zones)]) for i in range(nodes)]
    per_region = fill * (nodes // 2) * 4
    workloads: list[dict[str, Any]] = []
    region_of: dict[str, str] = {}
    total = 0.0
    while total < per_region:
        replicas, cpu = int(rng.integers(2, 5)), float(rng.choice([0.25, 0.5]))
        app = len(workloads) // 2
        front, back = f"app{app}-fe", f"app{app}-be"
        traffic = float(rng.integers(40, 101))
        workloads.append({"name": front, "replicas": replicas, "cpu": cpu, "memory": 0.25, "talksTo": {back: traffic}})
        workloads.append({"name": back, "replicas": replicas, "cpu": cpu, "memory": 0.25})
        east_first = bool(rng.integers(0, 2))
        region_of[front], region_of[back] = ("east", "west") if east_first else ("west", "east")
        total += replicas * cpu
    phases = tuple(
        Phase(
            tuple(w["name"] for w in workloads if region_of[w["name"]] == region),
            tuple(str(n["name"]) for n in node_list if n["region"] == region),
        )
        for region in ("east", "west")
    )
    raw = {"nodes": node_list, "distances": _distances(), "workloads": workloads, "seed": seed}
    return RebalanceScenario("network", seed, raw, phases, False)


def _distances() -> dict[str, Any]:
    return dict(DEFAULT_LEVELS)


def generate(family: str, seed: int) -> RebalanceScenario:
    if family not in FAMILIES:
        raise ValueError(f"unknown scenario family {family!r}; one of {', '.join(FAMILIES)}")
    if family == "network":
        return network_skew(seed)
    if family == "usage":
        return usage_skew(seed)
    return load_skew(seed, family)


# -- Kubernetes objects ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunNames:
    """Cluster names of one run of a scenario."""

    run: str
    """Short lowercase id unique to the run."""

    @property
    def namespace(self) -> str:
        return f"rebalance-{self.run}"

    def node(self, scenario_node: str) -> str:
        return f"rb-{self.run}-{scenario_node}"

    def scenario_node(self, cluster_node: str) -> str:
        prefix = f"rb-{self.run}-"
        return cluster_node[len(prefix) :] if cluster_node.startswith(prefix) else ""

    def replay_names(self, sc: Scenario) -> ReplayNames:
        return ReplayNames(self.run, tuple(self.node(n.name) for n in sc.nodes))


def node_manifests(rs: RebalanceScenario, names: RunNames) -> list[dict[str, Any]]:
    """The run's kwok nodes, created cordoned (phases uncordon them)."""
    out = []
    for n in rs.scenario.nodes:
        spec = NodeSpec(
            names.node(n.name),
            n.zone,
            n.region,
            cpu=f"{round(n.cpu * 1000)}m",
            memory=f"{round(n.memory * 1024 * 1024)}Ki",
            labels={RUN_LABEL: names.run},
        )
        manifest = node_manifest(spec)
        manifest["spec"]["taints"].append({"key": RUN_LABEL, "value": names.run, "effect": "NoSchedule"})
        manifest["spec"]["unschedulable"] = True
        out.append(manifest)
    return out


def deployment_manifest(wl: ScenarioWorkload, names: RunNames, spread: bool) -> dict[str, Any]:
    labels = {"app": wl.name, RUN_LABEL: names.run}
    pod_spec: dict[str, Any] = {
        "nodeSelector": {RUN_LABEL: names.run},
        "tolerations": [KWOK_TOLERATION, {"key": RUN_LABEL, "operator": "Exists", "effect": "NoSchedule"}],
        "terminationGracePeriodSeconds": 0,
        "containers": [
            {
                "name": "app",
                "image": f"example/{wl.name}:1",
                "resources": {
                    "requests": {"cpu": f"{round(wl.cpu * 1000)}m", "memory": f"{round(wl.memory * 1024)}Mi"}
                },
            }
        ],
    }
    if spread:
        pod_spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": ZONE_LABEL,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app": wl.name}},
            }
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": wl.name, "namespace": names.namespace, "labels": labels},
        "spec": {
            "replicas": wl.replicas,
            "selector": {"matchLabels": {"app": wl.name}},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def pdb_manifest(wl: ScenarioWorkload, names: RunNames) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": wl.name, "namespace": names.namespace, "labels": {RUN_LABEL: names.run}},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": wl.name}}},
    }


def augur_manifests(rs: RebalanceScenario, names: RunNames) -> list[dict[str, Any]]:
    """The ``NetworkTopology`` and one ``WorkloadProfile`` per workload (traffic in ``dependencies``)."""
    sc = rs.scenario
    replay = names.replay_names(sc)
    out = [topology_manifest(sc, replay)]
    out += [profile_manifest(wl, names.namespace, replay, sc) for wl in sc.workloads]
    return out
