"""Operator settings, read from the environment (``AUGUR_*``) and overridable by CLI flags.

| variable | default | meaning |
| --- | --- | --- |
| ``AUGUR_RESYNC_SECONDS`` | ``30`` | how often every profile is re-checked (late targets/policies are picked up) |
| ``AUGUR_NAMESPACES`` | empty (all) | comma-separated namespaces to watch; empty watches the whole cluster |
| ``AUGUR_SHARD_SELECTOR`` | empty (all) | label selector of the ``WorkloadProfile``s this replica acts on |
| ``AUGUR_LIVENESS`` | ``http://0.0.0.0:8080/healthz`` | liveness endpoint; answered also while a replica stands by |
| ``AUGUR_METRICS`` | ``0.0.0.0:8081`` | ``host:port`` serving Prometheus metrics at ``/metrics``; empty disables it |
| ``AUGUR_LOG_FORMAT`` | ``json`` | ``json`` (structured) or ``plain`` |
| ``AUGUR_PROMETHEUS_URL`` | empty | Prometheus for measurements and demand; empty disables them (fallbacks apply) |
| ``AUGUR_FIT_WORKERS`` | half the CPUs, at least 1 | worker processes for model fits (one BLAS thread each) |
| ``AUGUR_FIT_NICE`` | ``10`` | fit workers run this much nicer than the operator (0-19), so cycles go first |
| ``AUGUR_STATE_SAVE_SECONDS`` | ``900`` | how often learned state is saved to its ConfigMap (also after each fit) |
| ``AUGUR_HANDLER_THREADS`` | ``32`` | kopf's threads for the blocking handlers (cycles; mostly waiting on HTTP) |
| ``AUGUR_WARMUP_CONCURRENCY`` | ``4`` | threads for first-sight history reads (CPU-heavy), queued in arrival order |
| ``AUGUR_MALLOC_ARENAS`` | ``2`` | malloc arenas (as ``MALLOC_ARENA_MAX``); 0: glibc's default (8 per core) |
| ``AUGUR_MALLOC_MMAP_THRESHOLD`` | ``131072`` | blocks this large (bytes) are unmapped as soon as freed; 0: glibc's |
| ``AUGUR_TRIM_SECONDS`` | ``60`` | free heap pages go back to the system this often; 0: after warm-ups only |
| ``AUGUR_SCALEDOBJECT_POLL_SECONDS`` | ``30`` | ScaledObjects are also listed this often (KEDA added later); 0: off |
| ``AUGUR_STATUS_REFRESH_SECONDS`` | ``300`` | a status changed only in its times is re-applied at most this often |
| ``AUGUR_LEADER_ELECTION`` | ``false`` | ``true``: replicas elect one leader through a Lease; only the leader acts |
| ``AUGUR_LEASE_NAME`` | ``augur-operator`` | name of the ``coordination.k8s.io/v1`` Lease (one per shard) |
| ``AUGUR_LEASE_NAMESPACE`` | ``$POD_NAMESPACE``, else ``augur-system`` | namespace of the Lease |
| ``AUGUR_LEASE_DURATION_SECONDS`` | ``15`` | how long a Lease holds without renewal; a standby takes over after it |
| ``AUGUR_LEASE_RENEW_DEADLINE_SECONDS`` | ``10`` | the leader stops acting when it could not renew for this long |
| ``AUGUR_LEASE_RENEW_SECONDS`` | ``5`` | how often the leader renews |
| ``AUGUR_LEASE_RETRY_SECONDS`` | ``2`` | how often a standby tries to acquire, and a leader retries a failed renewal |
| ``AUGUR_MIGRATIONS`` | ``true`` | ``false``: the Migration executor is off (no pod moves; Migrations stay) |
| ``AUGUR_MIGRATION_POLL_SECONDS`` | ``2`` | how often an unfinished Migration is stepped |
| ``AUGUR_MIGRATION_RETENTION_SECONDS`` | ``86400`` | finished Migrations are deleted this long after they end |
| ``AUGUR_REBALANCER`` | ``true`` | ``false``: the rebalancer is off (with sharding, keep it on in one shard only) |
| ``AUGUR_PLAN_GATE_BACKSTOP_SECONDS`` | ``120`` | pods held this long at the plan gate are released; 0: off |

The operator keeps ``AUGUR_HANDLER_THREADS + AUGUR_WARMUP_CONCURRENCY + 4`` connections open to the API
server and to Prometheus (:attr:`OperatorSettings.connections`), one per thread that may call them at once.
kopf's own requests (watches, finalizers, progress annotations) share a pool of at most
:attr:`OperatorSettings.kopf_connections` connections (:mod:`augur.operator.login`).

Plans never approved (``spec.approved: false``) are deleted ``AUGUR_MIGRATION_RETENTION_SECONDS`` after
their creation. A refused eviction is retried every 5 s (``augur.operator.executor``).

Scaling cadence and history are per policy: ``ScalingPolicy.spec.decisionInterval`` (default ``30s``; the
operator checks every ``AUGUR_RESYNC_SECONDS``, so that is the finest cadence) and ``spec.history``
(default ``14d``; at most :data:`augur.scaling.loop.MAX_HISTORY_POINTS` steps are kept).
The operator sets ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` to 1 (unless set)
before numpy loads (:mod:`augur.operator`), so every fit uses one core.

Sharding (``AUGUR_SHARD_SELECTOR``, ``AUGUR_NAMESPACES``) is explained in docs/scaling.md, section "Sharding".
The identity in the Lease is ``$POD_NAME`` (else the host name) plus the process id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from augur.kube.leader import LeaseTiming
from augur.operator.sharding import kopf_labels

WATCHED_KINDS = 8
"""Upper bound of the kinds kopf watches per namespace (WorkloadProfile, NetworkTopology, the HPA and
ScaledObject indexes, and kopf's own CRD and namespace watches); tests/unit/operator checks it."""
KOPF_REQUESTS = 32
"""Connections for kopf's requests besides its watches. Before this bound, kopf added the finalizer to
every profile at once on start-up, each over a new TLS connection: with 300 profiles, 341 connections
2 s after start and an RSS peak of 301 MiB (235 MiB with the bound)."""


@dataclass(frozen=True)
class OperatorSettings:
    resync_seconds: float = 30.0
    namespaces: tuple[str, ...] = ()
    shard_selector: str = ""
    liveness: str = "http://0.0.0.0:8080/healthz"
    metrics: str = "0.0.0.0:8081"
    log_format: Literal["json", "plain"] = "json"
    prometheus_url: str = ""
    fit_workers: int = 0
    """0: half the CPUs, at least one."""
    fit_nice: int = 10
    state_save_seconds: float = 900.0
    """A restart re-reads the points since the last save from Prometheus and replays them, so a longer
    interval loses nothing; each save is a ConfigMap apply of tens of KiB."""
    handler_threads: int = 32
    warmup_concurrency: int = 4
    status_refresh_seconds: float = 300.0
    malloc_arenas: int = 2
    malloc_mmap_threshold: int = 128 * 1024
    trim_seconds: float = 60.0
    scaledobject_poll_seconds: float = 30.0
    """One list of ScaledObjects per interval (:mod:`augur.operator.late_claims`); 0 turns it off."""

    @property
    def workers(self) -> int:
        return self.fit_workers or max(1, (os.cpu_count() or 2) // 2)

    @property
    def connections(self) -> int:
        """Connections kept open to the API server and to Prometheus: one per thread that may call them
        at the same time (handler threads, warm-up threads, and a few for the Migration executor, the
        rebalancer and lead-time reads). Fewer made every request beyond the pool open a new connection
        and drop it afterwards."""
        return self.handler_threads + self.warmup_concurrency + 4

    @property
    def kopf_connections(self) -> int:
        """Connections kopf's own session may hold open to the API server (:mod:`augur.operator.login`):
        its watch streams (:data:`WATCHED_KINDS` per watched namespace, each holding one for as long as it
        runs) plus :data:`KOPF_REQUESTS` for its requests (finalizers, progress annotations)."""
        return WATCHED_KINDS * max(1, len(self.namespaces)) + KOPF_REQUESTS

    migrations: bool = True
    migration_poll_seconds: float = 2.0
    migration_retention_seconds: float = 86400.0
    rebalancer: bool = True
    plan_gate_backstop_seconds: float = 120.0
    """Pods held at the plan gate this long are released by the operator (:mod:`augur.operator.gates`): four
    times the extender's default ``plan.gateSeconds``, so it acts only when no extender does; 0 turns it off."""

    leader_election: bool = False
    lease_name: str = "augur-operator"
    lease_namespace: str = "augur-system"
    lease_timing: LeaseTiming = field(default_factory=LeaseTiming)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> OperatorSettings:
        env = dict(os.environ) if env is None else env
        resync = float(env.get("AUGUR_RESYNC_SECONDS", cls.resync_seconds))
        if resync <= 0:
            raise ValueError(f"AUGUR_RESYNC_SECONDS must be positive, got {resync}")
        fmt = env.get("AUGUR_LOG_FORMAT", cls.log_format)
        if fmt not in ("json", "plain"):
            raise ValueError(f"AUGUR_LOG_FORMAT must be json or plain, got {fmt!r}")
        workers = int(env.get("AUGUR_FIT_WORKERS", "0"))
        fit_nice = int(env.get("AUGUR_FIT_NICE", cls.fit_nice))
        if not 0 <= fit_nice <= 19:
            raise ValueError(f"AUGUR_FIT_NICE must be between 0 and 19, got {fit_nice}")
        if workers < 0:
            raise ValueError(f"AUGUR_FIT_WORKERS must be 0 (auto) or positive, got {workers}")
        save = float(env.get("AUGUR_STATE_SAVE_SECONDS", cls.state_save_seconds))
        if save <= 0:
            raise ValueError(f"AUGUR_STATE_SAVE_SECONDS must be positive, got {save}")
        threads = int(env.get("AUGUR_HANDLER_THREADS", cls.handler_threads))
        warmups = int(env.get("AUGUR_WARMUP_CONCURRENCY", cls.warmup_concurrency))
        refresh = float(env.get("AUGUR_STATUS_REFRESH_SECONDS", cls.status_refresh_seconds))
        if threads < 1 or warmups < 1 or refresh < 0:
            raise ValueError(
                "AUGUR_HANDLER_THREADS and AUGUR_WARMUP_CONCURRENCY must be at least 1 and "
                f"AUGUR_STATUS_REFRESH_SECONDS at least 0, got {threads}, {warmups}, {refresh}"
            )
        arenas = int(env.get("AUGUR_MALLOC_ARENAS", cls.malloc_arenas))
        mmap_threshold = int(env.get("AUGUR_MALLOC_MMAP_THRESHOLD", cls.malloc_mmap_threshold))
        if not 0 <= mmap_threshold <= 32 * 2**20:
            raise ValueError(f"AUGUR_MALLOC_MMAP_THRESHOLD must be between 0 and 33554432 bytes, got {mmap_threshold}")
        trim = float(env.get("AUGUR_TRIM_SECONDS", cls.trim_seconds))
        if arenas < 0 or trim < 0:
            raise ValueError(f"AUGUR_MALLOC_ARENAS and AUGUR_TRIM_SECONDS must be at least 0, got {arenas} and {trim}")
        namespaces = tuple(n.strip() for n in env.get("AUGUR_NAMESPACES", "").split(",") if n.strip())
        scaledobject_poll = float(env.get("AUGUR_SCALEDOBJECT_POLL_SECONDS", cls.scaledobject_poll_seconds))
        if scaledobject_poll < 0:
            raise ValueError(f"AUGUR_SCALEDOBJECT_POLL_SECONDS must be at least 0, got {scaledobject_poll}")
        metrics = env.get("AUGUR_METRICS", cls.metrics).strip()
        if metrics and not metrics.rpartition(":")[2].isdigit():
            raise ValueError(f"AUGUR_METRICS must be host:port (or empty to disable), got {metrics!r}")
        default = LeaseTiming()
        timing = LeaseTiming(
            duration=float(env.get("AUGUR_LEASE_DURATION_SECONDS", default.duration)),
            renew_deadline=float(env.get("AUGUR_LEASE_RENEW_DEADLINE_SECONDS", default.renew_deadline)),
            renew_every=float(env.get("AUGUR_LEASE_RENEW_SECONDS", default.renew_every)),
            retry_every=float(env.get("AUGUR_LEASE_RETRY_SECONDS", default.retry_every)),
        )
        shard_selector = env.get("AUGUR_SHARD_SELECTOR", "").strip()
        kopf_labels(shard_selector)  # a bad selector is a startup error, not a silent "match all"
        poll = float(env.get("AUGUR_MIGRATION_POLL_SECONDS", cls.migration_poll_seconds))
        retention = float(env.get("AUGUR_MIGRATION_RETENTION_SECONDS", cls.migration_retention_seconds))
        if poll <= 0 or retention <= 0:
            raise ValueError(
                "AUGUR_MIGRATION_POLL_SECONDS and AUGUR_MIGRATION_RETENTION_SECONDS must be positive, "
                f"got {poll} and {retention}"
            )
        backstop = float(env.get("AUGUR_PLAN_GATE_BACKSTOP_SECONDS", cls.plan_gate_backstop_seconds))
        if backstop < 0:
            raise ValueError(f"AUGUR_PLAN_GATE_BACKSTOP_SECONDS must be 0 (off) or positive, got {backstop}")
        lease_namespace = env.get("AUGUR_LEASE_NAMESPACE") or env.get("POD_NAMESPACE") or cls.lease_namespace
        return cls(
            resync_seconds=resync,
            namespaces=namespaces,
            shard_selector=shard_selector,
            liveness=env.get("AUGUR_LIVENESS", cls.liveness),
            metrics=metrics,
            log_format="json" if fmt == "json" else "plain",
            prometheus_url=env.get("AUGUR_PROMETHEUS_URL", "").strip(),
            fit_workers=workers,
            fit_nice=fit_nice,
            state_save_seconds=save,
            migrations=_flag(env, "AUGUR_MIGRATIONS", default=True),
            migration_poll_seconds=poll,
            migration_retention_seconds=retention,
            rebalancer=_flag(env, "AUGUR_REBALANCER", default=True),
            plan_gate_backstop_seconds=backstop,
            handler_threads=threads,
            warmup_concurrency=warmups,
            status_refresh_seconds=refresh,
            malloc_arenas=arenas,
            malloc_mmap_threshold=mmap_threshold,
            trim_seconds=trim,
            scaledobject_poll_seconds=scaledobject_poll,
            leader_election=_flag(env, "AUGUR_LEADER_ELECTION"),
            lease_name=env.get("AUGUR_LEASE_NAME", cls.lease_name).strip() or cls.lease_name,
            lease_namespace=lease_namespace.strip(),
            lease_timing=timing,
        )


def _flag(env: dict[str, str], name: str, default: bool = False) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name} must be true or false, got {value!r}")


SETTINGS = OperatorSettings.from_env()
"""Settings of this process; :func:`augur.operator.runner.run` replaces them before kopf starts."""
