"""What the :class:`~augur.operator.scaler.Scaler` keeps per ``WorkloadProfile``: its learning loop, a
:class:`~augur.scaling.loop.DemandLoop` configured from the spec and policy (:func:`loop_config`: the
policy or :func:`default_policy`, the measured lead time, a digest of the data's sources) and created
with refits jittered by the profile's uid (:func:`new_loop`), and :class:`Runtime`, the record
around it between cadences (its lock, the fit in flight, save and restore times, the warm-up read).
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from augur.api.durations import parse_duration
from augur.api.v1alpha1 import ScalingPolicySpec, WorkloadProfileSpec
from augur.api.v1alpha1.feeds import ExternalFeed
from augur.forecast.demand import DemandError
from augur.forecast.forecaster import Forecaster
from augur.prom.client import PromError
from augur.scaling.fitjob import FitJob
from augur.scaling.loop import DemandLoop, LoopConfig

JITTER_SHARE = 0.1
"""Refits of a profile are offset by up to this share of ``refitInterval`` (fixed per profile)."""


@dataclass
class Runtime:
    """A profile's loop and what the Scaler tracks around it between cadences."""

    loop: DemandLoop
    lock: threading.Lock = field(default_factory=threading.Lock)
    checked_query: str = ""
    last_cycle: float | None = None
    fit: Future[Forecaster] | None = None
    job: FitJob | None = None
    fit_started: float = 0.0
    fit_error: str = ""
    saved_at: float | None = None
    restored_at: float | None = None
    restored: str = ""
    restore_pending: bool = False
    """``restored`` is still to be reported (by the first cycle that runs)."""
    model_changed: bool = False
    last_recommended: int | None = None
    feed_errors: list[tuple[str, str, str]] = field(default_factory=list)
    warming: bool = False
    """The first history read is queued or running in the warm-up pool."""
    warm_error: PromError | DemandError | None = None
    """The warm-up read failed: the next cycle reports this error (the one after queues the read again)."""


def default_policy() -> ScalingPolicySpec:
    """Without a ``policyRef``: the ScalingPolicy defaults, no upper bound, ``ForecastOnly``."""
    return ScalingPolicySpec(max_replicas=100000)


def loop_config(spec: WorkloadProfileSpec, policy: ScalingPolicySpec | None, lead_time: float | None) -> LoopConfig:
    """The learning loop's configuration for a profile with ``spec.demand``: its policy (or the default
    one), the measured ``lead_time`` if any, and a digest of where its data comes from (the demand query
    and each feed's source: a change starts the model afresh)."""
    demand = spec.demand
    assert demand is not None
    feeds = tuple(f.name for f in spec.feeds)
    queries = [demand.query, *(f"{f.name}={_source(f)}" for f in spec.feeds)]
    source = hashlib.sha256("\n".join(queries).encode()).hexdigest()[:16]
    return LoopConfig.from_policy(
        policy or default_policy(), demand.capacity_per_replica, parse_duration(demand.step), lead_time, feeds, source
    )


def new_loop(uid: str, config: LoopConfig) -> DemandLoop:
    """A fresh loop for the profile ``uid``, its refits offset by a share of ``refitInterval`` fixed by
    the uid (:data:`JITTER_SHARE`), so profiles created together do not refit together."""
    loop = DemandLoop(config)
    digest = int(hashlib.sha256(uid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    loop.jitter = digest * JITTER_SHARE * config.refit_seconds
    return loop


def _source(feed: ExternalFeed) -> str:
    """What identifies a feed's data: its PromQL or its URL (a change starts the model afresh)."""
    return feed.query if feed.query is not None else f"http:{feed.http.url if feed.http else ''}"
