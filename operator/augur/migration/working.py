"""The placement a run works on: node loads and requested totals, where each pod is, and the network
model, all updated move by move so that each proposal accounts for the ones chosen before it."""

from __future__ import annotations

import zlib
from collections import Counter
from functools import cached_property

import numpy as np

from augur.constants import HOSTNAME_LABEL, BoolArray, FloatArray, IntArray
from augur.migration.load import spread, stddev
from augur.migration.network import NetworkModel
from augur.migration.result import Figures
from augur.migration.snapshot import ClusterSnapshot, NodeState, PodState
from augur.placement.canonical import canonical_order, inverse
from augur.placement.context import Snapshot
from augur.placement.distance import pairwise
from augur.placement.model import NodeInfo, Occupancy, PodInfo, RuleBook
from augur.placement.table import NodeTable


class Working:
    """Mutable state of one run over a canonical snapshot (nodes in name order)."""

    def __init__(self, snap: ClusterSnapshot) -> None:
        self.snap = snap
        nodes = snap.nodes
        self.names: tuple[str, ...] = tuple(n.name for n in nodes)
        self.pos = {name: i for i, name in enumerate(self.names)}
        self.cap = np.array([max(n.cpu, 1e-9) for n in nodes], dtype=np.float64)
        self.mem_cap = np.array([n.memory for n in nodes], dtype=np.float64)
        self.schedulable: BoolArray = np.array([n.schedulable for n in nodes], dtype=bool)
        self.max_pods = np.array([n.max_pods for n in nodes], dtype=np.float64)
        self.pods = tuple(p for p in snap.pods if p.node in self.pos)
        self.at: dict[str, int] = {p.key: self.pos[p.node] for p in self.pods}
        self.pod_count = np.bincount([self.at[p.key] for p in self.pods], minlength=len(nodes)).astype(np.float64)
        """Pods on each node (every pod the snapshot lists there: all count against ``max_pods``)."""
        self.owner_pods = Counter(p.owner for p in self.pods if p.owner)
        n = len(nodes)
        self.req_cpu, self.req_mem = np.zeros(n), np.zeros(n)
        self.used, self.forecast_used = np.zeros(n), np.zeros(n)
        for p in self.pods:
            i = self.at[p.key]
            self.req_cpu[i] += p.cpu
            self.req_mem[i] += p.memory
            self.used[i] += self.contribution(p)
            self.forecast_used[i] += self.forecast_contribution(p)
        if snap.measured:  # a node's measured use includes what no pod series covers; keep that overhead
            for i, node in enumerate(nodes):
                if node.cpu_used is not None:
                    overhead = node.cpu_used - self.used[i]
                    self.used[i] += overhead
                    self.forecast_used[i] += overhead
        self.has_forecast = any(p.cpu_forecast is not None for p in self.pods)
        self.counts: dict[str, dict[int, int]] = {}
        for p in self.pods:
            if p.workload is not None and not p.terminating:  # a leaving pod serves no traffic
                per = self.counts.setdefault(p.workload, {})
                per[self.at[p.key]] = per.get(self.at[p.key], 0) + 1
        infos = [
            NodeInfo(x.name, x.zone, x.region, x.cpu, x.memory, labels=x.labels, max_pods=x.max_pods, pods=float(c))
            for x, c in zip(nodes, self.pod_count.tolist(), strict=True)
        ]
        self.table = NodeTable.build(infos, snap.topology)
        assert self.table.names_tuple == self.names, "nodes must be canonical (sorted by name)"
        self.rulebook = RuleBook(snap.rules)
        self.network = NetworkModel(self.placement(), self.counts)

    @cached_property
    def rank(self) -> IntArray:
        """Canonical rank of every node position (:mod:`augur.placement.canonical`), from what the nodes are
        and hold at the start of the run (size, loads, pods of each workload, taints, labels but the hostname,
        distances), never their names: equal-cost choices go to the lowest rank, so renaming or relisting the
        nodes does not change which *kind* of node a move goes to. Nodes left tied are twins (same
        attributes, same distance to every node), for which the choice does not change any cost."""
        n = len(self.names)
        keys = sorted(self.counts)
        per = np.zeros((n, len(keys)))
        for j, k in enumerate(keys):
            for i, c in self.counts[k].items():
                per[i, j] = c
        tags = [
            float(
                zlib.crc32(
                    repr(
                        (sorted(x.taints), sorted((k, v) for k, v in x.labels.items() if k != HOSTNAME_LABEL))
                    ).encode()
                )
            )
            for x in self.snap.nodes
        ]
        features = np.column_stack(
            [
                -self.cap,
                -self.mem_cap,
                -self.max_pods,
                -self.schedulable.astype(np.float64),
                self.used,
                self.forecast_used,
                self.req_cpu,
                self.req_mem,
                self.pod_count,
                np.array(tags),
                per,
            ]
        )
        idx = np.arange(n, dtype=np.int64)
        return inverse(canonical_order(pairwise(self.table, idx, idx), features))

    def by_rank(self, positions: IntArray) -> IntArray:
        """``positions`` in canonical order."""
        out: IntArray = positions[np.argsort(self.rank[positions], kind="stable")]
        return out

    # -- per pod --
    def contribution(self, pod: PodState) -> float:
        """Cores the pod adds to its node's load now (none while it terminates)."""
        if pod.terminating:
            return 0.0
        return pod.cpu_used if self.snap.measured and pod.cpu_used is not None else pod.cpu

    def forecast_contribution(self, pod: PodState) -> float:
        if pod.cpu_forecast is None or pod.terminating:
            return self.contribution(pod)
        return pod.cpu_forecast

    def pod_info(self, pod: PodState) -> PodInfo:
        return PodInfo(pod.name, pod.namespace, pod.workload, pod.cpu, pod.memory)

    def fits(self, pod: PodState) -> BoolArray:
        """Nodes with room for the pod's requests and for one more pod (allocatable pods), as the scheduler
        counts them, that accept new pods."""
        ok: BoolArray = (
            self.schedulable
            & (self.req_cpu + pod.cpu <= self.cap + 1e-9)
            & (self.req_mem + pod.memory <= self.mem_cap + 1e-9)
            & (self.pod_count + 1 <= self.max_pods + 1e-9)
        )
        ok[self.at[pod.key]] = False
        if "*" not in pod.tolerates or pod.node_selector:
            for i, node in enumerate(self.snap.nodes):
                if ok[i] and not _admits(node, pod):
                    ok[i] = False
        return ok

    # -- views --
    def load(self, forecast: bool = False) -> FloatArray:
        """Load of every node (fraction of allocatable CPU)."""
        out: FloatArray = (self.forecast_used if forecast else self.used) / self.cap
        return out

    def figures(self) -> Figures:
        live = self.load()[self.schedulable]
        forecast = spread(self.load(True)[self.schedulable]) if self.has_forecast else None
        return Figures(spread(live), stddev(live), forecast, self.network.cost())

    def placement(self, without: PodState | None = None) -> Snapshot:
        """The placement snapshot scoring reads, optionally as if ``without`` were not running."""
        req_cpu, req_mem = self.req_cpu, self.req_mem
        counts = self.counts
        if without is not None:
            i = self.at[without.key]
            req_cpu, req_mem = req_cpu.copy(), req_mem.copy()
            req_cpu[i] -= without.cpu
            req_mem[i] -= without.memory
            if without.workload is not None:
                counts = dict(counts)
                per = dict(counts[without.workload])
                per[i] -= 1
                counts[without.workload] = {k: v for k, v in per.items() if v > 0}
        occupancy = Occupancy({w: {self.names[i]: c for i, c in per.items()} for w, per in counts.items()})
        return Snapshot(self.table.with_requested(req_cpu, req_mem), occupancy, self.rulebook)

    # -- changes --
    def move(self, pod: PodState, target: int) -> None:
        source = self.at[pod.key]
        for arr, value in (
            (self.req_cpu, pod.cpu),
            (self.req_mem, pod.memory),
            (self.used, self.contribution(pod)),
            (self.forecast_used, self.forecast_contribution(pod)),
        ):
            arr[source] -= value
            arr[target] += value
        self.at[pod.key] = target
        self.pod_count[source] -= 1
        self.pod_count[target] += 1
        if pod.workload is not None:
            per = self.counts[pod.workload]
            per[source] -= 1
            if per[source] == 0:
                del per[source]
            per[target] = per.get(target, 0) + 1
            if pod.workload in self.network:
                self.network.move(pod.workload, source, target)


def _admits(node: NodeState, pod: PodState) -> bool:
    """The pod tolerates the node's taints and the node has the labels of the pod's ``nodeSelector``."""
    if "*" not in pod.tolerates and not node.taints <= pod.tolerates:
        return False
    return all(node.labels.get(k) == v for k, v in pod.node_selector.items())
