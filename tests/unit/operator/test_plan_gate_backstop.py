"""The plan gate's backstop in the operator: which held pods are overdue, how they are read from the API's
pods, what one pass does (released, gone, failed), and its setting."""

from __future__ import annotations

from typing import Any

import pytest

from augur.kube.client import ApiStatus, KubeError
from augur.kube.pods import _held
from augur.operator import gates
from augur.operator.settings import OperatorSettings
from augur.placement.gate import HeldPod, overdue


def test_overdue_pods_are_those_held_at_least_the_backstop_in_name_order() -> None:
    pods = [HeldPod("b", "x", "1", 100.0), HeldPod("a", "y", "2", 95.0), HeldPod("a", "z", "3", 99.0)]
    assert [p.name for p in overdue(pods, now=105.0, after=6.0)] == ["y", "z"]
    assert overdue(pods, now=100.0, after=6.0) == []
    assert overdue([HeldPod("a", "unknown", "4", None)], now=0.0, after=120.0)[0].name == "unknown"


def test_only_pods_with_the_plan_gate_are_read_as_held() -> None:
    def pod(gates: list[str], created: str = "2026-12-06T10:00:00Z") -> dict[str, Any]:
        return {
            "metadata": {"name": "p", "namespace": "ns", "uid": "u", "creationTimestamp": created},
            "spec": {"schedulingGates": [{"name": g} for g in gates]},
        }

    held = _held(pod(["example.com/other", "augur.dev/plan"]))
    assert held is not None and (held.namespace, held.name, held.uid) == ("ns", "p", "u")
    assert held.created == pytest.approx(1796551200.0)
    assert _held(pod(["example.com/other"])) is None
    assert _held(pod([])) is None
    unreadable = _held(pod(["augur.dev/plan"], created="not a time"))
    assert unreadable is not None and unreadable.created is None


def test_a_pass_releases_overdue_pods_skips_gone_ones_and_goes_on_after_a_failure(monkeypatch: Any) -> None:
    now = 1_000.0
    held = [HeldPod("ns", name, name, now - 200.0) for name in ("gone", "fails", "ok")] + [
        HeldPod("ns", "young", "young", now - 10.0)
    ]
    patched: list[str] = []
    events: list[tuple[str, str]] = []

    def remove(api: Any, namespace: str, name: str) -> bool:
        patched.append(name)
        if name == "fails":
            raise KubeError("patch", ApiStatus(500, "InternalError", "boom"))
        return name != "gone"

    monkeypatch.setattr(gates, "plan_gated_pods", lambda api, namespaces: held)
    monkeypatch.setattr(gates, "remove_plan_gate", remove)
    monkeypatch.setattr(gates.time, "time", lambda: now)
    monkeypatch.setattr(gates, "post_event", lambda core, kind, name, *a, **k: events.append((kind, name)))
    monkeypatch.setattr(gates.client, "CoreV1Api", lambda api: None)
    released = gates.release_overdue(object(), 120.0)
    assert [p.name for p in released] == ["ok"]
    assert patched == ["fails", "gone", "ok"]  # name order; the young pod is left alone
    assert events == [("Pod", "ok")]


def test_the_setting_defaults_to_two_minutes_and_refuses_negatives() -> None:
    assert OperatorSettings.from_env({}).plan_gate_backstop_seconds == 120.0
    assert OperatorSettings.from_env({"AUGUR_PLAN_GATE_BACKSTOP_SECONDS": "0"}).plan_gate_backstop_seconds == 0.0
    with pytest.raises(ValueError, match="AUGUR_PLAN_GATE_BACKSTOP_SECONDS"):
        OperatorSettings.from_env({"AUGUR_PLAN_GATE_BACKSTOP_SECONDS": "-1"})
    assert gates.interval(120.0) == 30.0 and gates.interval(3.0) == gates.LEAST_INTERVAL_SECONDS
