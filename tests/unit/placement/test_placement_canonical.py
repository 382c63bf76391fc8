"""The canonical node order: what the search and the ties see does not depend on node names or listing
order, including the case plain colour refinement misses (nodes alike in two symmetric zones); and the
search's node swaps and kicks (exact changes, room respected)."""

from __future__ import annotations

import numpy as np
import pytest

from augur.placement import NodeInfo, Snapshot
from augur.placement.canonical import canonical_order, colours, distance_codes
from augur.placement.iterated import _anchored, kicked, search_best
from augur.placement.model import DependencyRule, WorkloadRules
from augur.placement.plan import plan_pending
from augur.placement.problem import CountProblem
from augur.placement.search import CountSearch
from augur.placement.topology import DistanceLevels, TopologyModel


def _zoned(zones: list[int], cpus: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Distances (same zone 10, else 100) of nodes in ``zones`` and features (cores)."""
    z = np.array(zones)
    d = np.where(z[:, None] == z[None, :], 10.0, 100.0)
    np.fill_diagonal(d, 0.0)
    return d, np.array(cpus, dtype=np.float64)[:, None]


def _permuted_view(d: np.ndarray, f: np.ndarray, perm: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The problem as the canonical order shows it after the nodes were listed in ``perm``."""
    d2, f2 = d[np.ix_(perm, perm)], f[perm]
    order = canonical_order(d2, f2, seed)
    return d2[np.ix_(order, order)], f2[order]


def test_symmetric_zones_give_one_canonical_view_in_every_order() -> None:
    """Two zones of a big and a small node each: refinement alone ties the two big nodes and the two small
    ones, and sorting each tie by listing order mixes the zones up; singling out one node fixes it."""
    d, f = _zoned([0, 0, 1, 1], [16, 8, 16, 8])
    views = {tuple(map(tuple, np.hstack(_permuted_view(d, f, np.array(p))))) for p in _permutations(4)}
    assert len(views) == 1
    c = colours(d, f)
    assert len(set(c.tolist())) == 4  # not twins: every node its own colour


def test_random_zoned_clusters_are_canonical_up_to_twins() -> None:
    rng = np.random.default_rng(7)
    for trial in range(20):
        n = int(rng.integers(4, 30))
        d, f = _zoned(rng.integers(0, 4, n).tolist(), rng.choice([4.0, 8.0, 16.0], n).tolist())
        f = np.hstack([f, rng.integers(0, 2, (n, 2)).astype(np.float64)])
        reference = _permuted_view(d, f, np.arange(n), seed=trial)
        for _ in range(4):
            view = _permuted_view(d, f, rng.permutation(n), seed=trial)
            assert np.array_equal(view[0], reference[0]) and np.array_equal(view[1], reference[1])


def test_twins_share_a_colour_and_the_seed_orders_the_rest() -> None:
    d, f = _zoned([0, 0, 0, 1, 1, 2], [8] * 6)
    c = colours(d, f)
    assert c[0] == c[1] == c[2]  # three identical nodes in one zone: interchangeable
    assert len({c[0], c[3], c[5]}) == 3  # a zone of three, a zone of two, a zone of one: told apart
    firsts = {int(canonical_order(d, f, seed)[0]) for seed in range(12)}
    assert len(firsts & {0, 1, 2}) == 1 and len(firsts) > 1  # equal attributes: which zone comes first is seeded


def test_distance_codes_made_once_give_the_same_colours_and_codes_of_another_matrix_are_not_used() -> None:
    """The planner keeps :func:`distance_codes` of its node table's distances across full plans: the colours
    are those computed from scratch; codes made from another matrix (even an equal copy) are ignored."""
    rng = np.random.default_rng(11)
    for trial in range(10):
        n = int(rng.integers(3, 40))
        d, f = _zoned(rng.integers(0, 4, n).tolist(), rng.choice([4.0, 8.0], n).tolist())
        kept = distance_codes(d)
        assert kept.count == 3 and kept.codes.dtype == np.uint8  # 0, 10 and 100
        for seed in (0, trial):
            assert np.array_equal(colours(d, f, seed, codes=kept), colours(d, f, seed))
        other = distance_codes(np.where(d == 100.0, 200.0, d))
        assert np.array_equal(canonical_order(d, f, trial, codes=other), canonical_order(d, f, trial))


def _permutations(n: int) -> list[list[int]]:
    import itertools

    return [list(p) for p in itertools.permutations(range(n))]


def _groups_snapshot(names: list[str]) -> Snapshot:
    """Six nodes of two sizes in three zones of two regions, two applications that each fit a zone."""
    zones = [("a", "r1"), ("b", "r1"), ("c", "r2")]
    infos = [
        NodeInfo(name, zone=zones[i % 3][0], region=zones[i % 3][1], cpu=8.0 if i < 3 else 4.0, memory=32)
        for i, name in enumerate(names)
    ]
    dep = DependencyRule
    rules = [
        WorkloadRules("shop/web", (dep("shop/api", 60.0),), replicas=4, pod_cpu=1.0, pod_memory=1.0),
        WorkloadRules("shop/api", (dep("shop/db", 90.0),), replicas=4, pod_cpu=1.0, pod_memory=1.0),
        WorkloadRules("shop/db", replicas=2, pod_cpu=1.0, pod_memory=2.0),
        WorkloadRules(
            "blog/web", (dep("blog/db", 40.0), dep("shop/api", 5.0)), replicas=5, pod_cpu=1.0, pod_memory=1.0
        ),
        WorkloadRules("blog/db", replicas=3, pod_cpu=1.0, pod_memory=2.0),
    ]
    topology = TopologyModel.build(DistanceLevels(0, 10, 40, 100))
    return Snapshot.build(infos, topology, rules=rules)


def test_plan_is_the_same_whatever_the_node_names() -> None:
    """Renaming and relisting the nodes gives the same plan, node for node (tracked by what each node is)."""
    rng = np.random.default_rng(3)
    base = [f"n{i}" for i in range(6)]
    reference = plan_pending(_groups_snapshot(base))
    assert reference is not None
    for _ in range(5):
        perm = rng.permutation(6)
        names = [f"node-{rng.integers(10**6):06d}-{k}" for k in range(6)]
        renamed = [names[int(perm[i])] for i in range(6)]  # node i of the base is called renamed[i]
        plan = plan_pending(_groups_snapshot(renamed))
        assert plan is not None
        assert abs(plan.cost - reference.cost) < 1e-6
        per_node = {renamed[i]: plan.total[:, plan.nodes.index(renamed[i])].sum() for i in range(6)}
        assert sorted(per_node.values()) == sorted(reference.total.sum(axis=0).tolist())


def test_search_best_cost_does_not_depend_on_node_order() -> None:
    rng = np.random.default_rng(11)
    d, _ = _zoned([0, 0, 1, 1, 2, 2, 2], [8] * 7)
    traffic = np.array([[0, 50, 0, 5], [0, 0, 80, 0], [0, 0, 0, 30], [0, 0, 0, 0]], dtype=np.float64)
    p = CountProblem(
        distances=d,
        traffic=traffic,
        replicas=np.array([4, 3, 2, 3], dtype=np.float64),
        cpu=np.array([1.0, 1.0, 2.0, 1.0]),
        mem=np.ones(4),
        room_cpu=np.array([4, 4, 4, 4, 3, 3, 3], dtype=np.float64),
        room_mem=np.full(7, 32.0),
        allowed=np.ones((4, 7), dtype=bool),
        fixed=np.zeros((4, 7)),
    )
    reference = p.cost(search_best(p, [], np.random.default_rng(0), rounds=20, anneal_steps=2000))
    for _ in range(4):
        perm = rng.permutation(7)
        q = CountProblem(
            distances=d[np.ix_(perm, perm)],
            traffic=traffic,
            replicas=p.replicas,
            cpu=p.cpu,
            mem=p.mem,
            room_cpu=p.room_cpu[perm],
            room_mem=p.room_mem[perm],
            allowed=p.allowed[:, perm],
            fixed=p.fixed[:, perm],
        )
        x = search_best(q, [], np.random.default_rng(0), rounds=20, anneal_steps=2000)
        assert q.fits(x) and abs(q.cost(x) - reference) < 1e-6


def _random_state(seed: int) -> tuple[CountProblem, np.ndarray]:
    rng = np.random.default_rng(seed)
    w, n = 5, 7
    d, _ = _zoned(rng.integers(0, 3, n).tolist(), [8] * n)
    traffic = rng.random((w, w)) * (rng.random((w, w)) < 0.5) * 100
    p = CountProblem(
        distances=d,
        traffic=traffic,
        replicas=np.array([3, 2, 4, 2, 3], dtype=np.float64),
        cpu=rng.choice([0.5, 1.0, 2.0], w),
        mem=np.ones(w),
        room_cpu=np.full(n, 6.0),
        room_mem=np.full(n, 32.0),
        allowed=rng.random((w, n)) < 0.9,
        fixed=np.zeros((w, n)),
        room_pods=np.full(n, 4.0),
    )
    x = np.zeros((w, n))
    for i in range(w):
        for _ in range(int(p.replicas[i])):
            x[i, rng.choice(np.flatnonzero(p.allowed[i]))] += 1
    return p, x


def test_node_swap_changes_are_exact_and_respect_room() -> None:
    """Exchanging two nodes' pods: the predicted change equals the recomputed cost difference, and ``inf``
    exactly where the exchanged pods would not fit or may not go."""
    for seed in range(6):
        p, x = _random_state(seed)
        s = CountSearch(p, np.random.default_rng(seed), x)
        for n in range(len(p.room_cpu)):
            change = s.node_swap_changes(n)
            for m in range(len(p.room_cpu)):
                y = s.x.copy()
                y[:, [n, m]] = y[:, [m, n]]
                legal = m != n and p.fits(y) and not ((y > 0) & ~p.allowed).any()
                assert np.isfinite(change[m]) == legal or not p.fits(s.x)
                if np.isfinite(change[m]):
                    assert change[m] == pytest.approx(p.cost(y) - p.cost(s.x), abs=1e-6)


def test_ruin_takes_related_workloads_off_and_keeps_the_state_exact() -> None:
    """Two applications that never talk: a ruin starting in one takes off only its workloads (all their
    movable pods), never more than asked, and the marginal costs and room stay exact."""
    d, _ = _zoned([0, 0, 1, 1, 2, 2], [8] * 6)
    traffic = np.zeros((6, 6))
    traffic[0, 1] = traffic[1, 2] = 50.0  # application A: 0, 1, 2
    traffic[3, 4] = traffic[4, 5] = 50.0  # application B: 3, 4, 5
    p = CountProblem(
        distances=d,
        traffic=traffic,
        replicas=np.full(6, 2.0),
        cpu=np.ones(6),
        mem=np.ones(6),
        room_cpu=np.full(6, 8.0),
        room_mem=np.full(6, 32.0),
        allowed=np.ones((6, 6), dtype=bool),
        fixed=np.zeros((6, 6)),
    )
    for seed in range(12):
        s = CountSearch(p, np.random.default_rng(seed))
        s.insert()
        before = s.x.copy()
        s.ruin(2 + seed % 3)
        taken = np.flatnonzero(s.x.sum(axis=1) == 0)
        assert 1 <= len(taken) <= 2 + seed % 3
        assert set(taken) <= {0, 1, 2} or set(taken) <= {3, 4, 5}
        kept = np.setdiff1d(np.arange(6), taken)
        assert np.array_equal(s.x[kept], before[kept])
        fresh = CountSearch(p, np.random.default_rng(0), s.x)
        assert np.allclose(fresh.g, s.g) and np.allclose(fresh.h, s.h) and np.allclose(fresh.room_cpu, s.room_cpu)
        s.insert()
        assert not p.missing(s.x).any()


@pytest.mark.parametrize("ruin", [0, 12])
def test_kicks_and_node_swaps_never_lose_and_keep_the_state_exact(ruin: int) -> None:
    """Either perturbation (random moves with ``ruin`` 0, else ruin and recreate)."""
    for seed in range(4):
        p, _ = _random_state(seed)
        s = CountSearch(p, np.random.default_rng(seed))
        s.insert()
        before = s.value()
        out = kicked(s, 20, passes=20, ruin=ruin)
        assert out.value() <= before + 1e-9
        assert p.fits(out.x) and not ((out.x > 0) & ~p.allowed).any()
        fresh = CountSearch(p, np.random.default_rng(0), out.x)  # incremental H, G, room = recomputed
        assert np.allclose(fresh.g, out.g) and np.allclose(fresh.room_cpu, out.room_cpu)
        assert out.quick_value() == pytest.approx(out.value())


def test_recreating_anywhere_lets_a_whole_application_leave_the_node_with_most_room() -> None:
    """Three applications that never talk to each other, on four nodes 10 apart (room 6, 3, 6, 3). Greedy
    insertion puts the chattiest one (3 pods) on the first 6-core node, so the 4-pod one is split; the optimum
    (cost 0) has the 3-pod application on a 3-core node. Taken off whole, that application costs the same on
    every node: recreated unanchored it goes back to the node with most room and no round improves, in any
    seed; recreated from a random node it can move there."""
    traffic = np.zeros((6, 6))
    traffic[0, 1], traffic[1, 0] = 14.0, 13.0  # application A: 0, 1 (4 pods)
    traffic[2, 3], traffic[3, 2] = 79.0, 50.0  # application B: 2, 3 (3 pods)
    traffic[4, 5], traffic[5, 4] = 59.0, 60.0  # application C: 4, 5 (5 pods)
    d = np.full((4, 4), 10.0)
    np.fill_diagonal(d, 0.0)
    p = CountProblem(
        distances=d,
        traffic=traffic,
        replicas=np.array([3, 1, 2, 1, 2, 3], dtype=np.float64),
        cpu=np.ones(6),
        mem=np.ones(6),
        room_cpu=np.array([6.0, 3.0, 6.0, 3.0]),
        room_mem=np.full(4, 64.0),
        allowed=np.ones((6, 4), dtype=bool),
        fixed=np.zeros((6, 4)),
    )
    for seed in range(4):
        s = CountSearch(p, np.random.default_rng(seed))
        s.insert()
        s.descend(20)
        assert s.value() == pytest.approx(90.0)  # A split 3 / 1 beside B on the first 6-core node
        assert kicked(s.copy(), 30, passes=20, anywhere=0.0).value() == pytest.approx(90.0)
        assert kicked(s.copy(), 60, passes=20, anywhere=0.5).value() == pytest.approx(0.0)
        best = kicked(s, 30, passes=20)
        assert best.value() == pytest.approx(0.0)
        assert not p.missing(best.x).any() and p.fits(best.x)


def test_a_pinned_recreate_puts_its_first_workload_at_the_anchor_despite_a_weak_peer_that_stays() -> None:
    """Workload A (2 pods) stays on node 0 (room 3); application B (B1, B2, 2 pods each, 100 units of traffic
    between them) was taken off, and B1 sends 1 unit to A. Inserted unpinned, B1 goes first and beside A, where
    only one of its pods fits, so B is split (cost 1,005); pinned at the anchor (node 2, room 4) B1 starts
    there and B2 follows (cost 10: only the weak link crosses). The mechanism of ``groups`` 50 seed 24."""
    traffic = np.zeros((3, 3))
    traffic[1, 0] = 1.0
    traffic[1, 2], traffic[2, 1] = 100.0, 100.0
    d = np.full((3, 3), 10.0)
    np.fill_diagonal(d, 0.0)
    p = CountProblem(
        distances=d,
        traffic=traffic,
        replicas=np.full(3, 2.0),
        cpu=np.ones(3),
        mem=np.ones(3),
        room_cpu=np.array([3.0, 1.0, 4.0]),
        room_mem=np.full(3, 64.0),
        allowed=np.ones((3, 3), dtype=bool),
        fixed=np.zeros((3, 3)),
    )
    placed = np.zeros((3, 3))
    placed[0, 0] = 2.0
    results = {}
    for pin in (False, True):
        s = CountSearch(p, np.random.default_rng(0), placed)
        s.insert(2, pin)
        assert not p.missing(s.x).any() and p.fits(s.x)
        results[pin] = (s.x[1:].tolist(), s.value())
    assert results[False] == ([[1.0, 0.0, 1.0], [0.0, 0.0, 2.0]], pytest.approx(1005.0))
    assert results[True] == ([[0.0, 0.0, 2.0], [0.0, 0.0, 2.0]], pytest.approx(10.0))


def test_a_share_of_anchored_rounds_draws_only_between_the_extremes() -> None:
    """At share 1 (shipped) and 0 (as first shipped) no round draws, so those searches use the generator as
    before shares existed; in between, about that share of rounds is anchored."""
    for share, expected in ((1.0, True), (0.0, False)):
        rng = np.random.default_rng(7)
        assert all(_anchored(rng, share) is expected for _ in range(50))
        assert rng.random() == np.random.default_rng(7).random()
    rng = np.random.default_rng(7)
    anchored = sum(_anchored(rng, 0.25) for _ in range(4000))
    assert 900 <= anchored <= 1100


def test_distance_codes_found_among_a_tables_values_equal_the_general_ones() -> None:
    """The planner passes its node table's possible distances (zone matrix, same node, node-pair overrides);
    the codes are those of ``np.unique`` over the whole matrix, and candidates that miss a value fall back."""
    from augur.placement import NodeInfo, NodeTable, TopologyModel
    from augur.placement.distance import distance_values, pairwise

    rng = np.random.default_rng(5)
    for trial in range(12):
        n = int(rng.integers(2, 30))
        zones = [f"z{int(rng.integers(0, 4))}" for _ in range(n)]
        infos = [NodeInfo(f"n{i}", zones[i], "r1" if zones[i] < "z2" else "r2") for i in range(n)]
        pairs = [(f"n{int(a)}", f"n{int(b)}", float(rng.integers(0, 100))) for a, b in rng.integers(0, n, (trial, 2))]
        table = NodeTable.build(infos, TopologyModel.build(zones=[("z0", "z1", 33.3333333)], nodes=pairs))
        idx = np.arange(n, dtype=np.int64)
        d = pairwise(table, idx, idx)
        general, found = distance_codes(d), distance_codes(d, distance_values(table))
        assert found.count == general.count and found.codes.dtype == general.codes.dtype
        assert np.array_equal(found.codes, general.codes)
        missing = distance_codes(d, np.array([float(d[0, 0])]))  # not every value: the general path
        assert np.array_equal(missing.codes, general.codes) and missing.count == general.count


def test_a_spread_start_puts_each_pod_on_the_node_with_most_room_blind_to_traffic() -> None:
    """``CountSearch.spread`` (the experimental spread start): pods of chatty workloads still spread out, one per
    node while rooms are equal, never past a node's room; a workload that fits nowhere stays unplaced."""
    d, _ = _zoned([0, 0, 1], [8] * 3)
    p = CountProblem(
        distances=d,
        traffic=np.array([[0, 100, 0], [0, 0, 0], [0, 0, 0]], dtype=np.float64),
        replicas=np.array([3, 3, 1], dtype=np.float64),
        cpu=np.array([1.0, 1.0, 9.0]),
        mem=np.ones(3),
        room_cpu=np.array([3.0, 2.0, 4.0]),
        room_mem=np.full(3, 32.0),
        allowed=np.ones((3, 3), dtype=bool),
        fixed=np.zeros((3, 3)),
    )
    s = CountSearch(p, np.random.default_rng(0))
    s.spread()
    # rooms 3, 2, 4: node 2, then nodes 0 and 2 tie at 3 (the first wins), then node 2 again
    assert s.x[0].tolist() == [1, 0, 2]
    assert s.x[1].tolist() == [1, 1, 1]  # rooms 2, 2, 2 → 1, 2, 2 → 1, 1, 2 → 1, 1, 1 (traffic ignored)
    assert s.room_cpu.tolist() == [1.0, 1.0, 1.0] and s.x[2].sum() == 0


def test_a_full_plan_with_a_spread_start_places_every_pod() -> None:
    from augur.placement.plan_search import FullSearch
    from augur.placement.plan_settings import PlanSettings

    p, _ = _random_state(5)
    plain = FullSearch(PlanSettings(restarts=2, kicks=5), lambda: 0.0, lambda: None).solve(p, [None])
    spread = FullSearch(PlanSettings(restarts=2, kicks=5, spread_starts=1), lambda: 0.0, lambda: None).solve(p, [None])
    assert p.missing(spread.x).sum() == p.missing(plain.x).sum() == 0 and p.fits(spread.x)


def test_a_refinement_round_mixes_in_blocks_with_pauses_and_the_same_sums() -> None:
    from augur.placement import canonical

    rng = np.random.default_rng(5)
    pair_base = rng.integers(0, 2**63, size=(300, 300), dtype=np.uint64)
    mixed = rng.integers(0, 2**63, size=300, dtype=np.uint64)
    with np.errstate(over="ignore"):
        whole = canonical._mix(pair_base ^ mixed[None, :]).sum(axis=1, dtype=np.uint64)
    pauses: list[int] = []
    old = canonical.BLOCK_ELEMENTS
    try:
        canonical.BLOCK_ELEMENTS = 300 * 64  # 64 rows per block: 5 blocks, 4 pauses between them
        blocked = canonical._signature(pair_base, mixed, lambda: pauses.append(1))
    finally:
        canonical.BLOCK_ELEMENTS = old
    np.testing.assert_array_equal(blocked, whole)
    assert len(pauses) == 4
    np.testing.assert_array_equal(canonical._signature(pair_base, mixed, None), whole)


def test_dense_ranks_are_those_of_numpy_unique_rows() -> None:
    """The lexsort ranking equals ``np.unique(axis=0)``'s inverse: ties, -0.0 against 0.0, infinities, uint64."""
    from augur.placement.canonical import _dense_rank

    rng = np.random.default_rng(11)
    for _ in range(200):
        n, m = int(rng.integers(1, 40)), int(rng.integers(1, 5))
        rows = rng.integers(-2, 3, size=(n, m)).astype(np.float64)
        rows[rng.random((n, m)) < 0.1] = -0.0
        rows[rng.random((n, m)) < 0.05] = -np.inf
        hashed = rng.integers(0, 3, size=(n, m)).astype(np.uint64) * np.uint64(2**62)
        for case in (rows, hashed, rows[:, 0]):
            expected = np.unique(case if case.ndim > 1 else case[:, None], axis=0, return_inverse=True)[1]
            np.testing.assert_array_equal(_dense_rank(case), np.asarray(expected).reshape(-1))
    assert _dense_rank(np.zeros((0, 2))).size == 0 and _dense_rank(np.zeros((3, 0))).tolist() == [0, 0, 0]
