"""The pending-pod plan: capacity, cost, reuse while followed, re-planning after a deviation."""

from __future__ import annotations

import numpy as np
import pytest

from augur.placement import (
    DependencyRule,
    NodeInfo,
    PeerPlacement,
    PodInfo,
    ScoringConfig,
    Snapshot,
    WorkloadRules,
    score_nodes,
)
from augur.placement.plan import plan_pending


def nodes() -> list[NodeInfo]:
    """Two 4-core nodes in zone a, one in zone b, one far away in region west."""
    return [
        NodeInfo("a1", zone="a", region="east", cpu=4, memory=32),
        NodeInfo("a2", zone="a", region="east", cpu=4, memory=32),
        NodeInfo("b1", zone="b", region="east", cpu=4, memory=32),
        NodeInfo("w1", zone="w", region="west", cpu=4, memory=32),
    ]


def rules() -> list[WorkloadRules]:
    """web (2 x 1 core) -> api (2 x 1 core) chatty; batch (4 x 1 core) talks a little to api."""
    return [
        WorkloadRules("web", (DependencyRule("api", 100.0),), replicas=2, pod_cpu=1.0, pod_memory=0.0),
        WorkloadRules("api", replicas=2, pod_cpu=1.0, pod_memory=0.0),
        WorkloadRules("batch", (DependencyRule("api", 1.0),), replicas=4, pod_cpu=1.0, pod_memory=0.0),
    ]


def test_plan_keeps_the_chatty_pair_on_one_node_and_respects_capacity() -> None:
    snap = Snapshot.build(nodes(), rules=rules())
    plan = plan_pending(snap)
    assert plan is not None
    per_node = plan.pending.sum(axis=0)
    assert (per_node <= 4).all()
    assert plan.pending.sum() == 8
    web, api = plan.slots("web"), plan.slots("api")
    assert web is not None and api is not None
    both = np.flatnonzero((web == 2) & (api == 2))
    assert len(both) == 1  # web and api share one node
    assert plan.slots("unknown") is None


def test_plan_is_reused_while_followed_and_redone_after_a_deviation() -> None:
    book = Snapshot.build(nodes(), rules=rules()).rulebook
    first = Snapshot(Snapshot.build(nodes()).table, rulebook=book)
    plan = plan_pending(first)
    assert plan is not None
    web = plan.slots("web")
    assert web is not None
    target = first.table.nodes[int(np.argmax(web))].name
    followed = Snapshot.build(nodes(), placements=[PeerPlacement("web", target)])
    followed = Snapshot(first.table, followed.occupancy, book)
    again = plan_pending(followed)
    assert again is not None and again.slots("web") is not None
    assert again.pending.sum() == plan.pending.sum() - 1
    assert book.memo["plan"] is not None
    elsewhere = next(n.name for n in nodes() if n.name != target and n.zone == "w")
    deviated = Snapshot(
        first.table, Snapshot.build(nodes(), placements=[PeerPlacement("web", elsewhere)]).occupancy, book
    )
    redone = plan_pending(deviated)
    assert redone is not None
    assert redone.pending.sum() == plan.pending.sum() - 1
    # after the deviation the remaining web pod is planned next to its sibling or api, not from the old plan
    slots = redone.slots("web")
    assert slots is not None and slots.sum() == 1


def test_plan_component_points_the_pod_at_its_planned_node() -> None:
    snap = Snapshot.build(nodes(), rules=rules())
    config = ScoringConfig.from_dict({"plan": {"weight": 1}})
    res = score_nodes(PodInfo("web-0", workload="web", cpu=1.0), snap, None, config)
    plan = plan_pending(snap)
    assert plan is not None
    web = plan.slots("web")
    assert web is not None
    planned = snap.table.nodes[int(np.argmax(web))].name
    got = dict(zip(res.nodes, res.components["plan"].tolist(), strict=True))
    assert got[planned] == pytest.approx(100.0)
    assert min(got.values()) < 100.0
    off = score_nodes(PodInfo("web-0", workload="web", cpu=1.0), snap)
    assert set(off.components["plan"].tolist()) == {100.0}
