"""The learned-state ConfigMap: names within limits, payload encoding round trips (the API calls are
exercised by the e2e tests)."""

from __future__ import annotations

import math

from augur.kube.statestore import config_map_name, decode, encode


def test_names_fit_the_limit_and_stay_unique() -> None:
    assert config_map_name("web") == "augur-state-web"
    long_a, long_b = "a" * 250 + "x", "a" * 250 + "y"
    assert len(config_map_name(long_a)) <= 253 and config_map_name(long_a) != config_map_name(long_b)


def test_payload_round_trip_keeps_infinities_and_nested_data() -> None:
    data = {"anomaly": {"low": math.inf, "high": -math.inf}, "model": {"season": [1.5, None, 2.0]}, "version": 1}
    back = decode(encode(data))
    assert back["anomaly"]["low"] == math.inf and back["model"] == data["model"] and back["version"] == 1
    assert encode(data) == encode(data)  # deterministic (no timestamp in the gzip header)
