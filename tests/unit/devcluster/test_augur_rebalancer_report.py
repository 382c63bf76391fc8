"""The benchmark's report of Augur's Migrations (pure part)."""

from __future__ import annotations

from augur.devcluster.augur_rebalancer import _move


def test_a_move_lists_the_pod_the_requested_target_and_where_it_went() -> None:
    migration = {
        "metadata": {"name": "m-1", "creationTimestamp": "2026-12-02T01:40:00Z"},
        "spec": {"podName": "svc2-abc", "targetNode": "rb-x-n2", "expectedGain": {"loadStddev": 0.05}},
        "status": {
            "phase": "Succeeded",
            "reason": "Moved",
            "sourceNode": "rb-x-n3",
            "destinationNode": "rb-x-n5",
            "predictedGain": {"loadStddev": 0.04},
        },
    }
    assert _move(migration) == {
        "name": "m-1",
        "created": "2026-12-02T01:40:00Z",
        "pod": "svc2-abc",
        "target": "rb-x-n2",
        "source": "rb-x-n3",
        "destination": "rb-x-n5",
        "phase": "Succeeded",
        "outcome": "Moved",
        "predicted_gain": {"loadStddev": 0.04},
    }
    assert _move({"metadata": {"name": "m-2"}})["phase"] is None  # not acted on yet: nothing invented
