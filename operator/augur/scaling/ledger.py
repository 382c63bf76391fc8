"""What the cost learner is still waiting for: forecasts until their step's demand arrives (pure).

Each predictive decision leaves the learner's quantile forecasts for the step ``L`` ahead, with the guard
floor and the reactive formula's ask of that decision. When that step's demand arrives,
:meth:`Ledger.settle` hands the entry to :func:`~augur.scaling.learner.observe` with the reactive
reference the learner's budget is measured against: the lowest reactive ask that could be ready by then
(asks made in the last ``L`` steps: a scale-up, the reactive formula's too, takes ``L`` steps).

The operator's :class:`~augur.scaling.loop.DemandLoop` keys entries by timestamp, the backtester's walk
(:mod:`augur.sim.policies`) by step number; both keep their learner's bookkeeping here, so the backtest
scores the learner the operator runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Entry = tuple[tuple[float, ...], int, int | None]
"""The learner's quantile forecasts, the guard floor (replicas) and the reactive ask (None: none made)."""


@dataclass
class Ledger:
    """Pending forecasts by target key and recent reactive asks by decision key.

    A decision's key is the first step it could affect (the backtester's step ``t``; in the operator the
    newest point's timestamp plus one step); its forecasts target ``key + lead`` steps.
    """

    step: float
    """One step in key units (1 for step numbers, the step in seconds for timestamps)."""
    lead: int
    """Lead time in steps."""
    pending: dict[float, Entry] = field(default_factory=dict)
    asks: dict[float, int] = field(default_factory=dict)

    def expect(self, target: float, forecasts: tuple[float, ...]) -> None:
        """Forecasts of the demand at ``target``; floor and reactive ask follow from :meth:`decided`."""
        self.pending[target] = (forecasts, 0, None)

    def decided(self, key: float, target: float, floor: int, reactive: int | None) -> None:
        """The decision made at ``key`` for ``target``: its guard floor and reactive ask."""
        if reactive is not None:
            self.asks[key] = reactive
            # Only asks of the last ``lead`` steps can still be the reference of a step to come.
            oldest = key - (self.lead + 1) * self.step - self._slack
            for stale in [k for k in self.asks if k < oldest]:
                del self.asks[stale]
        entry = self.pending.get(target)
        if entry is not None:
            self.pending[target] = (entry[0], floor, reactive)

    def settle(self, key: float, value: float) -> Entry | None:
        """The entry for ``key`` now that its demand ``value`` is known (removed; None when there is
        none or the value is a gap), its reactive ask replaced by the lowest one that could be ready."""
        entry = self.pending.pop(key, None)
        if entry is None or math.isnan(value):
            return None
        forecasts, floor, reactive = entry
        lo, hi = key - self.lead * self.step - self._slack, key + self._slack
        ready = [ask for k, ask in self.asks.items() if lo <= k <= hi]
        return forecasts, floor, min(ready) if ready else reactive

    def trim(self, lo: float, hi: float) -> None:
        """Forget entries and asks keyed outside ``[lo, hi]`` (a gap in the data, a clock jump)."""
        for table in (self.pending, self.asks):
            for k in [k for k in table if k < lo or k > hi]:
                del table[k]

    @property
    def _slack(self) -> float:
        return 1e-6 * self.step
