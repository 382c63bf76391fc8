"""What one rebalancer run returns: ranked move proposals and the balance figures before and after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from augur.migration.limits import Readings

Reason = Literal["HardRule", "Rebalance", "NetworkCost", "Predictive"]


@dataclass(frozen=True)
class Proposal:
    """One pod move, with why and what it should gain."""

    namespace: str
    pod: str
    owner: str
    workload: str | None
    source: str
    target: str
    reason: Reason
    gain: float
    """``Rebalance``/``Predictive``: reduction of the node-load stddev (fraction of allocatable CPU, current
    or forecast load); ``NetworkCost``: reduction of the network cost (facts §5 units)."""
    load_gain: float
    """Reduction of the current node-load stddev (negative: the move unbalances)."""
    network_gain: float
    """Reduction of the network cost (negative: the move costs network)."""
    disruption: float
    """What the move disrupts: 1 + 1/(pods of the owner); gain per disruption ranks the candidates."""
    explanation: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.pod}"


@dataclass(frozen=True)
class Figures:
    """Balance figures of a placement (loads as fractions of allocatable CPU)."""

    spread: float
    stddev: float
    forecast_spread: float | None
    network_cost: float


@dataclass(frozen=True)
class RebalanceResult:
    proposals: tuple[Proposal, ...]
    """Best first (the order they were chosen in; each accounts for the ones before it)."""
    before: Figures
    after: Figures
    """As predicted once every proposal is carried out."""
    readings: Readings
    """The hysteresis counters after this reading; pass them to the next run."""
    triggered: tuple[Reason, ...]
    """Kinds of moves this run looked for (``NetworkCost`` whenever there is traffic)."""
    notes: tuple[str, ...] = ()
    """Why the run stopped or held back (rate limits, no movable pod, ...), in words."""
