"""The plan gate's admission webhook on the real kube-apiserver: the chart's ``MutatingWebhookConfiguration``
(rendered by helm, pointed at an extender on loopback over TLS) gates new pods a ``WorkloadProfile`` selects,
the extender (as the chart's ServiceAccount) lets them through and kube-scheduler places them with the
extender; other pods are admitted unchanged, and so is every pod once the extender is gone (failurePolicy
Ignore)."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config, watch

from augur.constants import PLAN_GATE, PLAN_GATE_OPT_OUT
from augur.devcluster.cluster import LocalCluster
from augur.devcluster.pki import create_pki
from augur.devcluster.replay_kube import KubeSession
from augur.devcluster.replay_webhook import chart_webhook, probe_pod, wait_until_gating

from .conftest import apply, deployment, get_json
from .test_extender import APP, TOPOLOGY, _nodes, _placement, _profile, _samples, example_extender, network_cost

NAMESPACE = "plan-gate-webhook"


class GateWatch:
    """The gates each pod of a namespace carried when the API server first showed it (after admission)."""

    def __init__(self, api: client.CoreV1Api, namespace: str) -> None:
        self.api, self.namespace = api, namespace
        self.first: dict[str, list[str]] = {}
        self._watch = watch.Watch()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._stopped = threading.Event()

    def __enter__(self) -> GateWatch:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            for event in self._watch.stream(self.api.list_namespaced_pod, self.namespace, timeout_seconds=600):
                pod = event["object"]
                self.first.setdefault(pod.metadata.name, [g.name for g in pod.spec.scheduling_gates or []])
        except Exception:  # the stream ends when stopped; a pod it missed fails the test's lookup
            if not self._stopped.is_set():
                raise

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._watch.stop()
        self._thread.join(timeout=10)


def counters(url: str, context: ssl.SSLContext, family: str, label: str) -> dict[str, float]:
    return {labels[label]: value for labels, value in _samples(url, family, context)}


def fail_open(cluster: LocalCluster) -> float:
    """kube-apiserver's ``apiserver_admission_webhook_fail_open_count`` for the plan gate's webhook."""
    lines = cluster.kubectl("get", "--raw", "/metrics").stdout.splitlines()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith("apiserver_admission_webhook_fail_open_count{") and 'name="plan-gate.augur.dev"' in line
    )


def with_pod_label(manifest: str, key: str, value: str) -> str:
    obj = yaml.safe_load(manifest)
    obj["spec"]["template"]["metadata"]["labels"][key] = value
    return json.dumps(obj)


@pytest.fixture
def webhook_extender(augur_identities: LocalCluster, tmp_path: Path) -> Iterator[tuple[Any, str, ssl.SSLContext]]:
    crds = augur_identities
    pki = create_pki(tmp_path / "pki")  # its apiserver certificate is valid for 127.0.0.1
    kubeconfig = crds.service_account_kubeconfig("augur-system", "augur-extender")
    proc, url = crds.start_extender(
        kubeconfig, name="augur-extender-webhook", tls=(pki.apiserver.cert, pki.apiserver.key, pki.ca.cert)
    )
    # limited to this test's namespace: other tests' pods neither reach it nor count in its metrics
    webhook = chart_webhook(str(crds.tools.helm), url, pki.ca.cert, namespace=NAMESPACE)
    apply(crds, TOPOLOGY)
    apply(crds, json.dumps(webhook))
    entry = {**example_extender(url), "enableHTTPS": True, "tlsConfig": {"caFile": str(pki.ca.cert)}}
    crds.restart_scheduler(extenders=[entry])
    try:
        yield proc, url, ssl.create_default_context(cafile=str(pki.ca.cert))
    finally:
        crds.kubectl("delete", "mutatingwebhookconfiguration", webhook["metadata"]["name"], "--ignore-not-found")
        crds.restart_scheduler(extenders=[])
        proc.stop()


def test_the_webhook_gates_profiled_pods_and_admits_the_rest_unchanged(
    augur_identities: LocalCluster, webhook_extender: tuple[Any, str, ssl.SSLContext]
) -> None:
    crds = augur_identities
    proc, url, context = webhook_extender
    crds.kubectl("create", "namespace", NAMESPACE)
    profiles = [_profile(NAMESPACE, name, deps, placement) for name, _, deps, placement in APP]
    profiles += [_profile(NAMESPACE, name, {}, "{}") for name in ("quiet", "late")]
    apply(crds, "---".join(profiles))
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(crds.kubeconfig)))
    # Every profile is in the extender's cache (other tests' profiles are too, so no count would tell): a server-
    # side dry run of a pod of each profiled app comes back gated. Dry runs are not counted below.
    kube = KubeSession(crds.kubeconfig)
    try:
        for app in ("db", "api", "frontend", "late"):
            probe = probe_pod(NAMESPACE, yaml.safe_load(deployment(app, NAMESPACE, 1))["spec"]["template"])
            assert wait_until_gating(kube.dry_run_pod, probe, 30), f"the webhook did not gate a pod of {app}"
    finally:
        kube.close()
    baseline = counters(url, context, "augur_extender_plan_gate_admissions", "outcome")
    apps = [name for name, _, _, _ in APP]
    with GateWatch(api, NAMESPACE) as seen:
        for name, replicas, _, _ in APP:  # all at once: a burst
            apply(crds, deployment(name, NAMESPACE, replicas, cpu="250m", memory="256Mi"))
        apply(crds, deployment("loner", NAMESPACE, 2))  # no profile selects it
        apply(crds, with_pod_label(deployment("quiet", NAMESPACE, 2), PLAN_GATE_OPT_OUT, "off"))
        for name in [*apps, "loner", "quiet"]:
            crds.kubectl("rollout", "status", f"deployment/{name}", "-n", NAMESPACE, "--timeout=120s")

        admissions = {
            k: v - baseline.get(k, 0.0)
            for k, v in counters(url, context, "augur_extender_plan_gate_admissions", "outcome").items()
            if v - baseline.get(k, 0.0) > 0
        }
        lifts = counters(url, context, "augur_extender_plan_gate_lifts", "reason")
        placement = _placement(crds, NAMESPACE)
        print("admissions", admissions, "lifts", lifts)
        print("network cost", network_cost({a: placement[a] for a in apps}, _nodes(crds)))
        gated = sum(replicas for _, replicas, _, _ in APP)
        by_app: dict[str, set[tuple[str, ...]]] = {}
        for pod in get_json(crds, "pods", "-n", NAMESPACE)["items"]:
            by_app.setdefault(pod["metadata"]["labels"]["app"], set()).add(tuple(seen.first[pod["metadata"]["name"]]))
            assert pod["spec"].get("nodeName") and not pod["spec"].get("schedulingGates"), pod["metadata"]["name"]
        # created with the gate (by the webhook: no template carries it), let through, bound
        assert {app: by_app[app] for app in apps} == {app: {(PLAN_GATE,)} for app in apps}, by_app
        assert by_app["loner"] == {()} and by_app["quiet"] == {()}, by_app
        assert admissions.get("gated") == gated and admissions.get("unprofiled") == 2, admissions
        assert "opted_out" not in admissions  # the objectSelector kept the labelled pods from the webhook
        assert lifts.get("planned", 0) + lifts.get("deadline", 0) == gated and lifts.get("planned", 0) >= 1, lifts

        # The extender is gone: kube-apiserver cannot reach the webhook and admits pods unchanged.
        opened_before = fail_open(crds)  # the chart's own webhook (test_chart) has the same name
        proc.stop()
        apply(crds, deployment("late", NAMESPACE, 2))
        crds.kubectl("rollout", "status", "deployment/late", "-n", NAMESPACE, "--timeout=120s")
        late = get_json(crds, "pods", "-n", NAMESPACE, "-l", "app=late")["items"]
        assert len(late) == 2 and all(seen.first[p["metadata"]["name"]] == [] for p in late), late
        # ... and counts it where the chart's alert AugurPlanGateWebhookFailingOpen looks
        opened = fail_open(crds) - opened_before
        print("kube-apiserver fail-open count", opened)
        assert opened >= 2, opened
    log = proc.log_path.read_text()
    assert "forbidden" not in log.lower() and "Traceback" not in log, proc.log_tail(40)
    crds.kubectl("delete", "namespace", NAMESPACE, "--wait=false")
