"""Converters from the ``augur.dev/v1alpha1`` API models to the pure placement inputs."""

from __future__ import annotations

from augur.api.v1alpha1.networktopology import NetworkTopologySpec, NetworkTopologyStatus
from augur.api.v1alpha1.workloadprofile import WorkloadProfileSpec, WorkloadProfileStatus
from augur.constants import ZONE_LABEL
from augur.placement.model import DependencyRule, WorkloadRules, workload_key
from augur.placement.topology import DistanceLevels, TopologyModel, pair


def topology_from_api(spec: NetworkTopologySpec, status: NetworkTopologyStatus | None = None) -> TopologyModel:
    """Levels and overrides from the spec; the status's effective (measured) zone matrix wins for zones."""
    lv = spec.levels
    zones: dict[tuple[str, str], float] = {}
    regions: dict[tuple[str, str], float] = {}
    nodes: dict[tuple[str, str], float] = {}
    for o in spec.overrides:
        {"Zone": zones, "Region": regions, "Node": nodes}[o.scope][pair(o.from_, o.to)] = float(o.distance)
    matrix = status.matrix if status else None
    if matrix is not None:
        for i, za in enumerate(matrix.zones):
            row = matrix.distances[i] if i < len(matrix.distances) else []
            for j, zb in enumerate(matrix.zones[: len(row)]):
                if i != j:
                    zones[pair(za, zb)] = float(row[j])
    levels = DistanceLevels(lv.same_node, lv.same_zone, lv.same_region, lv.cross_region)
    return TopologyModel(levels, zones, regions, nodes)


def rules_from_api(
    namespace: str,
    name: str,
    spec: WorkloadProfileSpec,
    replicas: int | None = None,
    status: WorkloadProfileStatus | None = None,
) -> WorkloadRules:
    """A ``WorkloadProfile``'s dependencies and placement rules, with peers as workload keys;
    ``replicas`` is the expected replica count (``status.desiredReplicas``) when known. Traffic measured
    by a dependency's ``trafficQuery`` (``status.traffic``) replaces its spec weight."""
    measured = {(t.namespace or namespace, t.name): t.traffic for t in (status.traffic if status else [])}
    deps = tuple(
        DependencyRule(
            workload_key(d.namespace or namespace, d.name),
            measured.get((d.namespace or namespace, d.name), d.traffic),
            d.max_distance,
        )
        for d in spec.dependencies
    )
    p = spec.placement
    if p is None:
        return WorkloadRules(key=workload_key(namespace, name), dependencies=deps, replicas=replicas)
    return WorkloadRules(
        key=workload_key(namespace, name),
        dependencies=deps,
        prefer_zones=frozenset(p.prefer_zones),
        avoid_zones=frozenset(p.avoid_zones),
        prefer_regions=frozenset(p.prefer_regions),
        avoid_regions=frozenset(p.avoid_regions),
        avoid_nodes=frozenset(p.avoid_nodes),
        colocate_with=frozenset(workload_key(namespace, w) for w in p.colocate_with),
        avoid_workloads=frozenset(workload_key(namespace, w) for w in p.avoid_workloads),
        required_avoidance=p.required_avoidance,
        spread_topology_key=p.spread_topology_key or ZONE_LABEL,
        replicas=replicas,
    )
