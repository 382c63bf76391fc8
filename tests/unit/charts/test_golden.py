"""``helm lint`` and ``helm template`` golden files for several value combinations.

Update the goldens after an intended chart change with::

    AUGUR_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/charts/test_golden.py

and review the diff (tests/golden/chart/*.yaml) like code.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from augur.devcluster.chart import CHART, documents, helm, template
from augur.placement import ScoringConfig

from .cases import CASES, REPO, Case

GOLDEN = REPO / "tests" / "golden" / "chart"
_CERT = re.compile(r"^(  (?:tls\.crt|tls\.key|ca\.crt): |      caBundle: ).+$", re.MULTILINE)


def render(helm_bin: str, case: Case) -> str:
    return template(
        helm_bin,
        case.values,
        case.sets,
        release=case.release,
        namespace=case.namespace,
        api_versions=case.api_versions,
    )


def normalized(rendered: str) -> str:
    """The rendering with the chart-generated certificate (new on every offline render) blanked out."""
    return _CERT.sub(r"\1<generated>", rendered)


def test_helm_lint_strict(helm_bin: str) -> None:
    result = helm(helm_bin, "lint", "--strict", str(CHART), check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_template_matches_golden(helm_bin: str, case: Case) -> None:
    text = normalized(render(helm_bin, case))
    golden = GOLDEN / f"{case.name}.yaml"
    if os.environ.get("AUGUR_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(f"# golden: {case.description}\n{text}")
    expected = golden.read_text().split("\n", 1)[1]
    assert text == expected, f"{golden} differs: if intended, re-run with AUGUR_UPDATE_GOLDEN=1 and review the diff"


def test_no_stale_goldens() -> None:
    assert {p.stem for p in GOLDEN.glob("*.yaml")} == {c.name for c in CASES}


def _by_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def test_defaults_install_what_the_issue_asks(helm_bin: str) -> None:
    objs = documents(render(helm_bin, CASES[0]))
    deployments = {d["metadata"]["name"]: d for d in _by_kind(objs, "Deployment")}
    operator = deployments["augur-operator"]
    assert operator["spec"]["replicas"] == 2
    env = {e["name"]: e.get("value") for e in operator["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["AUGUR_LEADER_ELECTION"] == "true" and "POD_NAME" in env and "POD_NAMESPACE" in env
    assert env["AUGUR_LIVENESS"] == "http://0.0.0.0:8080/healthz" and env["AUGUR_METRICS"] == "0.0.0.0:8081"
    container = operator["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["port"] == "health"
    assert {p["name"] for p in container["ports"]} == {"health", "metrics"}
    assert {p["metadata"]["name"] for p in _by_kind(objs, "PodDisruptionBudget")} == {
        "augur-operator",
        "augur-extender",
    }
    services = {s["metadata"]["name"]: s for s in _by_kind(objs, "Service")}
    assert services["augur-operator-metrics"]["spec"]["ports"][0]["name"] == "metrics"
    extender = deployments["augur-extender"]["spec"]["template"]["spec"]
    assert "--tls-cert=/etc/augur/tls/tls.crt" in extender["containers"][0]["args"]
    (secret,) = _by_kind(objs, "Secret")
    assert (
        secret["type"] == "kubernetes.io/tls" and extender["volumes"][1]["secret"]["secretName"] == "augur-extender-tls"
    )
    assert not _by_kind(objs, "Certificate")


def test_cert_manager_when_its_api_is_served(helm_bin: str) -> None:
    objs = documents(render(helm_bin, next(c for c in CASES if c.name == "cert-manager")))
    assert not _by_kind(objs, "Secret")
    certs = {c["metadata"]["name"]: c["spec"] for c in _by_kind(objs, "Certificate")}
    assert certs["augur-extender"]["secretName"] == "augur-extender-tls"
    assert "augur-extender.augur-system.svc" in certs["augur-extender"]["dnsNames"]
    assert certs["augur-extender-ca"]["isCA"] is True


def test_image_digest_wins_over_tag(helm_bin: str) -> None:
    objs = documents(render(helm_bin, next(c for c in CASES if c.name == "monitoring")))
    images = {c["image"] for d in _by_kind(objs, "Deployment") for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {"augur@sha256:" + "a" * 64}


def test_scoring_values_are_a_valid_scoring_file(helm_bin: str) -> None:
    objs = documents(render(helm_bin, next(c for c in CASES if c.name == "plain-http-custom-targets")))
    (cm,) = _by_kind(objs, "ConfigMap")
    config = ScoringConfig.from_dict(yaml.safe_load(cm["data"]["scoring.yaml"]))
    assert config == ScoringConfig.from_dict({"load": {"weight": 2}})


def test_chart_crds_are_the_generated_ones() -> None:
    chart = {p.name: p.read_text() for p in (CHART / "crds").glob("*.yaml")}
    assert chart == {p.name: p.read_text() for p in (REPO / "crds").glob("*.yaml")}, "run `augur crds generate`"
    assert not any(p.is_symlink() for p in (CHART / "crds").iterdir()), "helm package drops symlinks: copy"


def test_deploy_manifests_are_rendered_from_the_chart(helm_bin: str) -> None:
    from augur.devcluster.chart import stale_deploy_files

    assert stale_deploy_files(helm_bin) == [], "deploy/ drifted from charts/augur: run hack/render-deploy.sh"


def test_the_kubectl_path_ships_the_plan_gate_webhook_with_a_ca_placeholder() -> None:
    """``deploy/plan-gate-webhook.yaml`` is the chart's webhook pointed at the extender's Service; its caBundle is
    the placeholder the install docs replace (and kube-apiserver refuses unreplaced: not base64)."""
    import base64
    import binascii

    from augur.devcluster.chart import CA_PLACEHOLDER, DEPLOY, WEBHOOK_FILE

    text = (DEPLOY / WEBHOOK_FILE).read_text()
    (webhook,) = yaml.safe_load(text)["webhooks"]
    assert webhook["clientConfig"]["caBundle"] == CA_PLACEHOLDER
    assert webhook["clientConfig"]["service"] == {
        "name": "augur-extender",
        "namespace": "augur-system",
        "port": 8888,
        "path": "/admission/plan-gate",
    }
    assert webhook["failurePolicy"] == "Ignore"
    with pytest.raises(binascii.Error):
        base64.b64decode(CA_PLACEHOLDER, validate=True)
    ca = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n").decode()
    (replaced,) = yaml.safe_load(text.replace(CA_PLACEHOLDER, ca))["webhooks"]
    assert replaced["clientConfig"]["caBundle"] == ca
    for other in ("rbac.yaml", "operator.yaml", "extender.yaml"):
        assert "MutatingWebhookConfiguration" not in (DEPLOY / other).read_text()


def test_packaged_chart_carries_the_crds(helm_bin: str, tmp_path: Path) -> None:
    helm(helm_bin, "package", str(CHART), "--destination", str(tmp_path))
    (archive,) = tmp_path.glob("augur-*.tgz")
    import tarfile

    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {f"augur/crds/{p.name}" for p in (REPO / "crds").glob("*.yaml")} <= names
