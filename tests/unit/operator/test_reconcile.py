"""The reconcile decision for a WorkloadProfile, with an in-memory reader (pure logic only)."""

from __future__ import annotations

from typing import Any

import pytest

from augur.api.v1alpha1.workloadprofile import WorkloadProfileStatus
from augur.kube.resources import ScaleInfo, TargetError
from augur.operator.reconcile import reconcile_profile
from augur.operator.settings import OperatorSettings


class FakeReader:
    def __init__(self, scales: dict[str, ScaleInfo], policies: dict[str, dict[str, Any]]) -> None:
        self.scales, self.policies = scales, policies

    def get_scale(self, api_version: str, kind: str, name: str, namespace: str) -> ScaleInfo:
        if kind == "ConfigMap":
            raise TargetError("TargetNotScalable", "ConfigMap in v1 has no /scale subresource")
        if name not in self.scales:
            raise TargetError("TargetNotFound", f"{kind} {namespace}/{name} not found")
        return self.scales[name]

    def get_policy(self, name: str, namespace: str) -> dict[str, Any] | None:
        return self.policies.get(name)


def profile(spec: dict[str, Any], status: dict[str, Any] | None = None, generation: int = 3) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "ns", "generation": generation}, "spec": spec, "status": status}


WEB = ScaleInfo("Deployment", 3, 3, "app=web")
SPEC = {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "policyRef": {"name": "p"}}


def ready(outcome) -> dict[str, Any]:
    return next(c for c in outcome.status["conditions"] if c["type"] == "Ready")


def test_ready_true_with_resolved_target_and_policy_mode() -> None:
    reader = FakeReader({"web": WEB}, {"p": {"spec": {"maxReplicas": 9, "mode": "Auto"}}})
    outcome = reconcile_profile(profile(SPEC), reader)
    assert outcome.ready
    assert ready(outcome)["reason"] == "TargetResolved" and ready(outcome)["observedGeneration"] == 3
    assert outcome.status["selector"] == "app=web" and outcome.status["mode"] == "Auto"
    assert outcome.status["currentReplicas"] == 3 and outcome.status["observedGeneration"] == 3
    assert [e.type for e in outcome.events] == ["Normal"]
    assert "podRequests" not in outcome.status  # the target's template requests nothing


def test_the_pod_template_requests_are_written_as_quantities_rounded_up() -> None:
    sized = ScaleInfo("Deployment", 3, 3, "app=web", 3, (0.2501, 0.5))
    outcome = reconcile_profile(profile(SPEC), FakeReader({"web": sized}, {"p": {"spec": {"maxReplicas": 9}}}))
    assert outcome.status["podRequests"] == {"cpu": "251m", "memory": "524288Ki"}
    WorkloadProfileStatus.model_validate(outcome.status)  # what the schema takes


@pytest.mark.parametrize(
    ("spec", "policies", "reason", "message"),
    [
        (SPEC | {"scaleTargetRef": {"kind": "Deployment", "name": "gone"}}, {}, "TargetNotFound", "ns/gone not found"),
        (
            SPEC | {"scaleTargetRef": {"apiVersion": "v1", "kind": "ConfigMap", "name": "x"}},
            {},
            "TargetNotScalable",
            "/scale",
        ),
        (SPEC, {}, "PolicyNotFound", "ScalingPolicy ns/p not found"),
        (SPEC, {"p": {"spec": {"minReplicas": 5, "maxReplicas": 2}}}, "PolicyInvalid", "minReplicas must be less"),
        (
            {"scaleTargetRef": {"kind": "Deployment"}, "extra": 1},
            {},
            "InvalidSpec",
            "spec.scaleTargetRef.name: Field required",
        ),
    ],
)
def test_ready_false_reasons(spec, policies, reason, message) -> None:
    outcome = reconcile_profile(profile(spec), FakeReader({"web": WEB}, policies))
    assert not outcome.ready
    cond = ready(outcome)
    assert cond["status"] == "False" and cond["reason"] == reason and message in cond["message"]
    assert [(e.type, e.reason) for e in outcome.events] == [("Warning", reason)]


def test_invalid_spec_lists_every_error() -> None:
    outcome = reconcile_profile(profile({"scaleTargetRef": {"kind": "x"}, "extra": 1}), FakeReader({}, {}))
    message = ready(outcome)["message"]
    assert "spec.scaleTargetRef.kind" in message and "spec.scaleTargetRef.name" in message and "spec.extra" in message


def test_no_policy_means_forecast_only() -> None:
    outcome = reconcile_profile(
        profile({"scaleTargetRef": {"kind": "Deployment", "name": "web"}}), FakeReader({"web": WEB}, {})
    )
    assert outcome.ready and outcome.status["mode"] == "ForecastOnly"


def test_event_only_on_transition_and_recovery() -> None:
    reader = FakeReader({}, {"p": {"spec": {"maxReplicas": 9}}})
    first = reconcile_profile(profile(SPEC), reader)
    again = reconcile_profile(profile(SPEC, first.status), reader)
    assert first.events and not again.events
    reader.scales["web"] = WEB
    recovered = reconcile_profile(profile(SPEC, again.status), reader)
    assert recovered.ready and [e.reason for e in recovered.events] == ["TargetResolved"]


def test_settings_from_env_validate() -> None:
    s = OperatorSettings.from_env(
        {"AUGUR_RESYNC_SECONDS": "2", "AUGUR_NAMESPACES": "a, b", "AUGUR_LOG_FORMAT": "plain"}
    )
    assert s.resync_seconds == 2 and s.namespaces == ("a", "b") and s.log_format == "plain"
    with pytest.raises(ValueError, match="AUGUR_RESYNC_SECONDS"):
        OperatorSettings.from_env({"AUGUR_RESYNC_SECONDS": "0"})
    with pytest.raises(ValueError, match="AUGUR_LOG_FORMAT"):
        OperatorSettings.from_env({"AUGUR_LOG_FORMAT": "xml"})
    defaults = OperatorSettings.from_env({})
    assert (defaults.handler_threads, defaults.warmup_concurrency, defaults.status_refresh_seconds) == (32, 4, 300)
    tuned = OperatorSettings.from_env(
        {"AUGUR_HANDLER_THREADS": "32", "AUGUR_WARMUP_CONCURRENCY": "2", "AUGUR_STATUS_REFRESH_SECONDS": "0"}
    )
    assert (tuned.handler_threads, tuned.warmup_concurrency, tuned.status_refresh_seconds) == (32, 2, 0)
    with pytest.raises(ValueError, match="AUGUR_HANDLER_THREADS"):
        OperatorSettings.from_env({"AUGUR_HANDLER_THREADS": "0"})
    assert defaults.fit_nice == 10 and OperatorSettings.from_env({"AUGUR_FIT_NICE": "0"}).fit_nice == 0
    for bad in ("-1", "20"):
        with pytest.raises(ValueError, match="AUGUR_FIT_NICE"):
            OperatorSettings.from_env({"AUGUR_FIT_NICE": bad})
    assert (defaults.malloc_arenas, defaults.trim_seconds) == (2, 60.0)
    tuned = OperatorSettings.from_env({"AUGUR_MALLOC_ARENAS": "0", "AUGUR_TRIM_SECONDS": "0"})
    assert (tuned.malloc_arenas, tuned.trim_seconds) == (0, 0.0)
    for name in ("AUGUR_MALLOC_ARENAS", "AUGUR_TRIM_SECONDS", "AUGUR_SCALEDOBJECT_POLL_SECONDS"):
        with pytest.raises(ValueError, match=name):
            OperatorSettings.from_env({name: "-1"})
    assert defaults.malloc_mmap_threshold == 128 * 1024
    assert OperatorSettings.from_env({"AUGUR_MALLOC_MMAP_THRESHOLD": "0"}).malloc_mmap_threshold == 0
    for bad in ("-1", str(32 * 2**20 + 1)):
        with pytest.raises(ValueError, match="AUGUR_MALLOC_MMAP_THRESHOLD"):
            OperatorSettings.from_env({"AUGUR_MALLOC_MMAP_THRESHOLD": bad})
    assert defaults.scaledobject_poll_seconds == 30.0
    assert OperatorSettings.from_env({"AUGUR_SCALEDOBJECT_POLL_SECONDS": "0"}).scaledobject_poll_seconds == 0.0


def _traffic_query(values: dict[str, float | Exception]):
    def query(q: str):
        from augur.prom.client import Sample

        v = values[q]
        if isinstance(v, Exception):
            raise v
        return [Sample({}, v / 2), Sample({}, v / 2)]

    return query


def test_traffic_queries_fill_status_and_fall_back_to_last_values() -> None:
    from augur.prom.client import PromError

    spec = {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"},
        "dependencies": [{"name": "api", "traffic": 5, "trafficQuery": "q_api"}, {"name": "cache", "traffic": 1}],
    }
    reader = FakeReader({"web": WEB}, {})
    first = reconcile_profile(profile(spec), reader, _traffic_query({"q_api": 42.0}))
    assert [(e["name"], e["traffic"]) for e in first.status["traffic"]] == [("api", 42.0)]
    cond = next(c for c in first.status["conditions"] if c["type"] == "TrafficMeasured")
    assert cond["status"] == "True" and {e.reason for e in first.events} == {"TargetResolved", "Measured"}

    down = PromError("PrometheusUnavailable", "cannot reach Prometheus")
    later = reconcile_profile(profile(spec, first.status), reader, _traffic_query({"q_api": down}))
    assert later.status["traffic"] == first.status["traffic"]  # last good value kept
    cond = next(c for c in later.status["conditions"] if c["type"] == "TrafficMeasured")
    assert cond["status"] == "False" and cond["reason"] == "PrometheusUnavailable" and "keeping" in cond["message"]
    assert [e.reason for e in later.events] == ["PrometheusUnavailable"]


def test_traffic_without_prometheus_says_so_and_without_queries_stays_silent() -> None:
    spec = {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"},
        "dependencies": [{"name": "a", "trafficQuery": "q"}],
    }
    out = reconcile_profile(profile(spec), FakeReader({"web": WEB}, {}), None)
    cond = next(c for c in out.status["conditions"] if c["type"] == "TrafficMeasured")
    assert cond["reason"] == "PrometheusNotConfigured" and out.status["traffic"] == []
    plain = reconcile_profile(
        profile({"scaleTargetRef": {"kind": "Deployment", "name": "web"}}), FakeReader({"web": WEB}, {})
    )
    assert all(c["type"] != "TrafficMeasured" for c in plain.status["conditions"])


def test_api_refusals_become_conditions_and_transient_failures_propagate() -> None:
    from augur.kube.client import ApiStatus, KubeError

    class Refusing(FakeReader):
        def __init__(self, code: int) -> None:
            super().__init__({}, {})
            self.code = code

        def get_scale(self, api_version: str, kind: str, name: str, namespace: str) -> ScaleInfo:
            raise KubeError(f"reading {kind} {namespace}/{name}/scale", ApiStatus(self.code, "Forbidden", "no rbac"))

    outcome = reconcile_profile(profile(SPEC), Refusing(403))
    cond = ready(outcome)
    assert cond["reason"] == "TargetUnreadable" and "403 Forbidden: no rbac" in cond["message"]
    with pytest.raises(KubeError):
        reconcile_profile(profile(SPEC), Refusing(503))
