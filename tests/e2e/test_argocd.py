"""A real Argo CD reconcile of the GitOps example on the local control plane.

Argo CD's own ``argocd-application-controller`` and ``argocd-repo-server`` (one ``argocd`` binary built
from its module on the Go module proxy by ``build-tools.sh``) and Redis run against the real API server.
A Git repository served on loopback (``git http-backend``) holds a workload *with* ``spec.replicas: 3``,
its ScalingPolicy and WorkloadProfile. The shipped ``examples/gitops/argocd/workloads-application.yaml``
(only its name, repository URL and destination namespace changed; its ``ignoreDifferences``,
``syncPolicy`` and ``syncOptions`` as shipped) syncs it. Then:

- Augur scales the Deployment through ``/scale`` (3 -> 10) and takes ``spec.replicas`` from Argo CD;
- the Application stays Synced and Healthy (the difference on ``spec.replicas`` is ignored), a new commit
  is synced by the automated policy and a requested sync (what ``argocd app sync`` does) succeeds: neither
  undoes the scale, neither reports a conflict, and the profile's status stays Augur's alone. Such a sync
  applies the live ``spec.replicas`` (that is what ``RespectIgnoreDifferences`` does), so Argo CD then
  shares the field with Augur at Augur's value;
- Augur scales again after those syncs (a commit raises the demand, 10 -> 15), owns ``spec.replicas``
  alone again, and Argo CD leaves it;
- control: without ``RespectIgnoreDifferences=true`` a sync writes Git's ``spec.replicas: 3`` back, so the
  sync option is what keeps the peace.

A second test syncs the shipped ``augur-application.yaml``: Argo CD installs charts/augur from the served
repository (see its docstring).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from augur.devcluster.argocd import APPLICATION, ARGOCD_NAMESPACE, FIELD_MANAGER, ArgoCD, start_argocd
from augur.devcluster.cluster import LocalCluster
from augur.devcluster.flux import GitServer
from augur.devcluster.procs import ManagedProcess, wait_until
from tests.e2e.conftest import REPO, assert_log_clean, deployment, deployment_replicas, get_json, install_crd
from tests.e2e.test_flux import managers, replica_owners
from tests.e2e.test_operator_ops import profile_manifest, settled, start_operator

SHARD = "argocd"
EXAMPLE = REPO / "examples" / "gitops" / "argocd" / "workloads-application.yaml"
CHART_EXAMPLE = REPO / "examples" / "gitops" / "argocd" / "augur-application.yaml"
RESPECT = "RespectIgnoreDifferences=true"


@pytest.fixture(scope="module")
def argocd(crds: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ArgoCD, GitServer]]:
    tools = crds.tools
    if tools.argocd_dir is None:
        log = tools.argocd_failure
        tail = log.read_text().strip().splitlines()[-1:] if log is not None and log.is_file() else []
        pytest.skip(f"Argo CD could not be built from the Go module proxy (log: {log}): {' '.join(tail)}")
    root = tmp_path_factory.mktemp("argocd")
    components = start_argocd(crds, tools.argocd, root / "argocd")
    git = GitServer(root / "git")
    try:
        yield components, git
    finally:
        git.close()
        components.stop()


def repo_files(namespace: str, image_tag: str, demand: float) -> dict[str, str]:
    doc = yaml.safe_load(deployment("web", namespace, 3))  # Git carries spec.replicas: 3
    doc["spec"]["template"]["spec"]["containers"][0]["image"] = f"example/web:{image_tag}"
    return {
        "production/workload.yaml": yaml.safe_dump(doc),
        "production/augur.yaml": profile_manifest(namespace, "web", SHARD, demand, 50, "Auto"),
    }


def application(url: str, namespace: str) -> dict[str, Any]:
    """The shipped example pointed at the served repository and the test's namespace."""
    app: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    app["metadata"]["name"] = f"shop-{namespace}"
    app["spec"]["source"]["repoURL"] = url
    app["spec"]["destination"]["namespace"] = namespace
    return app


def app_status(cluster: LocalCluster, name: str) -> dict[str, Any]:
    status: dict[str, Any] = get_json(cluster, APPLICATION, name, "-n", ARGOCD_NAMESPACE).get("status") or {}
    return status


def synced(cluster: LocalCluster, name: str, commit: str, operation_since: str = "") -> bool:
    """Synced to ``commit`` by a succeeded operation (one that started after ``operation_since``)."""
    status = app_status(cluster, name)
    op = status.get("operationState") or {}
    return (
        (status.get("sync") or {}).get("status") == "Synced"
        and (status.get("sync") or {}).get("revision") == commit
        and op.get("phase") == "Succeeded"
        and (op.get("syncResult") or {}).get("revision") == commit
        and op.get("startedAt", "") > operation_since
    )


def no_conflict(status: dict[str, Any]) -> None:
    op = status.get("operationState") or {}
    messages = [op.get("message", "")] + [
        r.get("message", "") for r in (op.get("syncResult") or {}).get("resources", [])
    ]
    messages += [c.get("message", "") for c in status.get("conditions", [])]
    assert not [m for m in messages if "conflict" in m.lower()], messages
    assert not status.get("conditions"), status.get("conditions")


def request_sync(cluster: LocalCluster, name: str) -> str:
    """Start a sync the way Argo CD's API server does (``argocd app sync``): write ``operation``, with the
    Application's own sync options. Returns a time before the operation starts."""
    app = get_json(cluster, APPLICATION, name, "-n", ARGOCD_NAMESPACE)
    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    operation = {
        "initiatedBy": {"username": "e2e"},
        "sync": {"revision": "main", "prune": True, "syncOptions": app["spec"]["syncPolicy"]["syncOptions"]},
    }
    cluster.kubectl(
        "patch", APPLICATION, name, "-n", ARGOCD_NAMESPACE, "--type=merge", "-p", json.dumps({"operation": operation})
    )
    return before


def refresh(cluster: LocalCluster, name: str, proc: ManagedProcess) -> None:
    """A normal refresh (the controller compares again and removes the annotation when done)."""
    cluster.kubectl(
        "annotate", "--overwrite", APPLICATION, name, "-n", ARGOCD_NAMESPACE, "argocd.argoproj.io/refresh=normal"
    )
    wait_until(
        lambda: (
            "argocd.argoproj.io/refresh"
            not in (get_json(cluster, APPLICATION, name, "-n", ARGOCD_NAMESPACE)["metadata"].get("annotations") or {})
        ),
        60,
        "Argo CD refreshes the Application",
        proc,
    )


def test_argocd_syncs_keep_augurs_scale(
    crds: LocalCluster, argocd: tuple[ArgoCD, GitServer], operator_env: dict[str, str], namespace: str
) -> None:
    components, git = argocd
    ctrl = components.controller
    name = f"shop-{namespace}"
    app = application(git.url(name), namespace)
    shipped = yaml.safe_load(EXAMPLE.read_text())["spec"]
    assert app["spec"]["ignoreDifferences"] == shipped["ignoreDifferences"]
    assert app["spec"]["syncPolicy"] == shipped["syncPolicy"] and RESPECT in shipped["syncPolicy"]["syncOptions"]
    op = start_operator(crds, operator_env, "augur-op-argocd", SHARD)
    try:
        first = git.commit(name, repo_files(namespace, "1", 400), "web 1")
        crds.kubectl("apply", "-f", "-", stdin=json.dumps(app))
        wait_until(lambda: synced(crds, name, first), 180, "Argo CD syncs the first commit", ctrl)
        assert any("git-upload-pack" in r for r in git.requests), "the repo-server never fetched over Git HTTP"
        assert FIELD_MANAGER in managers(crds, namespace, "deployment"), "Argo CD applies server-side"

        wait_until(lambda: settled(crds, namespace, "web") == 10, 120, "Augur scales to 10", op.proc)
        assert replica_owners(crds, namespace) == ["augur"], "Augur's forced apply takes spec.replicas"
        refresh(crds, name, ctrl)
        status = app_status(crds, name)
        assert status["sync"]["status"] == "Synced", status["sync"]  # the replicas difference is ignored
        wait_until(lambda: app_status(crds, name).get("health", {}).get("status") == "Healthy", 60, "Healthy", ctrl)

        # a new commit: the automated policy syncs the new image, Augur's scale stays
        second = git.commit(name, repo_files(namespace, "2", 400), "web 2")
        refresh(crds, name, ctrl)
        wait_until(lambda: synced(crds, name, second), 120, "Argo CD syncs the second commit", ctrl)
        web = get_json(crds, "deployment", "web", "-n", namespace)
        assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "example/web:2"
        assert web["spec"]["replicas"] == 10

        # a requested sync of the same revision, with the Application's sync options
        since = request_sync(crds, name)
        wait_until(lambda: synced(crds, name, second, since), 120, "the requested sync succeeds", ctrl)
        time.sleep(5)  # more than one operator cadence (4 s)
        assert deployment_replicas(crds, namespace, "web") == 10
        # RespectIgnoreDifferences copies the live value into Argo CD's apply: Argo CD shares spec.replicas at
        # Augur's value (no conflict); Augur's next forced write makes it Augur's alone again (checked below)
        assert sorted(replica_owners(crds, namespace)) == [FIELD_MANAGER, "augur"]
        status_writers = {m for m, subs in managers(crds, namespace, "workloadprofile").items() if "status" in subs}
        assert status_writers == {"augur"}, status_writers
        no_conflict(app_status(crds, name))

        # Augur scales again after those syncs: a commit raises the demand 400 -> 600 (15 replicas at 80% of 50)
        third = git.commit(name, repo_files(namespace, "2", 600), "more demand")
        refresh(crds, name, ctrl)
        wait_until(lambda: synced(crds, name, third), 120, "Argo CD syncs the third commit", ctrl)
        wait_until(lambda: settled(crds, namespace, "web") == 15, 120, "Augur scales to 15", op.proc)
        refresh(crds, name, ctrl)
        time.sleep(5)
        assert deployment_replicas(crds, namespace, "web") == 15
        assert replica_owners(crds, namespace) == ["augur"]
        status = app_status(crds, name)
        assert status["sync"]["status"] == "Synced", status["sync"]
        no_conflict(status)
        assert_log_clean(op.proc)

        # control: without RespectIgnoreDifferences a sync writes Git's spec.replicas back
        op.proc.stop()
        options = [o for o in shipped["syncPolicy"]["syncOptions"] if o != RESPECT]
        patch = {"spec": {"syncPolicy": {"syncOptions": options}}}
        crds.kubectl("patch", APPLICATION, name, "-n", ARGOCD_NAMESPACE, "--type=merge", "-p", json.dumps(patch))
        since = request_sync(crds, name)
        wait_until(lambda: synced(crds, name, third, since), 120, "the sync without the option succeeds", ctrl)
        assert deployment_replicas(crds, namespace, "web") == 3
        assert FIELD_MANAGER in replica_owners(crds, namespace)
    finally:
        op.proc.stop()
        crds.kubectl(
            "delete", APPLICATION, name, "-n", ARGOCD_NAMESPACE, "--ignore-not-found", "--timeout=60s", check=False
        )


def chart_files() -> dict[str, str]:
    chart = REPO / "charts" / "augur"
    return {f"charts/augur/{f.relative_to(chart)}": f.read_text() for f in chart.rglob("*") if f.is_file()}


def test_argocd_installs_the_chart(crds: LocalCluster, argocd: tuple[ArgoCD, GitServer]) -> None:
    """The shipped ``augur-application.yaml`` (repository URL, destination namespace, release name changed,
    kwok tolerations added) installs charts/augur, CRDs included (server-side apply): Synced and Healthy, the
    namespace labelled for Pod Security ``restricted`` (whose admission then checks every pod). No cascading
    delete: the CRDs are the session's, and Argo CD's resources finalizer would delete them with every custom
    resource; the test removes the release's namespace and cluster-scoped RBAC itself."""
    components, git = argocd
    ctrl = components.controller
    name, namespace, release = "augur-chart", "augur-argocd", "augur-argocd"
    created_crds = []
    for kind in ("ServiceMonitor", "PrometheusRule"):  # the example enables both; the CRDs are the Prometheus
        plural = f"{kind.lower()}s.monitoring.coreos.com"  # operator's, stood in for by schemaless ones
        if crds.kubectl("get", "crd", plural, check=False).returncode != 0:
            install_crd(crds, "monitoring.coreos.com", kind, "v1")
            created_crds.append(plural)
    app: dict[str, Any] = yaml.safe_load(CHART_EXAMPLE.read_text())
    shipped = yaml.safe_load(CHART_EXAMPLE.read_text())["spec"]
    app["metadata"]["name"] = name
    app["spec"]["source"]["repoURL"] = git.url(name)
    app["spec"]["source"]["helm"]["releaseName"] = release
    kwok = [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]
    for component in ("operator", "extender"):
        app["spec"]["source"]["helm"]["valuesObject"][component] = {"tolerations": kwok}
    app["spec"]["destination"]["namespace"] = namespace
    try:
        commit = git.commit(name, chart_files(), "chart")
        crds.kubectl("apply", "-f", "-", stdin=json.dumps(app))
        wait_until(lambda: synced(crds, name, commit), 180, "Argo CD installs the chart", ctrl)
        wait_until(lambda: app_status(crds, name).get("health", {}).get("status") == "Healthy", 120, "Healthy", ctrl)
        no_conflict(app_status(crds, name))
        labels = get_json(crds, "namespace", namespace)["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted", labels
        assert shipped["syncPolicy"] == app["spec"]["syncPolicy"]
        kinds = {r["kind"] for r in app_status(crds, name)["resources"]}
        assert {"Deployment", "ServiceMonitor", "PrometheusRule", "ClusterRole", "CustomResourceDefinition"} <= kinds
        operator_deployment = get_json(
            crds, "deployment", f"{release}-operator", "-n", namespace, "--show-managed-fields"
        )
        assert operator_deployment["status"].get("readyReplicas") == 2
        assert FIELD_MANAGER in {m["manager"] for m in operator_deployment["metadata"]["managedFields"]}

        # Known limitation, documented in docs/install.md: Argo CD renders with `helm template`, where the
        # chart's `lookup` of its existing self-signed Secret finds nothing, so every new revision brings a new
        # certificate (use extender.tls.existingSecret or cert-manager with Argo CD)
        secret = f"{release}-extender-tls"
        before = get_json(crds, "secret", secret, "-n", namespace)["data"]["ca.crt"]
        files = chart_files()
        files["charts/augur/README.md"] += "\n"
        second = git.commit(name, files, "chart, a new revision")
        refresh(crds, name, ctrl)
        wait_until(lambda: synced(crds, name, second), 120, "Argo CD syncs the chart's second revision", ctrl)
        assert get_json(crds, "secret", secret, "-n", namespace)["data"]["ca.crt"] != before

    finally:
        crds.kubectl(
            "delete", APPLICATION, name, "-n", ARGOCD_NAMESPACE, "--ignore-not-found", "--timeout=120s", check=False
        )
        crds.kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false", check=False)
        instance = f"app.kubernetes.io/instance={release}"
        crds.kubectl("delete", "clusterrolebindings,clusterroles", "-l", instance, "--ignore-not-found", check=False)
        for crd in created_crds:
            crds.kubectl("delete", "crd", crd, "--ignore-not-found", "--wait=false", check=False)


def test_argocd_crds_and_binary_come_from_the_built_module(crds: LocalCluster) -> None:
    if crds.tools.argocd_dir is None:
        pytest.skip(f"Argo CD could not be built from the Go module proxy (log: {crds.tools.argocd_failure})")
    argocd_bin: Path = crds.tools.argocd
    assert (argocd_bin / "argocd").is_file()
    crd_files = sorted(p.name for p in (argocd_bin.parent / "crds").glob("*.yaml"))
    assert crd_files == ["application-crd.yaml", "appproject-crd.yaml"]
