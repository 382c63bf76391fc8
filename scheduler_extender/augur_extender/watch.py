"""The real cache: list + watch of nodes, pods, ``WorkloadProfile``s and ``NetworkTopology``s, one daemon
thread per kind, feeding a :class:`MemoryCache`. Exercised by the e2e tests on the local control plane."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from augur.api import GROUP, VERSION
from augur.placement.components.plan import PlanArgs
from augur_extender.cache import KINDS, MemoryCache

log = logging.getLogger(__name__)

WATCH_TIMEOUT_SECONDS = 60
MAX_BACKOFF_SECONDS = 30.0


def load_kube_config(kubeconfig: Path | None) -> None:
    """Configure the Kubernetes client: ``kubeconfig``, else in-cluster, else the default kubeconfig."""
    from kubernetes import config as kube_config

    config: Any = kube_config  # the kubernetes package is untyped
    if kubeconfig is not None:
        config.load_kube_config(str(kubeconfig))
    else:
        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config()


class KubeWatchCache(MemoryCache):
    def __init__(
        self,
        kubeconfig: Path | None = None,
        topology: str | None = None,
        pod_requests_from_status: bool = PlanArgs.pod_requests_from_status,
    ) -> None:
        super().__init__(topology, pod_requests_from_status)
        self._kubeconfig = kubeconfig
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        from kubernetes import client

        load_kube_config(self._kubeconfig)
        core, custom = client.CoreV1Api(), client.CustomObjectsApi()
        listers: dict[str, Callable[..., Any]] = {
            "nodes": core.list_node,
            "pods": core.list_pod_for_all_namespaces,
            "workloadprofiles": lambda **kw: custom.list_cluster_custom_object(
                GROUP, VERSION, "workloadprofiles", **kw
            ),
            "networktopologies": lambda **kw: custom.list_cluster_custom_object(
                GROUP, VERSION, "networktopologies", **kw
            ),
        }
        for kind in KINDS:
            t = threading.Thread(target=self._run, args=(kind, listers[kind]), name=f"watch-{kind}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=1.0)

    def _run(self, kind: str, lister: Callable[..., Any]) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                version = self._list(kind, lister)
                backoff = 1.0
                self._watch(kind, lister, version)
            except Exception as exc:  # keep the thread alive; relist after a pause
                log.warning("watch of %s failed (%s); relisting in %.0fs", kind, exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _list(self, kind: str, lister: Callable[..., Any]) -> str:
        raw = lister(_preload_content=False)
        body = orjson.loads(raw.data)
        self.replace(kind, body.get("items") or [])
        log.info("listed %d %s", len(body.get("items") or []), kind)
        return str((body.get("metadata") or {}).get("resourceVersion") or "")

    def _watch(self, kind: str, lister: Callable[..., Any], version: str) -> None:
        while not self._stop.is_set():
            version = self._watch_once(kind, lister, version)

    def _watch_once(self, kind: str, lister: Callable[..., Any], version: str) -> str:
        """One watch request (ends after :data:`WATCH_TIMEOUT_SECONDS`); returns the last resourceVersion seen.

        The client makes the call and splits the stream into lines (``iter_resp_lines``, what its ``Watch``
        uses); each line is parsed with orjson rather than through ``Watch.stream``, whose ``json.loads`` of
        every pod event (several per pod scheduled) took a third of the watch thread's time, on the cores
        kube-scheduler shares. An ``ERROR`` event (410 Gone: the version is too old) raises, and the caller
        lists again."""
        from kubernetes.watch import watch as kube_watch

        iter_resp_lines: Callable[[Any], Iterator[str]] = kube_watch.iter_resp_lines  # the package is untyped
        resp = lister(
            watch=True, resource_version=version, timeout_seconds=WATCH_TIMEOUT_SECONDS, _preload_content=False
        )
        try:
            for line in iter_resp_lines(resp):
                if self._stop.is_set():
                    break
                if line:
                    version = self._event(kind, orjson.loads(line), version)
        finally:
            resp.close()
            resp.release_conn()
        return version

    def _event(self, kind: str, event: Any, version: str) -> str:
        """Apply one parsed watch event; returns the resourceVersion to resume from."""
        if not isinstance(event, dict):
            return version
        raw = event.get("object")
        obj: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if event.get("type") == "ERROR":
            raise RuntimeError(f"watch error: {obj.get('message', obj)}")  # 410 Gone → relist
        if event.get("type") in ("ADDED", "MODIFIED", "DELETED"):
            self.apply(kind, event["type"], obj)
        return str((obj.get("metadata") or {}).get("resourceVersion") or version)
