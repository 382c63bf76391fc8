"""Scenario files of ``augur placement simulate`` (format of the extender issue): nodes, distances and
workloads, validated with every error listed. Each workload becomes the ``WorkloadProfileSpec`` a user
would apply (:meth:`ScenarioWorkload.profile_spec`), and its placement rules come from the one converter
the extender uses (:func:`augur.placement.rules_from_api`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from augur.api.v1alpha1.workloadprofile import Dependency, Placement, ScaleTargetRef, WorkloadProfileSpec
from augur.api.validation import FieldError, SpecError, field_errors
from augur.constants import (
    CROSS_REGION_DISTANCE,
    MAX_DISTANCE,
    SAME_NODE_DISTANCE,
    SAME_REGION_DISTANCE,
    SAME_ZONE_DISTANCE,
    ZONE_LABEL,
)
from augur.placement import (
    DistanceLevels,
    NodeInfo,
    NodeTable,
    ScoringConfig,
    TopologyModel,
    WorkloadRules,
    parse_config,
    rules_from_api,
)
from augur.placement.constants import DEFAULT_MAX_PODS


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ScenarioNode(_Model):
    name: Annotated[str, Field(min_length=1)]
    zone: str = ""
    region: str = ""
    cpu: Annotated[float, Field(gt=0)]
    memory: Annotated[float, Field(gt=0)]
    pods: Annotated[int, Field(ge=0, le=100_000)] = int(DEFAULT_MAX_PODS)
    """Allocatable pods (the kubelet's ``maxPods``)."""


class ScenarioDistances(_Model):
    same_node: Annotated[float, Field(ge=0, le=MAX_DISTANCE)] = SAME_NODE_DISTANCE
    same_zone: Annotated[float, Field(ge=0, le=MAX_DISTANCE)] = SAME_ZONE_DISTANCE
    same_region: Annotated[float, Field(ge=0, le=MAX_DISTANCE)] = SAME_REGION_DISTANCE
    cross_region: Annotated[float, Field(ge=0, le=MAX_DISTANCE)] = CROSS_REGION_DISTANCE
    zones: dict[str, Annotated[float, Field(ge=0, le=100)]] = {}
    regions: dict[str, Annotated[float, Field(ge=0, le=100)]] = {}
    nodes: dict[str, Annotated[float, Field(ge=0, le=100)]] = {}


class ScenarioWorkload(_Model):
    name: Annotated[str, Field(min_length=1)]
    replicas: Annotated[int, Field(ge=0, le=10_000)]
    cpu: Annotated[float, Field(ge=0)] = 0
    memory: Annotated[float, Field(ge=0)] = 0
    talks_to: dict[str, Annotated[float, Field(ge=0)]] = {}
    max_distance: dict[str, Annotated[int, Field(ge=0, le=100)]] = {}
    prefer_zones: list[str] = []
    avoid_zones: list[str] = []
    prefer_regions: list[str] = []
    avoid_regions: list[str] = []
    avoid_nodes: list[str] = []
    colocate_with: list[str] = []
    avoid_workloads: list[str] = []
    required_avoidance: bool = False
    spread_topology_key: str = ZONE_LABEL

    def profile_spec(self) -> WorkloadProfileSpec:
        """The ``WorkloadProfile`` spec of this workload (a Deployment of the same name); raises
        ``ValidationError`` when a name is not a valid Kubernetes name."""
        deps = [Dependency(name=p, traffic=t, max_distance=self.max_distance.get(p)) for p, t in self.talks_to.items()]
        deps += [
            Dependency(name=p, traffic=0.0, max_distance=d)
            for p, d in self.max_distance.items()
            if p not in self.talks_to
        ]
        placement = Placement(
            prefer_zones=self.prefer_zones,
            avoid_zones=self.avoid_zones,
            prefer_regions=self.prefer_regions,
            avoid_regions=self.avoid_regions,
            avoid_nodes=self.avoid_nodes,
            colocate_with=self.colocate_with,
            avoid_workloads=self.avoid_workloads,
            required_avoidance=self.required_avoidance,
            spread_topology_key=self.spread_topology_key,
        )
        return WorkloadProfileSpec(
            scale_target_ref=ScaleTargetRef(kind="Deployment", name=self.name), dependencies=deps, placement=placement
        )

    def rules(self) -> WorkloadRules:
        """Placement rules through the extender's converter, with the replica count and pod size known."""
        rules = rules_from_api("", self.name, self.profile_spec(), self.replicas)
        return replace(rules, pod_cpu=self.cpu, pod_memory=self.memory)


class ScenarioFile(_Model):
    nodes: Annotated[list[ScenarioNode], Field(min_length=1)]
    distances: ScenarioDistances = ScenarioDistances()
    workloads: Annotated[list[ScenarioWorkload], Field(min_length=1)]
    scoring: dict[str, Any] | None = None
    seed: int = 0


@dataclass(frozen=True, eq=False)
class Scenario:
    nodes: tuple[NodeInfo, ...]
    """As listed in the file (the node table sorts them by name)."""
    topology: TopologyModel
    workloads: tuple[ScenarioWorkload, ...]
    scoring: ScoringConfig
    seed: int = 0
    rules: tuple[WorkloadRules, ...] = ()

    def pods(self) -> Iterator[tuple[int, str]]:
        """``(workload index, pod name)`` in creation order."""
        for w, wl in enumerate(self.workloads):
            for i in range(wl.replicas):
                yield w, f"{wl.name}-{i}"

    def with_nodes(self, nodes: tuple[NodeInfo, ...]) -> Scenario:
        """The same scenario with its nodes listed in another order."""
        return replace(self, nodes=nodes)

    @cached_property
    def table(self) -> NodeTable:
        """The node table (nodes sorted by name): every array of the simulator is in its order."""
        return NodeTable.build(self.nodes, self.topology)


def parse_scenario(raw: Any) -> Scenario:
    """Validate a scenario (already loaded from YAML); raise :class:`SpecError` listing every error."""
    if not isinstance(raw, dict):
        raise SpecError([FieldError("", "a scenario must be a mapping with nodes, distances and workloads")])
    errors = _cross_check(raw)
    scoring, scoring_errors = parse_config(raw.get("scoring"), "scoring")
    errors += scoring_errors
    try:
        f = ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        errors = field_errors(exc, "") + errors
        raise SpecError(errors) from exc
    d = f.distances
    topology = TopologyModel.build(
        DistanceLevels(d.same_node, d.same_zone, d.same_region, d.cross_region), d.zones, d.regions, d.nodes
    )
    errors += topology.validate("distances")
    rules: list[WorkloadRules] = []
    for i, w in enumerate(f.workloads):
        try:
            rules.append(w.rules())
        except ValidationError as exc:
            errors += [
                FieldError(
                    f"workloads[{i}]", f"not valid as a WorkloadProfile: {'.'.join(map(str, e['loc']))}: {e['msg']}"
                )
                for e in exc.errors()[:1]
            ]
    if errors or scoring is None:
        raise SpecError(errors)
    nodes = tuple(NodeInfo(n.name, n.zone, n.region, n.cpu, n.memory, max_pods=n.pods) for n in f.nodes)
    return Scenario(nodes, topology, tuple(f.workloads), scoring, f.seed, tuple(rules))


def _items(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = raw.get(key)
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _cross_check(raw: dict[str, Any]) -> list[FieldError]:
    """Errors across fields (duplicates, unknown references), read leniently from the raw mapping."""
    errors: list[FieldError] = []
    for kind in ("nodes", "workloads"):
        names = [x.get("name") for x in _items(raw, kind)]
        errors += [
            FieldError(f"{kind}[{i}].name", f"duplicate name {n!r}") for i, n in enumerate(names) if names.index(n) != i
        ]
    workloads = {x.get("name") for x in _items(raw, "workloads")}
    zones = {x.get("zone", "") for x in _items(raw, "nodes")}
    for i, w in enumerate(_items(raw, "workloads")):
        for key in ("talksTo", "maxDistance", "colocateWith", "avoidWorkloads"):
            refs = w.get(key) or []
            errors += [
                FieldError(f"workloads[{i}].{key}.{p}", f"unknown workload {p!r}")
                for p in (refs if isinstance(refs, list | dict) else [])
                if p not in workloads
            ]
        for key in ("preferZones", "avoidZones"):
            refs = w.get(key) or []
            errors += [
                FieldError(f"workloads[{i}].{key}", f"unknown zone {z!r}")
                for z in (refs if isinstance(refs, list) else [])
                if z not in zones
            ]
    return errors
