"""The live scaling cycle of every ``WorkloadProfile``, without kopf: read demand, learn, decide, act, report.

One :class:`Scaler` per operator process keeps a :class:`~augur.scaling.loop.DemandLoop` per profile
(built, with the record around it, in :mod:`augur.operator.profileloop`).
:meth:`Scaler.run` is one cadence of one profile:

1. on first sight, restore what was learned from the profile's ConfigMap, check the PromQL with a
   one-step range query (``QueryInvalid``/``MultipleSeries`` before any history is read), then read the
   policy's ``history``; afterwards read only the increment since the last point;
2. validate it (:mod:`augur.forecast.demand`), feed it to the forecaster, anomaly detector and learner;
3. swap in a finished refit; start one when due (in the :class:`~augur.operator.fitpool.FitPool`; the
   cadence never waits for it);
4. decide (or apply the metrics-outage fallback), write ``/scale`` in ``Auto``, save state when due;
5. return the status fields, condition updates and Events (:mod:`augur.operator.scalestatus`).

Seams for the HA/conflict/lead-time work: ``blocked`` (why writes are not allowed now) and
``lead_time`` (a measured lead time per profile) are parameters; :class:`CycleReport` carries timings.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from augur.api.v1alpha1 import ScalingPolicySpec, WorkloadProfileSpec
from augur.api.v1alpha1.feeds import ExternalFeed
from augur.constants import FloatArray
from augur.feeds.http import FeedError, HttpFeeds
from augur.forecast.demand import DemandError, RawSeries, check_fresh, grid_points, validate_range
from augur.kube.client import KubeError
from augur.kube.resources import ScaleInfo
from augur.kube.statestore import config_map_name
from augur.kube.workload import TargetReplicas
from augur.operator import metrics
from augur.operator.fitpool import FitPool, InlinePool
from augur.operator.profileloop import Runtime, loop_config, new_loop
from augur.operator.scalestatus import CycleReport, Facts, Report, build
from augur.prom.client import PromError
from augur.prom.ranges import aligned
from augur.scaling.loop import LoopConfig
from augur.scaling.state import restore, snapshot

log = logging.getLogger("augur.scaler")


class Ranges(Protocol):
    def check(self, query: str, at: float, step: float) -> list[RawSeries]: ...

    def query_range(self, query: str, start: float, end: float, step: float) -> list[RawSeries]: ...


class Targets(Protocol):
    def read(
        self, api_version: str, kind: str, name: str, namespace: str, known: ScaleInfo | None = None
    ) -> TargetReplicas: ...

    def set_replicas(self, api_version: str, kind: str, name: str, namespace: str, replicas: int) -> None: ...


class Store(Protocol):
    def load(self, namespace: str, profile: str) -> dict[str, Any] | None: ...

    def save(self, namespace: str, profile: str, uid: str, data: dict[str, Any]) -> int: ...


@dataclass(frozen=True)
class ProfileRef:
    namespace: str
    name: str
    uid: str


class Scaler:
    def __init__(
        self,
        ranges: Ranges | None,
        targets: Targets,
        store: Store,
        pool: FitPool | InlinePool,
        save_seconds: float = 300.0,
        clock: Callable[[], float] = time.time,
        http_feeds: HttpFeeds | None = None,
        warmups: int = 0,
        drained: Callable[[], object] | None = None,
    ) -> None:
        """``warmups``: threads that read and learn the history of profiles seen for the first time
        (``AUGUR_WARMUP_CONCURRENCY``; 0: in the cycle itself). That first read is CPU-heavy (every point
        of weeks of history goes through the anomaly detector), so it is queued to this pool in arrival
        order and ``run`` returns None until it is done: the handler threads stay free for the cycles of
        profiles that already decide, and the queue drains as fast as the warm-up threads go.
        ``drained`` is called (on a warm-up thread) each time the queue has become empty."""
        self.ranges, self.targets, self.store, self.pool = ranges, targets, store, pool
        self._warm_pool = ThreadPoolExecutor(warmups, thread_name_prefix="augur-warmup") if warmups > 0 else None
        self._warm_queue = 0
        self._drained = drained
        self.http_feeds = http_feeds or HttpFeeds()
        self.save_seconds = save_seconds
        self.clock = clock
        self._runtimes: dict[str, Runtime] = {}
        self._lock = threading.Lock()

    def due(self, ref: ProfileRef, interval_seconds: float, tolerance: float = 1.0) -> bool:
        rt = self._runtimes.get(ref.uid)
        return rt is None or rt.last_cycle is None or self.clock() - rt.last_cycle >= interval_seconds - tolerance

    def warming(self, uid: str) -> bool:
        """The profile's first history read is queued or running."""
        rt = self._runtimes.get(uid)
        return rt is not None and rt.warming

    @property
    def warm_queue(self) -> int:
        """First history reads queued or running."""
        return self._warm_queue

    def learned(self) -> int:
        """Profiles whose history has been read (they decide at every cadence)."""
        with self._lock:
            return sum(1 for rt in self._runtimes.values() if rt.loop.last_ts is not None)

    def shutdown(self) -> None:
        if self._warm_pool is not None:
            self._warm_pool.shutdown(wait=False, cancel_futures=True)

    def forget_uid(self, uid: str) -> None:
        """The profile is gone: drop its state (its ConfigMap goes with it by garbage collection)."""
        with self._lock:
            self._runtimes.pop(uid, None)

    def _runtime(self, ref: ProfileRef, config: LoopConfig, now: float) -> tuple[Runtime, bool]:
        with self._lock:
            rt = self._runtimes.get(ref.uid)
            same = rt is not None and (rt.loop.config.source, rt.loop.config.step_seconds) == (
                config.source,
                config.step_seconds,
            )
            if rt is not None and same:
                rt.loop.reconfigure(config)
                return rt, False
            loop = new_loop(ref.uid, config)
            rt = Runtime(loop, restore_pending=True)
            rt.lock.acquire()  # a concurrent cycle of this profile waits for the restore (it skips)
            self._runtimes[ref.uid] = rt
        try:
            saved = self.store.load(ref.namespace, ref.name)
        except ValueError as exc:
            rt.restored = f"saved state unreadable ({exc}); starting fresh"
        except KubeError:
            with self._lock:
                self._runtimes.pop(ref.uid, None)  # never overwrite saved state we could not read
            raise
        else:
            if saved is not None:
                rt.restored = restore(loop, saved, loop.next_read(now))
                rt.saved_at = now
                if rt.restored.startswith("restored"):
                    rt.restored_at = now
        finally:
            rt.lock.release()
        return rt, True

    def run(
        self,
        ref: ProfileRef,
        spec: WorkloadProfileSpec,
        policy: ScalingPolicySpec | None,
        mode: str,
        blocked: str | None = None,
        lead_time: float | None = None,
        known: ScaleInfo | None = None,
    ) -> Report | None:
        """One cadence; None when this profile's previous cycle is still running or its first history
        read is queued or running in the warm-up pool. ``known``: the target's ``/scale`` as the reconcile
        just read it (not read again)."""
        if mode == "Off" or spec.demand is None:
            return build(self._bare(mode, spec))
        now = self.clock()
        config = loop_config(spec, policy, lead_time)
        rt, _ = self._runtime(ref, config, now)
        first_read = rt.loop.last_ts is None and rt.warm_error is None
        if self._warm_pool is not None and self.ranges is not None and first_read:
            self._queue_warm_up(ref, spec, rt)
            metrics.WARMUP_DEFERRED.inc()
            return None
        if not rt.lock.acquire(blocking=False):
            return None
        try:
            return self._cycle(ref, spec, mode, blocked, rt, now, known)
        finally:
            rt.lock.release()

    def _queue_warm_up(self, ref: ProfileRef, spec: WorkloadProfileSpec, rt: Runtime) -> None:
        with self._lock:
            if rt.warming:
                return
            rt.warming = True
            self._warm_queue += 1
        assert self._warm_pool is not None
        log.debug("%s/%s: history read queued (%d queued or running)", ref.namespace, ref.name, self._warm_queue)
        self._warm_pool.submit(self._warm_up, ref, spec, rt)

    def _warm_up(self, ref: ProfileRef, spec: WorkloadProfileSpec, rt: Runtime) -> None:
        """The first history read of one profile, in the warm-up pool. A failure is kept for the next
        cycle to report (the fallback, its condition and Event), never lost."""
        try:
            with rt.lock:
                if self._runtimes.get(ref.uid) is not rt:
                    return  # deleted, or its query or step changed meanwhile (a new read is queued)
                error, _ = self._read(rt, spec, self.clock())
                rt.warm_error = error
        except Exception as exc:  # anything else: reported by the next cycle instead of retried forever
            log.exception("%s/%s: history read failed", ref.namespace, ref.name)
            rt.warm_error = DemandError("HistoryReadFailed", f"the history read failed: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                rt.warming = False
                self._warm_queue -= 1
                empty = self._warm_queue == 0
            if empty and self._drained is not None:
                self._drained()

    def _bare(self, mode: str, spec: WorkloadProfileSpec) -> Facts:
        return Facts(mode=mode, now=self.clock(), spec=spec)

    def _cycle(
        self, ref: ProfileRef, spec: WorkloadProfileSpec, mode: str, blocked: str | None, rt: Runtime, now: float,
        known: ScaleInfo | None,
    ) -> Report:  # fmt: skip
        assert spec.demand is not None
        started = time.monotonic()
        loop = rt.loop
        target_ref = spec.scale_target_ref
        target = self.targets.read(target_ref.api_version, target_ref.kind, target_ref.name, ref.namespace, known)
        error: PromError | DemandError | None
        if rt.warm_error is not None:  # the warm-up read failed: report it now (no second read)
            error, points, rt.warm_error = rt.warm_error, 0, None
        else:
            error, points = self._read(rt, spec, now)
        fit_seconds = self._collect_fit(rt, now)
        fit_started = self._start_fit(rt, now)
        if fit_started:  # a pool that finished at once (or an inline one)
            fit_seconds = self._collect_fit(rt, now) or fit_seconds
        if error is None:
            decision = loop.decide(now, target.spec, target.ready)
        else:
            decision = loop.fallback(now, target.spec, target.ready, f"{error.reason}: {error}")
        wrote = False
        if mode == "Auto" and blocked is None and decision.replicas != target.spec:
            target_ref = spec.scale_target_ref
            self.targets.set_replicas(
                target_ref.api_version, target_ref.kind, target_ref.name, ref.namespace, decision.replicas
            )
            wrote = True
        saved_error = self._save(ref, rt, now)
        rt.last_cycle = now
        report = CycleReport(
            time.monotonic() - started, points, error.reason if error else "", fit_started, fit_seconds, wrote
        )
        restored, rt.restore_pending = (rt.restored if rt.restore_pending else ""), False
        recommend = mode != "Auto" and decision.replicas not in (target.spec, rt.last_recommended)
        rt.last_recommended = decision.replicas if mode != "Auto" else None
        facts = Facts(
            mode=mode,
            now=now,
            spec=spec,
            loop=loop,
            target=target,
            decision=decision,
            error=error,
            wrote=wrote,
            blocked=blocked,
            recommend=recommend,
            restored=restored,
            restored_at=rt.restored_at,
            saved_at=rt.saved_at,
            save_error=saved_error,
            fit_error=rt.fit_error,
            fit_in_flight=rt.fit is not None,
            feed_errors=tuple(rt.feed_errors),
            config_map=config_map_name(ref.name),
            report=report,
        )
        return build(facts)

    # -- demand ------------------------------------------------------------------------------------------------
    def _read(self, rt: Runtime, spec: WorkloadProfileSpec, now: float) -> tuple[PromError | DemandError | None, int]:
        assert spec.demand is not None
        loop, query = rt.loop, spec.demand.query
        if self.ranges is None:
            return PromError("PrometheusNotConfigured", "AUGUR_PROMETHEUS_URL is not set"), 0
        step = loop.config.step_seconds
        end = aligned(now, step)
        try:
            if rt.checked_query != query:
                answer = self.ranges.check(query, end, step)
                if len(answer) > 1:
                    validate_range(answer, end - step, end, step)  # raises MultipleSeries
                rt.checked_query = query
            start = loop.next_read(now)
            added = 0
            if start > end:  # no new step yet: re-read the last one, so an outage shows at every cadence
                self.ranges.query_range(query, end, end, step)
            else:
                answer = self.ranges.query_range(query, start, end, step)
                window = validate_range(answer, start, end, step, loop.context())
                added = loop.ingest(window, self._feeds(rt, spec, start, end, step))
                if window.dropped.total:
                    log.info("dropped demand points: %s", window.dropped.describe())
            check_fresh(loop.newest_good, now, loop.config.stale_after)
        except (PromError, DemandError) as exc:
            if exc.reason in ("QueryInvalid", "MultipleSeries"):
                rt.checked_query = ""  # checked again next time (the query may be fixed meanwhile)
            return exc, 0
        return None, added

    def _feeds(
        self, rt: Runtime, spec: WorkloadProfileSpec, start: float, end: float, step: float
    ) -> FloatArray | None:
        """Feed values for ``[start, end]``, one column per feed; a feed that fails is NaN (its last value
        is carried) and named in ``rt.feed_errors``."""
        if not spec.feeds or self.ranges is None:
            return None
        columns, errors = [], []
        for feed in spec.feeds:
            try:
                window = validate_range(self._read_feed(feed, start, end, step), start, end, step)
                column = np.full(grid_points(start, end, step), np.nan)
                column[: window.values.size] = window.values
            except (PromError, DemandError, FeedError) as exc:
                errors.append((feed.name, exc.reason, str(exc)))
                column = np.full(grid_points(start, end, step), np.nan)
            columns.append(column)
        rt.feed_errors = errors
        return np.column_stack(columns)

    def _read_feed(self, feed: ExternalFeed, start: float, end: float, step: float) -> list[RawSeries]:
        if feed.http is not None:
            return self.http_feeds.read(feed.http, start, end, step)
        assert self.ranges is not None and feed.query is not None
        return self.ranges.query_range(feed.query, start, end, step)

    # -- fits --------------------------------------------------------------------------------------------------
    def _collect_fit(self, rt: Runtime, now: float) -> float | None:
        if rt.fit is None or not rt.fit.done() or rt.job is None:
            return None
        future, job = rt.fit, rt.job
        rt.fit, rt.job = None, None
        seconds = now - rt.fit_started
        try:
            forecaster = future.result()
        except Exception as exc:
            rt.fit_error = f"fit failed: {type(exc).__name__}: {exc}"
            rt.loop.last_fit_at = now  # retried at the next scheduled refit, not at every cadence
            log.warning(rt.fit_error)
            return seconds
        rt.loop.install(forecaster, job, now)
        rt.fit_error = ""
        rt.model_changed = True
        return seconds

    def _start_fit(self, rt: Runtime, now: float) -> bool:
        if rt.fit is not None or not rt.loop.refit_due(now):
            return False
        job = rt.loop.fit_job()
        rt.job, rt.fit, rt.fit_started = job, self.pool.submit(job), now
        return True

    # -- persistence -------------------------------------------------------------------------------------------
    def _save(self, ref: ProfileRef, rt: Runtime, now: float) -> str:
        due = rt.model_changed or rt.saved_at is None or now - rt.saved_at >= self.save_seconds
        if not due or (rt.loop.forecaster is None and rt.loop.last_ts is None):
            return ""
        try:
            self.store.save(ref.namespace, ref.name, ref.uid, snapshot(rt.loop))
        except (KubeError, ValueError) as exc:
            return str(exc)
        rt.saved_at, rt.model_changed = now, False
        return ""
