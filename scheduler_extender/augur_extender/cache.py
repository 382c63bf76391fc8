"""The extender's store of the cluster: nodes, pods, ``WorkloadProfile``s and the ``NetworkTopology``.

:class:`MemoryCache` is fed object by object (by the watch threads in :mod:`augur_extender.watch`, or
directly by tests), keeps the requested totals and per-workload occupancy up to date pod event by pod
event, and hands out immutable :class:`~augur_extender.view.ClusterView` snapshots, rebuilt only after a
change. Requests never call the API server. What a request reads (the view, the cache protocol) is
:mod:`augur_extender.view`; how a ``WorkloadProfile`` object is read is :mod:`augur_extender.profiles`; the
pods' bookkeeping is :mod:`augur_extender.ledger`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from augur.api.v1alpha1.networktopology import NetworkTopologySpec, NetworkTopologyStatus
from augur.api.validation import SpecError, parse
from augur.constants import REGION_LABEL, ZONE_LABEL
from augur.placement import (
    NodeInfo,
    NodeTable,
    Occupancy,
    RuleBook,
    Snapshot,
    TopologyModel,
    WorkloadRules,
    topology_from_api,
    workload_key,
)
from augur.placement.components.plan import PlanArgs
from augur_extender.kubeobjects import PodFacts, node_info, pod_facts
from augur_extender.ledger import PodLedger
from augur_extender.profiles import RuleSizer, profile_from
from augur_extender.view import ClusterView, Profile

log = logging.getLogger(__name__)

KINDS = ("nodes", "pods", "workloadprofiles", "networktopologies")


class MemoryCache:
    """Thread-safe store fed with Kubernetes objects (camelCase dicts)."""

    def __init__(
        self, topology: str | None = None, pod_requests_from_status: bool = PlanArgs.pod_requests_from_status
    ) -> None:
        self._topology_name = topology
        """Use the ``NetworkTopology`` of this name only (``None``: ``default``, else the first by name)."""
        self._from_status = pod_requests_from_status
        """Size a workload from its profile's ``status.podRequests`` until one of its pods is seen (the ``plan``
        component's ``podRequestsFromStatus``, on by default); off: only pods seen size it."""
        self._lock = threading.RLock()
        self._nodes: dict[str, NodeInfo] = {}
        self._profiles: dict[str, Profile] = {}
        self._topologies: dict[str, tuple[NetworkTopologySpec, NetworkTopologyStatus | None]] = {}
        self._synced: set[str] = set()
        self._table: NodeTable | None = None
        self._view: ClusterView | None = None
        self._rulebook: RuleBook | None = None
        self._ledger = PodLedger(self._workload, self._status_replicas, self._pods_changed)
        self._version = 0
        self._sizer = RuleSizer()
        self._changed = threading.Event()

    # -- lifecycle (nothing to run: someone else feeds this cache) --
    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None

    def synced(self) -> bool:
        return self._synced.issuperset(KINDS)

    def wait_for_change(self, timeout: float) -> bool:
        changed = self._changed.wait(timeout)
        self._changed.clear()
        return changed

    def _touch(self) -> None:
        self._view = None
        self._version += 1
        self._changed.set()

    def mark_synced(self, kind: str | None = None) -> None:
        with self._lock:
            self._synced.update(KINDS if kind is None else (kind,))

    # -- feeding --
    def apply(self, kind: str, event: str, obj: Mapping[str, Any]) -> None:
        """Apply one watch event (``ADDED``, ``MODIFIED`` or ``DELETED``) of ``kind``."""
        meta = obj.get("metadata") or {}
        name, namespace = str(meta.get("name") or ""), str(meta.get("namespace") or "")
        with self._lock:
            if event == "DELETED":
                self._delete(kind, namespace, name, obj)
            else:
                self._upsert(kind, namespace, name, obj)

    def replace(self, kind: str, objs: Iterable[Mapping[str, Any]]) -> None:
        """Replace every object of ``kind`` (after a list or a re-list) and mark it synced."""
        with self._lock:
            if kind == "nodes":
                self._nodes.clear()
            elif kind == "pods":
                self._ledger.clear()
            elif kind == "workloadprofiles":
                self._profiles.clear()
            elif kind == "networktopologies":
                self._topologies.clear()
            for obj in objs:
                self.apply(kind, "ADDED", obj)
            self._invalidate(tables=True)
            self._synced.add(kind)

    def _upsert(self, kind: str, namespace: str, name: str, obj: Mapping[str, Any]) -> None:
        if kind == "nodes":
            info = node_info(obj, *self._labels())
            old = self._nodes.get(name)
            if old is not None and old == info:
                # Status heartbeats (kubelet, kwok) change nothing placement reads: keep the node table,
                # the view and the plan (a rebuilt table drops both and forces a full re-plan). Other
                # labels (the controller manager's beta.kubernetes.io/* labels on a new node, a user's own)
                # keep the table too: same nodes, zones, regions and capacity, the new labels swapped in.
                if old.labels != info.labels:
                    self._nodes[name] = info
                    self._swap_labels(info)
                return
            self._nodes[name] = info
            self._invalidate(tables=True)
        elif kind == "pods":
            self._ledger.upsert(pod_facts(obj))
        elif kind == "workloadprofiles":
            self._set_profile(namespace, name, obj)
        elif kind == "networktopologies":
            self._set_topology(name, obj)

    def _delete(self, kind: str, namespace: str, name: str, obj: Mapping[str, Any]) -> None:
        if kind == "nodes":
            self._nodes.pop(name, None)
            self._invalidate(tables=True)
        elif kind == "pods":
            self._ledger.remove(pod_facts(obj).uid)
        elif kind == "workloadprofiles":
            self._profiles.pop(workload_key(namespace, name), None)
            self._reassign_workloads()
        elif kind == "networktopologies":
            self._topologies.pop(name, None)
            self._relabel_nodes()

    def _set_profile(self, namespace: str, name: str, obj: Mapping[str, Any]) -> None:
        key = workload_key(namespace, name)
        new = profile_from(namespace, name, obj)
        if new is None:
            self._profiles.pop(key, None)
        else:
            old = self._profiles.get(key)
            self._profiles[key] = new
            if old is not None and old.selector == new.selector:
                # Same pods: a status write of the operator (or an edit of the rules) changes no pod's
                # workload, so only the rule book is rebuilt; an unchanged profile changes nothing.
                if old.rules != new.rules or (self._from_status and old.pod_size != new.pod_size):
                    self._rulebook = None
                    self._touch()
                return
        self._reassign_workloads()

    def _set_topology(self, name: str, obj: Mapping[str, Any]) -> None:
        try:
            spec = parse(NetworkTopologySpec, obj.get("spec") or {})
            status = parse(NetworkTopologyStatus, obj["status"], "status") if obj.get("status") else None
        except SpecError as exc:
            log.warning("ignoring NetworkTopology %s: %s", name, exc)
            self._topologies.pop(name, None)
        else:
            self._topologies[name] = (spec, status)
        self._relabel_nodes()

    def _active_topology(self) -> tuple[NetworkTopologySpec, NetworkTopologyStatus | None] | None:
        """The topology named at construction; else the one named ``default``, else the first by name."""
        if self._topology_name is not None:
            return self._topologies.get(self._topology_name)
        if not self._topologies:
            return None
        return self._topologies.get("default") or self._topologies[min(self._topologies)]

    def _labels(self) -> tuple[str, str]:
        active = self._active_topology()
        return (active[0].zone_label, active[0].region_label) if active else (ZONE_LABEL, REGION_LABEL)

    def _swap_labels(self, info: NodeInfo) -> None:
        """Swap a node's labels into the node table without rebuilding it: the table keeps its memo (the
        planner's token), so the plan is repaired, not made anew; a spread constraint over another label
        key reads the new labels from the next view."""
        table = self._table
        if table is not None and (i := table.position.get(info.name)) is not None:
            nodes = list(table.nodes)
            nodes[i] = info
            self._table = replace(table, nodes=tuple(nodes))
        self._touch()

    def _relabel_nodes(self) -> None:
        zl, rl = self._labels()
        self._nodes = {
            n: replace(i, zone=i.labels.get(zl, ""), region=i.labels.get(rl, "")) for n, i in self._nodes.items()
        }
        self._invalidate(tables=True)

    # -- pods and occupancy --
    def _workload(self, pod: PodFacts) -> str | None:
        return self._match(pod.namespace, pod.labels)

    def _match(self, namespace: str, labels: Mapping[str, str]) -> str | None:
        for profile in sorted(self._profiles.values(), key=lambda p: p.key):
            if profile.namespace == namespace and profile.selector and profile.selector.matches(labels):
                return profile.key
        return None

    def workload_of(self, namespace: str, labels: Mapping[str, str]) -> str | None:
        """Key of the first profile (by name) in ``namespace`` whose selector matches ``labels``, as a pod's."""
        with self._lock:
            return self._match(namespace, labels)

    def _status_replicas(self, workload: str) -> int | None:
        profile = self._profiles.get(workload)
        return profile.rules.replicas if profile else None

    def _pods_changed(self, rules: bool) -> None:
        if rules:
            self._rulebook = None
        self._touch()

    def _reassign_workloads(self) -> None:
        """Match every pod again (profiles or selectors changed); the node table stays."""
        self._rulebook = None
        self._ledger.rematch()
        self._touch()

    def _invalidate(self, tables: bool) -> None:
        if tables:
            self._table = None
            self._ledger.rebase(None)
        self._touch()

    # -- snapshots --
    def find_pod(self, namespace: str, name: str) -> PodFacts | None:
        with self._lock:
            return next((p for p in self._ledger.pods.values() if p.namespace == namespace and p.name == name), None)

    def gate_state(self) -> tuple[list[tuple[PodFacts, str | None]], dict[str, int]]:
        """The pods held at the plan gate with their workloads, and per workload its unbound pods that are not
        held (let through, kube-scheduler has not bound them yet). ``O(unbound pods)`` while any pod is held,
        ``O(1)`` otherwise (the gate keeper looks every 50 ms, also during bursts of ungated pods)."""
        if not self._ledger.held:  # a set's truth value: one read, no lock needed
            return [], {}
        with self._lock:
            return self._ledger.gate_state()

    def bound(self, uid: str) -> bool:
        pod = self._ledger.pods.get(uid)  # one dict read: atomic, no lock needed
        return pod is not None and bool(pod.node)

    def rulebook(self) -> RuleBook:
        """The newest rule book (the one :meth:`view` would hold), without building a view."""
        with self._lock:
            if self._rulebook is None:
                self._rulebook = RuleBook(
                    self._sized(p.rules, p.pod_size if self._from_status else None) for p in self._profiles.values()
                )
            return self._rulebook

    def view(self) -> ClusterView:
        with self._lock:
            if self._view is None:
                self._view = self._build_view()
            return self._view

    def _build_view(self) -> ClusterView:
        if self._table is None:
            self._table = self._build_table()
            self._ledger.rebase(self._table)
        ledger = self._ledger
        table = self._table.with_requested(ledger.cpu_req.copy(), ledger.mem_req.copy(), ledger.pods_on.copy())
        frozen = ledger.frozen_on(table)
        occupancy = Occupancy({w: f[0] for w, f in frozen.items()})
        rulebook = self.rulebook()
        profiles: dict[str, list[Profile]] = {}
        for p in sorted(self._profiles.values(), key=lambda p: p.key):
            profiles.setdefault(p.namespace, []).append(p)
        zl, rl = self._labels()
        return ClusterView(
            snapshot=Snapshot(table, occupancy, rulebook, {w: f[1] for w, f in frozen.items()}),
            profiles={ns: tuple(ps) for ns, ps in profiles.items()},
            zone_label=zl,
            region_label=rl,
            version=self._version,
        )

    def _sized(self, rules: WorkloadRules, template: tuple[float, float] | None = None) -> WorkloadRules:
        """The rules with the replica count expected from status and pods seen, and the pod size seen, else
        ``template`` (the profile's ``status.podRequests``: a pod seen wins, as admission may change what the
        template asks for)."""
        size = self._ledger.sizes.get(rules.key) or template
        return self._sizer.sized(rules, self._ledger.expected(rules.key, rules.replicas), size)

    def _build_table(self) -> NodeTable:
        active = self._active_topology()
        topology = topology_from_api(*active) if active else TopologyModel()
        return NodeTable.build(list(self._nodes.values()), topology)
