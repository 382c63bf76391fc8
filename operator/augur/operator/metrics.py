"""Operator metrics, served by prometheus-client at ``/metrics`` on ``AUGUR_METRICS`` (``host:port``).

Counters and histograms (labels from fixed sets; anything else is counted as ``Other``):

- ``augur_decisions_total{kind}``: scaling decisions made (``Predictive``, ``Reactive``, ``Fallback``).
- ``augur_scale_writes_total{result}``: writes to a target's ``/scale`` (``Succeeded``, ``Failed``).
- ``augur_scale_writes_blocked_total{reason}``: writes a decision wanted but Augur held back
  (``Conflict``: another autoscaler owns the target; ``NotLeader``: this replica lost its Lease).
- ``augur_decision_duration_seconds``: time to read demand, forecast and decide for one profile.
- ``augur_fit_duration_seconds``: time from submitting a model fit or refit to the worker pool to its result
  (queueing behind other fits included).
- ``augur_query_errors_total{reason}``: failed demand reads, by the ``MetricsAvailable`` reason
  (``PrometheusUnavailable``, ``QueryInvalid``, ``QueryFailed``, ``MultipleSeries``, ``NoData``, ``StaleData``,
  ``BadResponse``, ``PrometheusNotConfigured``).
- ``augur_cadence_missed_total``: cadences missed: a due time counts as missed when the profile's next
  decision came more than half a cadence after it (a decision 16 s late at a 30 s cadence misses one,
  46 s late two).
- ``augur_cadence_lag_seconds``: how late each decision came after its cadence was due.
- ``augur_reconcile_duration_seconds``: one ``WorkloadProfile`` reconcile from start to end: target and
  policy reads, the scaling cycle when due, the status write and Events (what holds a handler thread).
- ``augur_evictions_total{result}``: eviction requests of the Migration executor (``Evicted``, ``Blocked``
  by a PodDisruptionBudget, ``Gone``, ``Refused``).
- ``augur_migrations_total{phase,reason}``: finished Migrations by terminal phase (``Succeeded``,
  ``Failed``, ``RolledBack``) and outcome reason (docs/migration.md lists them; others count as ``Other``).
- ``augur_migration_rollbacks_total``: Migrations that ended ``RolledBack``.
- ``augur_migration_predicted_gain_total{kind}`` and ``augur_migration_realized_gain_total{kind}``: sum of
  the predicted gains of moves that succeeded, and of their positive measured gains (``NodeLoadStdDev``,
  ``NetworkCost``), added when the rebalancer fills in ``measuredGain`` (its own moves only).
- ``augur_migration_duration_seconds``: first action to end of finished Migrations.
- ``augur_rebalance_proposals_total{reason,mode}``: moves the rebalancer proposed (``HardRule``, ``Rebalance``,
  ``NetworkCost``, ``Predictive``; ``DryRun``, ``Auto``), one ``Migration`` each.
- ``augur_rebalance_run_seconds``: duration of one rebalancer run (cluster reads included).
- ``augur_status_writes_total{result}``: profile status after a reconcile: ``Applied`` (server-side apply)
  or ``Unchanged`` (only its times changed and it was applied less than ``AUGUR_STATUS_REFRESH_SECONDS`` ago).
- ``augur_warmup_deferred_total``: cycles skipped because the profile's first history read was queued or
  running in the warm-up pool (``AUGUR_WARMUP_CONCURRENCY`` threads).

Gauges:

- ``augur_refit_backlog``: fits queued or running in the worker pool.
- ``augur_reconciles_in_flight``: ``WorkloadProfile`` reconciles running now; at ``AUGUR_HANDLER_THREADS``
  every handler thread is busy and the next ticks wait for one (cadences slip).
- ``augur_warmup_queue``: first history reads queued or running in the warm-up pool.
- ``augur_profiles_learned``: profiles whose history has been read (they decide at every cadence).
- ``augur_profiles``: profiles with per-profile series on this replica.
- ``augur_leader``: 1 while this replica acts (leader, or leader election off), 0 while it stands by.
- ``augur_profile_mode{namespace,name,augur_profile_mode}``: enum, 1 for the effective mode
  (``Off``, ``ForecastOnly``, ``Auto``).
- ``augur_profile_conflict{namespace,name}``: 1 while another autoscaler targets the profile's workload.
- ``augur_profile_forecast_error_ratio{namespace,name}``: rolling forecast error relative to mean demand.
- ``augur_profile_lead_time_seconds{namespace,name}``: lead time the decision uses (measured from the
  workload's pods with ``leadTime: auto``).
- ``augur_profile_demand{namespace,name}``: the latest demand reading (the unit of ``spec.demand.query``).
- ``augur_profile_forecast_peak{namespace,name,bound}``: forecast peak within the horizon, ``bound`` ``p50``
  (median) or ``upper`` (the quantile the decision provisions for); the dashboard's forecast band.
- ``augur_profile_capacity{namespace,name}``: demand the Ready replicas can serve at 100% utilization
  (``readyReplicas`` × ``spec.demand.capacityPerReplica``), as in the demo.
- ``augur_profile_replicas{namespace,name,kind}``: replicas by ``kind``: ``current`` (the target's
  ``spec.replicas``), ``desired`` (Augur's decision), ``ready``.
- ``augur_profile_anomaly_score{namespace,name}``: anomaly score of the latest demand reading (0..1).
- ``augur_profile_condition{namespace,name,condition}``: the profile's conditions (``Ready``,
  ``MetricsAvailable``, ``Scaling``, ``Conflict``, ``FeedsUsed``): 1 True, 0 False, -1 Unknown.
- ``augur_rebalance_node_load_stddev``, ``augur_rebalance_node_load_spread``: standard deviation and
  busiest-minus-idlest of node CPU load (fraction of allocatable) at the last rebalancer run.
- ``augur_rebalance_network_cost``: network cost (traffic x distance between peers' pods) at the last run.

plus prometheus-client's ``process_*`` (CPU seconds, resident memory) and ``python_*`` collectors.

Label cardinality is bounded: per-profile series carry only ``namespace`` and ``name`` and are removed
when the profile is deleted (:func:`forget_profile`); every other label comes from the fixed sets above
(anything else is counted as ``Other``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import Counter, Enum, Gauge, Histogram, start_http_server

from augur.migration.result import RebalanceResult

logger = logging.getLogger(__name__)

DECISION_KINDS = ("Predictive", "Reactive", "Fallback")
WRITE_RESULTS = ("Succeeded", "Failed")
BLOCK_REASONS = ("Conflict", "NotLeader")
QUERY_ERROR_REASONS = (
    "PrometheusUnavailable",
    "QueryInvalid",
    "QueryFailed",
    "MultipleSeries",
    "NoData",
    "StaleData",
    "BadResponse",
    "PrometheusNotConfigured",
)
MODES = ("Off", "ForecastOnly", "Auto")
REPLICA_KINDS = ("current", "desired", "ready")
PEAK_BOUNDS = ("p50", "upper")
CONDITIONS = ("Ready", "MetricsAvailable", "Scaling", "Conflict", "FeedsUsed")
_CONDITION_VALUES = {"True": 1.0, "False": 0.0}
EVICTION_RESULTS = ("Evicted", "Blocked", "Gone", "Refused")
MIGRATION_PHASES = ("Succeeded", "Failed", "RolledBack")
GAIN_KINDS = ("NodeLoadStdDev", "NetworkCost")
OTHER = "Other"
PROFILE_LABELS = ("namespace", "name")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_FIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

DECISIONS = Counter("augur_decisions_total", "Scaling decisions made, by kind.", ["kind"])
SCALE_WRITES = Counter("augur_scale_writes_total", "Writes to a target's /scale, by result.", ["result"])
SCALE_WRITES_BLOCKED = Counter(
    "augur_scale_writes_blocked_total", "Writes a decision wanted but Augur held back, by reason.", ["reason"]
)
DECISION_SECONDS = Histogram(
    "augur_decision_duration_seconds",
    "Time to read demand, forecast and decide for one profile.",
    buckets=_LATENCY_BUCKETS,
)
FIT_SECONDS = Histogram(
    "augur_fit_duration_seconds", "Time from submitting a fit to its result (queueing included).", buckets=_FIT_BUCKETS
)
RECONCILE_SECONDS = Histogram(
    "augur_reconcile_duration_seconds",
    "One WorkloadProfile reconcile: reads, scaling cycle, status write and Events.",
    buckets=_LATENCY_BUCKETS,
)
PLAN_GATE_RELEASES = Counter(
    "augur_plan_gate_releases_total",
    "Pods the operator released from the augur.dev/plan scheduling gate after AUGUR_PLAN_GATE_BACKSTOP_SECONDS "
    "(no extender let them through).",
)
RECONCILES_IN_FLIGHT = Gauge("augur_reconciles_in_flight", "WorkloadProfile reconciles running now.")
REFIT_BACKLOG = Gauge("augur_refit_backlog", "Fits queued or running in the worker pool.")
WARMUP_QUEUE = Gauge("augur_warmup_queue", "First history reads queued or running in the warm-up pool.")
PROFILES_LEARNED = Gauge("augur_profiles_learned", "Profiles whose history has been read.")
QUERY_ERRORS = Counter("augur_query_errors_total", "Failed demand reads, by reason.", ["reason"])
CADENCE_MISSED = Counter("augur_cadence_missed_total", "Cadences missed (next decision over half a cadence late).")
CADENCE_LAG = Histogram(
    "augur_cadence_lag_seconds", "How late each decision came after its cadence was due.", buckets=_LATENCY_BUCKETS
)
STATUS_RESULTS = ("Applied", "Unchanged")
STATUS_WRITES = Counter("augur_status_writes_total", "Profile status after a reconcile, by result.", ["result"])
WARMUP_DEFERRED = Counter(
    "augur_warmup_deferred_total", "Cycles skipped while the first history read was queued or running."
)
PROFILE_MODE = Enum("augur_profile_mode", "Effective mode per profile.", PROFILE_LABELS, states=list(MODES))
PROFILE_CONFLICT = Gauge("augur_profile_conflict", "1 while another autoscaler targets the workload.", PROFILE_LABELS)
PROFILE_FORECAST_ERROR = Gauge(
    "augur_profile_forecast_error_ratio", "Rolling forecast error relative to mean demand.", PROFILE_LABELS
)
PROFILE_LEAD_TIME = Gauge("augur_profile_lead_time_seconds", "Lead time the decision uses.", PROFILE_LABELS)
PROFILE_DEMAND = Gauge("augur_profile_demand", "Latest demand reading.", PROFILE_LABELS)
PROFILE_FORECAST_PEAK = Gauge(
    "augur_profile_forecast_peak", "Forecast peak within the horizon (p50 or upper).", [*PROFILE_LABELS, "bound"]
)
PROFILE_CAPACITY = Gauge("augur_profile_capacity", "Demand the Ready replicas can serve.", PROFILE_LABELS)
PROFILE_REPLICAS = Gauge(
    "augur_profile_replicas", "Replicas by kind (current, desired, ready).", [*PROFILE_LABELS, "kind"]
)
PROFILE_ANOMALY = Gauge("augur_profile_anomaly_score", "Anomaly score of the latest reading (0..1).", PROFILE_LABELS)
PROFILE_CONDITION = Gauge(
    "augur_profile_condition", "Conditions: 1 True, 0 False, -1 Unknown.", [*PROFILE_LABELS, "condition"]
)
EVICTIONS = Counter("augur_evictions_total", "Eviction requests of the Migration executor, by result.", ["result"])
MIGRATIONS = Counter(
    "augur_migrations_total", "Finished Migrations, by terminal phase and reason.", ["phase", "reason"]
)
MIGRATION_ROLLBACKS = Counter("augur_migration_rollbacks_total", "Migrations that ended RolledBack.")
PREDICTED_GAIN = Counter("augur_migration_predicted_gain_total", "Predicted gain of succeeded moves.", ["kind"])
REALIZED_GAIN = Counter("augur_migration_realized_gain_total", "Measured gain of succeeded moves.", ["kind"])
MIGRATION_SECONDS = Histogram(
    "augur_migration_duration_seconds",
    "First action to end of finished Migrations.",
    buckets=(1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0),
)
PROFILES = Gauge("augur_profiles", "Profiles with per-profile series on this replica.")
LEADER = Gauge("augur_leader", "1 while this replica acts, 0 while it stands by.")

REBALANCE_NODE_LOAD_STDDEV = Gauge(
    "augur_rebalance_node_load_stddev", "Standard deviation of node CPU load (fraction of allocatable), last run."
)
REBALANCE_NODE_LOAD_SPREAD = Gauge(
    "augur_rebalance_node_load_spread", "Busiest minus idlest node CPU load (fraction of allocatable), last run."
)
REBALANCE_NETWORK_COST = Gauge(
    "augur_rebalance_network_cost", "Network cost (traffic x distance between peers' pods), last run."
)
REBALANCE_PROPOSALS = Counter(
    "augur_rebalance_proposals_total", "Moves the rebalancer proposed, by reason and mode.", ["reason", "mode"]
)
REBALANCE_SECONDS = Histogram(
    "augur_rebalance_run_seconds", "Duration of one rebalancer run (reads included).", buckets=_LATENCY_BUCKETS
)
REBALANCE_REASONS = ("HardRule", "Rebalance", "NetworkCost", "Predictive")
REBALANCE_MODES = ("DryRun", "Auto")

_PER_PROFILE = (
    PROFILE_MODE,
    PROFILE_CONFLICT,
    PROFILE_FORECAST_ERROR,
    PROFILE_LEAD_TIME,
    PROFILE_DEMAND,
    PROFILE_CAPACITY,
    PROFILE_ANOMALY,
)
_PER_PROFILE_LABELLED = (
    (PROFILE_FORECAST_PEAK, PEAK_BOUNDS),
    (PROFILE_REPLICAS, REPLICA_KINDS),
    (PROFILE_CONDITION, CONDITIONS),
)
_lock = threading.Lock()
_last_decision: dict[tuple[str, str], float] = {}
_known: set[tuple[str, str]] = set()


def _bounded(value: str, allowed: Iterable[str]) -> str:
    return value if value in allowed else OTHER


def decision(kind: str, seconds: float) -> None:
    DECISIONS.labels(_bounded(kind, DECISION_KINDS)).inc()
    DECISION_SECONDS.observe(seconds)


def status_write(applied: bool) -> None:
    STATUS_WRITES.labels(STATUS_RESULTS[0] if applied else STATUS_RESULTS[1]).inc()


def scale_write(succeeded: bool) -> None:
    SCALE_WRITES.labels(WRITE_RESULTS[0] if succeeded else WRITE_RESULTS[1]).inc()


def scale_write_blocked(reason: str) -> None:
    SCALE_WRITES_BLOCKED.labels(_bounded(reason, BLOCK_REASONS)).inc()


def eviction(result: str) -> None:
    EVICTIONS.labels(_bounded(result, EVICTION_RESULTS)).inc()


def migration_finished(
    phase: str,
    reason: str,
    known_reasons: Iterable[str],
    seconds: float | None,
    predicted: tuple[str, float] | None,
    realized: tuple[str, float] | None,
) -> None:
    """Count a finished Migration; gains (kind, value) are added only for moves that succeeded."""
    MIGRATIONS.labels(_bounded(phase, MIGRATION_PHASES), _bounded(reason, known_reasons)).inc()
    if phase == "RolledBack":
        MIGRATION_ROLLBACKS.inc()
    if seconds is not None:
        MIGRATION_SECONDS.observe(seconds)
    if phase != "Succeeded":
        return
    for counter, gain in ((PREDICTED_GAIN, predicted), (REALIZED_GAIN, realized)):
        if gain is not None and gain[1] > 0:
            counter.labels(_bounded(gain[0], GAIN_KINDS)).inc(gain[1])


def migration_measured(kind: str, value: float) -> None:
    """A succeeded move's measured gain (added when positive: a counter)."""
    if value > 0:
        REALIZED_GAIN.labels(_bounded(kind, GAIN_KINDS)).inc(value)


def query_error(reason: str) -> None:
    QUERY_ERRORS.labels(_bounded(reason, QUERY_ERROR_REASONS)).inc()


def cadence(namespace: str, name: str, at: float, interval: float) -> int:
    """Record one decision of a profile at monotonic time ``at`` with cadence ``interval``; returns how many
    cadences were missed since its previous decision (0 when on time or the first one)."""
    key = (namespace, name)
    with _lock:
        previous = _last_decision.get(key)
        _last_decision[key] = at
    if previous is None or interval <= 0:
        return 0
    lag = max(0.0, at - previous - interval)
    CADENCE_LAG.observe(lag)
    missed = math.ceil((lag - interval / 2) / interval) if lag > interval / 2 else 0
    if missed:
        CADENCE_MISSED.inc(missed)
    return missed


def _track(namespace: str, name: str) -> None:
    with _lock:
        _known.add((namespace, name))
        PROFILES.set(len(_known))


def profile(
    namespace: str,
    name: str,
    *,
    mode: str | None = None,
    conflict: bool | None = None,
    forecast_error: float | None = None,
    lead_time_seconds: float | None = None,
) -> None:
    """Set the per-profile series that are given (None leaves a series as it is)."""
    _track(namespace, name)
    if mode is not None and mode in MODES:
        PROFILE_MODE.labels(namespace, name).state(mode)
    if conflict is not None:
        PROFILE_CONFLICT.labels(namespace, name).set(1 if conflict else 0)
    if forecast_error is not None:
        PROFILE_FORECAST_ERROR.labels(namespace, name).set(forecast_error)
    if lead_time_seconds is not None:
        PROFILE_LEAD_TIME.labels(namespace, name).set(lead_time_seconds)


def _set(gauge: Gauge, labels: tuple[str, ...], value: object) -> None:
    """Set a series to a finite number, or remove it when the value is absent (no stale readings)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        gauge.labels(*labels).set(float(value))
    else:
        with contextlib.suppress(KeyError):
            gauge.remove(*labels)


def profile_status(namespace: str, name: str, status: Mapping[str, Any], capacity_per_replica: float | None) -> None:
    """Mirror the applied ``WorkloadProfile`` status into the per-profile series the dashboard draws;
    ``capacity_per_replica``: ``spec.demand.capacityPerReplica`` (None without a demand metric)."""
    _track(namespace, name)
    key = (namespace, name)
    _set(PROFILE_DEMAND, key, status.get("demand"))
    _set(PROFILE_ANOMALY, key, status.get("anomalyScore"))
    forecast = status.get("forecast") or {}
    _set(PROFILE_FORECAST_PEAK, (*key, "p50"), forecast.get("peakP50"))
    _set(PROFILE_FORECAST_PEAK, (*key, "upper"), forecast.get("peakUpper"))
    ready = status.get("readyReplicas")
    for kind, field in zip(REPLICA_KINDS, ("currentReplicas", "desiredReplicas", "readyReplicas"), strict=True):
        _set(PROFILE_REPLICAS, (*key, kind), status.get(field))
    capacity = None
    if capacity_per_replica is not None and isinstance(ready, int | float):
        capacity = ready * capacity_per_replica
    _set(PROFILE_CAPACITY, key, capacity)
    seen = {str(c.get("type")): str(c.get("status")) for c in status.get("conditions") or [] if isinstance(c, dict)}
    for condition in CONDITIONS:
        state = seen.get(condition)
        _set(PROFILE_CONDITION, (*key, condition), None if state is None else _CONDITION_VALUES.get(state, -1.0))


def forget_profile(namespace: str, name: str) -> None:
    """Remove every series of a deleted profile (keeps label cardinality bounded by live profiles)."""
    for metric in _PER_PROFILE:
        with contextlib.suppress(KeyError):
            metric.remove(namespace, name)
    for labelled, values in _PER_PROFILE_LABELLED:
        for value in values:
            with contextlib.suppress(KeyError):
                labelled.remove(namespace, name, value)
    with _lock:
        _known.discard((namespace, name))
        _last_decision.pop((namespace, name), None)
        PROFILES.set(len(_known))


def rebalance_run(result: RebalanceResult, mode: str, seconds: float) -> None:
    """Figures and proposals of one rebalancer run."""
    REBALANCE_NODE_LOAD_STDDEV.set(result.before.stddev)
    REBALANCE_NODE_LOAD_SPREAD.set(result.before.spread)
    REBALANCE_NETWORK_COST.set(result.before.network_cost)
    REBALANCE_SECONDS.observe(seconds)
    for p in result.proposals:
        REBALANCE_PROPOSALS.labels(_bounded(p.reason, REBALANCE_REASONS), _bounded(mode, REBALANCE_MODES)).inc()


def serve(address: str) -> bool:
    """Serve ``/metrics`` on ``host:port`` in a daemon thread; False (logged) when disabled or the port is
    taken: metrics never stop the operator from scaling."""
    if not address:
        return False
    host, _, port = address.rpartition(":")
    try:
        start_http_server(int(port), addr=host or "0.0.0.0")
    except (OSError, ValueError) as exc:
        logger.error(f"metrics are not served at {address!r} (AUGUR_METRICS): {exc}")
        return False
    logger.info(f"serving metrics at http://{address}/metrics")
    return True
