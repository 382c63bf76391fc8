"""A watcher that runs through a whole rebalancing run: pods (evictions, bindings, Ready), and the health
of every PodDisruptionBudget and Deployment of the run's namespace, each with the time it was seen.

Times are ``time.monotonic()`` readings; :meth:`RunWatcher.pod_events` and :meth:`health_samples` turn
them into seconds after the rebalancer's start for :mod:`augur.sim.rebalance_metrics`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from augur.devcluster.replay_kube import ApiError, Rest
from augur.sim.rebalance_metrics import HealthSample, PodEvent, PodEventKind


@dataclass(frozen=True)
class _Seen:
    at: float
    kind: PodEventKind
    workload: str
    node: str
    pod: str


def _evicted(obj: dict[str, Any]) -> bool:
    """The API server marks a pod deleted through the Eviction API with a ``DisruptionTarget`` condition."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "DisruptionTarget" and c.get("reason") == "EvictionByEvictionAPI" for c in conditions)


def _ready(obj: dict[str, Any]) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


class RunWatcher:
    """Three watch threads (pods, PodDisruptionBudgets, Deployments) on one namespace (``with`` block)."""

    def __init__(self, rest: Rest, namespace: str, node_name: Callable[[str], str]) -> None:
        self.rest, self.namespace, self.node_name = rest, namespace, node_name
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pods: dict[str, dict[str, Any]] = {}
        """uid -> {name, workload, node, ready, deleted}"""
        self._seen: list[_Seen] = []
        self._health: list[tuple[float, str, int, int]] = []
        self.errors: list[str] = []
        ns = f"namespaces/{namespace}"
        self._threads = [
            threading.Thread(target=self._loop, args=(f"/api/v1/{ns}/pods", self._on_pod), daemon=True),
            threading.Thread(
                target=self._loop, args=(f"/apis/policy/v1/{ns}/poddisruptionbudgets", self._on_pdb), daemon=True
            ),
            threading.Thread(target=self._loop, args=(f"/apis/apps/v1/{ns}/deployments", self._on_deploy), daemon=True),
        ]

    def __enter__(self) -> RunWatcher:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=8)

    # -- watching --------------------------------------------------------------------------------------------
    def _loop(self, path: str, handle: Callable[[dict[str, Any], bool], None]) -> None:
        while not self._stop.is_set():
            try:
                body = self.rest.request("GET", path)
                for item in body.get("items") or []:
                    handle(item, False)
                version = str((body.get("metadata") or {}).get("resourceVersion") or "")
                while not self._stop.is_set():
                    version = self._watch(path, version, handle)
            except (ApiError, OSError, ValueError) as exc:  # 410 Gone, a dropped stream: list again
                with self._lock:
                    self.errors.append(f"{path}: {exc}")
                time.sleep(0.5)

    def _watch(self, path: str, version: str, handle: Callable[[dict[str, Any], bool], None]) -> str:
        for event in self.rest.watch(path, version, 5):
            obj = event.get("object") or {}
            if event.get("type") == "ERROR":
                raise ApiError(int(obj.get("code") or 500), str(obj.get("message") or obj))
            if event.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                handle(obj, event.get("type") == "DELETED")
            version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
            if self._stop.is_set():
                break
        return version

    def _on_pod(self, obj: dict[str, Any], deleted: bool) -> None:
        now = time.monotonic()
        meta = obj.get("metadata") or {}
        uid, name = str(meta.get("uid") or ""), str(meta.get("name") or "")
        workload = str((meta.get("labels") or {}).get("app") or "")
        node = self.node_name(str((obj.get("spec") or {}).get("nodeName") or ""))
        gone = deleted or bool(meta.get("deletionTimestamp"))
        with self._lock:
            state = self._pods.setdefault(uid, {"node": "", "ready": False, "deleted": False})
            if node and not state["node"]:
                state["node"] = node
                self._seen.append(_Seen(now, "bound", workload, node, name))
            if _ready(obj) and not state["ready"] and not gone:
                state["ready"] = True
                self._seen.append(_Seen(now, "ready", workload, state["node"], name))
            if gone and not state["deleted"]:
                state["deleted"] = True
                kind: PodEventKind = "discarded"
                if _evicted(obj):
                    kind = "evicted"
                elif state["ready"]:
                    kind = "deleted"
                self._seen.append(_Seen(now, kind, workload, state["node"], name))

    def _on_pdb(self, obj: dict[str, Any], deleted: bool) -> None:
        status = obj.get("status") or {}
        if deleted or "desiredHealthy" not in status:
            return
        name = f"pdb/{(obj.get('metadata') or {}).get('name')}"
        with self._lock:
            self._health.append(
                (time.monotonic(), name, int(status.get("currentHealthy") or 0), int(status["desiredHealthy"]))
            )

    def _on_deploy(self, obj: dict[str, Any], deleted: bool) -> None:
        """A Deployment against its budget (``maxUnavailable: 1``): at least replicas - 1 available."""
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        if deleted:
            return
        name = f"deployment/{(obj.get('metadata') or {}).get('name')}"
        required = max(0, int(spec.get("replicas") or 0) - 1)
        with self._lock:
            self._health.append((time.monotonic(), name, int(status.get("availableReplicas") or 0), required))

    # -- reading ---------------------------------------------------------------------------------------------
    def last_event(self) -> float:
        """Monotonic time of the last pod event (0 before any)."""
        with self._lock:
            return max((s.at for s in self._seen), default=0.0)

    def pod_events(self, start: float) -> list[PodEvent]:
        with self._lock:
            return [PodEvent(s.at - start, s.kind, s.workload, s.node, s.pod) for s in self._seen]

    def health_samples(self, start: float) -> list[HealthSample]:
        with self._lock:
            return [HealthSample(at - start, name, h, r) for at, name, h, r in self._health]
