from __future__ import annotations

from datetime import UTC, datetime

import yaml

from augur.api.v1alpha1.scalingpolicy import ScalingPolicySpec
from augur.api.v1alpha1.workloadprofile import WorkloadProfileSpec
from augur.devcluster import kwok
from augur.devcluster.scenario import demo_scenario, manifests


def test_demo_scenario_replays_a_wednesday_morning_at_24x() -> None:
    s = demo_scenario()
    assert s.compression == 24.0
    first = datetime.fromtimestamp(s.first_live_time(), UTC)
    assert (first.strftime("%a"), first.hour, first.minute) == ("Wed", 6, 50)
    assert s.pod_ready_wall() == (2.5, 5.0)
    assert s.history_steps + s.live_steps <= s.trace.steps
    assert s.live_steps * s.seconds_per_step <= 300  # a few minutes


def test_manifests_two_variants_same_query_compressed_durations() -> None:
    s = demo_scenario()
    docs = list(yaml.safe_load_all(manifests(s, 'augur_demand{trace="web"}')))
    kinds = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert kinds.count(("Deployment", "web-augur")) == 1 and kinds.count(("Deployment", "web-reactive")) == 1
    policies = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "ScalingPolicy"}
    assert policies["web-augur"]["predictive"] is True and policies["web-reactive"]["predictive"] is False
    for spec in policies.values():
        assert spec["mode"] == "Auto"
        assert spec["leadTime"] == "15s"  # 360 s of trace time at 24x
        assert spec["behavior"]["scaleDown"]["stabilizationWindow"] == "13s"
        assert spec["decisionInterval"] == "5s"  # one trace step
        ScalingPolicySpec.model_validate(spec)
    profiles = [d for d in docs if d["kind"] == "WorkloadProfile"]
    for p in profiles:
        spec = WorkloadProfileSpec.model_validate(p["spec"])
        assert spec.demand is not None and spec.demand.query == 'augur_demand{trace="web"}'
        assert spec.demand.step == "5s"
    pods = [d["spec"]["template"]["metadata"]["annotations"] for d in docs if d["kind"] == "Deployment"]
    assert all(a == kwok.delay_annotations(2.5, 5) for a in pods)
