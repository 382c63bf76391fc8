"""The operational glue of a cycle: Conflict condition and Events, the Lease gate on writes, lead times."""

from __future__ import annotations

from typing import Any

import pytest

from augur.api.conditions import ConditionUpdate
from augur.kube.autoscalers import HPA, TargetKey, claim_from_body
from augur.kube.client import KubeError
from augur.kube.lease import LeaseRecord
from augur.kube.workload import TargetReplicas
from augur.operator.leader import LEADERSHIP, Elector
from augur.operator.operations import GuardedTargets, LeadTimes, guard, lead_time_status, merge_conflict
from augur.operator.settings import LeaseTiming
from augur.scaling.leadtime import PodStartup

WEB = TargetKey("shop", "apps", "Deployment", "web")


def profile() -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}},
    }


def hpa_index() -> dict[str, Any]:
    body = {
        "metadata": {"name": "web-hpa", "namespace": "shop"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}},
    }
    return {"augur_hpa_claims": {WEB: [claim_from_body(HPA, body)]}}


def test_guard_blocks_on_conflict_and_names_the_owner() -> None:
    g = guard(profile(), hpa_index())
    assert g.blocked is not None and g.blocked.startswith("Conflict:") and "web-hpa" in g.blocked
    assert g.update is not None and (g.update.status, g.update.reason) == ("True", "HorizontalPodAutoscaler")
    free = guard(profile(), {})
    assert free.blocked is None and free.update is not None and free.update.status == "False"


def test_conflict_events_only_on_transitions() -> None:
    on = ConditionUpdate("Conflict", "True", "HorizontalPodAutoscaler", "HorizontalPodAutoscaler shop/web-hpa ...")
    off = ConditionUpdate("Conflict", "False", "NoConflict", "no other autoscaler scales Deployment shop/web")
    conditions, events = merge_conflict([], off, 1)
    assert events == []  # a profile that never had a conflict posts nothing
    conditions, events = merge_conflict(conditions, on, 1)
    assert [(e.type, e.reason) for e in events] == [("Warning", "Conflict")] and "web-hpa" in events[0].message
    conditions, events = merge_conflict(conditions, on, 1)
    assert events == []
    conditions, events = merge_conflict(conditions, off, 1)
    assert [(e.type, e.reason) for e in events] == [("Normal", "ConflictResolved")]
    assert conditions[0]["status"] == "False"


class FakeTargets:
    def __init__(self) -> None:
        self.writes: list[int] = []

    def read(self, api_version: str, kind: str, name: str, namespace: str, known: Any = None) -> TargetReplicas:
        return TargetReplicas(2, 2, 2, "app=web")

    def set_replicas(self, api_version: str, kind: str, name: str, namespace: str, replicas: int) -> None:
        self.writes.append(replicas)


class OneLease:
    where = "Lease test"

    def __init__(self) -> None:
        self.record: LeaseRecord | None = None

    def get(self) -> LeaseRecord | None:
        return self.record

    def create(self, record: LeaseRecord) -> LeaseRecord:
        self.record = record
        return record

    def update(self, record: LeaseRecord) -> LeaseRecord:
        self.record = record
        return record


def test_writes_need_a_fresh_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    inner = FakeTargets()
    targets = GuardedTargets(inner)
    targets.set_replicas("apps/v1", "Deployment", "web", "shop", 3)  # standalone: allowed
    now = [0.0]
    elector = Elector(OneLease(), "me", LeaseTiming(), clock=lambda: now[0])
    monkeypatch.setattr(LEADERSHIP, "elector", elector)
    with pytest.raises(KubeError, match="NotLeader"):
        targets.set_replicas("apps/v1", "Deployment", "web", "shop", 4)
    assert guard(profile(), {}).blocked is not None
    elector.attempt()
    targets.set_replicas("apps/v1", "Deployment", "web", "shop", 5)
    now[0] = 10.0  # renew deadline passed without a renewal
    with pytest.raises(KubeError, match="NotLeader"):
        targets.set_replicas("apps/v1", "Deployment", "web", "shop", 6)
    assert inner.writes == [3, 5]


def test_lead_times_refresh_restore_and_report() -> None:
    reads: list[tuple[str, str]] = []
    pods = [PodStartup(f"u{i}", 1000.0 + i, 60.0 + 10 * i) for i in range(4)]
    now = [0.0]

    def read(namespace: str, selector: str) -> list[PodStartup]:
        reads.append((namespace, selector))
        return pods

    times = LeadTimes(read, refresh=60, clock=lambda: now[0])
    state = times.measure("uid", "shop", "app=web", None)
    assert state.samples == (60.0, 70.0, 80.0, 90.0)
    now[0] = 30.0
    times.measure("uid", "shop", "app=web", None)
    assert len(reads) == 1  # not due
    status = lead_time_status(state, used=True)
    assert status is not None and status["used"] is True and status["seconds"] == pytest.approx(87.0)
    assert status["newestReadyAt"] == "1970-01-01T00:16:43Z"
    # a restarted operator restores from status and does not count the same pods again
    restarted = LeadTimes(read, clock=lambda: 0.0)
    again = restarted.measure("uid", "shop", "app=web", status)
    assert again.samples == state.samples
    assert lead_time_status(LeadTimes(read).known("other", None), used=False) is None


def test_a_failed_pod_listing_keeps_the_previous_state() -> None:
    from augur.kube.client import ApiStatus

    def broken(namespace: str, selector: str) -> list[PodStartup]:
        raise KubeError("listing pods", ApiStatus(403, "Forbidden", "no"))

    assert LeadTimes(broken).measure("uid", "shop", "app=web", None).samples == ()
