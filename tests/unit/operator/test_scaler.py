"""The scaling cycle with in-memory Prometheus, target and ConfigMap store (kopf-free orchestration)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

import numpy as np
import pytest

from augur.api.v1alpha1 import ScalingPolicySpec, WorkloadProfileSpec
from augur.forecast.demand import RawSeries
from augur.forecast.forecaster import Forecaster
from augur.kube.resources import ScaleInfo
from augur.kube.workload import TargetReplicas
from augur.operator.cycle import scale_profile
from augur.operator.reconcile import Outcome
from augur.operator.scaler import ProfileRef, Scaler
from augur.prom.client import PromError
from augur.scaling.fitjob import FitJob, run_fit

STEP = 300.0
T0 = 1_700_000_000.0 // STEP * STEP
REF = ProfileRef("ns", "web", "uid-1")


class Clock:
    def __init__(self) -> None:
        self.now = T0 + 10

    def __call__(self) -> float:
        return self.now


class FakeProm:
    """Demand 400 + 300 sin(day) for every grid point up to now; ``down``/``invalid``/``series`` break it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.down = False
        self.invalid = False
        self.series = 1
        self.reads: list[tuple[float, float]] = []
        self.checks = 0

    def _answer(self, start: float, end: float, step: float) -> list[RawSeries]:
        if self.down:
            raise PromError("PrometheusUnavailable", "cannot reach Prometheus at http://prom: refused")
        if self.invalid:
            raise PromError("QueryInvalid", "Prometheus rejected the query 'sum(': parse error")
        ts = np.arange(start, min(end, self.clock.now) + 1, step)
        values = 400 + 300 * np.sin(2 * np.pi * ts / 86400.0)
        return [RawSeries({"i": str(i)}, tuple(ts.tolist()), tuple(values.tolist())) for i in range(self.series)]

    def check(self, query: str, at: float, step: float) -> list[RawSeries]:
        self.checks += 1
        return self._answer(at - step, at, step)

    def query_range(self, query: str, start: float, end: float, step: float) -> list[RawSeries]:
        if query == "broken_feed(":
            raise PromError("QueryInvalid", "Prometheus rejected the query 'broken_feed(': parse error")
        if query.startswith("feed"):
            return self._answer(start, end, step)[:1]
        self.reads.append((start, end))
        return self._answer(start, end, step)


class FakeTargets:
    def __init__(self, replicas: int) -> None:
        self.replicas = replicas
        self.writes: list[int] = []

    def read(self, api_version: str, kind: str, name: str, namespace: str, known: Any = None) -> TargetReplicas:
        return TargetReplicas(self.replicas, self.replicas, self.replicas, "app=web")

    def set_replicas(self, api_version: str, kind: str, name: str, namespace: str, replicas: int) -> None:
        self.writes.append(replicas)
        self.replicas = replicas


class FakeStore:
    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    def load(self, namespace: str, profile: str) -> dict[str, Any] | None:
        return self.data.get(profile)

    def save(self, namespace: str, profile: str, uid: str, data: dict[str, Any]) -> int:
        self.data[profile] = data
        return 1


_FITS: dict[bytes, Forecaster] = {}


class CachedPool:
    """Fits inline; the same data is fitted once per test run. ``hold`` keeps futures pending."""

    workers, backlog = 1, 0

    def __init__(self) -> None:
        self.hold = False
        self.submitted: list[Future[Forecaster]] = []

    def submit(self, job: FitJob) -> Future[Forecaster]:
        future: Future[Forecaster] = Future()
        self.submitted.append(future)
        if not self.hold:
            key = job.values.tobytes() + (b"p" if job.previous else b"f")
            if key not in _FITS:
                _FITS[key] = run_fit(job)
            future.set_result(_FITS[key])
        return future

    def shutdown(self) -> None:
        pass


def spec(query: str = "sum(rate(requests_total[1m]))", **extra: Any) -> WorkloadProfileSpec:
    raw = {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"},
        "policyRef": {"name": "p"},
        "demand": {"query": query, "capacityPerReplica": 50, "step": "5m", "unit": "req/s"},
        **extra,
    }
    return WorkloadProfileSpec.model_validate(raw)


def policy(mode: str = "Auto", **extra: Any) -> ScalingPolicySpec:
    raw = {"mode": mode, "maxReplicas": 40, "history": "2d", "leadTime": "10m", "decisionInterval": "30s", **extra}
    return ScalingPolicySpec.model_validate(raw)


def make(replicas: int = 5, store: FakeStore | None = None, clock: Clock | None = None):
    clock = clock or Clock()
    prom, targets, pool = FakeProm(clock), FakeTargets(replicas), CachedPool()
    scaler = Scaler(prom, targets, store or FakeStore(), pool, save_seconds=300, clock=clock)
    return scaler, prom, targets, pool, clock


def conditions(report) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in report.conditions}


def test_forecast_only_fills_status_and_never_writes() -> None:
    scaler, prom, targets, _, clock = make()
    first = scaler.run(REF, spec(), policy("ForecastOnly"), "ForecastOnly")
    assert prom.checks == 1 and prom.reads[0][0] == T0 - 575 * STEP  # history on first sight
    assert first.decision.kind == "Predictive"  # the first fit ran inline
    clock.now += 30
    second = scaler.run(REF, spec(), policy("ForecastOnly"), "ForecastOnly")
    assert targets.writes == []
    assert conditions(second)["Scaling"] == ("False", "ForecastOnly")
    assert conditions(second)["MetricsAvailable"] == ("True", "DemandRead")
    f = second.fields
    assert f["desiredReplicas"] >= 1 and f["forecast"]["model"] and f["lastDecision"]["acted"] is False
    assert {"peakAt", "peakUpper", "quantile", "horizonSeconds"} <= set(f["forecast"])
    assert f["leadTimeSeconds"] == 600 and f["learned"]["configMap"] == "augur-state-web"
    assert "fingerprint" in f and 0 <= f["anomalyScore"] <= 1
    recommended = [e for e in (*first.events, *second.events) if e.reason == "ScaleRecommended"]
    assert len(recommended) <= 1  # only when the recommendation changes


def test_auto_scales_through_scale_with_an_event_that_explains() -> None:
    scaler, _, targets, _, _ = make(replicas=1)
    report = scaler.run(REF, spec(), policy(), "Auto")
    assert targets.writes == [report.fields["desiredReplicas"]] and targets.replicas > 1
    (event,) = [e for e in report.events if e.reason == "Scaled"]
    assert "req/s at" in event.message and "needs" in event.message and "1 → " in event.message
    assert "pods take 600 s to become Ready" in event.message
    assert conditions(report)["Scaling"] == ("True", "Predictive")
    assert report.fields["lastDecision"]["acted"] is True and report.fields["lastDecision"]["fromReplicas"] == 1


def test_off_reads_nothing_and_writes_nothing() -> None:
    scaler, prom, targets, _, _ = make()
    report = scaler.run(REF, spec(), policy("Off"), "Off")
    assert prom.checks == 0 and prom.reads == [] and targets.writes == []
    assert report.fields == {} and conditions(report)["Scaling"] == ("False", "ModeOff")


def test_invalid_promql_is_reported_before_any_history_read() -> None:
    scaler, prom, targets, _, _ = make(replicas=4)
    prom.invalid = True
    report = scaler.run(REF, spec("sum("), policy(), "Auto")
    assert prom.reads == [] and targets.writes == []
    assert conditions(report)["MetricsAvailable"] == ("False", "QueryInvalid")
    assert report.fields["desiredReplicas"] == 4 and report.decision.kind == "Fallback"


def test_a_query_returning_several_series_is_rejected() -> None:
    scaler, prom, _, _, _ = make()
    prom.series = 2
    report = scaler.run(REF, spec(), policy(), "Auto")
    assert conditions(report)["MetricsAvailable"] == ("False", "MultipleSeries") and prom.reads == []


def test_outage_falls_back_and_recovers() -> None:
    scaler, prom, targets, _, clock = make(replicas=6)
    scaler.run(REF, spec(), policy(), "Auto")
    replicas = targets.replicas
    prom.down = True
    for _ in range(3):
        clock.now += 30
        down = scaler.run(REF, spec(), policy(), "Auto")
        assert conditions(down)["MetricsAvailable"] == ("False", "PrometheusUnavailable")
        assert conditions(down)["Scaling"] == ("True", "MetricsFallback")
        assert targets.replicas == replicas  # Hold
    prom.down = False
    clock.now += 30
    back = scaler.run(REF, spec(), policy(), "Auto")
    assert conditions(back)["MetricsAvailable"] == ("True", "DemandRead")
    assert back.decision.kind == "Predictive"


def test_a_restarted_scaler_uses_the_restored_model_at_once() -> None:
    store = FakeStore()
    scaler, _, _, _, clock = make(store=store)
    before = scaler.run(REF, spec(), policy("ForecastOnly"), "ForecastOnly")
    model = before.fields["forecast"]["model"]
    assert store.data["web"]["forecaster"] is not None
    clock.now += 600
    restarted, prom, _, pool, _ = make(store=store, clock=clock)
    pool.hold = True  # a refit would not finish: the decision must come from the restored model
    after = restarted.run(REF, spec(), policy("ForecastOnly"), "ForecastOnly")
    assert after.decision.kind == "Predictive" and after.fields["forecast"]["model"] == model
    (event,) = [e for e in after.events if e.reason == "StateRestored"]
    assert event.message.startswith(f"restored model {model}")
    assert after.fields["learned"]["restoredAt"]
    assert prom.reads[0][0] == clock.now // STEP * STEP - 575 * STEP  # history re-read


def test_a_pending_fit_never_blocks_the_cadence() -> None:
    scaler, _, _, pool, clock = make()
    pool.hold = True
    for _ in range(4):
        report = scaler.run(REF, spec(), policy(), "Auto")
        assert report.decision.kind == "Reactive" and conditions(report)["Scaling"][1] == "WarmingUp"
        clock.now += 30
    assert len(pool.submitted) == 1  # one fit in flight, not one per cadence
    pool.submitted[0].set_exception(ValueError("no forecasting model could be fitted"))
    report = scaler.run(REF, spec(), policy(), "Auto")
    assert "fit failed" in dict((c.type, c.message) for c in report.conditions)["Scaling"]


def test_feeds_are_read_as_regressors_and_failures_reported() -> None:
    scaler, _, _, _, clock = make()
    feeds = [{"name": "price", "query": "feed_price"}]
    report = scaler.run(REF, spec(feeds=feeds), policy(), "Auto")
    assert conditions(report)["FeedsUsed"] == ("True", "FeedsRead")
    assert report.decision.kind == "Predictive"
    broken = [*feeds, {"name": "weather", "query": "broken_feed("}]
    clock.now += 30
    report = scaler.run(REF, spec(feeds=broken), policy(), "Auto")  # a changed feed set starts afresh
    assert conditions(report)["FeedsUsed"] == ("False", "QueryInvalid")
    message = dict((c.type, c.message) for c in report.conditions)["FeedsUsed"]
    assert message.startswith("weather: ") and "carried forward" in message
    assert conditions(report)["MetricsAvailable"] == ("True", "DemandRead")  # demand-based scaling goes on


def test_status_join_carries_scaling_fields_between_cycles() -> None:
    scaler, _, _, _, clock = make()
    body = {"metadata": {"name": "web", "namespace": "ns", "uid": "uid-1", "generation": 2}, "status": {}}
    ready = Outcome({"conditions": [], "observedGeneration": 2}, (), True, spec(), policy())
    status, _ = scale_profile(body, ready, scaler)
    assert "desiredReplicas" in status and {c["type"] for c in status["conditions"]} >= {"Scaling", "MetricsAvailable"}
    clock.now += 5  # not due yet: the last cycle's fields are carried
    again, events = scale_profile({**body, "status": status}, ready, scaler)
    assert again["desiredReplicas"] == status["desiredReplicas"] and events == []
    not_ready = Outcome({"conditions": status["conditions"]}, (), False)
    gone, events = scale_profile({**body, "status": status}, not_ready, scaler)
    assert next(c for c in gone["conditions"] if c["type"] == "Scaling")["reason"] == "NotReady"
    assert [e.reason for e in events] == ["NotReady"]


@pytest.mark.parametrize("mode", ["ForecastOnly", "Auto"])
def test_no_prometheus_configured_is_a_fallback(mode: str) -> None:
    clock = Clock()
    targets = FakeTargets(3)
    scaler = Scaler(None, targets, FakeStore(), CachedPool(), clock=clock)
    report = scaler.run(REF, spec(), policy(mode), mode)
    assert conditions(report)["MetricsAvailable"] == ("False", "PrometheusNotConfigured")
    assert targets.writes == [] and report.fields["desiredReplicas"] == 3


def test_one_profile_s_slow_fit_never_holds_up_another_profile() -> None:
    scaler, _, _, pool, clock = make()
    slow, quick = ProfileRef("ns", "slow", "uid-slow"), ProfileRef("ns", "quick", "uid-quick")
    pool.hold = True
    assert scaler.run(slow, spec(), policy(), "Auto").decision.kind == "Reactive"  # its fit is still running
    pool.hold = False
    assert scaler.run(quick, spec(), policy(), "Auto").decision.kind == "Predictive"
    clock.now += 30
    assert scaler.due(slow, 30.0) and scaler.run(slow, spec(), policy(), "Auto").decision.kind == "Reactive"
    assert not pool.submitted[0].done() and len(pool.submitted) == 2  # no second fit queued for "slow"


def test_a_changed_query_or_step_starts_afresh_without_mixing_data() -> None:
    store = FakeStore()
    scaler, prom, _, _, clock = make(store=store)
    scaler.run(REF, spec(), policy(), "Auto")
    clock.now += 30
    changed = spec("sum(rate(other_total[1m]))")
    report = scaler.run(REF, changed, policy(), "Auto")
    assert prom.reads[-1][0] == clock.now // STEP * STEP - 575 * STEP  # history read again for the new query
    (event,) = [e for e in report.events if e.reason == "StateNotRestored"]
    assert "another demand query" in event.message and "restoredAt" not in report.fields["learned"]
    clock.now += 30
    finer = WorkloadProfileSpec.model_validate(
        {**changed.model_dump(by_alias=True), "demand": {**changed.demand.model_dump(by_alias=True), "step": "1m"}}
    )
    report = scaler.run(REF, finer, policy(), "Auto")
    assert conditions(report)["MetricsAvailable"] == ("True", "DemandRead")
    assert report.fields["learned"]["configMap"] == "augur-state-web"


def test_without_a_policy_it_forecasts_only() -> None:
    scaler, _, targets, _, _ = make()
    body = {"metadata": {"name": "web", "namespace": "ns", "uid": "uid-1", "generation": 1}, "status": {}}
    ready = Outcome({"conditions": []}, (), True, spec(), None)
    status, _ = scale_profile(body, ready, scaler)
    assert targets.writes == [] and status["desiredReplicas"] >= 1
    assert next(c for c in status["conditions"] if c["type"] == "Scaling")["reason"] == "ForecastOnly"


def test_http_feeds_go_through_the_same_path_and_report_their_reason() -> None:
    import httpx

    from augur.feeds.http import HttpFeeds

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/down":
            return httpx.Response(502)
        start, end = float(request.url.params["start"]), float(request.url.params["end"])
        return httpx.Response(200, json={"values": [[t, 1.5] for t in np.arange(start, end + 1, STEP)]})

    scaler, _, _, _, clock = make()
    scaler.http_feeds = HttpFeeds(httpx.MockTransport(answer))
    feeds = [{"name": "weather", "http": {"url": "http://feeds.test/weather"}}]
    report = scaler.run(REF, spec(feeds=feeds), policy(), "Auto")
    assert conditions(report)["FeedsUsed"] == ("True", "FeedsRead")
    assert report.decision.kind == "Predictive"
    clock.now += 30
    down = [{"name": "weather", "http": {"url": "http://feeds.test/down"}}]
    report = scaler.run(REF, spec(feeds=down), policy(), "Auto")
    assert conditions(report)["FeedsUsed"] == ("False", "FeedUnavailable")
    assert "HTTP 502" in dict((c.type, c.message) for c in report.conditions)["FeedsUsed"]
    assert conditions(report)["MetricsAvailable"] == ("True", "DemandRead")


def drained(scaler: Scaler) -> None:
    """Wait until the warm-up pool has read every queued history."""
    deadline = time.monotonic() + 60
    while scaler.warm_queue:
        assert time.monotonic() < deadline, "warm-up reads did not finish"
        time.sleep(0.01)


def test_first_history_reads_are_queued_and_the_next_cycle_reports_the_restore() -> None:
    store = FakeStore()
    scaler, _, _, _, clock = make(store=store)
    scaler.run(REF, spec(), policy("ForecastOnly"), "ForecastOnly")  # learns and saves
    clock.now += 600
    prom, targets = FakeProm(clock), FakeTargets(5)
    restarted = Scaler(prom, targets, store, CachedPool(), save_seconds=300, clock=clock, warmups=1)
    assert restarted.run(REF, spec(), policy("ForecastOnly"), "ForecastOnly") is None  # queued, no cycle
    drained(restarted)
    assert len(prom.reads) == 1 and restarted.learned() == 1 and not restarted.warming(REF.uid)
    first = restarted.run(REF, spec(), policy("ForecastOnly"), "ForecastOnly")
    assert first is not None and first.decision.kind == "Predictive"
    assert [e.reason for e in first.events].count("StateRestored") == 1  # reported by the cycle that ran
    clock.now += 30
    again = restarted.run(REF, spec(), policy("ForecastOnly"), "ForecastOnly")
    assert again is not None and not [e for e in again.events if e.reason == "StateRestored"]
    assert len(prom.reads) == 3  # history once (in the pool), then each cycle re-reads the newest step
    assert all(start == end for start, end in prom.reads[1:])


class BlockedProm(FakeProm):
    """Range reads wait until ``release`` is set (a slow Prometheus)."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.release = threading.Event()

    def query_range(self, query: str, start: float, end: float, step: float) -> list[RawSeries]:
        assert self.release.wait(30)
        return super().query_range(query, start, end, step)


def test_warm_up_reads_queue_in_order_once_each_and_keep_handler_threads_free() -> None:
    clock = Clock()
    prom = BlockedProm(clock)
    emptied: list[int] = []
    scaler = Scaler(
        prom, FakeTargets(5), FakeStore(), CachedPool(), save_seconds=300, clock=clock, warmups=1,
        drained=lambda: emptied.append(scaler.warm_queue),
    )  # fmt: skip
    refs = [ProfileRef("ns", f"w{i}", f"uid-w{i}") for i in range(3)]
    for _ in range(2):  # a second tick of a queued profile queues nothing more
        assert all(scaler.run(r, spec(), policy(), "Auto") is None for r in refs)  # returns at once
    assert scaler.warm_queue == 3 and all(scaler.warming(r.uid) for r in refs)
    prom.release.set()
    drained(scaler)
    assert len(prom.reads) == 3 and scaler.learned() == 3
    assert emptied == [0]  # told once, when the last queued read finished (the operator trims memory then)
    reports = [scaler.run(r, spec(), policy(), "Auto") for r in refs]
    assert all(r is not None and r.decision.kind == "Predictive" for r in reports)


def test_a_failed_warm_up_read_is_reported_by_the_next_cycle_then_retried() -> None:
    clock = Clock()
    prom = FakeProm(clock)
    prom.down = True
    scaler = Scaler(prom, FakeTargets(5), FakeStore(), CachedPool(), save_seconds=300, clock=clock, warmups=1)
    assert scaler.run(REF, spec(), policy(), "Auto") is None
    drained(scaler)
    report = scaler.run(REF, spec(), policy(), "Auto")  # the pool's error, not a second read
    assert report is not None and conditions(report)["MetricsAvailable"] == ("False", "PrometheusUnavailable")
    assert report.decision.kind == "Fallback" and report.fields["desiredReplicas"] == 5  # Hold
    prom.down = False
    assert scaler.run(REF, spec(), policy(), "Auto") is None  # queued again
    drained(scaler)
    assert conditions(scaler.run(REF, spec(), policy(), "Auto"))["MetricsAvailable"] == ("True", "DemandRead")


def test_a_profile_waiting_for_its_history_says_so_in_status() -> None:
    clock = Clock()
    prom = BlockedProm(clock)
    scaler = Scaler(prom, FakeTargets(5), FakeStore(), CachedPool(), save_seconds=300, clock=clock, warmups=1)
    body = {"metadata": {"namespace": "ns", "name": "web", "uid": "uid-1", "generation": 1}, "status": {}}
    ready = Outcome({"conditions": []}, (), True, spec(), policy())
    status, events = scale_profile(body, ready, scaler)
    (scaling,) = [c for c in status["conditions"] if c["type"] == "Scaling"]
    assert (scaling["status"], scaling["reason"]) == ("False", "LearningHistory")
    assert [(e.type, e.reason) for e in events] == [("Normal", "LearningHistory")]
    prom.release.set()
    drained(scaler)
    status, _ = scale_profile({**body, "status": status}, ready, scaler)
    (scaling,) = [c for c in status["conditions"] if c["type"] == "Scaling"]
    assert scaling["reason"] == "Predictive"


def test_a_known_scale_is_not_read_again() -> None:
    scaler, _, targets, _, _ = make(replicas=5)
    seen: list[Any] = []
    read = targets.read
    targets.read = lambda *a, **kw: (seen.append(a[4] if len(a) > 4 else kw.get("known")), read(*a, **kw))[1]
    known = ScaleInfo("Deployment", 5, 5, "app=web")
    scaler.run(REF, spec(), policy("ForecastOnly"), "ForecastOnly", known=known)
    assert seen == [known]
