"""A real Flux reconcile of the GitOps example on the local control plane.

Flux's own ``source-controller`` and ``kustomize-controller`` (built from their modules on the Go module
proxy by ``build-tools.sh``) run against the real API server. A Git repository served on loopback
(``git http-backend``) holds a workload *with* ``spec.replicas: 3``, its ScalingPolicy and WorkloadProfile;
the shipped ``examples/gitops/flux/workloads-kustomization.yaml`` (only its interval, path, source and
target namespace changed) applies it, its patch dropping ``spec.replicas``. Then:

- Augur scales the Deployment through ``/scale`` (1 -> 10) while Flux keeps reconciling;
- a new commit (a new image tag) and a forced reconcile are applied by Flux without undoing the scale,
  without a conflict (the Kustomization stays Ready) and without Flux owning ``spec.replicas`` or any of
  the profile's status: both stay Augur's alone;
- control: with the patch removed, Flux takes ``spec.replicas`` (it applies with forced ownership), so
  the patch is what keeps the peace;
- deleting the Kustomization prunes what it applied (``prune: true``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.flux import FLUX_NAMESPACE, Flux, GitServer, start_flux
from augur.devcluster.procs import wait_until
from tests.e2e.conftest import REPO, condition, deployment, deployment_replicas, get_json
from tests.e2e.test_operator_ops import profile_manifest, settled, start_operator

SHARD = "flux"
EXAMPLE = REPO / "examples" / "gitops" / "flux" / "workloads-kustomization.yaml"
KUSTOMIZE_MANAGER = "kustomize-controller"


@pytest.fixture(scope="module")
def flux(crds: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flux, GitServer]]:
    root = tmp_path_factory.mktemp("flux")
    controllers = start_flux(crds, crds.tools.flux, root / "storage")
    git = GitServer(root / "git")
    try:
        yield controllers, git
    finally:
        git.close()
        controllers.kustomize.stop()
        controllers.source.stop()


def repo_files(namespace: str, image_tag: str) -> dict[str, str]:
    doc = yaml.safe_load(deployment("web", namespace, 3))  # Git still carries spec.replicas: 3
    doc["metadata"]["labels"] = {"app": "web", "augur.dev/scaled": "true"}
    doc["spec"]["template"]["spec"]["containers"][0]["image"] = f"example/web:{image_tag}"
    workload = yaml.safe_dump(doc)
    return {
        "production/workload.yaml": workload,
        "production/augur.yaml": profile_manifest(namespace, "web", SHARD, 400, 50, "Auto"),
    }


def flux_objects(url: str, namespace: str) -> str:
    """A GitRepository for the served repository and the shipped example Kustomization pointed at it."""
    kustomization = yaml.safe_load(EXAMPLE.read_text())
    name = f"shop-{namespace}"
    kustomization["metadata"]["name"] = name
    kustomization["spec"].update(interval="5s", path="./production", targetNamespace=namespace)
    kustomization["spec"]["sourceRef"]["name"] = name
    source = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": FLUX_NAMESPACE},
        "spec": {"interval": "5s", "url": url, "ref": {"branch": "main"}},
    }
    return yaml.safe_dump_all([source, kustomization])


def kustomization(cluster: LocalCluster, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = get_json(cluster, "kustomization.kustomize.toolkit.fluxcd.io", name, "-n", FLUX_NAMESPACE)
    return obj


def applied(cluster: LocalCluster, name: str, commit: str) -> bool:
    k = kustomization(cluster, name)
    ready = condition(k, "Ready")
    revision = (k.get("status") or {}).get("lastAppliedRevision", "")
    return bool(ready and ready["status"] == "True" and revision.endswith(commit))


def replica_owners(cluster: LocalCluster, namespace: str) -> list[str]:
    fields = get_json(cluster, "deployment", "web", "-n", namespace, "--show-managed-fields")["metadata"][
        "managedFields"
    ]
    return [m["manager"] for m in fields if "f:replicas" in (m.get("fieldsV1") or {}).get("f:spec", {})]


def managers(cluster: LocalCluster, namespace: str, kind: str) -> dict[str, set[str | None]]:
    """Field manager -> the subresources it wrote (None: the main resource)."""
    out: dict[str, set[str | None]] = {}
    for m in get_json(cluster, kind, "web", "-n", namespace, "--show-managed-fields")["metadata"]["managedFields"]:
        out.setdefault(m["manager"], set()).add(m.get("subresource"))
    return out


def test_flux_reconciles_keep_augurs_scale(
    crds: LocalCluster, flux: tuple[Flux, GitServer], operator_env: dict[str, str], namespace: str
) -> None:
    controllers, git = flux
    name = f"shop-{namespace}"
    op = start_operator(crds, operator_env, "augur-op-flux", SHARD)
    try:
        first = git.commit(name, repo_files(namespace, "1"), "web 1")
        crds.kubectl("apply", "-f", "-", stdin=flux_objects(git.url(name), namespace))
        wait_until(lambda: applied(crds, name, first), 180, "Flux applies the first commit", controllers.kustomize)
        assert any("git-upload-pack" in r for r in git.requests), "source-controller never fetched over Git HTTP"
        assert KUSTOMIZE_MANAGER in managers(crds, namespace, "deployment")
        assert KUSTOMIZE_MANAGER not in replica_owners(crds, namespace), "the example's patch must drop spec.replicas"

        wait_until(lambda: settled(crds, namespace, "web") == 10, 120, "Augur scales to 10", op.proc)
        assert replica_owners(crds, namespace) == ["augur"]

        # a new commit: Flux applies the new image, Augur's scale stays
        second = git.commit(name, repo_files(namespace, "2"), "web 2")
        wait_until(lambda: applied(crds, name, second), 180, "Flux applies the second commit", controllers.kustomize)
        web = get_json(crds, "deployment", "web", "-n", namespace)
        assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "example/web:2"
        assert web["spec"]["replicas"] == 10

        # a forced reconcile of the same revision (flux reconcile kustomization --with-source does this)
        stamp = str(time.time())
        crds.kubectl(
            "annotate",
            "--overwrite",
            "-n",
            FLUX_NAMESPACE,
            "kustomization.kustomize.toolkit.fluxcd.io",
            name,
            f"reconcile.fluxcd.io/requestedAt={stamp}",
        )
        wait_until(
            lambda: (
                (kustomization(crds, name).get("status") or {}).get("lastHandledReconcileAt") == stamp
                and applied(crds, name, second)
            ),
            120,
            "Flux handles the requested reconcile",
            controllers.kustomize,
        )
        time.sleep(6)  # more than one operator cadence (4 s) and one Flux interval (5 s)
        assert deployment_replicas(crds, namespace, "web") == 10
        assert replica_owners(crds, namespace) == ["augur"], "spec.replicas must stay Augur's alone"
        status_writers = {m for m, subs in managers(crds, namespace, "workloadprofile").items() if "status" in subs}
        assert status_writers == {"augur"}, status_writers
        ready = condition(kustomization(crds, name), "Ready")
        assert ready and ready["status"] == "True", ready

        # control: without the example's patch, Flux applies Git's spec.replicas with forced ownership
        crds.kubectl(
            "patch",
            "-n",
            FLUX_NAMESPACE,
            "kustomization.kustomize.toolkit.fluxcd.io",
            name,
            "--type=json",
            "-p",
            '[{"op": "remove", "path": "/spec/patches"}]',
        )
        wait_until(
            lambda: KUSTOMIZE_MANAGER in replica_owners(crds, namespace),
            120,
            "Flux takes spec.replicas once the patch is gone",
            controllers.kustomize,
        )

        # prune: deleting the Kustomization removes what it applied
        crds.kubectl(
            "delete", "-n", FLUX_NAMESPACE, "kustomization.kustomize.toolkit.fluxcd.io", name, "--timeout=120s"
        )
        gone = crds.kubectl("get", "deployment", "web", "-n", namespace, check=False)
        assert gone.returncode != 0 and "NotFound" in gone.stderr, gone.stdout
    finally:
        op.proc.stop()
        crds.kubectl(
            "delete",
            "-n",
            FLUX_NAMESPACE,
            "gitrepository.source.toolkit.fluxcd.io",
            name,
            "--ignore-not-found",
            "--timeout=60s",
            check=False,
        )


def test_flux_crds_and_binaries_come_from_the_built_modules(crds: LocalCluster) -> None:
    flux_bin: Path = crds.tools.flux
    for binary in ("source-controller", "kustomize-controller"):
        assert (flux_bin / binary).is_file()
    crd_files = sorted(p.name for p in (flux_bin.parent / "crds").glob("*.yaml"))
    assert "kustomize.toolkit.fluxcd.io_kustomizations.yaml" in crd_files
    assert "source.toolkit.fluxcd.io_gitrepositories.yaml" in crd_files
