"""Foundation e2e: CRDs install, the API server enforces the schema and CEL rules, the operator reports
Ready with precise reasons and Events, pods land on kwok nodes, printer columns show."""

from __future__ import annotations

import httpx

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.procs import wait_until

from .conftest import (
    apply,
    assert_log_clean,
    condition,
    condition_state,
    create_worker,
    deployment,
    get_json,
    profile,
    profile_events,
)

POLICY = """
apiVersion: augur.dev/v1alpha1
kind: ScalingPolicy
metadata: {{name: policy, namespace: {ns}}}
spec: {{minReplicas: {min}, maxReplicas: {max}, mode: ForecastOnly}}
"""


def test_crds_are_established_with_short_names(crds: LocalCluster) -> None:
    names = {c["metadata"]["name"] for c in get_json(crds, "crd")["items"]}
    assert {
        "workloadprofiles.augur.dev",
        "scalingpolicies.augur.dev",
        "networktopologies.augur.dev",
        "migrations.augur.dev",
    } <= names
    resources = crds.kubectl("api-resources", "--api-group=augur.dev", "-o", "wide").stdout
    assert "wp" in resources and "workloadprofiles" in resources
    assert crds.kubectl("get", "augur", "-A").returncode == 0  # the category works


def test_api_server_rejects_invalid_objects_with_cel_messages(crds: LocalCluster, namespace: str) -> None:
    bad_policy = apply(crds, POLICY.format(ns=namespace, min=5, max=2), check=False)
    assert bad_policy.returncode != 0
    assert "minReplicas must be less than or equal to maxReplicas" in bad_policy.stderr
    bad_profile = apply(
        crds,
        profile(name="p", ns=namespace, target="web") + "  placement: {preferZones: [east-a], avoidZones: [east-a]}\n",
        check=False,
    )
    assert bad_profile.returncode != 0
    assert "a zone cannot be both preferred and avoided" in bad_profile.stderr
    typo = apply(crds, profile(name="p", ns=namespace, target="web") + "  polcyRef: {name: x}\n", check=False)
    assert typo.returncode != 0 and 'unknown field "spec.polcyRef"' in typo.stderr
    bad_kind = apply(
        crds, profile(name="p", ns=namespace, target="web").replace("Deployment", "deployment"), check=False
    )
    assert bad_kind.returncode != 0 and "spec.scaleTargetRef.kind" in bad_kind.stderr
    both = '  feeds: [{name: f, query: "up", http: {url: "http://x.test/f"}}]\n'
    bad_feed = apply(crds, profile(name="p", ns=namespace, target="web") + both, check=False)
    assert bad_feed.returncode != 0 and "set exactly one of query or http" in bad_feed.stderr
    slow = '  feeds: [{name: f, http: {url: "http://x.test/f", timeout: 2m}}]\n'
    bad_timeout = apply(crds, profile(name="p", ns=namespace, target="web") + slow, check=False)
    assert bad_timeout.returncode != 0 and "timeout must be more than 0s and at most 60s" in bad_timeout.stderr
    assert get_json(crds, "wp", "-n", namespace)["items"] == []


def test_defaults_are_applied_by_the_api_server(crds: LocalCluster, namespace: str) -> None:
    apply(crds, POLICY.format(ns=namespace, min=1, max=4))
    spec = get_json(crds, "sp", "policy", "-n", namespace)["spec"]
    assert spec["targetUtilization"] == 0.8 and spec["leadTime"] == "2m"
    assert spec["behavior"]["scaleDown"]["stabilizationWindow"] == "5m"
    feed = '  feeds: [{name: weather, http: {url: "https://weather.test/t"}}]\n'
    apply(crds, profile(name="feeds", ns=namespace, target="web") + feed)
    http = get_json(crds, "wp", "feeds", "-n", namespace)["spec"]["feeds"][0]["http"]
    assert http == {"url": "https://weather.test/t", "timeout": "5s", "maxBytes": 1048576}


def test_operator_ready_and_target_not_found_recovery(operator, crds: LocalCluster, namespace: str) -> None:
    apply(crds, POLICY.format(ns=namespace, min=1, max=10))
    apply(crds, profile(name="late", ns=namespace, target="late"))

    def reason() -> tuple[str, str] | None:
        return condition_state(crds, namespace, "late", "Ready")

    wait_until(lambda: reason() == ("False", "TargetNotFound"), 60, "Ready=False TargetNotFound")
    wp = get_json(crds, "wp", "late", "-n", namespace)
    assert wp["status"]["observedGeneration"] == wp["metadata"]["generation"]
    assert f"Deployment {namespace}/late not found" in condition(wp, "Ready")["message"]
    wait_until(lambda: _has_event(crds, namespace, "late", "TargetNotFound", "Warning"), 30, "TargetNotFound Event")

    apply(crds, deployment("late", namespace, 2))
    wait_until(lambda: reason() == ("True", "TargetResolved"), 60, "recovery to Ready=True")
    status = get_json(crds, "wp", "late", "-n", namespace)["status"]
    assert (
        status["selector"] == "app=late" and status["targetKind"] == "Deployment" and status["mode"] == "ForecastOnly"
    )
    # One pod of the template (100m, 64Mi), for the scheduler extender to plan with before pods exist.
    assert status["podRequests"] == {"cpu": "100m", "memory": "65536Ki"}
    wait_until(lambda: _has_event(crds, namespace, "late", "TargetResolved", "Normal"), 30, "TargetResolved Event")

    managers = get_json(crds, "wp", "late", "-n", namespace, "--show-managed-fields")["metadata"]["managedFields"]
    assert any(m["manager"] == "augur" and m.get("subresource") == "status" for m in managers)


def test_operator_reports_invalid_policy_and_missing_policy(operator, crds: LocalCluster, namespace: str) -> None:
    apply(crds, deployment("web", namespace, 1))
    apply(crds, profile(name="web", ns=namespace, target="web"))
    wait_until(
        lambda: (
            (condition(get_json(crds, "wp", "web", "-n", namespace), "Ready") or {}).get("reason") == "PolicyNotFound"
        ),
        60,
        "Ready=False PolicyNotFound",
    )
    apply(crds, POLICY.format(ns=namespace, min=1, max=3))
    wait_until(
        lambda: (condition(get_json(crds, "wp", "web", "-n", namespace), "Ready") or {}).get("status") == "True",
        60,
        "Ready=True once the policy exists",
    )


def test_deployment_pods_land_on_kwok_nodes_and_become_ready(crds: LocalCluster, namespace: str) -> None:
    apply(crds, deployment("spread", namespace, 4))
    crds.kubectl("rollout", "status", "deployment/spread", "-n", namespace, "--timeout=120s")
    pods = get_json(crds, "pods", "-n", namespace, "-l", "app=spread")["items"]
    nodes = {n["metadata"]["name"] for n in get_json(crds, "nodes")["items"]}
    assert len(pods) == 4
    for pod in pods:
        assert pod["spec"]["nodeName"] in nodes
        assert pod["status"]["phase"] == "Running"
        assert condition(pod, "Ready")["status"] == "True"


def test_printer_columns(operator, crds: LocalCluster, namespace: str) -> None:
    apply(crds, POLICY.format(ns=namespace, min=1, max=5))
    apply(crds, deployment("cols", namespace, 1))
    apply(crds, profile(name="cols", ns=namespace, target="cols"))
    wait_until(
        lambda: (condition(get_json(crds, "wp", "cols", "-n", namespace), "Ready") or {}).get("status") == "True",
        60,
        "Ready",
    )
    out = crds.kubectl("get", "wp", "-n", namespace).stdout.splitlines()
    assert out[0].split() == ["NAME", "TARGET", "POLICY", "MODE", "REPLICAS", "DESIRED", "READY", "REASON", "AGE"]
    row = out[1].split()
    assert row[:4] == ["cols", "cols", "policy", "ForecastOnly"] and "True" in row and "TargetResolved" in row
    wide = crds.kubectl("get", "wp", "-n", namespace, "-o", "wide").stdout.splitlines()[0].split()
    assert "KIND" in wide


def test_operator_health_and_prometheus(operator, cluster: LocalCluster) -> None:
    _, health = operator
    assert httpx.get(health, timeout=5).status_code == 200
    query = 'up{job="kube-apiserver"}'

    def apiserver_scraped() -> bool:
        data = httpx.get(f"{cluster.prometheus_url}/api/v1/query", params={"query": query}, timeout=5).json()
        return any(r["value"][1] == "1" for r in data["data"]["result"])

    wait_until(apiserver_scraped, 60, "Prometheus scraping the API server")


def _has_event(cluster: LocalCluster, namespace: str, name: str, reason: str, type_: str) -> bool:
    return any(e["reason"] == reason and e["type"] == type_ for e in profile_events(cluster, namespace, name))


def test_any_kind_with_scale_subresource_is_a_target(operator, crds: LocalCluster, namespace: str) -> None:
    create_worker(crds, namespace, "w", 2, "app=worker")
    apply(crds, POLICY.format(ns=namespace, min=1, max=5))
    targets = {
        "worker": "{apiVersion: example.com/v1, kind: Worker, name: w}",
        "sts": "{apiVersion: apps/v1, kind: StatefulSet, name: db}",
        "cm": "{apiVersion: v1, kind: ConfigMap, name: settings}",
        "nokind": "{apiVersion: example.com/v1, kind: Gadget, name: g}",
    }
    apply(
        crds,
        f"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db, namespace: {namespace}}}\n"
        "spec:\n  replicas: 1\n  serviceName: db\n  selector: {matchLabels: {app: db}}\n"
        "  template:\n    metadata: {labels: {app: db}}\n"
        "    spec: {tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}],"
        " containers: [{name: db, image: example/db:1}]}\n",
    )
    apply(crds, f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: {namespace}}}\n")
    for name, ref in targets.items():
        apply(
            crds,
            "apiVersion: augur.dev/v1alpha1\nkind: WorkloadProfile\n"
            f"metadata: {{name: {name}, namespace: {namespace}}}\n"
            f"spec: {{scaleTargetRef: {ref}, policyRef: {{name: policy}}}}\n",
        )
    expected = {
        "worker": ("True", "TargetResolved"),
        "sts": ("True", "TargetResolved"),
        "cm": ("False", "TargetNotScalable"),
        "nokind": ("False", "TargetKindUnknown"),
    }

    def states() -> dict[str, tuple[str, str] | None]:
        return {name: condition_state(crds, namespace, name, "Ready") for name in expected}

    wait_until(lambda: states() == expected, 60, f"Ready conditions {expected}")
    worker = get_json(crds, "wp", "worker", "-n", namespace)["status"]
    assert worker["targetKind"] == "Worker" and worker["selector"] == "app=worker" and worker["currentReplicas"] == 2


def test_operator_needs_no_more_rbac_than_shipped(operator) -> None:
    """Runs last in this module: by now every handler has run under the chart's operator identity."""
    proc, _ = operator
    assert_log_clean(proc)
    assert proc.running()
