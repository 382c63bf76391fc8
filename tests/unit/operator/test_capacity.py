"""Capacity measures: the policy cache and the compact rings of the anomaly detector."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np

from augur.forecast.anomaly_signals import Ring
from augur.kube import resources
from augur.kube.resources import Resources


class FakeCustom:
    def __init__(self) -> None:
        self.calls = 0
        self.spec: dict[str, Any] = {"mode": "Auto"}

    def get_namespaced_custom_object(self, *args: Any) -> dict[str, Any]:
        self.calls += 1
        return {"spec": dict(self.spec)}


def test_policies_are_reused_for_a_few_seconds(monkeypatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(resources.time, "monotonic", lambda: now[0])
    res = Resources.__new__(Resources)
    res._custom = FakeCustom()  # type: ignore[assignment]
    res._policies, res._policy_lock = {}, threading.Lock()
    assert res.get_policy("p", "ns") == {"spec": {"mode": "Auto"}}
    res._custom.spec = {"mode": "Off"}  # type: ignore[attr-defined]
    now[0] += resources.POLICY_CACHE_SECONDS - 0.5
    assert res.get_policy("p", "ns") == {"spec": {"mode": "Auto"}} and res._custom.calls == 1  # type: ignore[attr-defined]
    assert res.get_policy("q", "ns") == {"spec": {"mode": "Off"}}  # another policy is read
    now[0] += 1
    assert res.get_policy("p", "ns") == {"spec": {"mode": "Off"}}  # the change arrives after the cache time


def test_ring_holds_the_same_numbers_as_a_bounded_deque() -> None:
    rng = np.random.default_rng(3)
    for size in (0, 1, 5, 50):
        ring, reference = Ring(size), deque(maxlen=size)
        for value in rng.normal(size=3 * size + 7).tolist():
            assert ring.full == (len(reference) == size)
            if reference and size:
                assert ring.oldest() == reference[0]
            stored = ring.append(value)  # as float32: the deque gets what the ring stored
            assert stored == float(np.float32(value))
            reference.append(stored)
            assert len(ring) == len(reference) and ring.values() == tuple(reference)
        assert Ring(size, ring.values()).values() == tuple(reference)
