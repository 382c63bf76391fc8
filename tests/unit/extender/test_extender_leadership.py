"""One gate keeper among several extender replicas: the one holding the Lease lets pods through the plan
gate, a standby takes over when it stops (at once when it releases the Lease, after the Lease's duration when
it crashed), and a Lease that cannot be used is reported, never a crash."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import generate_latest

from augur.kube.client import ApiStatus, KubeError
from augur.kube.leader import Elector, LeaseTiming
from augur.placement import ScoringConfig
from augur_extender.__main__ import build_parser, serve
from augur_extender.deps import ExtenderState
from augur_extender.leadership import HINT, GateLeadership, parse_lease
from augur_extender.settings import Settings
from tests.unit.lease_memory import MemoryStore

from .test_extender_gate import Lifter, web_cache
from .test_extender_planner import Clock

TIMING = LeaseTiming(duration=15, renew_deadline=10, renew_every=5, retry_every=2)


def replica(store: MemoryStore, name: str, clock: Clock) -> GateLeadership:
    return GateLeadership(Elector(store, name, TIMING, clock=clock, hint=HINT))  # as GateLeadership.kube builds it


def test_one_replica_leads_and_the_other_takes_over_when_it_releases_or_stops_renewing() -> None:
    clock, store = Clock(), MemoryStore()
    a, b = replica(store, "a", clock), replica(store, "b", clock)
    changes: list[tuple[str, bool]] = []
    a.on_change = lambda leading: changes.append(("a", leading))
    b.on_change = lambda leading: changes.append(("b", leading))
    assert a.step() == TIMING.renew_every and a.leads()
    assert b.step() == TIMING.retry_every and not b.leads()  # held by a
    a.stop()  # clean shutdown: the Lease is released
    assert not a.leads() and store.record is not None and store.record.holder == ""
    assert b.step() == TIMING.renew_every and b.leads()  # at once, no waiting for the duration
    # b crashes (stops renewing): a new replica waits out the Lease's duration as it observes it
    c = replica(store, "c", clock)
    assert c.step() == TIMING.retry_every and not c.leads()
    clock.now += TIMING.renew_deadline
    assert not b.leads()  # b stops letting pods through at its renew deadline, before anybody may take over
    clock.now += TIMING.duration - TIMING.renew_deadline - 0.5
    assert c.step() == TIMING.retry_every and not c.leads()
    clock.now += 1
    assert c.step() == TIMING.renew_every and c.leads()
    assert changes == [("a", True), ("a", False), ("b", True)]


def test_a_lease_that_cannot_be_used_is_logged_once_and_tried_again(caplog: pytest.LogCaptureFixture) -> None:
    clock, store = Clock(), MemoryStore()
    store.fail = KubeError("reading Lease test/augur", ApiStatus(403, "Forbidden", "leases is forbidden"))
    a = replica(store, "a", clock)
    with caplog.at_level(logging.ERROR, logger="augur_extender.leadership"):
        assert a.step() == TIMING.renew_every and not a.leads()
        assert a.step() == TIMING.renew_every
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "forbidden" in errors[0] and "Role for Leases" in errors[0], errors
    store.fail = None  # RBAC fixed: it leads without a restart
    assert a.step() == TIMING.renew_every and a.leads()


def test_a_transient_failure_keeps_retrying_at_the_retry_pace() -> None:
    clock, store = Clock(), MemoryStore()
    a = replica(store, "a", clock)
    assert a.step() == TIMING.renew_every and a.leads()
    store.fail = KubeError("reading Lease test/augur", ApiStatus(0, "ConnectionError", "refused"))
    assert a.step() == TIMING.retry_every and a.leads()  # still within the renew deadline
    clock.now += TIMING.renew_deadline
    assert a.step() == TIMING.retry_every and not a.leads()


def test_a_standby_gate_keeper_lets_nothing_through_but_counts_the_wait_from_first_sight() -> None:
    clock, store = Clock(), MemoryStore()
    holder = replica(store, "other", clock)
    assert holder.step() == TIMING.renew_every
    cache = web_cache(3, "web-1", "web-2")
    lifter = Lifter(cache)
    scoring = ScoringConfig.from_dict({"plan": {"gateSeconds": 5}})
    leadership = replica(store, "me", clock)
    st = ExtenderState.build(cache, Settings(scoring=scoring, planner=False), lifter, leadership)
    gk = st.gatekeeper
    assert gk is not None and st.leadership is leadership
    gk.clock = clock
    leadership.step()
    assert not leadership.leads()
    assert gk.run_once() == [] and gk.held == 2 and lifter.calls == []
    assert "augur_extender_plan_gate_leader 0.0" in generate_latest(st.metrics.registry).decode()
    holder.stop()  # the other replica stops cleanly
    clock.now += 3
    leadership.step()
    assert leadership.leads()
    assert "augur_extender_plan_gate_leader 1.0" in generate_latest(st.metrics.registry).decode()
    done = gk.run_once()  # no planner: let through at once, having waited since this replica first saw them
    assert sorted(lift.pod.name for lift in done) == ["web-1", "web-2"] and sorted(lifter.calls) == ["web-1", "web-2"]
    assert all(lift.pod.waited == 3 for lift in done)


def test_without_a_lease_the_gate_keeper_acts_alone_and_says_so() -> None:
    cache = web_cache(3, "web-1")
    st = ExtenderState.build(cache, Settings(planner=False), Lifter(cache))
    assert st.leadership is None and st.gatekeeper is not None and st.gatekeeper.leads is None
    assert "augur_extender_plan_gate_leader 1.0" in generate_latest(st.metrics.registry).decode()
    assert [lift.pod.name for lift in st.gatekeeper.run_once()] == ["web-1"]
    # a Lease without a gate keeper (nothing to lift with) is dropped, never started
    no_keeper = ExtenderState.build(cache, Settings(planner=False), None, replica(MemoryStore(), "x", Clock()))
    assert no_keeper.gatekeeper is None and no_keeper.leadership is None


@pytest.mark.parametrize("bad", ["augur-system", "/name", "ns/", "a/b/c", ""])
def test_a_malformed_lease_is_a_clear_error(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="NAMESPACE/NAME"):
        parse_lease(bad)
    with pytest.raises(ValueError, match="NAMESPACE/NAME"):
        Settings(gate_lease=bad)
    parser = build_parser()
    with pytest.raises(SystemExit) as exited:
        serve(parser.parse_args(["--gate-lease", bad]), parser)
    assert exited.value.code == 2
    assert "NAMESPACE/NAME" in capsys.readouterr().err
    assert parse_lease("augur-system/augur-extender-gate-keeper") == ("augur-system", "augur-extender-gate-keeper")


class Label:
    """The pod's gate-keeper label as the API server holds it; ``fail`` refuses that many writes."""

    def __init__(self, fail: int = 0) -> None:
        self.value: bool | None = True  # left by a container that ran in this pod before (it led then)
        self.writes: list[bool] = []
        self.fail = fail

    def __call__(self, leading: bool) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("503 Service Unavailable")
        self.value = leading
        self.writes.append(leading)


def test_the_leader_labels_its_pod_and_removes_the_label_when_it_stops_leading() -> None:
    clock, store = Clock(), MemoryStore()
    other = replica(store, "other", clock)
    assert other.step() == TIMING.renew_every
    label = Label(fail=1)
    me = GateLeadership(Elector(store, "me", TIMING, clock=clock, hint=HINT), label)
    me.step()
    assert label.value is True and label.writes == []  # standing by; the stale label's removal failed once ...
    me.step()
    assert label.value is False and label.writes == [False]  # ... and is tried again at the next step
    me.step()
    assert label.writes == [False]  # nothing written while nothing changes
    other.stop()
    me.step()
    assert me.leads() and label.value is True and label.writes == [False, True]
    clock.now += TIMING.renew_deadline  # renewals failed for the renew deadline: no longer leading
    store.fail = KubeError("reading Lease test/augur", ApiStatus(0, "ConnectionError", "refused"))
    me.step()
    assert not me.leads() and label.value is False
    store.fail = None
    me.step()
    assert me.leads() and label.value is True
    me.stop()  # the label goes before the Lease is released, so the Service never selects a replica that has left
    assert label.value is False and store.record is not None and store.record.holder == ""
