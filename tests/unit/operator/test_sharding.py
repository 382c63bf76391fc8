"""Shard selector → kopf label filter, evaluated as Kubernetes evaluates label selectors."""

from __future__ import annotations

import pytest

from augur.operator.sharding import kopf_labels


def matches(selector: str, labels: dict[str, str]) -> bool:
    return all(check(labels.get(key)) for key, check in kopf_labels(selector).items())


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("", {}, True),
        ("augur.dev/shard=a", {"augur.dev/shard": "a"}, True),
        ("augur.dev/shard==a", {"augur.dev/shard": "b"}, False),
        ("augur.dev/shard=a", {}, False),
        ("shard!=a", {}, True),
        ("shard!=a", {"shard": "a"}, False),
        ("shard", {"shard": ""}, True),
        ("shard", {}, False),
        ("!shard", {}, True),
        ("!shard", {"shard": "x"}, False),
        ("shard in (a, b)", {"shard": "b"}, True),
        ("shard in (a,b)", {"shard": "c"}, False),
        ("shard in (a,b)", {}, False),
        ("shard notin (a,b)", {}, True),
        ("shard notin (a,b)", {"shard": "a"}, False),
        ("team=x, shard in (a,b)", {"team": "x", "shard": "a"}, True),
        ("team=x,shard in (a,b)", {"team": "y", "shard": "a"}, False),
        ("shard, shard!=a", {"shard": "b"}, True),
        ("shard, shard!=a", {}, False),
    ],
)
def test_selector_semantics(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert matches(selector, labels) is expected


@pytest.mark.parametrize("bad", ["a=b=c", "shard in a,b", "=x", "sh ard"])
def test_bad_selectors_name_the_requirement(bad: str) -> None:
    with pytest.raises(ValueError, match="AUGUR_SHARD_SELECTOR"):
        kopf_labels(bad)


def test_settings_reject_a_bad_selector_and_read_the_lease_settings() -> None:
    from augur.operator.settings import OperatorSettings

    with pytest.raises(ValueError, match="AUGUR_SHARD_SELECTOR"):
        OperatorSettings.from_env({"AUGUR_SHARD_SELECTOR": "a=b=c"})
    s = OperatorSettings.from_env(
        {
            "AUGUR_SHARD_SELECTOR": "shard=a",
            "AUGUR_LEADER_ELECTION": "true",
            "POD_NAMESPACE": "ops",
            "AUGUR_LEASE_NAME": "augur-shard-a",
            "AUGUR_METRICS": "",
        }
    )
    assert s.shard_selector == "shard=a" and s.leader_election and s.lease_namespace == "ops"
    assert s.lease_name == "augur-shard-a" and s.metrics == "" and s.lease_timing.duration == 15
    with pytest.raises(ValueError, match="AUGUR_LEADER_ELECTION"):
        OperatorSettings.from_env({"AUGUR_LEADER_ELECTION": "maybe"})
    with pytest.raises(ValueError, match="AUGUR_METRICS"):
        OperatorSettings.from_env({"AUGUR_METRICS": "localhost"})
    with pytest.raises(ValueError, match="lease timing"):
        OperatorSettings.from_env({"AUGUR_LEASE_RENEW_DEADLINE_SECONDS": "20"})
