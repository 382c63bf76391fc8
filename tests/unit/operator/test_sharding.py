"""Shard selector → kopf label filter, evaluated as Kubernetes evaluates label selectors."""

from __future__ import annotations

import re

import pytest

from augur.operator.sharding import (
    FINALIZER,
    LEGACY_FINALIZER,
    carries_stale_finalizers,
    finalizer,
    kopf_labels,
    stale_finalizers,
)


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


def test_each_shard_has_its_own_valid_finalizer_whatever_the_order_of_its_requirements() -> None:
    assert finalizer("") == FINALIZER == "augur.dev/scaler"
    shard0, shard1 = finalizer("augur.dev/shard=0"), finalizer("augur.dev/shard=1")
    assert len({FINALIZER, shard0, shard1}) == 3
    assert finalizer("a=1, tier in (x, y)") == finalizer("tier  in (x, y),a=1")
    qualified = re.compile(r"^augur\.dev/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
    assert all(qualified.match(f) for f in (FINALIZER, shard0, shard1))


def test_stale_finalizers_are_other_augur_ones_only() -> None:
    own, other = finalizer("augur.dev/shard=0"), finalizer("augur.dev/shard=1")
    on_profile = [LEGACY_FINALIZER, own, other, FINALIZER, "example.com/keep", "augur.dev/other-thing"]
    assert stale_finalizers(on_profile, own) == (LEGACY_FINALIZER, other, FINALIZER)
    assert stale_finalizers([own, "example.com/keep"], own) == ()
    assert stale_finalizers([FINALIZER], FINALIZER) == ()


def test_only_events_of_objects_with_stale_finalizers_reach_the_finalizer_handlers() -> None:
    # Every other watch event (status applies: several per second at 1,000 profiles) is filtered out
    # before kopf calls the handler, so kopf does not log a "succeeded" line for each of them.
    own = finalizer("augur.dev/shard=a")
    when = carries_stale_finalizers(own)
    stale = {"metadata": {"finalizers": [own, LEGACY_FINALIZER]}}
    assert when(stale, type="MODIFIED") and when(stale, type=None)
    assert not when(stale, type="DELETED")
    assert not when({"metadata": {"finalizers": [own, "example.com/keep"]}}, type="MODIFIED")
    assert not when({"metadata": {}}, type="ADDED")
    assert carries_stale_finalizers("")({"metadata": {"finalizers": [FINALIZER]}}, type="MODIFIED")
