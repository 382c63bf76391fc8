"""A forecast combination: the mean of several fitted models' forecasts, kept and updated together.

Selecting one model by its error on a short validation window is noisy: on the development series the
winner changed from refit to refit (``holt`` one day, last value the next, ``sarimax`` after), and each
switch cost accuracy. Averaging the candidates' forecasts is the classic remedy (the M competitions'
finding: simple combinations beat selection). Here it costs no extra fit in the selection: the members
are the candidates already fitted and walked, and the combination's rolling-origin errors are the mean
of theirs (``y - mean(f) = mean(y - f)``, same origins and horizons). It is one more candidate
(``combination``): the selection keeps it only when its validation error is the lowest.

Members are the selection's other candidates except the seasonal-naive baseline. A scheduled refit of a
chosen combination re-estimates every member (about the cost of a full selection); an update advances
each member (a few tens of microseconds each).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from augur.constants import FloatArray
from augur.forecast.models import FittedModel

if TYPE_CHECKING:
    from augur.forecast.selection import Evaluation

COMBINATION = "combination"
EXCLUDED = frozenset({"seasonal_naive", COMBINATION})
"""Candidates never combined (the baseline is the reference every other one is judged against)."""
MIN_MEMBERS = 2


@dataclass(frozen=True)
class Combination:
    """Equal-weight mean of ``members``' forecasts."""

    members: tuple[FittedModel, ...]
    labels: tuple[str, ...]
    """Candidate names of the members (for status and persistence)."""

    @property
    def name(self) -> str:
        return COMBINATION

    def update(self, value: float, exog: FloatArray | None = None) -> Combination:
        return Combination(tuple(m.update(value, exog) for m in self.members), self.labels)

    def forecast(self, steps: int, exog: FloatArray | None = None) -> FloatArray:
        paths = np.vstack([m.forecast(steps, exog) for m in self.members])
        return np.asarray(paths.mean(axis=0), dtype=np.float64)


def members_of(candidates: tuple[str, ...]) -> tuple[str, ...]:
    """The candidates a combination among ``candidates`` averages (empty when it is not a candidate)."""
    if COMBINATION not in candidates:
        return ()
    return tuple(name for name in candidates if name not in EXCLUDED)


def combined_errors(errors: list[FloatArray]) -> FloatArray:
    """Rolling-origin errors of the mean forecast from the members' errors (same origins x horizons)."""
    return np.asarray(np.mean(np.stack(errors), axis=0), dtype=np.float64)


def pooled(parts: list[Evaluation], pool: int) -> list[Evaluation]:
    """The members a combination averages: all of ``parts`` when ``pool`` is 0, else the ``pool`` with the
    lowest validation scores (ties in the candidates' order), kept in the candidates' order.

    Forecast pooling (Kourentzes, Barrow and Petropoulos, 2019): average only the best few candidates, not
    the models that fit the series badly. Not a default: with 2 or 3 it did not beat the full combination on
    the development series (``docs/forecasting.md``, issue 12's fifth round)."""
    if pool <= 0 or len(parts) <= pool:
        return parts
    ranked = sorted(range(len(parts)), key=lambda i: (parts[i].score, i))[:pool]
    return [parts[i] for i in sorted(ranked)]
