"""Column-oriented view of the nodes, built once per snapshot, so scoring is vectorized over nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from augur.placement.model import NodeInfo
from augur.placement.topology import FloatArray, TopologyModel

IntArray = npt.NDArray[np.int64]

ZONE_KEY = "topology.kubernetes.io/zone"
REGION_KEY = "topology.kubernetes.io/region"
HOSTNAME_KEY = "kubernetes.io/hostname"


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
    utilization: FloatArray
    """Measured CPU utilization, NaN where unknown."""
    overrides: tuple[IntArray, IntArray, FloatArray]
    """Node-pair overrides as (i, j, distance) with both directions listed."""

    @classmethod
    def build(cls, nodes: Sequence[NodeInfo], topology: TopologyModel) -> NodeTable:
        nodes = tuple(nodes)
        position = {n.name: i for i, n in enumerate(nodes)}
        zones = tuple(sorted({n.zone for n in nodes}))
        regions = sorted({n.region for n in nodes})
        region_of = {n.zone: n.region for n in nodes}
        zpos = {z: i for i, z in enumerate(zones)}
        rpos = {r: i for i, r in enumerate(regions)}
        return cls(
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
            utilization=np.array(
                [np.nan if n.cpu_utilization is None else n.cpu_utilization for n in nodes], dtype=np.float64
            ),
            overrides=_node_overrides(topology, position),
        )

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def names(self) -> list[str]:
        return [n.name for n in self.nodes]

    def with_requested(self, cpu_requested: FloatArray, memory_requested: FloatArray) -> NodeTable:
        """The same nodes with other requested totals (cheap: shares every other column)."""
        return replace(self, cpu_requested=cpu_requested, memory_requested=memory_requested)

    def resolve(self, names: Sequence[str]) -> tuple[IntArray, list[str]]:
        """Positions of the known ``names`` (in order) and the names this table does not know."""
        get = self.position.get
        idx = [get(n, -1) for n in names]
        known = np.array([i for i in idx if i >= 0], dtype=np.int64)
        unknown = [n for n, i in zip(names, idx, strict=True) if i < 0]
        return known, unknown

    def domains(self, key: str) -> IntArray:
        """Failure-domain id of every node for a topology key; nodes without the label are their own domain."""
        if key == ZONE_KEY:
            return self.zone_idx
        if key == REGION_KEY:
            return self.region_idx
        n = len(self.nodes)
        if key == HOSTNAME_KEY:
            return np.arange(n, dtype=np.int64)
        values = [node.labels.get(key) for node in self.nodes]
        ids: dict[str, int] = {}
        out = np.empty(n, dtype=np.int64)
        for i, v in enumerate(values):
            out[i] = ids.setdefault(v, len(ids)) if v is not None else n + i
        return out

    def peer_weights(self, counts: Mapping[str, int]) -> tuple[IntArray, FloatArray]:
        """Node positions and pod counts of a workload (nodes unknown to the table are skipped)."""
        pos = [(self.position[n], c) for n, c in counts.items() if c > 0 and n in self.position]
        if not pos:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        idx, w = zip(*pos, strict=True)
        return np.array(idx, dtype=np.int64), np.array(w, dtype=np.float64)


def _column(nodes: Sequence[NodeInfo], attr: str) -> FloatArray:
    return np.fromiter((getattr(n, attr) for n in nodes), dtype=np.float64, count=len(nodes))


def _node_overrides(topology: TopologyModel, position: Mapping[str, int]) -> tuple[IntArray, IntArray, FloatArray]:
    rows = [(position[a], position[b], d) for (a, b), d in topology.nodes.items() if a in position and b in position]
    rows += [(j, i, d) for i, j, d in rows if i != j]
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    i, j, d = zip(*rows, strict=True)
    return np.array(i, dtype=np.int64), np.array(j, dtype=np.int64), np.array(d, dtype=np.float64)
