"""The plan gate's admission webhook where the extender runs on loopback (a replay, the e2e test): the chart's
``MutatingWebhookConfiguration``, rendered by helm, its Service swapped for the extender's URL and CA; and a
check that kube-apiserver applies it before pods are created.

The chart's own settings (rules, ``failurePolicy``, timeout, selectors) are kept, so what runs is what Helm
installs; a replay narrows the namespaces to its pass's own (``namespace``) so that nothing else in the
cluster calls the webhook.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

from augur.constants import PLAN_GATE_WEBHOOK_PATH as WEBHOOK_PATH
from augur.devcluster.chart import documents, template
from augur.placement.gate import carries_plan_gate


def chart_webhook(
    helm: str, url: str, ca: Path, name: str | None = None, namespace: str | None = None
) -> dict[str, Any]:
    """The chart's webhook configuration calling ``url`` (the extender's base URL, its certificate signed by
    the CA in the PEM file ``ca``); ``name`` renames it, ``namespace`` limits it to that namespace."""
    (webhook,) = [d for d in documents(template(helm)) if d["kind"] == "MutatingWebhookConfiguration"]
    (entry,) = webhook["webhooks"]
    assert entry["clientConfig"]["service"]["path"] == WEBHOOK_PATH, entry["clientConfig"]
    entry["clientConfig"] = {"url": f"{url}{WEBHOOK_PATH}", "caBundle": base64.b64encode(ca.read_bytes()).decode()}
    if namespace is not None:
        only = {"key": "kubernetes.io/metadata.name", "operator": "In", "values": [namespace]}
        entry["namespaceSelector"].setdefault("matchExpressions", []).append(only)
    if name is not None:
        webhook["metadata"] = {"name": name}
    return dict(webhook)


def probe_pod(namespace: str, template_: dict[str, Any]) -> dict[str, Any]:
    """A pod from a Deployment's pod template, for a server-side dry run of its admission."""
    meta = {"generateName": "augur-webhook-probe-", "namespace": namespace, **template_.get("metadata", {})}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": dict(template_["spec"])}


def wait_until_gating(dry_run: Any, pod: dict[str, Any], timeout: float) -> bool:
    """Until a server-side dry run of ``pod`` (``dry_run(pod)`` returns the admitted object) carries the plan
    gate: kube-apiserver has loaded the configuration and the extender gates the pod. ``False`` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if carries_plan_gate(dry_run(pod).get("spec")):
            return True
        time.sleep(0.1)
    return False
