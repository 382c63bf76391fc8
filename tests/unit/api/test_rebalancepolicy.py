"""RebalancePolicy: defaults in the model and the generated schema, bounds, and the rebalancer's parameters."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from augur.api.crdgen import render_all
from augur.api.v1alpha1 import REBALANCE_POLICY, RebalancePolicySpec
from augur.migration.params import RebalanceParams


def test_defaults_are_the_documented_ones() -> None:
    spec = RebalancePolicySpec()
    assert spec.mode == "DryRun"
    assert spec.scheduling_interval == "30s"
    assert spec.rebalance_threshold == 20
    params = RebalanceParams.from_spec(spec)
    assert params == RebalanceParams()  # the pure defaults agree with the schema's


def test_parameters_from_a_spec() -> None:
    spec = RebalancePolicySpec.model_validate(
        {
            "rebalanceThreshold": 30,
            "consecutiveReadings": 5,
            "networkGainThreshold": 10,
            "cooldown": "1h",
            "limits": {"window": "5m", "maxMoves": 4, "maxMovesPerRun": 2},
        }
    )
    p = RebalanceParams.from_spec(spec)
    assert (p.threshold, p.readings, p.network_gain, p.cooldown, p.window, p.max_moves, p.max_per_run) == (
        0.30,
        5,
        0.10,
        3600.0,
        300.0,
        4,
        2,
    )


@pytest.mark.parametrize(
    "raw",
    [
        {"rebalanceThreshold": 0},
        {"rebalanceThreshold": 101},
        {"mode": "Sometimes"},
        {"limits": {"maxMoves": 2, "maxMovesPerRun": 3}},
        {"schedulingInterval": "0s"},
        {"schedulingInterval": "soon"},
        {"dryRun": True},
    ],
)
def test_bad_specs_are_rejected(raw: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RebalancePolicySpec.model_validate(raw)


def test_crd_is_cluster_scoped_with_defaults_and_cel() -> None:
    import yaml

    crd = yaml.safe_load(render_all([REBALANCE_POLICY])["augur.dev_rebalancepolicies.yaml"])
    assert crd["spec"]["scope"] == "Cluster"
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["properties"]["rebalanceThreshold"]["default"] == 20
    assert spec["properties"]["mode"]["default"] == "DryRun"
    assert spec["properties"]["limits"]["default"] == {}
    assert any("maxMovesPerRun" in rule["rule"] for rule in spec["x-kubernetes-validations"])
