"""The rebalancer's settings as plain numbers, from a ``RebalancePolicy`` spec (the schema holds the defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field

from augur.api.durations import parse_duration
from augur.api.v1alpha1.rebalancepolicy import RebalancePolicySpec
from augur.placement.config import ScoringConfig


@dataclass(frozen=True)
class RebalanceParams:
    threshold: float = 0.20
    """Spread (busiest minus idlest node load, as a fraction of allocatable CPU) above which load moves start."""
    readings: int = 3
    """Consecutive readings above the threshold before acting (hysteresis)."""
    network_gain: float = 0.05
    """Smallest network-cost reduction of one move, as a fraction of the current network cost."""
    predictive: bool = True
    lead_time: float = 600.0
    window: float = 600.0
    """Seconds over which the rate limits count moves."""
    max_moves: int = 10
    max_per_node: int = 4
    max_per_workload: int = 3
    max_per_run: int = 3
    cooldown: float = 900.0
    """Seconds after a move (A → B) during which no pod of the same owner moves onto A or off B."""
    settle: float = 150.0
    """With measured load: seconds after the latest move finished before readings count and moves resume."""
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    """Scoring used to pick a load move's target among the nodes that even out load: the extender's."""

    @classmethod
    def from_spec(cls, spec: RebalancePolicySpec, scoring: ScoringConfig | None = None) -> RebalanceParams:
        lim = spec.limits
        return cls(
            threshold=spec.rebalance_threshold / 100.0,
            readings=spec.consecutive_readings,
            network_gain=spec.network_gain_threshold / 100.0,
            predictive=spec.predictive,
            lead_time=parse_duration(spec.lead_time),
            window=parse_duration(lim.window),
            max_moves=lim.max_moves,
            max_per_node=lim.max_moves_per_node,
            max_per_workload=lim.max_moves_per_workload,
            max_per_run=lim.max_moves_per_run,
            cooldown=parse_duration(spec.cooldown),
            settle=parse_duration(spec.load.settle_time),
            scoring=scoring or ScoringConfig(),
        )
