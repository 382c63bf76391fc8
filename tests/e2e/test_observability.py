"""Observability and GitOps on the real control plane.

- Every metric the shipped Grafana dashboard and alerting rules name is exported by the live operator
  (after it has scaled a workload) and the live extender.
- GitOps peace: after the operator scaled a Deployment (mode Auto) and wrote status, re-applying the same
  manifests with server-side apply as a GitOps tool does (field manager ``argocd-controller``, the
  workload's manifest without ``spec.replicas`` as ``ignoreDifferences`` + ``RespectIgnoreDifferences``
  and the examples' patches make it) neither undoes the scale nor conflicts on a field Augur owns. The
  same apply *with* ``spec.replicas`` is refused with a conflict naming Augur's manager: that is why the
  examples leave the field out.
"""

from __future__ import annotations

import subprocess
import time

import httpx
import yaml

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.procs import wait_until
from tests.e2e.conftest import deployment, deployment_replicas, get_json
from tests.e2e.test_operator_ops import profile_manifest, settled, start_operator
from tests.observability import exposed, referenced

SHARD = "observability"
GITOPS_MANAGER = "argocd-controller"


def server_side_apply(cluster: LocalCluster, manifest: str, manager: str) -> subprocess.CompletedProcess[str]:
    return cluster.kubectl(
        "apply", "--server-side", f"--field-manager={manager}", "-f", "-", stdin=manifest, check=False
    )


def without_replicas(manifest: str) -> str:
    doc = yaml.safe_load(manifest)
    doc["spec"].pop("replicas", None)
    return yaml.safe_dump(doc)


def test_dashboard_and_alert_metrics_exist_and_gitops_reapply_keeps_the_scale(
    crds: LocalCluster, operator_env: dict[str, str], namespace: str
) -> None:
    op = start_operator(crds, operator_env, "augur-op-observability", SHARD)
    try:
        workload = deployment("web", namespace, 2)
        profile = profile_manifest(namespace, "web", SHARD, 400, 50, "Auto")  # wants 10 replicas
        # the GitOps tool creates everything first, as it would from Git
        for manifest in (workload, profile):
            done = server_side_apply(crds, manifest, GITOPS_MANAGER)
            assert done.returncode == 0, done.stderr
        wait_until(lambda: settled(crds, namespace, "web") == 10, 120, "Augur scales 2 -> 10", op.proc)
        assert get_json(crds, "workloadprofile", "web", "-n", namespace)["status"]["desiredReplicas"] == 10

        # 1. every metric named by the dashboard and the rules is on the live operator's /metrics
        text = op.scrape()
        missing = referenced("augur-operator") - exposed(text) - {"up"}
        assert not missing, f"the dashboard or rules name operator metrics the operator does not export: {missing}"
        labels = f'{{kind="desired",name="web",namespace="{namespace}"}}'
        assert op.sample("augur_profile_replicas", labels) == 10.0
        assert op.sample("augur_profile_capacity", f'{{name="web",namespace="{namespace}"}}') is not None

        # 2. GitOps peace: re-apply what Git holds, the way Argo CD / Flux do with the documented recipe
        time.sleep(3)
        for manifest in (without_replicas(workload), profile):
            done = server_side_apply(crds, manifest, GITOPS_MANAGER)
            assert done.returncode == 0, f"re-apply conflicted: {done.stderr}"
        time.sleep(6)  # more than one cadence (4 s): nothing undoes the scale, Augur need not rewrite it
        assert deployment_replicas(crds, namespace, "web") == 10
        owners = [
            m["manager"]
            for m in get_json(crds, "deployment", "web", "-n", namespace, "--show-managed-fields")["metadata"][
                "managedFields"
            ]
            if "f:replicas" in (m.get("fieldsV1") or {}).get("f:spec", {})
        ]
        assert owners == ["augur"], f"spec.replicas must be Augur's alone, owners: {owners}"
        wp = get_json(crds, "workloadprofile", "web", "-n", namespace, "--show-managed-fields")
        status_owners = {m["manager"] for m in wp["metadata"]["managedFields"] if m.get("subresource") == "status"}
        assert status_owners == {"augur"}, status_owners
        # without the recipe, Git's replicas would conflict with Augur's (and --force-conflicts would undo it)
        done = server_side_apply(crds, workload, GITOPS_MANAGER)
        assert done.returncode != 0 and "conflict" in done.stderr.lower() and "augur" in done.stderr, done.stderr
        assert deployment_replicas(crds, namespace, "web") == 10
    finally:
        op.proc.stop()


def test_extender_exports_every_metric_the_dashboard_and_rules_name(augur_identities: LocalCluster) -> None:
    crds = augur_identities  # the chart's extender ServiceAccount and RBAC (conftest)
    proc, url = crds.start_extender(crds.service_account_kubeconfig("augur-system", "augur-extender"))
    try:
        text = httpx.get(f"{url}/metrics", timeout=5).text
        missing = referenced("augur-extender") - exposed(text) - {"up"}
        assert not missing, f"the dashboard or rules name extender metrics the extender does not export: {missing}"
        assert "augur_extender_cache_synced" in text
    finally:
        proc.stop()
