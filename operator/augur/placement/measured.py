"""Measured network quality → distances (pure).

Each measurement (latency, bandwidth, loss) gives one value per pair of zones. A value is normalized to
0..100 between the measurement's ``best`` (→ 0) and ``worst`` (→ 100), clamped; ``best`` may be larger
than ``worst`` (bandwidth). The two directions of a pair are averaged, and measurements are combined by
their weights. Pairs no measurement covers keep the distance from levels and explicit overrides, and
explicit overrides always win over measurements (a person's statement beats an estimate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from augur.constants import MAX_DISTANCE
from augur.placement.topology import TopologyModel, pair


@dataclass(frozen=True)
class ZoneValue:
    source: str
    destination: str
    value: float


@dataclass(frozen=True)
class Measurement:
    """All values of one measured quantity with its normalization."""

    values: Sequence[ZoneValue]
    best: float
    worst: float
    weight: float = 1.0


def normalize(value: float, best: float, worst: float) -> float:
    if worst == best:
        raise ValueError("best and worst must differ")
    share = (value - best) / (worst - best)
    return float(min(max(share, 0.0), 1.0) * MAX_DISTANCE)


def measured_distances(measurements: Sequence[Measurement]) -> dict[tuple[str, str], float]:
    """Weighted mean over measurements of the normalized, direction-averaged value per zone pair."""
    total: dict[tuple[str, str], float] = {}
    weights: dict[tuple[str, str], float] = {}
    for m in measurements:
        if m.weight <= 0:
            continue
        per_pair: dict[tuple[str, str], list[float]] = {}
        for v in m.values:
            if v.source != v.destination:
                per_pair.setdefault(pair(v.source, v.destination), []).append(normalize(v.value, m.best, m.worst))
        for key, values in per_pair.items():
            total[key] = total.get(key, 0.0) + m.weight * sum(values) / len(values)
            weights[key] = weights.get(key, 0.0) + m.weight
    return {key: total[key] / weights[key] for key in total}


def effective_zone_matrix(
    model: TopologyModel,
    zones: Sequence[str],
    region_of: Mapping[str, str],
    measured: Mapping[tuple[str, str], float],
) -> list[list[int]]:
    """Distances between different nodes of each pair of ``zones``: explicit overrides, then
    measurements, then levels. Rounded to whole numbers as the status stores them."""
    combined = TopologyModel(
        levels=model.levels,
        zones={**{k: v for k, v in measured.items()}, **dict(model.zones)},
        regions=model.regions,
        nodes=model.nodes,
    )
    matrix = combined.zone_matrix(zones, region_of)
    return [[round(float(d)) for d in row] for row in matrix]
