"""A small three-zone, two-region cluster shared by the placement tests."""

from __future__ import annotations

import pytest

from augur.placement import NodeInfo, TopologyModel


def cluster_nodes() -> list[NodeInfo]:
    """a1, a2 in zone a; b1 in zone b (both region east); c1 in zone c (region west)."""
    return [
        NodeInfo("a1", zone="a", region="east", cpu=8, memory=32),
        NodeInfo("a2", zone="a", region="east", cpu=8, memory=32),
        NodeInfo("b1", zone="b", region="east", cpu=8, memory=32),
        NodeInfo("c1", zone="c", region="west", cpu=8, memory=32),
    ]


@pytest.fixture
def nodes() -> list[NodeInfo]:
    return cluster_nodes()


@pytest.fixture
def topology() -> TopologyModel:
    return TopologyModel()
