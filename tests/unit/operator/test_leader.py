"""Leader-election rules with a fake clock and an in-memory Lease store that enforces resourceVersion."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from augur.kube.client import ApiStatus, KubeError
from augur.kube.lease import LeaseConflictError, LeaseRecord
from augur.operator.leader import Attempt, Elector, LeaderElectionError, Leadership, acquire, hold
from augur.operator.settings import LeaseTiming
from tests.unit.lease_memory import MemoryStore

TIMING = LeaseTiming(duration=15, renew_deadline=10, renew_every=5, retry_every=2)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def wall() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


def elector(store: MemoryStore, clock: Clock, name: str) -> Elector:
    return Elector(store, name, TIMING, clock=clock, wallclock=wall)


def test_first_replica_acquires_second_stands_by() -> None:
    store, clock = MemoryStore(), Clock()
    a, b = elector(store, clock, "a"), elector(store, clock, "b")
    assert a.attempt() is Attempt.LEADING and a.is_leader()
    assert b.attempt() is Attempt.HELD and not b.is_leader()
    assert store.record is not None and store.record.holder == "a" and store.record.duration_seconds == 15
    assert store.record.transitions == 0


def test_standby_takes_over_only_after_the_lease_expired_on_its_own_clock() -> None:
    store, clock = MemoryStore(), Clock()
    a, b = elector(store, clock, "a"), elector(store, clock, "b")
    a.attempt()
    b.attempt()  # b observes a's record now
    clock.t += 14.9
    assert b.attempt() is Attempt.HELD
    clock.t += 0.2
    assert not a.is_leader()  # a stopped acting 5 s before (renew deadline 10 s)
    assert b.attempt() is Attempt.LEADING
    assert store.record is not None and store.record.holder == "b" and store.record.transitions == 1


def test_renewals_keep_the_standby_out_and_reset_its_observation() -> None:
    store, clock = MemoryStore(), Clock()
    a, b = elector(store, clock, "a"), elector(store, clock, "b")
    a.attempt()
    for _ in range(10):
        clock.t += 5
        assert a.attempt() is Attempt.LEADING
        assert b.attempt() is Attempt.HELD
    assert store.record is not None and store.record.transitions == 0
    assert store.record.acquire_time == wall()


def test_the_leader_stops_acting_at_the_renew_deadline_when_renewals_fail() -> None:
    store, clock = MemoryStore(), Clock()
    a = elector(store, clock, "a")
    a.attempt()
    store.fail = KubeError("get", ApiStatus(503, "ServiceUnavailable", "down"))
    clock.t += 5
    assert a.attempt() is Attempt.FAILED and a.is_leader()
    clock.t += 4.9
    assert a.is_leader() and a.remaining() == pytest.approx(0.1)
    clock.t += 0.2
    assert not a.is_leader() and a.remaining() == 0


def test_racing_writers_one_wins_by_resource_version() -> None:
    store, clock = MemoryStore(), Clock()
    store.record = LeaseRecord("", 1, None, None, 3, "7")  # released
    store.version = 7
    read = store.get()
    assert read is not None
    a, b = elector(store, clock, "a"), elector(store, clock, "b")
    # b wrote between a's read and a's write: a's update carries the stale version
    assert b.attempt() is Attempt.LEADING
    with pytest.raises(LeaseConflictError):
        store.update(replace(read, holder="a"))
    assert a.attempt() is Attempt.HELD
    assert store.record is not None and store.record.holder == "b" and store.record.transitions == 4


def test_conflict_is_reported_not_raised() -> None:
    class Racing(MemoryStore):
        def update(self, record: LeaseRecord) -> LeaseRecord:
            raise LeaseConflictError("someone else wrote")

    store, clock = Racing(), Clock()
    store.record = LeaseRecord("", 1, None, None, 0, "1")
    assert elector(store, clock, "a").attempt() is Attempt.CONFLICT


def test_release_lets_a_standby_take_over_at_once() -> None:
    store, clock = MemoryStore(), Clock()
    a, b = elector(store, clock, "a"), elector(store, clock, "b")
    a.attempt()
    assert b.attempt() is Attempt.HELD
    assert a.release() and not a.is_leader()
    assert store.record is not None and store.record.holder == "" and store.record.duration_seconds == 1
    assert b.attempt() is Attempt.LEADING


def test_release_without_leading_writes_nothing() -> None:
    store, clock = MemoryStore(), Clock()
    assert not elector(store, clock, "a").release()
    assert store.writes == []


def test_a_refused_lease_is_a_configuration_error() -> None:
    store, clock = MemoryStore(), Clock()
    store.fail = KubeError("get", ApiStatus(403, "Forbidden", "cannot get leases"))
    with pytest.raises(LeaderElectionError, match="Forbidden"):
        elector(store, clock, "a").attempt()


def test_a_lost_lease_is_noticed_as_held_by_the_new_holder() -> None:
    store, clock = MemoryStore(), Clock()
    a = elector(store, clock, "a")
    a.attempt()
    assert store.record is not None
    store._store(replace(store.record, holder="b"))  # e.g. a was paused past the lease duration
    assert a.attempt() is Attempt.HELD and not a.is_leader() and a.holder == "b"


def test_leadership_gate() -> None:
    store, clock = MemoryStore(), Clock()
    gate = Leadership()
    assert gate.may_act()  # standalone
    gate.elector = elector(store, clock, "a")
    assert not gate.may_act()
    gate.elector.attempt()
    assert gate.may_act()
    clock.t += 10
    assert not gate.may_act()


def test_lease_timing_is_validated() -> None:
    with pytest.raises(ValueError, match="renew deadline"):
        LeaseTiming(duration=10, renew_deadline=10)


def test_async_acquire_and_hold_with_real_time() -> None:
    fast = LeaseTiming(duration=0.6, renew_deadline=0.4, renew_every=0.1, retry_every=0.05)

    async def scenario() -> tuple[bool, str]:
        store = MemoryStore()
        a = Elector(store, "a", fast, wallclock=wall)
        stopping = asyncio.Event()
        assert await acquire(a, stopping)
        holding = asyncio.create_task(hold(a))
        await asyncio.sleep(0.35)
        assert not holding.done() and a.is_leader()
        store.fail = KubeError("get", ApiStatus(0, "ConnectionError", "refused"))
        why = await asyncio.wait_for(holding, 2)
        b = Elector(MemoryStore(), "b", fast, wallclock=wall)
        b.store.record = LeaseRecord("a", 60, None, None)  # type: ignore[attr-defined]
        stopping.set()
        return await acquire(b, stopping), why

    acquired, why = asyncio.run(scenario())
    assert not acquired
    assert "not renewed" in why and "refused" in why
