"""Lead time from pods: rolling percentile, each startup counted once, serialisable state."""

from __future__ import annotations

import json

import numpy as np
import pytest

from augur.kube.pods import startup_of
from augur.scaling.leadtime import LeadTimeState, PodStartup, estimate, observe


def startups(durations: list[float], start: float = 1000.0) -> list[PodStartup]:
    return [PodStartup(f"u{i}", start + 10 * i, d) for i, d in enumerate(durations)]


def test_percentile_of_the_last_window() -> None:
    durations = [float(x) for x in range(1, 31)]  # 30 startups, window keeps the last 20: 11..30
    state = observe(LeadTimeState(), startups(durations), window=20)
    assert state.samples == tuple(durations[-20:])
    assert estimate(state, 0.9) == pytest.approx(float(np.quantile(durations[-20:], 0.9)))
    assert estimate(state, 0.5) == pytest.approx(20.5)


def test_needs_min_samples() -> None:
    state = observe(LeadTimeState(), startups([60.0, 70.0]))
    assert estimate(state) is None
    assert estimate(observe(state, startups([80.0], start=2000))) == pytest.approx(78.0)


def test_rereading_the_same_pods_counts_nothing_twice() -> None:
    pods = startups([60.0, 70.0, 80.0])
    state = observe(LeadTimeState(), pods)
    assert observe(state, pods) == state
    later = [*pods, PodStartup("u9", 5000.0, 95.0)]
    assert observe(state, later).samples == (60.0, 70.0, 80.0, 95.0)


def test_same_second_ready_pods_read_in_two_passes_count_once_each() -> None:
    a, b = PodStartup("a", 1000.0, 60.0), PodStartup("b", 1000.0, 61.0)
    state = observe(LeadTimeState(), [a])
    state = observe(state, [a, b])
    assert state.samples == (60.0, 61.0) and set(state.at_watermark) == {"a", "b"}
    assert observe(state, [a, b]) == state


def test_implausible_durations_are_ignored_but_advance_the_watermark() -> None:
    state = observe(LeadTimeState(), [PodStartup("x", 1000.0, -5.0), PodStartup("y", 1001.0, 99999.0)])
    assert state.samples == () and state.watermark == 1001.0


def test_state_round_trips_through_json_and_survives_garbage() -> None:
    state = observe(LeadTimeState(), startups([60.0, 70.0, 80.0]))
    assert LeadTimeState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    assert LeadTimeState.from_dict(None) == LeadTimeState()
    assert LeadTimeState.from_dict({"samples": ["x"]}) == LeadTimeState()


def pod(ready: str | None, restarts: int = 0, created: str = "2026-01-01T00:00:00Z", **meta: str) -> dict[str, object]:
    conditions = [] if ready is None else [{"type": "Ready", "status": "True", "lastTransitionTime": ready}]
    return {
        "metadata": {"uid": "u1", "name": "p", "creationTimestamp": created, **meta},
        "status": {"conditions": conditions, "containerStatuses": [{"restartCount": restarts}]},
    }


def test_startup_of_a_pod() -> None:
    s = startup_of(pod("2026-01-01T00:01:35Z"))
    assert s is not None and s.seconds == 95.0 and s.uid == "u1"
    assert startup_of(pod(None)) is None
    assert startup_of(pod("2026-01-01T00:01:35Z", restarts=1)) is None
    assert startup_of(pod("2026-01-01T00:01:35Z", deletionTimestamp="2026-01-01T00:02:00Z")) is None
    not_ready = pod("2026-01-01T00:01:35Z")
    not_ready["status"]["conditions"][0]["status"] = "False"  # type: ignore[index]
    assert startup_of(not_ready) is None
