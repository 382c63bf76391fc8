"""Flux's helm-controller installs charts/augur from the shipped HelmRelease on the local control plane.

Flux's own ``source-controller`` (as in test_flux.py) and ``helm-controller`` v1.6.4 (the release paired
with source-controller v1.9.x; built from their modules on the Go module proxy by ``build-tools.sh``) run
against the real API server. charts/augur is packaged with ``helm package`` and indexed with
``helm repo index`` (the cached helm 3.22 CLI) and served as a classic HTTP Helm repository on loopback.

The shipped ``examples/gitops/flux/helmrepository.yaml`` is adapted only where it must be: ``type: oci``
dropped (the default, HTTP), its placeholder URL replaced by the loopback repository. The shipped
``helmrelease.yaml`` keeps its chart spec (name, semver range, sourceRef to flux-system), ``install``
and ``upgrade`` (``crds: CreateReplace``, ``createNamespace``) and values (ServiceMonitor and
PrometheusRule enabled); changed: its namespace (``augur-flux``, created by the test, since the HelmRelease
lives there), ``releaseName: augur-flux`` (the session's chart RBAC already uses release ``augur``) and
kwok tolerations added to the operator's and extender's values. Asserted: the HelmRelease becomes Ready,
the chart was fetched over HTTP, helm-controller installed it (Helm's release Secret, the operator
Deployment with its ready replicas, the ServiceMonitor and PrometheusRule, the augur.dev CRDs written by
helm-controller, ``CreateReplace``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.flux import FLUX_NAMESPACE, Flux, start_flux
from augur.devcluster.flux_helm import HelmRepoServer, start_helm_controller
from augur.devcluster.procs import ManagedProcess, wait_until
from tests.e2e.conftest import REPO, condition, get_json, install_crd

EXAMPLES = REPO / "examples" / "gitops" / "flux"
HELMRELEASE = "helmrelease.helm.toolkit.fluxcd.io"
HELMREPOSITORY = "helmrepository.source.toolkit.fluxcd.io"
NAMESPACE, RELEASE = "augur-flux", "augur-flux"
KWOK = [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]
AUGUR_CRDS = ("workloadprofiles", "scalingpolicies", "networktopologies", "migrations", "rebalancepolicies")


@pytest.fixture(scope="module")
def flux_helm(
    crds: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flux, ManagedProcess, HelmRepoServer]]:
    tools = crds.tools
    if tools.flux_hc_dir is None or not (tools.flux_hc_dir / "helm-controller").is_file():
        log = tools.flux_hc_failure
        tail = log.read_text().strip().splitlines()[-1:] if log is not None and log.is_file() else []
        pytest.skip(f"Flux's helm-controller could not be built from the Go module proxy (log: {log}): {tail}")
    root = tmp_path_factory.mktemp("flux-helm")
    repo = HelmRepoServer(tools.helm, REPO / "charts" / "augur", root / "repo")
    controllers = start_flux(crds, tools.flux, root / "storage")
    helm_controller: ManagedProcess | None = None
    try:
        helm_controller = start_helm_controller(crds, tools.flux_hc_dir)
        yield controllers, helm_controller, repo
    finally:
        if helm_controller is not None:
            helm_controller.stop()
        controllers.kustomize.stop()
        controllers.source.stop()
        repo.close()


def manifests(url: str) -> list[dict[str, Any]]:
    """The shipped HelmRepository and HelmRelease, adapted as the module docstring says."""
    source: dict[str, Any] = yaml.safe_load((EXAMPLES / "helmrepository.yaml").read_text())
    del source["spec"]["type"]
    source["spec"]["url"] = url
    release: dict[str, Any] = yaml.safe_load((EXAMPLES / "helmrelease.yaml").read_text())
    release["metadata"]["namespace"] = NAMESPACE
    release["spec"]["releaseName"] = RELEASE
    for component in ("operator", "extender"):
        release["spec"]["values"][component] = {"tolerations": KWOK}
    return [source, release]


def helmrelease(cluster: LocalCluster) -> dict[str, Any]:
    obj: dict[str, Any] = get_json(cluster, HELMRELEASE, "augur", "-n", NAMESPACE)
    return obj


def ready(cluster: LocalCluster) -> bool:
    cond = condition(helmrelease(cluster), "Ready")
    return bool(cond and cond["status"] == "True")


def test_flux_helmrelease_installs_the_chart(
    crds: LocalCluster, flux_helm: tuple[Flux, ManagedProcess, HelmRepoServer]
) -> None:
    _, helm_controller, repo = flux_helm
    source, release = manifests(repo.url)
    shipped = yaml.safe_load((EXAMPLES / "helmrelease.yaml").read_text())["spec"]
    assert release["spec"]["chart"] == shipped["chart"] and release["spec"]["install"] == shipped["install"]
    assert release["spec"]["upgrade"] == shipped["upgrade"]
    created_crds = []
    for kind in ("ServiceMonitor", "PrometheusRule"):  # the example enables both; the CRDs are the Prometheus
        plural = f"{kind.lower()}s.monitoring.coreos.com"  # operator's, stood in for by schemaless ones
        if crds.kubectl("get", "crd", plural, check=False).returncode != 0:
            install_crd(crds, "monitoring.coreos.com", kind, "v1")
            created_crds.append(plural)
    crds.kubectl("create", "namespace", NAMESPACE, check=False)
    try:
        crds.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all([source, release]))
        wait_until(lambda: ready(crds), 170, "the HelmRelease becomes Ready", helm_controller)
        served = repo.requests
        assert any("/index.yaml" in r for r in served), served
        assert any("/augur-0.1.0.tgz" in r for r in served), served
        status = helmrelease(crds)["status"]
        assert status["history"][0]["chartVersion"] == "0.1.0", status["history"]
        assert status["history"][0]["status"] == "deployed", status["history"]

        secret = get_json(crds, "secret", f"sh.helm.release.v1.{RELEASE}.v1", "-n", NAMESPACE)
        assert secret["type"] == "helm.sh/release.v1"
        operator = get_json(crds, "deployment", f"{RELEASE}-operator", "-n", NAMESPACE, "--show-managed-fields")
        assert operator["status"].get("readyReplicas") == 2, operator["status"]
        assert "helm-controller" in {m["manager"] for m in operator["metadata"]["managedFields"]}
        get_json(crds, "deployment", f"{RELEASE}-extender", "-n", NAMESPACE)
        for kind in ("servicemonitor", "prometheusrule"):
            assert get_json(crds, kind, "-n", NAMESPACE)["items"], f"no {kind} installed"
        for plural in AUGUR_CRDS:  # install.crds: CreateReplace - helm-controller wrote the chart's CRDs
            crd = get_json(crds, "crd", f"{plural}.augur.dev", "--show-managed-fields")
            assert "helm-controller" in {m["manager"] for m in crd["metadata"]["managedFields"]}, plural
            established = condition(crd, "Established")
            assert established and established["status"] == "True"
    finally:
        crds.kubectl(
            "delete", HELMRELEASE, "augur", "-n", NAMESPACE, "--ignore-not-found", "--timeout=120s", check=False
        )
        crds.kubectl(
            "delete", HELMREPOSITORY, "augur", "-n", FLUX_NAMESPACE, "--ignore-not-found", "--timeout=60s", check=False
        )
        crds.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false", check=False)
        instance = f"app.kubernetes.io/instance={RELEASE}"
        crds.kubectl("delete", "clusterrolebindings,clusterroles", "-l", instance, "--ignore-not-found", check=False)
        for crd in created_crds:
            crds.kubectl("delete", "crd", crd, "--ignore-not-found", "--wait=false", check=False)
