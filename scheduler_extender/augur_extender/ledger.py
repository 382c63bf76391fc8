"""The extender's pod bookkeeping (:class:`PodLedger`): every pod seen with its workload, and what placement reads
from them, kept up to date pod event by pod event: requested CPU, memory and pod counts per node (by node table
position), each workload's pods per node, the size of its replicas still to come, how many pods it has, and which
pods are still unbound or held at the plan gate. :class:`~augur_extender.cache.MemoryCache` owns one, under its
lock; this module neither locks nor builds views."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from augur.placement import NodeTable
from augur_extender.kubeobjects import PodFacts

Changed = Callable[[bool], None]
"""Told that something placement reads changed; ``True``: the rule book too (a workload's expected replica count or
its replicas' size)."""


class PodLedger:
    """Pods by uid and their bookkeeping (not thread-safe: the owner locks). ``match`` finds a pod's workload,
    ``replicas`` a workload's replica count from its profile's status, ``changed`` is told of each change."""

    def __init__(
        self,
        match: Callable[[PodFacts], str | None],
        replicas: Callable[[str], int | None],
        changed: Changed,
    ) -> None:
        self._match, self._replicas, self._changed = match, replicas, changed
        self.pods: dict[str, PodFacts] = {}
        self.workloads: dict[str, str | None] = {}
        """Each pod's workload (key of the first matching profile), by uid."""
        self._position: Mapping[str, int] | None = None
        """Table position of each node the per-node totals are counted for (:meth:`rebase`); ``None``: no node
        table built yet (the totals are counted when one is)."""
        self.cpu_req = np.zeros(0)
        self.mem_req = np.zeros(0)
        self.pods_on = np.zeros(0)
        """Non-terminal pods bound to each node (by table position), profiled or not: they count against
        the node's allocatable pods."""
        self.occupancy: dict[str, dict[str, int]] = {}
        self.frozen: dict[str, tuple[dict[str, int], tuple[Any, Any]]] = {}
        """Per workload: a copy of its occupancy and its node positions/counts, reused by later views
        until one of its pods changes (or the node table is rebuilt)."""
        self.sizes: dict[str, tuple[float, float]] = {}
        """Requests (cores, GiB) of the last pod seen per workload, scheduled or not: the size of the
        replicas still to come, for packing and planning."""
        self._seen: dict[str, int] = {}
        """Non-terminal pods per workload, bound or pending: the replica count when the profile's status
        gives none or a smaller one (pods created but not scheduled yet are expected too)."""
        self.unbound: set[str] = set()
        """Non-terminal pods with no node yet (held at a gate or waiting for kube-scheduler): what the gate
        keeper reads, without a scan of every pod."""
        self.held: set[str] = set()
        """Of those, the ones held at the plan gate: while none is, the gate keeper reads nothing."""

    def clear(self) -> None:
        """Forget every pod (before a re-list)."""
        self.pods.clear()
        self.unbound.clear()
        self.held.clear()

    def upsert(self, pod: PodFacts) -> None:
        """An event that changes nothing placement reads (status updates) keeps the current view; a pod whose
        namespace and labels are unchanged keeps its workload (profile changes re-match every pod)."""
        old = self.pods.get(pod.uid)
        if old == pod:
            return
        same_labels = old is not None and old.namespace == pod.namespace and old.labels == pod.labels
        workload = self.workloads.get(pod.uid) if same_labels else None
        if old is not None and same_labels and old.terminal == pod.terminal:
            # A bind (or a resize): the same workload and the same pod count, so the expected replica
            # count and the rule book stay (removing and adding would rebuild the rule book twice and
            # drop what later views reuse from it).
            self.pods[pod.uid] = pod
            self._track_unbound(pod)
            self._account(old, workload, -1)
            self._account(pod, workload, +1)
            self._note_size(pod, workload)
            return
        self.remove(pod.uid)
        self.add(pod, (workload,) if same_labels else None)

    def add(self, pod: PodFacts, known: tuple[str | None] | None = None) -> None:
        """Count a pod; ``known`` is its workload when already matched."""
        self.pods[pod.uid] = pod
        self._track_unbound(pod)
        workload = known[0] if known is not None else self._match(pod)
        self.workloads[pod.uid] = workload
        if workload is not None and not pod.terminal:
            self._count(workload, +1)
            self._note_size(pod, workload)
        self._account(pod, workload, +1)

    def remove(self, uid: str) -> None:
        pod = self.pods.pop(uid, None)
        self.unbound.discard(uid)
        self.held.discard(uid)
        if pod is not None:
            workload = self.workloads.pop(uid, None)
            if workload is not None and not pod.terminal:
                self._count(workload, -1)
            self._account(pod, workload, -1)

    def rematch(self) -> None:
        """Match every pod again (profiles or selectors changed). The node table stays: requested totals are
        counted again from zero, per-workload positions are dropped."""
        self.sizes = {}
        self._seen = {}
        pods = list(self.pods.values())
        self.pods.clear()
        self.occupancy = {}
        self.frozen = {}
        self.cpu_req = np.zeros_like(self.cpu_req)
        self.mem_req = np.zeros_like(self.mem_req)
        self.pods_on = np.zeros_like(self.pods_on)
        for pod in pods:
            self.add(pod)

    def rebase(self, table: NodeTable | None) -> None:
        """Count the per-node totals for ``table`` (a new node table; ``None``: dropped until the next one), and
        drop what views reused from the old one."""
        self._position = None if table is None else table.position
        self.frozen = {}
        size = 0 if table is None else len(table)
        self.cpu_req, self.mem_req, self.pods_on = np.zeros(size), np.zeros(size), np.zeros(size)
        if table is None:
            return
        for pod in self.pods.values():
            if pod.node and not pod.terminal and (i := table.position.get(pod.node)) is not None:
                self.cpu_req[i] += pod.cpu
                self.mem_req[i] += pod.memory
                self.pods_on[i] += 1

    def expected(self, workload: str, status_replicas: int | None) -> int | None:
        """Replicas to plan for: the profile's status count, or the pods seen when more (or when it gives none)."""
        seen = self._seen.get(workload, 0)
        if status_replicas is None:
            return seen or None
        return max(status_replicas, seen)

    def frozen_on(self, table: NodeTable) -> dict[str, tuple[dict[str, int], tuple[Any, Any]]]:
        """Each occupied workload's occupancy and node weights on ``table`` (the current one), reusing what
        earlier views froze."""
        for w, c in self.occupancy.items():
            if c and w not in self.frozen:
                self.frozen[w] = (dict(c), table.peer_weights(c))
        return self.frozen

    def gate_state(self) -> tuple[list[tuple[PodFacts, str | None]], dict[str, int]]:
        """The pods held at the plan gate with their workloads, and per workload its unbound pods that are not
        held (let through, kube-scheduler has not bound them yet): ``O(unbound pods)``."""
        held: list[tuple[PodFacts, str | None]] = []
        in_flight: dict[str, int] = {}
        for uid in self.unbound:
            pod, workload = self.pods[uid], self.workloads.get(uid)
            if pod.gated:
                held.append((pod, workload))
            elif workload is not None:
                in_flight[workload] = in_flight.get(workload, 0) + 1
        return held, in_flight

    def _note_size(self, pod: PodFacts, workload: str | None) -> None:
        """Remember the requests of a live pod as its workload's replica size (the rule book changes with it)."""
        if workload is not None and not pod.terminal and self.sizes.get(workload) != (pod.cpu, pod.memory):
            self.sizes[workload] = (pod.cpu, pod.memory)
            self._changed(True)

    def _track_unbound(self, pod: PodFacts) -> None:
        if pod.node or pod.terminal:
            self.unbound.discard(pod.uid)
            self.held.discard(pod.uid)
            return
        self.unbound.add(pod.uid)
        if pod.gated:
            self.held.add(pod.uid)
        else:
            self.held.discard(pod.uid)

    def _count(self, workload: str, sign: int) -> None:
        """Track pods seen per workload; the rule book changes only when the expected count does."""
        replicas = self._replicas(workload)
        before = self.expected(workload, replicas)
        self._seen[workload] = self._seen.get(workload, 0) + sign
        if self.expected(workload, replicas) != before:
            self._changed(True)

    def _account(self, pod: PodFacts, workload: str | None, sign: int) -> None:
        if not pod.node or pod.terminal:
            return
        if workload is not None:
            self.frozen.pop(workload, None)
            per_node = self.occupancy.setdefault(workload, {})
            per_node[pod.node] = per_node.get(pod.node, 0) + sign
            if per_node[pod.node] <= 0:
                del per_node[pod.node]
        if self._position is not None and (i := self._position.get(pod.node)) is not None:
            self.cpu_req[i] += sign * pod.cpu
            self.mem_req[i] += sign * pod.memory
            self.pods_on[i] += sign
        self._changed(False)
