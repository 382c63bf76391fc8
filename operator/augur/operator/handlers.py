"""kopf handlers for ``WorkloadProfile`` and ``NetworkTopology``: parse → reconcile → apply status with
server-side apply → post Events on condition transitions."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any, cast

import kopf
from kubernetes import client

from augur.api import GROUP, VERSION
from augur.constants import REGION_LABEL, ZONE_LABEL
from augur.kube.client import KubeError, api_client
from augur.kube.cluster import ClusterReader
from augur.kube.events import post_event
from augur.kube.finalizers import remove_finalizers
from augur.kube.pods import pod_startups
from augur.kube.resources import Resources
from augur.kube.statestore import StateStore
from augur.kube.status import apply_status
from augur.kube.workload import Workloads
from augur.operator import indexes, login, memory, metrics
from augur.operator.background import stop_task
from augur.operator.conflicts import POLLED
from augur.operator.cycle import scale_profile
from augur.operator.fitpool import FitPool
from augur.operator.gates import backstop_loop
from augur.operator.late_claims import ScaledObjectPoll
from augur.operator.operations import GuardedTargets, LeadTimes
from augur.operator.reconcile import EventToPost, reconcile_profile
from augur.operator.scaler import Scaler
from augur.operator.serial import ProfileSerializer
from augur.operator.settings import SETTINGS
from augur.operator.sharding import carries_stale_finalizers, finalizer, kopf_labels, stale_finalizers
from augur.operator.topology import reconcile_topology, utcnow
from augur.prom.client import PromClient
from augur.prom.ranges import RangeReader

SHARD = kopf_labels(SETTINGS.shard_selector)
"""Label filter of the profiles this replica acts on (``AUGUR_SHARD_SELECTOR``; empty: all)."""
FINALIZER = finalizer(SETTINGS.shard_selector)
"""The finalizer kopf puts on this shard's profiles (its timers need one; one name per shard)."""
INDEXES = indexes
"""Imported for its kopf indexes of other autoscalers (conflict detection)."""
LOGIN = login
"""Imported for its kopf login handler (kopf's requests in a bounded connection pool)."""
POSTING_WORKERS = 4
"""kopf posts its warnings as Events with at most this many requests at once (unbounded by default: a
burst of failures would open a connection per Event)."""
TIMER_EXIT_POLL_SECONDS = 1.0
"""How often kopf checks, once a profile is deleted, whether its resync timer has exited (kopf's default is
60 s). A timer caught mid-run (a scaling cycle in a handler thread) cannot be cancelled; kopf keeps the
finalizer until it returns, and with the default a deletion then waited a minute after the cycle ended."""


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.persistence.finalizer = FINALIZER
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = 300
    settings.execution.max_workers = SETTINGS.handler_threads  # AUGUR_HANDLER_THREADS: sync handlers run here
    settings.posting.worker_limit = POSTING_WORKERS
    settings.background.cancellation_polling = TIMER_EXIT_POLL_SECONDS
    memo["api"] = api_client(SETTINGS.connections)
    memo["resources"] = Resources(memo["api"])
    url, connections = SETTINGS.prometheus_url, SETTINGS.connections  # connections: one per calling thread
    memo["prom"] = PromClient(url, connections=connections) if url else None
    memo["pool"] = FitPool(SETTINGS.workers, SETTINGS.fit_nice)
    metrics.REFIT_BACKLOG.set_function(lambda: memo["pool"].backlog)
    ranges = RangeReader.connect(url, connections=connections) if url else None
    targets = GuardedTargets(Workloads(memo["resources"]))
    memo["scaler"] = Scaler(
        ranges, targets, StateStore(memo["api"]), memo["pool"], SETTINGS.state_save_seconds,
        warmups=SETTINGS.warmup_concurrency, drained=memory.trim,
    )  # fmt: skip
    metrics.WARMUP_QUEUE.set_function(lambda: memo["scaler"].warm_queue)
    metrics.PROFILES_LEARNED.set_function(memo["scaler"].learned)
    memo["lead_times"] = LeadTimes(partial(pod_startups, memo["api"]))
    memo["serial"] = ProfileSerializer(SETTINGS.status_refresh_seconds)
    poll = SETTINGS.scaledobject_poll_seconds
    list_all = partial(ClusterReader(memo["api"]).scaled_objects, SETTINGS.namespaces)
    memo["scaledobjects"] = ScaledObjectPoll(list_all, poll).start() if poll else None


@kopf.on.cleanup()
def stop_pool(memo: kopf.Memo, **_: Any) -> None:
    if memo.get("scaledobjects") is not None:
        memo["scaledobjects"].stop()
    memo["scaler"].shutdown()
    memo["pool"].shutdown()


@kopf.on.probe(id="apiserver")
def apiserver_probe(memo: kopf.Memo, **_: Any) -> str:
    version = client.VersionApi(memo["api"]).get_code()
    return str(version.git_version)


def _apply(memo: kopf.Memo, kind: str, plural: str, body: kopf.Body, status: dict[str, Any]) -> bool:
    """Apply status; False when the object is gone. Retries what may pass, gives up on the rest."""
    meta = body.metadata
    try:
        apply_status(memo["api"], kind, plural, meta.namespace, str(meta.name), status)
    except KubeError as exc:
        if exc.status.transient:
            raise kopf.TemporaryError(str(exc), delay=5) from exc
        if exc.status.code == 404:
            return False
        raise kopf.PermanentError(str(exc)) from exc
    return True


def _post(memo: kopf.Memo, kind: str, body: kopf.Body, event: EventToPost) -> None:
    """Through :mod:`augur.kube.events`, as the executor and rebalancer do: kopf's own poster retries a
    403 for minutes, also when the namespace is being deleted and no Event can ever be created there."""
    meta = body.metadata
    core = client.CoreV1Api(memo["api"])
    post_event(core, kind, str(meta.name), str(meta.uid), event.type, event.reason, event.message, meta.namespace or "")


def _reconcile(
    body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, indexes: dict[str, Any], wait: bool = True
) -> None:
    """``indexes``: the handler's keyword arguments, among them the kopf indexes of other autoscalers.
    Reconciles of one profile run one at a time from the newest status (:mod:`augur.operator.serial`);
    with ``wait`` false (the timer) a tick is skipped while another reconcile of the profile runs, so no
    worker thread waits behind a slow first history read."""
    serial: ProfileSerializer = memo["serial"]
    uid = str(body.metadata.uid)
    lock = serial.lock(uid)
    if not lock.acquire(blocking=wait):
        logger.debug("resync skipped: a reconcile of this profile is running")
        return
    try:
        with metrics.RECONCILES_IN_FLIGHT.track_inprogress(), metrics.RECONCILE_SECONDS.time():
            _reconcile_latest(body, serial.latest(uid, dict(body)), memo, logger, indexes)
    finally:
        lock.release()


def _reconcile_latest(
    body: kopf.Body, raw: dict[str, Any], memo: kopf.Memo, logger: kopf.Logger, indexes: dict[str, Any]
) -> None:
    prom: PromClient | None = memo["prom"]
    try:
        outcome = reconcile_profile(raw, memo["resources"], prom.instant if prom else None)
        polled: ScaledObjectPoll | None = memo.get("scaledobjects")
        claims = {**indexes, POLLED: polled.claims} if polled is not None else indexes
        status, events = scale_profile(raw, outcome, memo["scaler"], claims, memo["lead_times"])
    except KubeError as exc:  # only transient API failures get here; the rest become conditions
        raise kopf.TemporaryError(str(exc), delay=10) from exc
    serial: ProfileSerializer = memo["serial"]
    uid = str(body.metadata.uid)
    apply = serial.needs_apply(uid, status)
    if apply:
        if not _apply(memo, "WorkloadProfile", "workloadprofiles", body, status):
            return  # deleted meanwhile
        serial.applied(uid, status)
    metrics.status_write(apply)
    demand = outcome.spec.demand if outcome.spec is not None else None
    metrics.profile_status(
        str(body.metadata.namespace), str(body.metadata.name), status, demand.capacity_per_replica if demand else None
    )
    details = {"ready": outcome.ready, "desired": status.get("desiredReplicas")}
    if not events:
        logger.debug("reconciled, nothing changed", extra=details)
    for event in events:
        _post(memo, "WorkloadProfile", body, event)
        logger.info(f"{event.reason}: {event.message}", extra=details)


@kopf.on.resume(GROUP, VERSION, "workloadprofiles", labels=SHARD)
@kopf.on.create(GROUP, VERSION, "workloadprofiles", labels=SHARD)
@kopf.on.update(GROUP, VERSION, "workloadprofiles", field="spec", labels=SHARD)
def profile_changed(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **kwargs: Any) -> None:
    _reconcile(body, memo, logger, kwargs)


@kopf.timer(
    GROUP,
    VERSION,
    "workloadprofiles",
    interval=SETTINGS.resync_seconds,
    initial_delay=SETTINGS.resync_seconds,
    labels=SHARD,
)
def profile_resync(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **kwargs: Any) -> None:
    """Periodic re-check (a target or policy created after the profile is picked up here) and, when the
    policy's ``decisionInterval`` has passed, one scaling cycle."""
    _reconcile(body, memo, logger, kwargs, wait=False)


async def _drop_finalizers(
    body: kopf.Body, plural: str, stale: tuple[str, ...], memo: kopf.Memo, logger: kopf.Logger
) -> None:
    meta = body.metadata
    current = list(meta.get("finalizers") or [])
    try:
        removed = await asyncio.to_thread(
            remove_finalizers, memo["api"], plural, meta.namespace, str(meta.name), current, stale
        )
    except KubeError as exc:
        logger.warning(f"cannot remove stale finalizers {list(stale)}: {exc}")  # retried on the next event
        return
    if removed:
        logger.info(f"removed stale finalizers {list(stale)}")


@kopf.on.event(GROUP, VERSION, "workloadprofiles", labels=SHARD, when=carries_stale_finalizers(FINALIZER))
async def profile_finalizers(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """Remove stale Augur finalizers (kopf's default from older releases, retired shards') from this
    shard's profiles, so that none is left that no running replica would ever remove."""
    stale = stale_finalizers(body.metadata.get("finalizers") or [], FINALIZER)
    await _drop_finalizers(body, "workloadprofiles", stale, memo, logger)


@kopf.on.delete(GROUP, VERSION, "workloadprofiles", optional=True, labels=SHARD)
def profile_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Forget the profile's in-memory state and metric series (its ConfigMap is garbage-collected with
    it). kopf's finalizer (:data:`FINALIZER`, for the resync timer) holds the deletion until then."""
    memo["scaler"].forget_uid(str(body.metadata.uid))
    memo["lead_times"].forget(str(body.metadata.uid))
    memo["serial"].forget(str(body.metadata.uid))
    metrics.forget_profile(str(body.metadata.namespace), str(body.metadata.name))


def _reconcile_topology(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger | logging.Logger) -> None:
    spec = body.spec
    zone_label = str(spec.get("zoneLabel", ZONE_LABEL))
    region_label = str(spec.get("regionLabel", REGION_LABEL))
    try:
        zones = memo["resources"].zones(zone_label, region_label)
    except KubeError as exc:
        raise kopf.TemporaryError(str(exc), delay=10) from exc
    prom: PromClient | None = memo["prom"]
    outcome = reconcile_topology(dict(body), zones, prom.instant if prom else None, utcnow())
    if not _apply(memo, "NetworkTopology", "networktopologies", body, outcome.status):
        return
    for event in outcome.events:
        _post(memo, "NetworkTopology", body, event)
        logger.info(f"{event.reason}: {event.message}")


@kopf.on.resume(GROUP, VERSION, "networktopologies")
@kopf.on.create(GROUP, VERSION, "networktopologies")
@kopf.on.update(GROUP, VERSION, "networktopologies", field="spec")
def topology_changed(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    _reconcile_topology(body, memo, logger)


@kopf.on.event(GROUP, VERSION, "networktopologies", when=carries_stale_finalizers(""))
async def topology_finalizers(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """Remove every Augur finalizer from topologies: none is needed since topologies are resynced by
    one loop instead of a kopf timer (kopf's default from older releases, a shard's from this one's
    development)."""
    stale = stale_finalizers(body.metadata.get("finalizers") or [], own="")
    await _drop_finalizers(body, "networktopologies", stale, memo, logger)


async def _resync_topologies(memo: kopf.Memo) -> None:
    """Every ``AUGUR_RESYNC_SECONDS``: each ``NetworkTopology`` re-reads nodes, and its measurements when
    ``refreshInterval`` has passed. One loop rather than a kopf timer per topology: a timer puts kopf's
    finalizer on each, every shard its own (topologies are not sharded), and a retired shard's would stay
    and block the topology's deletion."""
    log = logging.getLogger("augur.operator.topology")
    while True:
        await asyncio.sleep(SETTINGS.resync_seconds)
        try:
            items = await asyncio.to_thread(ClusterReader(memo["api"]).custom, "networktopologies")
        except KubeError as exc:
            log.warning(f"cannot list NetworkTopologies, retrying at the next resync: {exc}")
            continue
        for raw in items:
            try:
                await asyncio.to_thread(_reconcile_topology, kopf.Body(cast(kopf.RawBody, raw)), memo, log)
            except Exception as exc:  # one topology's failure must not stop the others' resync
                name = (raw.get("metadata") or {}).get("name")
                log.warning(f"resync of NetworkTopology {name} failed, retrying at the next resync: {exc}")


@kopf.on.startup()
async def start_topology_resync(memo: kopf.Memo, **_: Any) -> None:
    memo["topology_resync"] = asyncio.create_task(_resync_topologies(memo))


@kopf.on.cleanup()
async def stop_topology_resync(memo: kopf.Memo, **_: Any) -> None:
    await stop_task(memo, "topology_resync")


@kopf.on.startup()
async def start_plan_gate_backstop(memo: kopf.Memo, **_: Any) -> None:
    if SETTINGS.plan_gate_backstop_seconds > 0:
        memo["plan_gate_backstop"] = asyncio.create_task(backstop_loop(memo))


@kopf.on.cleanup()
async def stop_plan_gate_backstop(memo: kopf.Memo, **_: Any) -> None:
    await stop_task(memo, "plan_gate_backstop")
