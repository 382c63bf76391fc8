"""Network distances between nodes: levels (same node/zone/region, cross-region) and pair overrides.

Precedence, most specific first: a node-pair override, a zone-pair override, a region-pair override,
then the level default. An override whose two ends are equal (``a|a``) replaces the level inside
that zone or region. Distances are symmetric and lie in 0..100.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from augur.api.validation import FieldError
from augur.constants import (
    CROSS_REGION_DISTANCE,
    MAX_DISTANCE,
    SAME_NODE_DISTANCE,
    SAME_REGION_DISTANCE,
    SAME_ZONE_DISTANCE,
    FloatArray,
)


def pair(a: str, b: str) -> tuple[str, str]:
    """The canonical (sorted) key of a symmetric pair."""
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class DistanceLevels:
    same_node: float = SAME_NODE_DISTANCE
    same_zone: float = SAME_ZONE_DISTANCE
    same_region: float = SAME_REGION_DISTANCE
    cross_region: float = CROSS_REGION_DISTANCE

    def validate(self, prefix: str = "levels") -> list[FieldError]:
        errors = [
            FieldError(f"{prefix}.{name}", f"must be within 0..{MAX_DISTANCE}, got {value}")
            for name, value in self.as_pairs()
            if not 0 <= value <= MAX_DISTANCE
        ]
        values = [v for _, v in self.as_pairs()]
        if values != sorted(values):
            errors.append(FieldError(prefix, "must not decrease: sameNode <= sameZone <= sameRegion <= crossRegion"))
        return errors

    def as_pairs(self) -> list[tuple[str, float]]:
        return [
            ("sameNode", self.same_node),
            ("sameZone", self.same_zone),
            ("sameRegion", self.same_region),
            ("crossRegion", self.cross_region),
        ]


@dataclass(frozen=True)
class TopologyModel:
    """Distances by level plus symmetric overrides keyed by :func:`pair`."""

    levels: DistanceLevels = field(default_factory=DistanceLevels)
    zones: Mapping[tuple[str, str], float] = field(default_factory=dict)
    regions: Mapping[tuple[str, str], float] = field(default_factory=dict)
    nodes: Mapping[tuple[str, str], float] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        levels: DistanceLevels | None = None,
        zones: Mapping[str, float] | Iterable[tuple[str, str, float]] = (),
        regions: Mapping[str, float] | Iterable[tuple[str, str, float]] = (),
        nodes: Mapping[str, float] | Iterable[tuple[str, str, float]] = (),
    ) -> TopologyModel:
        """Build from ``{"a|b": d}`` mappings or ``(a, b, d)`` triples."""
        return cls(levels or DistanceLevels(), _pairs(zones), _pairs(regions), _pairs(nodes))

    def validate(self, prefix: str = "distances") -> list[FieldError]:
        errors = self.levels.validate(f"{prefix}.levels")
        for scope, table in (("zones", self.zones), ("regions", self.regions), ("nodes", self.nodes)):
            errors += [
                FieldError(f"{prefix}.{scope}[{a}|{b}]", f"must be within 0..{MAX_DISTANCE}, got {d}")
                for (a, b), d in table.items()
                if not 0 <= d <= MAX_DISTANCE
            ]
        return errors

    def zone_distance(self, zone_a: str, region_a: str, zone_b: str, region_b: str) -> float:
        """Distance between two *different* nodes in the given zones and regions."""
        if (d := self.zones.get(pair(zone_a, zone_b))) is not None:
            return d
        if zone_a == zone_b:
            return self.levels.same_zone
        if (d := self.regions.get(pair(region_a, region_b))) is not None:
            return d
        return self.levels.same_region if region_a == region_b else self.levels.cross_region

    def distance(self, a: NodeLocation, b: NodeLocation) -> float:
        """Distance between two nodes (scalar reference implementation)."""
        if (d := self.nodes.get(pair(a.name, b.name))) is not None:
            return d
        if a.name == b.name:
            return self.levels.same_node
        return self.zone_distance(a.zone, a.region, b.zone, b.region)

    def zone_matrix(self, zones: Sequence[str], region_of: Mapping[str, str]) -> FloatArray:
        """Effective distances between different nodes of each pair of ``zones`` (row-major)."""
        n = len(zones)
        matrix = np.empty((n, n), dtype=np.float64)
        for i, za in enumerate(zones):
            for j in range(i, n):
                zb = zones[j]
                d = self.zone_distance(za, region_of.get(za, ""), zb, region_of.get(zb, ""))
                matrix[i, j] = matrix[j, i] = d
        return matrix


class NodeLocation(Protocol):
    """Anything with a node name, zone and region (``NodeInfo`` fits)."""

    @property
    def name(self) -> str: ...
    @property
    def zone(self) -> str: ...
    @property
    def region(self) -> str: ...


def _pairs(raw: Mapping[str, float] | Iterable[tuple[str, str, float]]) -> dict[tuple[str, str], float]:
    items: Iterable[tuple[str, str, float]] = (
        ((*split_pair(k), float(v)) for k, v in raw.items()) if isinstance(raw, Mapping) else raw
    )
    return {pair(a, b): float(d) for a, b, d in items}


def split_pair(key: str) -> tuple[str, str]:
    """``"a|b"`` → ``("a", "b")``; a key without ``|`` names the same thing twice."""
    a, _, b = key.partition("|")
    return a.strip(), (b.strip() if b else a.strip())
