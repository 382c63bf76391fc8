"""Reconciles of one profile are serialized and start from the newest status this replica applied."""

from __future__ import annotations

import threading
import time

from augur.operator.serial import ProfileSerializer


def test_latest_status_replaces_a_stale_snapshot_until_forgotten() -> None:
    serial = ProfileSerializer()
    stale = {"metadata": {"uid": "u"}, "spec": {"a": 1}, "status": {"conditions": []}}
    assert serial.latest("u", stale) is stale  # nothing applied yet (or after a restart): the object's own
    newer = {"conditions": [{"type": "Conflict", "status": "True"}]}
    serial.applied("u", newer)
    latest = serial.latest("u", stale)
    assert latest["status"] is newer and latest["spec"] == {"a": 1}
    assert serial.latest("other", stale) is stale
    serial.forget("u")
    assert serial.latest("u", stale) is stale


def test_one_reconcile_at_a_time_per_object() -> None:
    serial = ProfileSerializer()
    inside, overlaps = [0], []

    def reconcile(uid: str) -> None:
        with serial.lock(uid):
            inside[0] += 1
            overlaps.append(inside[0])
            time.sleep(0.02)
            inside[0] -= 1

    threads = [threading.Thread(target=reconcile, args=("u",)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == [1] * 5
    assert serial.lock("u") is serial.lock("u") and serial.lock("u") is not serial.lock("v")


def test_a_status_changed_only_in_its_times_is_reapplied_only_after_the_refresh() -> None:
    now = [100.0]
    serial = ProfileSerializer(refresh=300, clock=lambda: now[0])
    status = {
        "desiredReplicas": 3,
        "lastDecision": {"time": "2026-01-01T00:00:00Z", "desiredReplicas": 3},
        "forecast": {"generatedAt": "2026-01-01T00:00:00Z", "peakP50": 10.0},
    }
    assert serial.needs_apply("u", status)  # nothing applied yet
    serial.applied("u", status)
    later = {
        **status,
        "lastDecision": {"time": "2026-01-01T00:00:30Z", "desiredReplicas": 3},
        "forecast": {"generatedAt": "2026-01-01T00:00:30Z", "peakP50": 10.0},
    }
    now[0] += 30
    assert not serial.needs_apply("u", later)
    assert serial.needs_apply("u", {**later, "desiredReplicas": 4})  # anything else changed
    assert serial.needs_apply("u", {**later, "forecast": {"generatedAt": "x", "peakP50": 11.0}})
    now[0] += 300
    assert serial.needs_apply("u", later)  # times refreshed at least every 300 s
    serial.forget("u")
    now[0] += 1
    assert serial.needs_apply("u", later)
