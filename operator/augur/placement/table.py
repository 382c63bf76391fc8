"""Column-oriented view of the nodes, built once per snapshot, so scoring is vectorized over nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from augur.constants import HOSTNAME_LABEL, REGION_LABEL, ZONE_LABEL, FloatArray, IntArray
from augur.placement.model import NodeInfo
from augur.placement.topology import TopologyModel


@dataclass(frozen=True, eq=False)
class NodeTable:
    """Nodes as numpy columns plus the effective zone distance matrix."""

    nodes: tuple[NodeInfo, ...]
    position: Mapping[str, int]
    topology: TopologyModel
    zones: tuple[str, ...]
    zone_idx: IntArray
    region_idx: IntArray
    zone_matrix: FloatArray
    cpu: FloatArray
    memory: FloatArray
    cpu_requested: FloatArray
    memory_requested: FloatArray
    max_pods: FloatArray
    """Allocatable pods per node."""
    pods: FloatArray
    """Pods already on each node (all of them: they count against ``max_pods``)."""
    utilization: FloatArray
    """Measured CPU utilization, NaN where unknown."""
    overrides: tuple[IntArray, IntArray, FloatArray]
    """Node-pair overrides as (i, j, distance) with both directions listed."""
    regions: tuple[str, ...] = ()
    names_tuple: tuple[str, ...] = ()
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Per-node static data derived lazily (reply fragments, ...); shared by :meth:`with_requested` copies,
    which have the same nodes."""

    @classmethod
    def build(cls, nodes: Sequence[NodeInfo], topology: TopologyModel) -> NodeTable:
        """The table with nodes sorted by name: positions, and everything derived from them (plans,
        searches, tie-breaks), do not depend on the order in which nodes were listed or watched."""
        nodes = tuple(sorted(nodes, key=lambda n: n.name))
        position = {n.name: i for i, n in enumerate(nodes)}
        zones = tuple(sorted({n.zone for n in nodes}))
        regions = sorted({n.region for n in nodes})
        region_of: dict[str, str] = {}
        for n in nodes:  # a zone listed in several regions (a labelling mistake) counts in the first by name
            region_of[n.zone] = min(region_of.get(n.zone, n.region), n.region)
        zpos = {z: i for i, z in enumerate(zones)}
        rpos = {r: i for i, r in enumerate(regions)}
        table = cls(
            nodes=nodes,
            position=position,
            topology=topology,
            zones=zones,
            zone_idx=np.fromiter((zpos[n.zone] for n in nodes), dtype=np.int64, count=len(nodes)),
            region_idx=np.fromiter((rpos[n.region] for n in nodes), dtype=np.int64, count=len(nodes)),
            zone_matrix=topology.zone_matrix(zones, region_of),
            cpu=_column(nodes, "cpu"),
            memory=_column(nodes, "memory"),
            cpu_requested=_column(nodes, "cpu_requested"),
            memory_requested=_column(nodes, "memory_requested"),
            max_pods=_column(nodes, "max_pods"),
            pods=_column(nodes, "pods"),
            utilization=np.array(
                [np.nan if n.cpu_utilization is None else n.cpu_utilization for n in nodes], dtype=np.float64
            ),
            overrides=_node_overrides(topology, position),
            regions=tuple(regions),
            names_tuple=tuple(n.name for n in nodes),
        )
        table.memo["all"] = np.arange(len(nodes), dtype=np.int64)
        return table

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def names(self) -> list[str]:
        return list(self.names_tuple)

    def names_of(self, idx: IntArray) -> tuple[str, ...]:
        """Names of the nodes at positions ``idx``."""
        everything = self.memo.get("all")
        if everything is not None and len(idx) == len(everything) and np.array_equal(idx, everything):
            return self.names_tuple
        get = self.names_tuple.__getitem__
        return tuple(map(get, idx.tolist()))

    def zone_mask(self, zones: frozenset[str]) -> npt.NDArray[np.bool_]:
        """Per zone index: is the zone in ``zones``."""
        return np.fromiter((z in zones for z in self.zones), dtype=bool, count=len(self.zones))

    def region_mask(self, regions: frozenset[str]) -> npt.NDArray[np.bool_]:
        return np.fromiter((r in regions for r in self.regions), dtype=bool, count=len(self.regions))

    def with_requested(
        self, cpu_requested: FloatArray, memory_requested: FloatArray, pods: FloatArray | None = None
    ) -> NodeTable:
        """The same nodes with other requested totals and, when given, other pod counts (cheap: shares every
        other column)."""
        if pods is None:
            return replace(self, cpu_requested=cpu_requested, memory_requested=memory_requested)
        return replace(self, cpu_requested=cpu_requested, memory_requested=memory_requested, pods=pods)

    def pod_room(self) -> FloatArray:
        """Pods each node still accepts (``max_pods`` minus the pods on it, at least 0)."""
        room: FloatArray = np.maximum(self.max_pods - self.pods, 0.0)
        return room

    def resolve(self, names: Sequence[str]) -> tuple[IntArray, list[str]]:
        """Positions of the known ``names`` (in order) and the names this table does not know."""
        last = self.memo.get("resolve.last")
        if last is not None and last[0] == names:  # the scheduler often sends the same list pod after pod
            return last[1], list(last[2])
        idx = np.fromiter(map(self.position.get, names, repeat(-1)), dtype=np.int64, count=len(names))
        unknown = [] if len(idx) == 0 or idx.min() >= 0 else [names[i] for i in np.flatnonzero(idx < 0).tolist()]
        known = idx if not unknown else idx[idx >= 0]
        known.flags.writeable = False
        self.memo["resolve.last"] = (list(names), known, tuple(unknown))
        return known, unknown

    def domains(self, key: str) -> IntArray:
        """Failure-domain id of every node for a topology key; nodes without the label are their own domain."""
        if key == ZONE_LABEL:
            return self.zone_idx
        if key == REGION_LABEL:
            return self.region_idx
        n = len(self.nodes)
        if key == HOSTNAME_LABEL:
            return np.arange(n, dtype=np.int64)
        values = [node.labels.get(key) for node in self.nodes]
        ids: dict[str, int] = {}
        out = np.empty(n, dtype=np.int64)
        for i, v in enumerate(values):
            out[i] = ids.setdefault(v, len(ids)) if v is not None else n + i
        return out

    def peer_weights(self, counts: Mapping[str, int]) -> tuple[IntArray, FloatArray]:
        """Node positions and pod counts of a workload (nodes unknown to the table are skipped)."""
        n = len(counts)
        idx = np.fromiter(map(self.position.get, counts.keys(), repeat(-1)), dtype=np.int64, count=n)
        w = np.fromiter(counts.values(), dtype=np.float64, count=n)
        keep = (idx >= 0) & (w > 0)
        return idx[keep], w[keep]


def _column(nodes: Sequence[NodeInfo], attr: str) -> FloatArray:
    return np.fromiter((getattr(n, attr) for n in nodes), dtype=np.float64, count=len(nodes))


def _node_overrides(topology: TopologyModel, position: Mapping[str, int]) -> tuple[IntArray, IntArray, FloatArray]:
    rows = [(position[a], position[b], d) for (a, b), d in topology.nodes.items() if a in position and b in position]
    rows += [(j, i, d) for i, j, d in rows if i != j]
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    i, j, d = zip(*rows, strict=True)
    return np.array(i, dtype=np.int64), np.array(j, dtype=np.int64), np.array(d, dtype=np.float64)
