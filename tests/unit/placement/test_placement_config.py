from __future__ import annotations

import pytest

from augur.api.v1alpha1.networktopology import NetworkTopologySpec, NetworkTopologyStatus
from augur.api.v1alpha1.workloadprofile import WorkloadProfileSpec
from augur.api.validation import SpecError
from augur.placement import ScoringConfig, parse_config, rules_from_api, topology_from_api


def test_defaults_are_valid() -> None:
    assert ScoringConfig().validate() == []
    assert ScoringConfig.from_dict({"proximity": {"weight": 3}}).proximity.weight == 3.0


def test_validation_lists_every_error_at_once() -> None:
    raw = {
        "load": {"weight": -1, "utilizationWeight": 2, "bogus": 1},
        "affinity": {"bonus": "lots"},
        "spread": {"weight": -2},
        "magic": {},
    }
    config, errors = parse_config(raw)
    assert config is None
    paths = sorted(e.path for e in errors)
    assert paths == [
        "scoring.affinity.bonus",
        "scoring.load.bogus",
        "scoring.load.utilizationWeight",
        "scoring.load.weight",
        "scoring.magic",
        "scoring.spread.weight",
    ]
    _, errors = parse_config({"load": {"weight": -1, "utilizationWeight": 2}, "normalization": "Sideways"})
    assert sorted(e.path for e in errors) == [
        "scoring.load.utilizationWeight",
        "scoring.load.weight",
        "scoring.normalization",
    ]
    with pytest.raises(SpecError) as exc:
        ScoringConfig.from_dict({"spread": {"weight": -2}, "load": {"weight": -1}})
    assert len(exc.value.errors) == 2


def test_plan_switches_take_booleans_only() -> None:
    """``plan.provisionalPlans``, ``podRequestsFromStatus``, ``repairAfterFullPlan``, ``provisionalUpdates`` and
    ``repairProvisionalPlans`` (all on by default) can each be turned off; anything but a boolean is an error
    naming the field, never read as truthy."""
    default = ScoringConfig().plan
    assert default.provisional_plans and default.pod_requests_from_status and default.repair_after_full_plan
    assert default.provisional_updates and default.settings().provisional_updates
    assert default.repair_provisional_plans
    switches = {"provisionalPlans": False, "podRequestsFromStatus": False, "repairAfterFullPlan": False}
    more = {"provisionalUpdates": False, "repairProvisionalPlans": False}
    off = ScoringConfig.from_dict({"plan": {**switches, **more}}).plan
    assert not off.provisional_plans and not off.pod_requests_from_status and not off.repair_after_full_plan
    assert not off.provisional_updates and not off.settings().provisional_updates
    assert not off.repair_provisional_plans
    bad = dict(zip([*switches, *more], ("yes", 1, 0, "no", None), strict=True))
    _, errors = parse_config({"plan": bad})
    assert sorted(e.path for e in errors) == [
        "scoring.plan.podRequestsFromStatus",
        "scoring.plan.provisionalPlans",
        "scoring.plan.provisionalUpdates",
        "scoring.plan.repairAfterFullPlan",
        "scoring.plan.repairProvisionalPlans",
    ]
    assert all("true or false" in e.message for e in errors)
    on = ScoringConfig.from_dict({"plan": {"provisionalBeforeKicks": True}}).plan
    assert not default.provisional_before_kicks and on.settings().provisional_before_kicks  # off by default
    _, errors = parse_config({"plan": {"provisionalBeforeKicks": "yes"}})
    assert [e.path for e in errors] == ["scoring.plan.provisionalBeforeKicks"]
    on = ScoringConfig.from_dict({"plan": {"provisionalDuringKicks": True}}).plan
    assert not default.provisional_during_kicks and on.settings().provisional_during_kicks  # off by default
    _, errors = parse_config({"plan": {"provisionalDuringKicks": "yes"}})
    assert [e.path for e in errors] == ["scoring.plan.provisionalDuringKicks"]
    kicks = ScoringConfig.from_dict({"plan": {"firstKicks": 0}}).plan
    assert default.settings().first_kicks == 25 and kicks.settings().first_kicks == 0  # 25 by default
    for bad_kicks in (-1, 100_001):
        _, errors = parse_config({"plan": {"firstKicks": bad_kicks}})
        assert [e.path for e in errors] == ["scoring.plan.firstKicks"]
    on = ScoringConfig.from_dict({"plan": {"startBeforeFirstKicks": True}}).plan
    assert not default.start_before_first_kicks and on.settings().start_before_first_kicks  # off by default
    _, errors = parse_config({"plan": {"startBeforeFirstKicks": "yes"}})
    assert [e.path for e in errors] == ["scoring.plan.startBeforeFirstKicks"]
    limited = ScoringConfig.from_dict({"plan": {"searchSeconds": 2.5}}).plan
    assert default.settings().search_seconds == 0 and limited.settings().search_seconds == 2.5  # no limit by default
    for bad_seconds in (-1, 3601, "soon"):
        _, errors = parse_config({"plan": {"searchSeconds": bad_seconds}})
        assert [e.path for e in errors] == ["scoring.plan.searchSeconds"]
    fresh = ScoringConfig.from_dict({"plan": {"maxAgeSeconds": 12.5}}).plan
    assert fresh.settings().refresh_seconds == 10  # on by default: 0.8 x maxAgeSeconds
    off = ScoringConfig.from_dict({"plan": {"refreshProvisionalPlans": False}}).plan
    assert default.settings().refresh_seconds == 8 and off.settings().refresh_seconds == 0
    _, errors = parse_config({"plan": {"refreshProvisionalPlans": "yes"}})
    assert [e.path for e in errors] == ["scoring.plan.refreshProvisionalPlans"]


def test_all_weights_zero_is_an_error() -> None:
    zero = {n: {"weight": 0} for n in ("load", "proximity", "affinity", "colocation", "spread", "packing", "plan")}
    _, errors = parse_config(zero)
    assert [e.message for e in errors] == ["at least one component weight must be > 0"]


def test_topology_from_api_uses_overrides_and_measured_matrix() -> None:
    spec = NetworkTopologySpec.model_validate(
        {
            "levels": {"sameZone": 5, "sameRegion": 30, "crossRegion": 90},
            "overrides": [
                {"scope": "Zone", "from": "a", "to": "b", "distance": 20},
                {"scope": "Region", "from": "east", "to": "west", "distance": 80},
                {"scope": "Node", "from": "n1", "to": "n2", "distance": 1},
            ],
        }
    )
    status = NetworkTopologyStatus.model_validate({"matrix": {"zones": ["a", "c"], "distances": [[5, 60], [60, 5]]}})
    topo = topology_from_api(spec, status)
    assert topo.levels.same_zone == 5
    assert topo.zones == {("a", "b"): 20.0, ("a", "c"): 60.0}
    assert topo.regions == {("east", "west"): 80.0}
    assert topo.nodes == {("n1", "n2"): 1.0}


def test_rules_from_api_resolves_workload_keys() -> None:
    spec = WorkloadProfileSpec.model_validate(
        {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "dependencies": [{"name": "api", "traffic": 5}, {"name": "db", "namespace": "data", "maxDistance": 40}],
            "placement": {"avoidZones": ["c"], "colocateWith": ["cache"], "requiredAvoidance": True},
        }
    )
    rules = rules_from_api("shop", "web", spec)
    assert rules.key == "shop/web"
    assert [(d.peer, d.traffic, d.max_distance) for d in rules.dependencies] == [
        ("shop/api", 5.0, None),
        ("data/db", 1.0, 40),
    ]
    assert rules.avoid_zones == frozenset({"c"})
    assert rules.colocate_with == frozenset({"shop/cache"})
    assert rules.required_avoidance
