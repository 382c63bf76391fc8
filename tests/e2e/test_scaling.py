"""Live predictive scaling on the real control plane and a real Prometheus.

Demand comes from PromQL that Prometheus itself evaluates at every step of a range query
(``400 + 300 * sin(2 pi t / 1 h)`` from ``time()``), so weeks of "history" exist without backfilling and every
read is a real range query; other queries break it on purpose (PromQL error, several series, nothing).
The operator runs as the chart's operator ServiceAccount (session fixture).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx
import pytest

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.procs import wait_until

from .conftest import (
    apply,
    assert_log_clean,
    condition_state,
    create_worker,
    deployment,
    deployment_replicas,
    get_json,
    profile,
    profile_events,
)

DEMAND = "400 + 300 * sin(vector(2 * pi() * time() / 3600))"
SEVERAL = 'label_replace(vector(1), "part", "a", "", "") or label_replace(vector(2), "part", "b", "", "")'

POLICY = """
apiVersion: augur.dev/v1alpha1
kind: ScalingPolicy
metadata: {{name: {name}, namespace: {ns}}}
spec:
  mode: "{mode}"
  minReplicas: 1
  maxReplicas: 20
  leadTime: 2m
  history: 6h
  decisionInterval: 4s
  metricsOutageFallback: Hold
"""


def scaled_profile(name: str, ns: str, target: str, policy: str, query: str) -> str:
    demand = f"{{query: '{query}', capacityPerReplica: 50, unit: req/s, step: 1m}}"
    return profile(name, ns, target, policy) + f"  demand: {demand}\n"


def setup(cluster: LocalCluster, ns: str, name: str, mode: str, query: str = DEMAND, replicas: int = 1) -> None:
    apply(cluster, deployment(name, ns, replicas))
    apply(cluster, POLICY.format(name=name, ns=ns, mode=mode))
    apply(cluster, scaled_profile(name=name, ns=ns, target=name, policy=name, query=query))


def status(cluster: LocalCluster, ns: str, name: str) -> dict[str, Any]:
    return get_json(cluster, "wp", name, "-n", ns).get("status") or {}


def has_event(cluster: LocalCluster, ns: str, name: str, why: str, text: str = "") -> bool:
    return any(e["reason"] == why and text in e.get("message", "") for e in profile_events(cluster, ns, name))


def predictive(cluster: LocalCluster, ns: str, name: str) -> bool:
    s = status(cluster, ns, name)
    return (s.get("lastDecision") or {}).get("kind") == "Predictive" and bool((s.get("forecast") or {}).get("model"))


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_forecast_only_fills_status_and_never_writes(operator, crds: LocalCluster, namespace: str) -> None:
    setup(crds, namespace, "fo", "ForecastOnly")
    wait_until(lambda: predictive(crds, namespace, "fo"), 180, "a forecast-based decision in status")
    s = status(crds, namespace, "fo")
    assert deployment_replicas(crds, namespace, "fo") == 1
    assert s["lastDecision"]["acted"] is False and s["desiredReplicas"] >= 2  # demand 100..700, 40/replica
    assert condition_state(crds, namespace, "fo", "Scaling") == ("False", "ForecastOnly")
    assert condition_state(crds, namespace, "fo", "MetricsAvailable") == ("True", "DemandRead")
    forecast = s["forecast"]
    assert forecast["peakUpper"] >= forecast["peakP50"] > 0 and forecast["horizonSeconds"] == 3600
    assert s["leadTimeSeconds"] == 120 and s["readyReplicas"] >= 0 and 90 <= s["demand"] <= 710
    assert 3600 in s["fingerprint"]["periodsSeconds"]
    wait_until(lambda: has_event(crds, namespace, "fo", "ScaleRecommended", "would scale 1 → "), 60, "recommendation")
    cm = get_json(crds, "configmap", "augur-state-fo", "-n", namespace)
    owner = cm["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "WorkloadProfile" and owner["name"] == "fo" and "state.json.gz" in cm["binaryData"]
    deploy = get_json(crds, "deployment", "fo", "-n", namespace, "--show-managed-fields")
    assert all(m["manager"] != "augur" for m in deploy["metadata"]["managedFields"])
    wide = crds.kubectl("get", "wp", "fo", "-n", namespace, "-o", "wide").stdout.splitlines()
    header, row = wide[0].split(), wide[1].split()
    assert {"MODEL", "PEAK", "LEAD", "METRICS"} <= set(header)
    assert row[header.index("MODEL")] == forecast["model"] and row[header.index("METRICS")] == "True"


def test_off_does_nothing(operator, crds: LocalCluster, namespace: str) -> None:
    setup(crds, namespace, "idle", "Off", replicas=2)
    wait_until(
        lambda: condition_state(crds, namespace, "idle", "Scaling") == ("False", "ModeOff"), 60, "Scaling=False ModeOff"
    )
    time.sleep(10)  # several cadences
    s = status(crds, namespace, "idle")
    assert "desiredReplicas" not in s and "forecast" not in s and "lastDecision" not in s
    assert condition_state(crds, namespace, "idle", "MetricsAvailable") == ("Unknown", "ModeOff")
    assert deployment_replicas(crds, namespace, "idle") == 2
    assert crds.kubectl("get", "configmap", "augur-state-idle", "-n", namespace, check=False).returncode != 0


def test_auto_scales_a_kwok_deployment_through_scale(operator, crds: LocalCluster, namespace: str) -> None:
    setup(crds, namespace, "auto", "Auto")

    def scaled() -> bool:
        s = status(crds, namespace, "auto")
        return deployment_replicas(crds, namespace, "auto") == s.get("desiredReplicas", -1) > 1

    wait_until(scaled, 180, "the Deployment scaled to the desired replicas")
    wait_until(lambda: has_event(crds, namespace, "auto", "Scaled", "scaling 1 → "), 30, "a Scaled Event")
    message = next(e["message"] for e in profile_events(crds, namespace, "auto") if e["reason"] == "Scaled")
    assert "needs" in message and "at 80% target" in message
    deploy = get_json(crds, "deployment", "auto", "-n", namespace, "--show-managed-fields")
    scale_writes = [m for m in deploy["metadata"]["managedFields"] if m["manager"] == "augur"]
    assert scale_writes and all(m["operation"] == "Apply" and m.get("subresource") == "scale" for m in scale_writes)
    assert condition_state(crds, namespace, "auto", "Scaling")[0] == "True"
    crds.kubectl("rollout", "status", "deployment/auto", "-n", namespace, "--timeout=120s")


def test_auto_scales_a_custom_resource_through_scale(operator, crds: LocalCluster, namespace: str) -> None:
    """A custom resource's /scale refuses server-side apply; Augur writes it by merge patch instead."""
    create_worker(crds, namespace, "cr", 1, "app=cr")
    apply(crds, POLICY.format(name="cr", ns=namespace, mode="Auto"))
    manifest = scaled_profile(name="cr", ns=namespace, target="cr", policy="cr", query=DEMAND)
    apply(
        crds, manifest.replace("{apiVersion: apps/v1, kind: Deployment,", "{apiVersion: example.com/v1, kind: Worker,")
    )

    def worker_replicas() -> int:
        return int(get_json(crds, "worker", "cr", "-n", namespace)["spec"]["replicas"])

    def scaled() -> bool:
        return worker_replicas() == status(crds, namespace, "cr").get("desiredReplicas", -1) > 1

    wait_until(scaled, 180, "the Worker scaled to the desired replicas through /scale")
    worker = get_json(crds, "worker", "cr", "-n", namespace, "--show-managed-fields")
    writes = [m for m in worker["metadata"]["managedFields"] if m["manager"] == "augur"]
    # Update, not Apply: the merge patch that stands in for the apply this API server refuses.
    assert writes and all(m.get("subresource") == "scale" and m["operation"] == "Update" for m in writes)
    assert condition_state(crds, namespace, "cr", "Scaling")[0] == "True"
    assert not has_event(crds, namespace, "cr", "ScaleFailed")


def test_prometheus_outage_falls_back_and_recovers(operator, crds: LocalCluster, namespace: str) -> None:
    setup(crds, namespace, "outage", "Auto")
    wait_until(lambda: predictive(crds, namespace, "outage"), 180, "a forecast-based decision")
    crds.restart_prometheus(start=False)
    try:
        wait_until(
            lambda: (
                condition_state(crds, namespace, "outage", "MetricsAvailable") == ("False", "PrometheusUnavailable")
            ),
            60,
            "MetricsAvailable=False PrometheusUnavailable",
        )
        held = deployment_replicas(crds, namespace, "outage")
        assert condition_state(crds, namespace, "outage", "Scaling") == ("True", "MetricsFallback")
        wait_until(lambda: has_event(crds, namespace, "outage", "PrometheusUnavailable"), 30, "outage Event")
        time.sleep(8)
        assert deployment_replicas(crds, namespace, "outage") == held >= 1
        assert status(crds, namespace, "outage")["lastDecision"]["kind"] == "Fallback"
    finally:
        crds.restart_prometheus()  # same port and data; waits until ready
    wait_until(
        lambda: condition_state(crds, namespace, "outage", "MetricsAvailable") == ("True", "DemandRead"), 90, "recovery"
    )
    wait_until(lambda: has_event(crds, namespace, "outage", "DemandRead"), 30, "recovery Event")
    wait_until(lambda: predictive(crds, namespace, "outage"), 60, "predictive again")
    warnings = [e for e in profile_events(crds, namespace, "outage") if e["reason"] == "PrometheusUnavailable"]
    assert len(warnings) == 1 and warnings[0]["type"] == "Warning" and warnings[0].get("count", 1) == 1


def test_operator_restart_keeps_learned_state(operator, crds: LocalCluster, namespace: str) -> None:
    proc, health = operator
    setup(crds, namespace, "keep", "ForecastOnly")
    wait_until(lambda: predictive(crds, namespace, "keep"), 180, "a fitted model")
    wait_until(lambda: (status(crds, namespace, "keep").get("learned") or {}).get("model"), 60, "state saved")
    before = status(crds, namespace, "keep")
    model, fitted_at = before["forecast"]["model"], _ts(before["learned"]["fittedAt"])
    restarted = time.time()
    proc.restart()
    crds.write_state()
    wait_until(lambda: httpx.get(health, timeout=2).status_code == 200, 60, "operator liveness", proc)

    def restored() -> bool:
        s = status(crds, namespace, "keep")
        at = (s.get("learned") or {}).get("restoredAt")
        decided = _ts((s.get("lastDecision") or {}).get("time", "1970-01-01T00:00:00Z"))
        return at is not None and _ts(at) >= restarted - 1 and decided >= restarted - 1

    wait_until(restored, 120, "the first decision after the restart", proc)
    after = status(crds, namespace, "keep")
    assert after["lastDecision"]["kind"] == "Predictive" and after["forecast"]["model"] == model
    # the restored model, no new fit (status times are rounded to the second, hence the + 1)
    assert _ts(after["learned"]["fittedAt"]) == fitted_at < restarted + 1
    assert has_event(crds, namespace, "keep", "StateRestored", f"restored model {model}")
    assert condition_state(crds, namespace, "keep", "Scaling") == ("False", "ForecastOnly")


@pytest.mark.parametrize(
    ("query", "expected"),
    [("sum(", "QueryInvalid"), (SEVERAL, "MultipleSeries"), ("augur_e2e_metric_that_does_not_exist", "NoData")],
)
def test_bad_queries_are_reported_and_nothing_is_written(
    operator, crds: LocalCluster, namespace: str, query: str, expected: str
) -> None:
    setup(crds, namespace, "bad", "Auto", query=query, replicas=2)
    wait_until(
        lambda: condition_state(crds, namespace, "bad", "MetricsAvailable") == ("False", expected),
        60,
        f"{expected} reported",
    )
    wait_until(lambda: has_event(crds, namespace, "bad", expected), 30, f"{expected} Event")
    time.sleep(6)
    s = status(crds, namespace, "bad")
    assert deployment_replicas(crds, namespace, "bad") == 2 and s["desiredReplicas"] == 2
    assert s["lastDecision"]["kind"] == "Fallback" and "forecast" not in s


def test_missing_target_and_invalid_policy(operator, crds: LocalCluster, namespace: str) -> None:
    apply(crds, POLICY.format(name="p", ns=namespace, mode="Auto"))
    apply(crds, scaled_profile(name="lost", ns=namespace, target="lost", policy="p", query=DEMAND))
    wait_until(
        lambda: condition_state(crds, namespace, "lost", "Ready") == ("False", "TargetNotFound"), 60, "TargetNotFound"
    )
    wait_until(
        lambda: condition_state(crds, namespace, "lost", "Scaling") == ("False", "NotReady"), 30, "Scaling NotReady"
    )
    assert "desiredReplicas" not in status(crds, namespace, "lost")
    bad = POLICY.format(name="inverted", ns=namespace, mode="Auto").replace("minReplicas: 1", "minReplicas: 30")
    refused = apply(crds, bad, check=False)
    assert refused.returncode != 0 and "minReplicas must be less than or equal to maxReplicas" in refused.stderr


def test_no_rbac_denials_or_tracebacks(operator) -> None:
    """Runs last in this module: the scaling paths ran under the chart's operator identity."""
    proc, _ = operator
    assert_log_clean(proc)
