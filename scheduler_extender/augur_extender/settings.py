"""Settings of the extender process."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from augur.placement import ScoringConfig
from augur_extender.leadership import parse_lease
from augur_extender.planner_child import PRIORITIES


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8888
    tls_cert: Path | None = None
    tls_key: Path | None = None
    log_level: str = "info"
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    kubeconfig: Path | None = None
    """Kubeconfig for the watch cache; ``None`` tries in-cluster config, then the default kubeconfig."""
    topology: str | None = None
    """Name of the ``NetworkTopology`` to score with; ``None``: ``default``, else the first by name."""
    shutdown_grace_seconds: float = 10.0
    debug_endpoints: bool = True
    planner: bool = True
    """Run the background planner (when the ``plan`` component's weight is above 0)."""
    planner_process: bool = False
    """Run the planner's search in a child process at a lower CPU priority (``--planner-process``) instead of
    on the planner's thread in the extender's interpreter. Off by default: kube-scheduler's throughput was
    higher with the thread in the two runs of 2026-12-01, equal in the one of 2026-12-05 (session 37) and lower
    with the child in two of three rounds in session 39's (median paired 0.56 against 0.62), the placement
    results were measured with the thread, and the child costs a second Python process; it gives the lower
    prioritize p99 while the planner works (docs/placement-results.md, Prioritize latency and Real kube-scheduler
    throughput). In bursts of new workloads on the real kube-scheduler it placed worse than the thread: mean
    cost 1.33-1.90x the thread's at nice +10, 1.04x at normal priority with one run 1.93x the best against
    1.22x (docs/placement-results.md, Bursts: the planner in a child process)."""
    planner_priority: str = "nice"
    """The planner child's CPU priority (``--planner-priority``, with ``planner_process``): ``nice`` (nice
    +10), ``idle`` (``SCHED_IDLE``) or ``normal`` (the extender's own); see
    :data:`augur_extender.planner_child.PRIORITIES`."""
    verb_fast_path: bool = True
    """Answer ``POST /filter`` and ``/prioritize`` in an ASGI layer in front of FastAPI itself (same replies
    and metrics as the routes, see :mod:`augur_extender.verbs`)."""
    freeze_gc: bool = False
    """Freeze the objects of the first synced view out of the garbage collector's reach
    (:mod:`augur_extender.gcfreeze`); ``augur extender run`` turns it on, in-process apps (tests) leave the
    host process's collector alone."""
    plan_interval_seconds: float = 0.2
    """Pause of the background planner after each plan update: a burst of pod events costs one re-plan."""
    gate_lease: str | None = None
    """``NAMESPACE/NAME`` of the Lease that elects the one replica whose gate keeper lets pods through the plan
    gate (``--gate-lease``; :mod:`augur_extender.leadership`); ``None``: this replica's gate keeper acts alone."""

    def __post_init__(self) -> None:
        # checked here, not only where the planner's child starts (on the planner's thread, where a bad value
        # would fail every plan update instead of the start)
        if self.planner_priority not in PRIORITIES:
            raise ValueError(f"planner priority must be one of {', '.join(PRIORITIES)}, not {self.planner_priority!r}")
        if self.gate_lease is not None:
            parse_lease(self.gate_lease)

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None and self.tls_key is not None
