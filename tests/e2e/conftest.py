"""Fixtures for e2e tests: one real local control plane per test session, the shipped CRDs, the operator.

Everything runs on 127.0.0.1; the cluster and the operator are stopped at the end of the session, also
when tests fail or the run is interrupted (processes are tied to this one with PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from augur.devcluster.chart import documents, namespace_manifest, template
from augur.devcluster.cluster import ClusterConfig, LocalCluster
from augur.devcluster.ports import free_ports
from augur.devcluster.procs import ManagedProcess, wait_until

REPO = Path(__file__).resolve().parents[2]
CHART_VALUES = Path(__file__).with_name("chart-values.yaml")
IDENTITY_KINDS = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
_ns_counter = itertools.count()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with LocalCluster.create(tmp_path_factory.mktemp("cluster"), ClusterConfig()) as c:
        yield c


@pytest.fixture(scope="session")
def crds(cluster: LocalCluster) -> LocalCluster:
    """The CRD files that ship in crds/, applied with kubectl."""
    cluster.kubectl("apply", "-f", str(REPO / "crds"))
    cluster.wait_established("crd", "-l", "app.kubernetes.io/part-of=augur")
    return cluster


@pytest.fixture(scope="session")
def augur_identities(crds: LocalCluster) -> LocalCluster:
    """The chart's ServiceAccounts and RBAC in augur-system (release "augur", values chart-values.yaml):
    the e2e operator and extender authenticate as these ServiceAccounts (bound tokens from the TokenRequest
    API, :meth:`LocalCluster.service_account_kubeconfig`), so the chart's RBAC is what the tests exercise."""
    objs = [o for o in documents(template(str(crds.tools.helm), [CHART_VALUES])) if o["kind"] in IDENTITY_KINDS]
    manifests = [namespace_manifest(), *objs]
    crds.kubectl("apply", "-f", "-", stdin="\n---\n".join(json.dumps(o) for o in manifests))
    return crds


@pytest.fixture(scope="session")
def operator(augur_identities: LocalCluster) -> Iterator[tuple[ManagedProcess, str]]:
    """The operator, authenticated as the chart's operator ServiceAccount: the chart's RBAC must suffice."""
    crds = augur_identities
    port, metrics_port = free_ports(2)
    health = f"http://127.0.0.1:{port}/healthz"
    proc = crds.spawn(
        "augur-operator",
        [sys.executable, "-m", "augur", "operator", "run", f"--liveness={health}", "--resync-seconds=2"],
        env={
            **chart_operator_env(crds),
            "AUGUR_METRICS": f"127.0.0.1:{metrics_port}",
            # profiles labelled augur.dev/e2e-shard belong to operators that tests start themselves
            "AUGUR_SHARD_SELECTOR": "!augur.dev/e2e-shard",
        },
    )
    wait_until(lambda: httpx.get(health, timeout=2).status_code == 200, 180, "operator liveness", proc)
    yield proc, health
    proc.stop()


def chart_operator_env(crds: LocalCluster) -> dict[str, str]:
    """An operator's environment: the chart's operator ServiceAccount (its RBAC is what runs) and Prometheus."""
    kubeconfig = crds.service_account_kubeconfig("augur-system", "augur-operator")
    return {"KUBECONFIG": str(kubeconfig), "AUGUR_PROMETHEUS_URL": crds.prometheus_url}


@pytest.fixture(scope="module")
def operator_env(augur_identities: LocalCluster) -> dict[str, str]:
    """For tests that start operators of their own (each on its own shard label)."""
    return chart_operator_env(augur_identities)


def assert_log_clean(proc: ManagedProcess, tail: int = 80) -> None:
    """No RBAC denial for the chart's operator identity and no traceback in the process's log."""
    log = proc.log_path.read_text()
    denial = 'forbidden: User "system:serviceaccount:augur-system:augur-operator" cannot'
    assert denial not in log, [line for line in log.splitlines() if denial in line][:3]
    assert "Traceback" not in log, proc.log_tail(tail)


@pytest.fixture
def namespace(cluster: LocalCluster) -> Iterator[str]:
    name = f"e2e-{next(_ns_counter)}"
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false")


def deployment(
    name: str,
    namespace: str,
    replicas: int,
    cpu: str = "100m",
    memory: str = "64Mi",
    annotations: dict[str, str] | None = None,
) -> str:
    """A Deployment whose pods tolerate the kwok taint (they run on kwok's fake nodes); ``annotations`` go
    on its pods (for example kwok's start-up delay, :func:`augur.devcluster.kwok.delay_annotations`)."""
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}, annotations: {json.dumps(annotations or {})}}}
    spec:
      tolerations: [{{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}}]
      containers: [{{name: app, image: example/{name}:1, resources: {{requests: {{cpu: {cpu}, memory: {memory}}}}}}}]
"""


def disruption_budget(name: str, namespace: str, min_available: int) -> str:
    """A PodDisruptionBudget over :func:`deployment` ``name``'s pods."""
    return f"""
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: {name}, namespace: {namespace}}}
spec: {{minAvailable: {min_available}, selector: {{matchLabels: {{app: {name}}}}}}}
"""


def profile(name: str, ns: str, target: str, policy: str = "policy") -> str:
    """A WorkloadProfile of the Deployment ``target``; ``spec`` comes last, so a test may append to it."""
    return f"""
apiVersion: augur.dev/v1alpha1
kind: WorkloadProfile
metadata: {{name: {name}, namespace: {ns}}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {target}}}
  policyRef: {{name: {policy}}}
"""


def get_json(cluster: LocalCluster, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in (obj.get("status") or {}).get("conditions", []) if c["type"] == type_), None)


def apply(cluster: LocalCluster, manifest: str, check: bool = True) -> Any:
    return cluster.kubectl("apply", "-f", "-", stdin=manifest, check=check)


def condition_state(cluster: LocalCluster, namespace: str, name: str, type_: str) -> tuple[str, str] | None:
    """(status, reason) of a WorkloadProfile's condition, None while it has none of ``type_``."""
    cond = condition(get_json(cluster, "wp", name, "-n", namespace), type_)
    return None if cond is None else (cond["status"], cond["reason"])


def profile_events(cluster: LocalCluster, namespace: str, name: str) -> list[dict[str, Any]]:
    """The Events about one WorkloadProfile."""
    items = get_json(cluster, "events", "-n", namespace, "--field-selector", f"involvedObject.name={name}")["items"]
    return [e for e in items if e["involvedObject"]["kind"] == "WorkloadProfile"]


def deployment_replicas(cluster: LocalCluster, namespace: str, name: str) -> int:
    return int(get_json(cluster, "deployment", name, "-n", namespace)["spec"]["replicas"])


def install_crd(cluster: LocalCluster, group: str, kind: str, version: str, scale: bool = False) -> None:
    """A namespaced CRD ``<kind>s.<group>``, applied and Established. With ``scale``: typed
    ``spec.replicas``, ``status.replicas`` and ``status.selector`` and a /scale subresource over them;
    else any fields."""
    plural = f"{kind.lower()}s"
    served: dict[str, Any] = {"name": version, "served": True, "storage": True}
    if scale:
        integer = {"type": "integer"}
        status = {"type": "object", "properties": {"replicas": integer, "selector": {"type": "string"}}}
        spec = {"type": "object", "properties": {"replicas": integer}}
        served["schema"] = {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec, "status": status}}}
        served["subresources"] = {
            "status": {},
            "scale": {
                "specReplicasPath": ".spec.replicas",
                "statusReplicasPath": ".status.replicas",
                "labelSelectorPath": ".status.selector",
            },
        }
    else:
        served["schema"] = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "versions": [served],
        },
    }
    apply(cluster, json.dumps(crd))
    cluster.wait_established(f"crd/{plural}.{group}")


def create_worker(cluster: LocalCluster, namespace: str, name: str, replicas: int, selector: str) -> None:
    """A ``Worker`` (example.com/v1, a custom kind with /scale; its CRD installed if missing) with
    ``replicas`` in spec and status and ``selector`` in status, as its controller would report them."""
    install_crd(cluster, "example.com", "Worker", "v1", scale=True)
    worker = {"apiVersion": "example.com/v1", "kind": "Worker", "metadata": {"name": name, "namespace": namespace}}
    apply(cluster, json.dumps({**worker, "spec": {"replicas": replicas}}))
    status = json.dumps({"status": {"replicas": replicas, "selector": selector}})
    cluster.kubectl("patch", "worker", name, "-n", namespace, "--subresource=status", "--type=merge", "-p", status)
