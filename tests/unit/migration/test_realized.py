"""The measured gain of a finished move: the cluster now against the same cluster with the pod back."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from augur.migration.realized import realized_gain
from augur.migration.snapshot import ClusterSnapshot, NodeState, PodState
from augur.operator.rebalance_input import to_measure


def node(name: str) -> NodeState:
    return NodeState(name, zone="z", region="r", cpu=4, memory=64)


def pod(name: str, on: str) -> PodState:
    return PodState("ns", name, on, f"ns/Deployment/{name}", cpu=1, memory=0.1)


def test_the_move_is_measured_against_its_own_counterfactual() -> None:
    # now: a 2 cores, b 1 (the moved pod), c 0; back on a: 3, 0, 0
    snap = ClusterSnapshot(nodes=(node("a"), node("b"), node("c")), pods=(pod("p", "a"), pod("q", "a"), pod("m", "b")))
    gain = realized_gain(snap, "ns/m", "a", "NodeLoadStdDev")
    assert gain is not None and gain.kind == "NodeLoadStdDev"
    assert gain.value == pytest.approx(np.std([0.75, 0, 0]) - np.std([0.5, 0.25, 0]))
    assert realized_gain(snap, "ns/m", "b", "NodeLoadStdDev") is None  # it runs there: nothing to compare
    assert realized_gain(snap, "ns/gone", "a", "NodeLoadStdDev") is None
    assert realized_gain(snap, "ns/m", "elsewhere", "NodeLoadStdDev") is None


def test_which_migrations_are_measured() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def mig(name: str, phase: str, done: str, **status: object) -> dict[str, object]:
        return {
            "metadata": {"name": name, "namespace": "ns", "labels": {"augur.dev/created-by": "rebalancer"}},
            "spec": {"expectedGain": {"kind": "NetworkCost", "value": 3}},
            "status": {
                "phase": phase,
                "completionTime": done,
                "replacementPod": f"{name}-r",
                "sourceNode": "a",
                **status,
            },
        }

    items = [
        mig("ok", "Succeeded", "2026-11-30T11:59:00Z"),
        mig("old", "Succeeded", "2026-11-30T11:00:00Z"),
        mig("failed", "Failed", "2026-11-30T11:59:00Z"),
        mig("done", "Succeeded", "2026-11-30T11:59:00Z", measuredGain={"kind": "NetworkCost", "value": 1}),
    ]
    manual = mig("manual", "Succeeded", "2026-11-30T11:59:00Z")
    manual["metadata"] = {"name": "manual", "namespace": "ns"}
    chosen = to_measure([*items, manual], now, 600)  # type: ignore[list-item]
    assert [(m["metadata"]["name"], key, src, kind) for m, key, src, kind in chosen] == [
        ("ok", "ns/ok-r", "a", "NetworkCost")
    ]
    # with measured load a move is measured only once its query's window has let go of the pod's old use
    assert to_measure(items, now, 600, settle=150) == []  # type: ignore[arg-type]
    assert [m["metadata"]["name"] for m, *_ in to_measure(items, now, 600, settle=60)] == ["ok"]  # type: ignore[arg-type]
