"""``helm install``, ``upgrade`` and ``uninstall`` of charts/augur on the real local control plane.

The release namespace enforces Pod Security ``restricted``, so the API server's admission checks every
pod the chart creates; kwok's nodes "run" them. After uninstall nothing of the release is left except
the CRDs (Helm keeps a chart's ``crds/``).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest

from augur.devcluster.chart import CHART, RESTRICTED_NAMESPACE_LABELS, helm, namespace_manifest
from augur.devcluster.cluster import LocalCluster

from .conftest import CHART_VALUES, get_json

RELEASE, NAMESPACE = "augur-e2e", "augur-chart-e2e"
INSTANCE = f"app.kubernetes.io/instance={RELEASE}"


@pytest.fixture(scope="module")
def helm_cli(cluster: LocalCluster) -> Iterator[list[str]]:
    base = [str(cluster.tools.helm), f"--kubeconfig={cluster.kubeconfig}", "--namespace", NAMESPACE]
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps(namespace_manifest(NAMESPACE)))
    yield base
    subprocess.run([*base, "uninstall", RELEASE, "--wait"], capture_output=True, check=False, timeout=120)
    cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)


def run_helm(base: list[str], *args: str) -> str:
    result = helm(base[0], *base[1:], *args, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _labelled_everywhere(cluster: LocalCluster) -> list[str]:
    """Every object of any listable kind, namespaced or not, that carries the release's instance label."""
    kinds = cluster.kubectl("api-resources", "--verbs=list", "-o", "name").stdout.split()
    kinds = [k for k in kinds if k not in ("componentstatuses", "events", "events.events.k8s.io")]
    out = cluster.kubectl("get", ",".join(kinds), "-A", "-l", INSTANCE, "-o", "name", "--ignore-not-found").stdout
    return out.split()


def test_namespace_enforces_restricted(helm_cli: list[str], cluster: LocalCluster) -> None:
    """The control: a pod that breaks "restricted" is refused here, so an accepted pod passed the check."""
    labels = get_json(cluster, "namespace", NAMESPACE)["metadata"]["labels"]
    assert RESTRICTED_NAMESPACE_LABELS.items() <= labels.items()
    bad = (
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: bad, namespace: {NAMESPACE}}}\n"
        "spec: {containers: [{name: c, image: busybox}]}\n"
    )
    refused = cluster.kubectl("apply", "-f", "-", stdin=bad, check=False)
    assert refused.returncode != 0 and 'violates PodSecurity "restricted:latest"' in refused.stderr, refused.stderr


def test_install_upgrade_uninstall(helm_cli: list[str], cluster: LocalCluster) -> None:
    notes = run_helm(
        helm_cli, "install", RELEASE, str(CHART), "--values", str(CHART_VALUES), "--wait", "--timeout", "3m"
    )
    # NOTES: what was installed, how to check it, and the kube-scheduler extender entry for this release.
    assert f"Augur 0.1.0 is installed in namespace {NAMESPACE}" in notes, notes
    # kube-scheduler calls the gate keeper (the replica holding the Lease labels its pod; the Service selects it)
    assert f'urlPrefix: "https://{RELEASE}-extender-gate-keeper.{NAMESPACE}.svc:8888"' in notes, notes
    assert "enableHTTPS: true" in notes and "ignorable: true" in notes and "certificate from selfSigned" in notes
    assert f"MutatingWebhookConfiguration {RELEASE}-extender-plan-gate adds the scheduling gate" in notes, notes

    # Every object of the manifest exists (the API server accepted all of them) and every pod runs.
    manifest = run_helm(helm_cli, "get", "manifest", RELEASE)
    created = cluster.kubectl("get", "-f", "-", "-o", "name", stdin=manifest).stdout.split()
    kinds = {name.split("/")[0] for name in created}
    assert {
        "serviceaccount",
        "clusterrole.rbac.authorization.k8s.io",
        "clusterrolebinding.rbac.authorization.k8s.io",
        "role.rbac.authorization.k8s.io",
        "rolebinding.rbac.authorization.k8s.io",
        "deployment.apps",
        "service",
        "poddisruptionbudget.policy",
        "secret",
        "mutatingwebhookconfiguration.admissionregistration.k8s.io",
    } <= kinds, kinds
    pods = get_json(cluster, "pods", "-n", NAMESPACE, "-l", INSTANCE)["items"]
    assert len(pods) == 4 and all(p["status"]["phase"] == "Running" for p in pods), [
        p["metadata"]["name"] for p in pods
    ]
    # Re-checking the running pods against "restricted" reports no violation (a warning would name them).
    recheck = cluster.kubectl(
        "label",
        "--dry-run=server",
        "--overwrite",
        "namespace",
        NAMESPACE,
        "pod-security.kubernetes.io/enforce=restricted",
    )
    assert "violate" not in recheck.stderr, recheck.stderr
    for crd in ("workloadprofiles", "scalingpolicies", "networktopologies", "migrations", "rebalancepolicies"):
        assert get_json(cluster, "crd", f"{crd}.augur.dev")["status"]["acceptedNames"]["plural"] == crd
    secret = get_json(cluster, "secret", f"{RELEASE}-extender-tls", "-n", NAMESPACE)["data"]
    # The plan gate's webhook trusts the generated certificate and calls the release's Service.
    (webhook,) = get_json(cluster, "mutatingwebhookconfiguration", f"{RELEASE}-extender-plan-gate")["webhooks"]
    assert webhook["clientConfig"]["caBundle"] == secret["ca.crt"]
    assert webhook["clientConfig"]["service"] == {
        "name": f"{RELEASE}-extender",
        "namespace": NAMESPACE,
        "path": "/admission/plan-gate",
        "port": 8888,
    }
    assert webhook["failurePolicy"] == "Ignore"

    # Upgrade: a changed value rolls out; the generated certificate is kept (looked up, not regenerated).
    run_helm(
        helm_cli,
        "upgrade",
        RELEASE,
        str(CHART),
        "--values",
        str(CHART_VALUES),
        "--set",
        "operator.replicas=3",
        "--set",
        "extender.logLevel=debug",
        "--wait",
        "--timeout",
        "3m",
    )
    operator = get_json(cluster, "deployment", f"{RELEASE}-operator", "-n", NAMESPACE)
    assert operator["spec"]["replicas"] == 3 and operator["status"].get("readyReplicas") == 3
    args = get_json(cluster, "deployment", f"{RELEASE}-extender", "-n", NAMESPACE)["spec"]["template"]["spec"]
    assert "--log-level=debug" in args["containers"][0]["args"]
    assert get_json(cluster, "secret", f"{RELEASE}-extender-tls", "-n", NAMESPACE)["data"] == secret
    webhooks = get_json(cluster, "mutatingwebhookconfiguration", f"{RELEASE}-extender-plan-gate")["webhooks"]
    assert webhooks[0]["clientConfig"]["caBundle"] == secret["ca.crt"]
    history = json.loads(run_helm(helm_cli, "history", RELEASE, "-o", "json"))
    assert [h["status"] for h in history] == ["superseded", "deployed"]

    # Uninstall: nothing of the release is left, cluster-scoped RBAC included; the CRDs stay.
    run_helm(helm_cli, "uninstall", RELEASE, "--wait", "--timeout", "2m")
    assert _labelled_everywhere(cluster) == []
    for name in created:
        gone = cluster.kubectl("get", name, "-n", NAMESPACE, "--ignore-not-found", "-o", "name")
        assert gone.stdout.strip() == "", name
    assert run_helm(helm_cli, "list", "-q").strip() == ""
    for crd in ("workloadprofiles", "scalingpolicies", "networktopologies", "migrations", "rebalancepolicies"):
        cluster.kubectl("get", "crd", f"{crd}.augur.dev")


def test_the_kubectl_webhook_manifest_is_refused_until_its_ca_is_filled_in(cluster: LocalCluster) -> None:
    """``deploy/plan-gate-webhook.yaml`` on the real kube-apiserver (server-side dry runs): refused as shipped (the
    placeholder is not base64), and accepted once it is replaced by the documented command's base64 CA."""
    import base64

    from augur.devcluster.chart import CA_PLACEHOLDER, DEPLOY, WEBHOOK_FILE

    text = (DEPLOY / WEBHOOK_FILE).read_text()
    refused = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=text, check=False)
    assert refused.returncode != 0 and "illegal base64 data" in refused.stderr, refused.stderr
    assert cluster.pki is not None
    ca = base64.b64encode(cluster.pki.ca.cert.read_bytes()).decode()
    accepted = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=text.replace(CA_PLACEHOLDER, ca))
    assert "augur-extender-plan-gate created (server dry run)" in accepted.stdout, accepted.stdout
