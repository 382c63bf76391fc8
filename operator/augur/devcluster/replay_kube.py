"""The API calls of a placement replay (kubernetes client, one kubeconfig) and a pod watch."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import config

from augur.api import GROUP, KINDS, VERSION
from augur.api.crdgen import render_all
from augur.devcluster.nodes import ready_for_pods
from augur.devcluster.replay_manifests import REPLAY_LABEL

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
AUGUR = f"/apis/{GROUP}/{VERSION}"
WEBHOOKS = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"
CRD_GONE_SECONDS = 180.0
"""How long a deleted CRD may take to go. kube-apiserver's CRD finalizer removes its objects first and, when
the CRD's storage is still initializing (a CRD deleted soon after it was created), fails and retries with
exponential backoff: 62 s was seen in CI (2026-12-04) for a CRD with no objects."""


class ReplayError(RuntimeError):
    """The cluster did not do what the replay needs; ``invalid`` when the API server rejected an object
    made from the scenario (a bad scenario rather than a broken cluster)."""

    def __init__(self, message: str, invalid: bool = False) -> None:
        super().__init__(message)
        self.invalid = invalid


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status, self.message = status, message


@contextlib.contextmanager
def _api(what: str) -> Iterator[None]:
    """Turn an API refusal into a :class:`ReplayError` naming ``what``."""
    try:
        yield
    except ApiError as exc:
        raise ReplayError(f"{what}: {exc.message}", invalid=exc.status in (400, 422)) from exc


class Rest:
    """JSON requests through the kubernetes client's configured connection (any kubeconfig it reads:
    certificates, tokens, exec plugins), without its model classes."""

    def __init__(self, kubeconfig: Path) -> None:
        self.api: Any = config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]

    def close(self) -> None:
        self.api.close()

    def _send(self, method: str, path: str, body: Any, query: dict[str, Any] | None, ctype: str, timeout: Any) -> Any:
        headers = {"Accept": "application/json", "Content-Type": ctype}
        query_params = list((query or {}).items())
        m, url, headers, data, _ = self.api.param_serialize(
            method, path, query_params=query_params, header_params=headers, body=body, auth_settings=["BearerToken"]
        )
        return self.api.call_api(m, url, headers, data, _request_timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        ctype: str = "application/json",
    ) -> dict[str, Any]:
        resp = self._send(method, path, body, query, ctype, 60)
        raw = resp.read()
        try:
            payload: dict[str, Any] = json.loads(raw) if raw else {}
        except ValueError:  # not a Status: e.g. "404 page not found" while a CRD's route is being rebuilt
            payload = {"message": raw.decode(errors="replace").strip()}
        if not 200 <= resp.status < 300:
            raise ApiError(int(resp.status), str(payload.get("message") or resp.reason))
        return payload

    def missing_ok(self, method: str, path: str) -> None:
        try:
            self.request(method, path)
        except ApiError as exc:
            if exc.status != 404:
                raise

    def watch(self, path: str, version: str, timeout: int) -> Iterator[dict[str, Any]]:
        """Events of a watch from ``version`` that ends by itself after ``timeout`` seconds."""
        query = {"watch": "true", "resourceVersion": version, "timeoutSeconds": timeout, "allowWatchBookmarks": "true"}
        resp = self._send("GET", path, None, query, "application/json", (10, timeout + 10))
        try:
            if resp.status != 200:
                raise ApiError(int(resp.status), resp.read().decode(errors="replace")[:200])
            for line in resp.response:
                if line.strip():
                    yield json.loads(line)
        finally:
            resp.response.release_conn()


class KubeSession:
    """The few calls a replay makes."""

    def __init__(self, kubeconfig: Path) -> None:
        self.rest = Rest(kubeconfig)

    def close(self) -> None:
        self.rest.close()

    # -- CRDs and cluster-scoped objects --
    def ensure_crds(self, timeout: float = CRD_GONE_SECONDS) -> list[str]:
        """Install Augur's CRDs where missing; returns the names installed (to remove them afterwards). A CRD
        still being deleted (a previous session's cleanup: its objects go first) counts as missing: it is
        waited for and installed anew, or its API would vanish under this session."""
        installed = []
        for text in render_all(KINDS).values():
            crd = yaml.safe_load(text)
            name = crd["metadata"]["name"]
            existing = self._crd(name)
            if existing is not None and (existing.get("metadata") or {}).get("deletionTimestamp"):
                _poll(lambda n=name: self._crd(n) is None, timeout, f"CRD {name} deleted")  # type: ignore[misc]
                existing = None
            if existing is None:
                with _api(f"CustomResourceDefinition {name}"):
                    self.rest.request("POST", CRDS, crd)
                installed.append(name)
        for name in installed:
            _poll(lambda n=name: self._established(n), timeout, f"CRD {name} Established")  # type: ignore[misc]
        return installed

    def _crd(self, name: str) -> dict[str, Any] | None:
        try:
            return self.rest.request("GET", f"{CRDS}/{name}")
        except ApiError as exc:
            if exc.status != 404:
                raise
            return None

    def _established(self, name: str) -> bool:
        conditions = (self.rest.request("GET", f"{CRDS}/{name}").get("status") or {}).get("conditions") or []
        return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)

    def delete_crds(self, names: list[str], timeout: float = CRD_GONE_SECONDS) -> None:
        """Delete the CRDs and wait until they are gone (:class:`ReplayError` after ``timeout`` seconds)."""
        for name in names:
            self.rest.missing_ok("DELETE", f"{CRDS}/{name}")
        for name in names:
            _poll(lambda n=name: self._crd(n) is None, timeout, f"CRD {name} deleted")  # type: ignore[misc]

    def create_cluster_object(self, plural: str, body: dict[str, Any]) -> None:
        with _api(f"{body['kind']} {body['metadata']['name']}"):
            self.rest.request("POST", f"{AUGUR}/{plural}", body)

    def delete_cluster_object(self, plural: str, name: str) -> None:
        self.rest.missing_ok("DELETE", f"{AUGUR}/{plural}/{name}")

    # -- nodes --
    def create_nodes(self, manifests: list[dict[str, Any]], timeout: float = 180) -> None:
        """Create kwok nodes in order and wait until kwok reports every one Ready."""
        for body in manifests:
            with _api(f"Node {body['metadata']['name']}"):
                self.rest.request("POST", "/api/v1/nodes", body)
        names = {str(m["metadata"]["name"]) for m in manifests}
        run = manifests[0]["metadata"]["labels"][REPLAY_LABEL] if manifests else ""
        _poll(lambda: names <= self._ready_nodes(run), timeout, f"{len(names)} kwok nodes Ready (is kwok running?)")

    def _ready_nodes(self, run: str) -> set[str]:
        items = self.rest.request("GET", "/api/v1/nodes", query={"labelSelector": f"{REPLAY_LABEL}={run}"})
        return {str(item["metadata"]["name"]) for item in items.get("items") or [] if ready_for_pods(item)}

    def delete_nodes(self, names: list[str]) -> None:
        for name in names:
            self.rest.missing_ok("DELETE", f"/api/v1/nodes/{name}")

    # -- namespaces and workloads --
    def create_namespace(self, name: str, run: str) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {REPLAY_LABEL: run}}}
        with _api(f"Namespace {name}"):
            self.rest.request("POST", "/api/v1/namespaces", body)

    def delete_namespace(self, name: str, wait: bool = True, timeout: float = 180) -> None:
        self.rest.missing_ok("DELETE", f"/api/v1/namespaces/{name}")
        if wait:
            self.wait_namespace_gone(name, timeout)

    def wait_namespace_gone(self, name: str, timeout: float) -> None:
        def gone() -> bool:
            try:
                self.rest.request("GET", f"/api/v1/namespaces/{name}")
            except ApiError as exc:
                if exc.status == 404:
                    return True
                raise
            return False

        _poll(gone, timeout, f"namespace {name} deleted")

    def create_profile(self, body: dict[str, Any], status: dict[str, Any]) -> None:
        ns, name = body["metadata"]["namespace"], body["metadata"]["name"]
        path = f"{AUGUR}/namespaces/{ns}/workloadprofiles"
        with _api(f"WorkloadProfile {ns}/{name}"):
            deadline = time.monotonic() + 30
            while True:  # the API server answers a plain 404 for a moment after a CRD is re-applied
                try:
                    self.rest.request("POST", path, body)
                    break
                except ApiError as exc:
                    if exc.status != 404 or "page not found" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            self.rest.request("PATCH", f"{path}/{name}/status", status, ctype=MERGE_PATCH)

    def create_deployment(self, body: dict[str, Any]) -> None:
        ns, name = body["metadata"]["namespace"], body["metadata"]["name"]
        with _api(f"Deployment {ns}/{name}"):
            self.rest.request("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", body)

    def scale(self, namespace: str, name: str, replicas: int) -> None:
        path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"
        with _api(f"scale of Deployment {namespace}/{name}"):
            self.rest.request("PATCH", path, {"spec": {"replicas": replicas}}, ctype=MERGE_PATCH)

    def dry_run_pod(self, body: dict[str, Any]) -> dict[str, Any]:
        """The pod as admission would create it (server-side dry run: webhooks run, nothing is stored)."""
        ns = body["metadata"]["namespace"]
        with _api(f"dry run of a Pod in {ns}"):
            return self.rest.request("POST", f"/api/v1/namespaces/{ns}/pods", body, query={"dryRun": "All"})

    def create_webhook(self, body: dict[str, Any]) -> None:
        with _api(f"MutatingWebhookConfiguration {body['metadata']['name']}"):
            self.rest.request("POST", WEBHOOKS, body)

    def delete_webhook(self, name: str) -> None:
        self.rest.missing_ok("DELETE", f"{WEBHOOKS}/{name}")

    def ungate(self, namespace: str, name: str) -> None:
        """Lift every scheduling gate of a pod (kube-scheduler then schedules it)."""
        path = f"/api/v1/namespaces/{namespace}/pods/{name}"
        with _api(f"scheduling gates of Pod {namespace}/{name}"):
            self.rest.request("PATCH", path, {"spec": {"schedulingGates": None}}, ctype=MERGE_PATCH)

    def list_pods(self, namespace: str) -> dict[str, Any]:
        return self.rest.request("GET", f"/api/v1/namespaces/{namespace}/pods")


def _poll(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise ReplayError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass(frozen=True)
class PodState:
    name: str
    app: str
    node: str
    unschedulable: bool
    deleting: bool


def pod_state(obj: dict[str, Any]) -> PodState:
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    unschedulable = any(
        c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason") == "Unschedulable"
        for c in status.get("conditions") or []
    )
    return PodState(
        name=str(meta.get("name") or ""),
        app=str((meta.get("labels") or {}).get("app") or ""),
        node=str(spec.get("nodeName") or ""),
        unschedulable=unschedulable,
        deleting=bool(meta.get("deletionTimestamp")),
    )


class PodWatch:
    """The pods of one namespace, kept current by a watch thread (``with`` block)."""

    def __init__(self, kube: KubeSession, namespace: str) -> None:
        self.kube, self.namespace = kube, namespace
        self._pods: dict[str, PodState] = {}
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"watch-{namespace}", daemon=True)

    def __enter__(self) -> PodWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=0.5)  # the stream ends by itself within its 5 s timeout

    def _run(self) -> None:
        try:
            body = self.kube.list_pods(self.namespace)
            with self._cond:
                for item in body.get("items") or []:
                    self._pods[item["metadata"]["uid"]] = pod_state(item)
                self._cond.notify_all()
            version = str((body.get("metadata") or {}).get("resourceVersion") or "")
            while not self._stop.is_set():
                version = self._watch(version)
        except BaseException as exc:  # reported to the waiting caller
            with self._cond:
                self._error = exc
                self._cond.notify_all()

    def _watch(self, version: str) -> str:
        for event in self.kube.rest.watch(f"/api/v1/namespaces/{self.namespace}/pods", version, 5):
            obj = event.get("object") or {}
            kind = event.get("type")
            if kind == "ERROR":
                raise ReplayError(f"pod watch of {self.namespace} failed: {obj.get('message', obj)}")
            uid = str((obj.get("metadata") or {}).get("uid") or "")
            with self._cond:
                if kind == "DELETED":
                    self._pods.pop(uid, None)
                elif kind in ("ADDED", "MODIFIED"):
                    self._pods[uid] = pod_state(obj)
                self._cond.notify_all()
            version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
            if self._stop.is_set():
                break
        return version

    def _wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self._cond:
            done = self._cond.wait_for(lambda: self._error is not None or predicate(), timeout)
            if self._error is not None:
                raise ReplayError(f"pod watch of {self.namespace} failed: {self._error}") from self._error
            return done

    def wait_new_pod(self, app: str, known: set[str], timeout: float) -> str | None:
        """The uid of a live pod of ``app`` not in ``known`` (``None`` if none appears in time)."""
        found: list[str] = []

        def new() -> bool:
            found[:] = [u for u, p in self._pods.items() if p.app == app and u not in known and not p.deleting]
            return bool(found)

        return found[0] if self._wait(new, timeout) else None

    def wait_settled(self, uid: str, timeout: float) -> bool:
        """Until the pod is bound or marked unschedulable; False on timeout."""

        def settled() -> bool:
            p = self._pods.get(uid)
            return p is None or bool(p.node) or p.unschedulable

        return self._wait(settled, timeout)

    def name(self, uid: str) -> str:
        with self._cond:
            p = self._pods.get(uid)
            return p.name if p else ""

    def nodes(self) -> dict[str, str]:
        """Node of every pod (uid → name, empty while pending)."""
        with self._cond:
            return {u: p.node for u, p in self._pods.items()}
