"""The texts that explain a rebalancer move (``Migration`` ``spec.explanation``, Events, ``kubectl describe``).

Pure formatting of what :mod:`augur.migration.rebalance` decided: nothing here chooses a move. The hard-rule
moves' text lives with their rule (:func:`augur.migration.hardrules.explain`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from augur.constants import FloatArray, IntArray
from augur.migration.limits import Readings
from augur.migration.load import spread
from augur.migration.params import RebalanceParams
from augur.migration.snapshot import PodState
from augur.migration.working import Working


def pct(x: float) -> str:
    """A fraction as a percentage with one decimal (``0.2`` → ``20.0%``)."""
    return f"{100 * x:.1f}%"


@dataclass(frozen=True, eq=False)
class LoadMove:
    """A load move as the rebalancer chose it; node indices are positions among the schedulable nodes."""

    pod: PodState
    load: FloatArray
    """Load per schedulable node before the move (requested or measured; forecast for ``Predictive``)."""
    source: int
    target: int
    shift: FloatArray
    """Load the target node gains, per schedulable node as target."""
    stddev_before: float
    stddev_after: float
    score: float
    """The extender's 0..100 total for the target."""
    options: int
    """Nodes the extender's scoring chose among."""
    forecast: bool


def load_move(work: Working, params: RebalanceParams, readings: Readings, sched: IntArray, move: LoadMove) -> str:
    names = [work.names[i] for i in sched.tolist()]
    load, a, b = move.load, move.source, move.target
    idle = int(np.argmin(load))
    what = "used" if work.snap.measured and not move.forecast else "requested"
    if move.forecast:
        head = (
            f"Forecasts expect a node load spread of {pct(spread(load))} within {params.lead_time:g}s "
            f"(busiest {names[int(np.argmax(load))]} {pct(float(load.max()))}, idlest {names[idle]} "
            f"{pct(float(load[idle]))}), above the {pct(params.threshold)} threshold for "
            f"{readings.forecast_above} readings"
        )
        what = "expected"
    else:
        head = (
            f"Node load spread {pct(spread(load))} (busiest {names[int(np.argmax(load))]} "
            f"{pct(float(load.max()))}, idlest {names[idle]} {pct(float(load[idle]))}) has been above the "
            f"{pct(params.threshold)} threshold for {readings.above} readings"
        )
    cores = float(move.shift[b] * work.cap[sched[b]])
    return (
        f"{head}; moving {move.pod.key} ({cores:g} cores {what}) from {names[a]} to {names[b]} "
        f"({pct(float(load[b]))} -> {pct(float(load[b] + move.shift[b]))}) lowers the node-load stddev from "
        f"{pct(move.stddev_before)} to {pct(move.stddev_after)}. {names[b]} scores best for the pod "
        f"({move.score:.0f}/100, the extender's scoring) among {move.options} node(s) that even out load."
    )


def network_move(
    work: Working, params: RebalanceParams, pod: PodState, target: int, cost: float, gain: float, limit: float
) -> str:
    src, dst = work.snap.nodes[work.at[pod.key]], work.snap.nodes[target]
    assert pod.workload is not None
    peers = ", ".join(work.network.top_peers(pod.workload, work.placement()))
    return (
        f"{pod.key} ({pod.workload}) talks to {peers}; moving it from {src.name} ({src.zone or '-'}/"
        f"{src.region or '-'}) to {dst.name} ({dst.zone or '-'}/{dst.region or '-'}) lowers the network cost "
        f"from {cost:.1f} to {cost - gain:.1f} (-{pct(gain / cost)}), more than the "
        f"{pct(params.network_gain)} threshold; the node load spread stays within {pct(limit)}."
    )
