"""The plan gate's webhook as the chart renders it, and as a replay or e2e test points it at a loopback extender
(:mod:`augur.devcluster.replay_webhook`)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from augur.constants import PLAN_GATE, PLAN_GATE_OPT_OUT
from augur.devcluster.chart import documents, template
from augur.devcluster.replay_webhook import WEBHOOK_PATH, chart_webhook, probe_pod, wait_until_gating


def webhooks(helm_bin: str, *sets: str, api_versions: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    rendered = documents(template(helm_bin, sets=sets, api_versions=api_versions))
    return [d for d in rendered if d["kind"] == "MutatingWebhookConfiguration"]


def test_the_chart_installs_the_webhook_only_where_the_api_server_can_call_it(helm_bin: str) -> None:
    (default,) = webhooks(helm_bin)
    (entry,) = default["webhooks"]
    assert entry["failurePolicy"] == "Ignore" and entry["sideEffects"] == "None" and entry["timeoutSeconds"] == 2
    assert entry["rules"] == [
        {
            "operations": ["CREATE"],
            "apiGroups": [""],
            "apiVersions": ["v1"],
            "resources": ["pods"],
            "scope": "Namespaced",
        }
    ]
    assert entry["clientConfig"]["service"]["path"] == WEBHOOK_PATH and entry["clientConfig"]["caBundle"]
    assert entry["objectSelector"]["matchExpressions"] == [
        {"key": PLAN_GATE_OPT_OUT, "operator": "NotIn", "values": ["off"]}
    ]
    (cm,) = webhooks(helm_bin, api_versions=("cert-manager.io/v1",))
    assert cm["metadata"]["annotations"] == {"cert-manager.io/inject-ca-from": "augur-system/augur-extender"}
    assert "caBundle" not in cm["webhooks"][0]["clientConfig"]
    assert webhooks(helm_bin, "extender.tls.enabled=false") == []
    assert webhooks(helm_bin, "extender.planGate.webhook.enabled=false") == []
    assert webhooks(helm_bin, "extender.tls.existingSecret=mine") == []  # no CA to read offline
    (given,) = webhooks(helm_bin, "extender.tls.existingSecret=mine", "extender.planGate.webhook.caBundle=QUJD")
    assert given["webhooks"][0]["clientConfig"]["caBundle"] == "QUJD"
    (narrow,) = webhooks(helm_bin, "extender.planGate.webhook.namespaceSelector.matchLabels.team=a")
    selector = narrow["webhooks"][0]["namespaceSelector"]
    assert selector["matchLabels"] == {"team": "a"}
    assert selector["matchExpressions"] == [
        {
            "key": "kubernetes.io/metadata.name",
            "operator": "NotIn",
            "values": ["kube-system", "kube-node-lease", "augur-system"],
        }
    ]


def test_a_replay_points_the_chart_s_webhook_at_its_extender_and_its_namespace(helm_bin: str, tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\n...\n")
    body = chart_webhook(helm_bin, "https://127.0.0.1:9443", ca, "replay-gate", "replay-ns")
    (entry,) = body["webhooks"]
    assert body["metadata"] == {"name": "replay-gate"}
    assert entry["clientConfig"] == {
        "url": f"https://127.0.0.1:9443{WEBHOOK_PATH}",
        "caBundle": base64.b64encode(ca.read_bytes()).decode(),
    }
    assert {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["replay-ns"]} in entry[
        "namespaceSelector"
    ]["matchExpressions"]
    assert entry["failurePolicy"] == "Ignore"  # the chart's settings stay


def test_the_probe_waits_until_a_dry_run_comes_back_gated() -> None:
    template_ = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}
    pod = probe_pod("shop", template_)
    assert pod["metadata"] == {"generateName": "augur-webhook-probe-", "namespace": "shop", "labels": {"app": "web"}}
    answers = iter([pod, {**pod, "spec": {"schedulingGates": [{"name": PLAN_GATE}]}}])
    assert wait_until_gating(lambda p: next(answers), pod, 5)
    assert not wait_until_gating(lambda p: pod, pod, 0.2)
