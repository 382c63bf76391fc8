"""The Helm chart (``charts/augur``) through the ``helm`` CLI: rendering, and ``deploy/*.yaml`` from it.

``deploy/`` (the ``kubectl apply`` install path) is the chart rendered with ``hack/deploy-values.yaml``
and split by component; :func:`render_deploy` is the one implementation behind
``hack/render-deploy.sh`` and the test that fails when ``deploy/`` drifts from the chart. The plan gate's
webhook needs the CA of the user's certificate, which an offline rendering cannot read, so its file is
rendered with ``hack/deploy-webhook-values.yaml`` too: its ``caBundle`` is the placeholder
:data:`CA_PLACEHOLDER`, which the user replaces (unreplaced, kube-apiserver rejects the object: it is not
base64).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "charts" / "augur"
DEPLOY = REPO / "deploy"
DEPLOY_VALUES = REPO / "hack" / "deploy-values.yaml"
DEPLOY_WEBHOOK_VALUES = REPO / "hack" / "deploy-webhook-values.yaml"
CA_PLACEHOLDER = "${AUGUR_EXTENDER_CA_BUNDLE}"
"""``caBundle`` of ``deploy/plan-gate-webhook.yaml``: replaced by the base64 PEM CA at install."""
WEBHOOK_FILE = "plan-gate-webhook.yaml"
RELEASE, NAMESPACE = "augur", "augur-system"

RESTRICTED_NAMESPACE_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}
"""Pod Security Admission labels of Augur's namespace: every pod of the chart passes ``restricted``."""

DEPLOY_FILES: dict[str, tuple[str, str]] = {
    "rbac.yaml": (
        "Namespace (Pod Security restricted), the operator's ServiceAccount and least-privilege RBAC.",
        "kubectl apply -f crds/ && kubectl apply -f deploy/rbac.yaml",
    ),
    "operator.yaml": (
        "The operator: two replicas electing a leader through a Lease, PodDisruptionBudget, metrics Service.",
        "kubectl apply -f deploy/operator.yaml   # after rbac.yaml; set the image you built",
    ),
    "extender.yaml": (
        "The scheduler extender: ServiceAccount, read-only RBAC, Deployment, Service, PodDisruptionBudget.\n"
        "# It serves HTTPS with the kubernetes.io/tls Secret augur-extender-tls (create it first, docs/install.md).",
        "kubectl apply -f deploy/extender.yaml   # then configure kube-scheduler (docs/install.md)",
    ),
    WEBHOOK_FILE: (
        "The plan gate's MutatingWebhookConfiguration (docs/install.md): its caBundle is the CA of\n"
        f"# augur-extender-tls, written here as {CA_PLACEHOLDER}: kube-apiserver refuses it until it is replaced.",
        f'sed "s|\\{CA_PLACEHOLDER}|$(base64 -w0 ca.crt)|" deploy/{WEBHOOK_FILE} | kubectl apply -f -',
    ),
}


class HelmError(RuntimeError):
    """helm exited non-zero; the message is its stderr."""


def helm(
    helm_bin: str, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``helm``; raises :class:`HelmError` with its stderr when ``check`` and it fails."""
    result = subprocess.run([helm_bin, *args], capture_output=True, text=True, timeout=300, check=False, env=env)
    if check and result.returncode != 0:
        raise HelmError(f"helm {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def template(
    helm_bin: str,
    values: Sequence[Path] = (),
    sets: Sequence[str] = (),
    *,
    release: str = RELEASE,
    namespace: str = NAMESPACE,
    api_versions: Sequence[str] = (),
) -> str:
    """``helm template`` of the chart (offline: lookups find nothing, Capabilities are helm's defaults)."""
    args = ["template", release, str(CHART), "--namespace", namespace]
    for v in values:
        args += ["--values", str(v)]
    for s in sets:
        args += ["--set", s]
    for a in api_versions:
        args += ["--api-versions", a]
    return helm(helm_bin, *args).stdout


def documents(rendered: str) -> list[dict[str, Any]]:
    """The objects of a rendering, in order (empty documents dropped)."""
    return [d for d in yaml.safe_load_all(rendered) if d]


def _deploy_file(obj: dict[str, Any]) -> str:
    labels = obj["metadata"].get("labels") or {}
    if labels.get("app.kubernetes.io/component") == "extender":
        return "extender.yaml"
    if obj["kind"] in ("Deployment", "PodDisruptionBudget", "Service"):
        return "operator.yaml"
    return "rbac.yaml"


_HELM_ONLY = re.compile(r"^\s*helm\.sh/chart: .*\n", re.MULTILINE)


def _for_kubectl(text: str) -> str:
    """Labels that would be false outside Helm: managed by kubectl, not Helm; no chart label."""
    text = _HELM_ONLY.sub("", text)
    return text.replace("app.kubernetes.io/managed-by: Helm", "app.kubernetes.io/managed-by: kubectl")


def split_documents(rendered: str) -> list[tuple[str, dict[str, Any]]]:
    """Each document of a rendering as (its text, comments kept; the parsed object)."""
    out = []
    for text in re.split(r"^---\s*$", rendered, flags=re.MULTILINE):
        obj = yaml.safe_load(text)
        if obj:
            out.append((text.strip("\n") + "\n", obj))
    return out


def namespace_manifest(name: str = NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "augur", **RESTRICTED_NAMESPACE_LABELS}},
    }


def render_deploy(helm_bin: str) -> dict[str, str]:
    """The text of each ``deploy/*.yaml``: the chart rendered with ``hack/deploy-values.yaml``."""
    grouped: dict[str, list[str]] = {name: [] for name in DEPLOY_FILES}
    grouped["rbac.yaml"].append(yaml.safe_dump(namespace_manifest(), sort_keys=False))
    for text, obj in split_documents(template(helm_bin, [DEPLOY_VALUES])):
        grouped[_deploy_file(obj)].append(_for_kubectl(text))
    for text, obj in split_documents(template(helm_bin, [DEPLOY_VALUES, DEPLOY_WEBHOOK_VALUES])):
        if obj["kind"] == "MutatingWebhookConfiguration":
            grouped[WEBHOOK_FILE].append(_for_kubectl(text))
    out = {}
    for name, texts in grouped.items():
        what, how = DEPLOY_FILES[name]
        header = (
            f"# GENERATED from charts/augur by hack/render-deploy.sh (values: {_values_of(name)}). Do not edit:\n"
            "# change the chart and re-render; a test fails when this file drifts from the chart.\n"
            f"# {what}\n#   {how}\n"
        )
        out[name] = header + "---\n".join(texts)
    return out


def _values_of(name: str) -> str:
    files = [DEPLOY_VALUES, DEPLOY_WEBHOOK_VALUES] if name == WEBHOOK_FILE else [DEPLOY_VALUES]
    return ", ".join(str(f.relative_to(REPO)) for f in files)


def stale_deploy_files(helm_bin: str, directory: Path = DEPLOY) -> list[str]:
    """Names of ``deploy/*.yaml`` files that differ from the chart's rendering (or are missing/extra)."""
    expected = render_deploy(helm_bin)
    stale = [n for n, t in expected.items() if not (directory / n).is_file() or (directory / n).read_text() != t]
    extra = [p.name for p in directory.glob("*.yaml") if p.name not in expected]
    return sorted(stale + extra)
