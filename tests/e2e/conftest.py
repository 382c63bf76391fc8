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
from augur.devcluster.cluster import ClusterConfig, LocalCluster, free_ports
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
    cluster.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", "crd", "-l", "app.kubernetes.io/part-of=augur"
    )
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
    kubeconfig = crds.service_account_kubeconfig("augur-system", "augur-operator")
    port, metrics_port = free_ports(2)
    health = f"http://127.0.0.1:{port}/healthz"
    proc = crds.spawn(
        "augur-operator",
        [sys.executable, "-m", "augur", "operator", "run", f"--liveness={health}", "--resync-seconds=2"],
        env={
            "KUBECONFIG": str(kubeconfig),
            "AUGUR_PROMETHEUS_URL": crds.prometheus_url,
            "AUGUR_METRICS": f"127.0.0.1:{metrics_port}",
            # profiles labelled augur.dev/e2e-shard belong to operators that tests start themselves
            "AUGUR_SHARD_SELECTOR": "!augur.dev/e2e-shard",
        },
    )
    wait_until(lambda: httpx.get(health, timeout=2).status_code == 200, 180, "operator liveness", proc)
    yield proc, health
    proc.stop()


@pytest.fixture
def namespace(cluster: LocalCluster) -> Iterator[str]:
    name = f"e2e-{next(_ns_counter)}"
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false")


def deployment(name: str, namespace: str, replicas: int, cpu: str = "100m", memory: str = "64Mi") -> str:
    """A Deployment whose pods tolerate the kwok taint (they run on kwok's fake nodes)."""
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      tolerations: [{{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}}]
      containers: [{{name: app, image: example/{name}:1, resources: {{requests: {{cpu: {cpu}, memory: {memory}}}}}}}]
"""


def get_json(cluster: LocalCluster, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in (obj.get("status") or {}).get("conditions", []) if c["type"] == type_), None)


def apply(cluster: LocalCluster, manifest: str, check: bool = True) -> Any:
    return cluster.kubectl("apply", "-f", "-", stdin=manifest, check=check)
