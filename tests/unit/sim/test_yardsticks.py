"""``oracle_floor``, ``hpa_matched`` and the block bootstrap on traces small enough to compute by hand."""

from __future__ import annotations

import math

import numpy as np

from augur.sim.backtest import compare
from augur.sim.bootstrap import block_length, block_sums, ratio_interval, resample_starts
from augur.sim.protocol import backtest_setup, compute_metrics, evaluated_mask, ready_series, run_oracle
from augur.sim.yardsticks import AtGoal, Matched, Run, curve_at, mix, run_hpa_matched, run_oracle_floor

# capacity 10 at u = 0.8 -> 8 per replica; step 60 s -> L = 2.
SETUP = backtest_setup(60.0, capacity=10.0)
SPIKE = np.array([8, 8, 40, 40, 40, 8, 8, 8, 8, 8, 8, 8], dtype=float)


def test_oracle_floor_plans_for_full_utilization() -> None:
    # need at u = 1: ceil(8 / 10) = 1, ceil(40 / 10) = 4; the max over t .. t + 2.
    floor = run_oracle_floor(SPIKE, SETUP)
    assert floor == [4, 4, 4, 4, 4, 1, 1, 1, 1, 1, 1, 1]
    mask = evaluated_mask(SPIKE, 0)
    m = compute_metrics(SPIKE, floor, SETUP, mask)
    assert m.under_provisioned_steps == 0
    assert m.replica_hours == 27 / 60  # 5 x 4 + 7 x 1 replica-minutes
    oracle = compute_metrics(SPIKE, run_oracle(SPIKE, SETUP), SETUP, mask)
    assert oracle.replica_hours == 32 / 60  # the oracle at u = 0.8 is not the floor
    assert oracle.mean_utilization < m.mean_utilization == 192 / 270


def test_hpa_matched_lowers_the_target_until_it_spends_as_much() -> None:
    # Constant demand 8: the HPA keeps ceil(0.8 / u) replicas at every step (formula or tolerance band).
    demand = np.full(30, 8.0)
    mask = evaluated_mask(demand, 0)
    hours = 30 / 60  # one replica over the 30 one-minute steps
    # Goal: two replicas. ceil(0.8 / u) >= 2 for every u < 0.8: bisection ends just below 0.8.
    m = run_hpa_matched(demand, SETUP, mask, 2 * hours)
    assert m.reached and set(m.desired) == {2}
    assert m.replica_hours == 2 * hours
    assert 0.8 - 1e-5 < m.target_utilization < 0.8
    # Goal 2.5 replicas is between whole counts: the HPA gets the next count up (3, so u < 0.8 / 2); read
    # at the goal, between 3 replicas and 2 (the most that spends less), neither under-provisions.
    m = run_hpa_matched(demand, SETUP, mask, 2.5 * hours)
    assert set(m.desired) == {3} and m.replica_hours == 3 * hours
    assert 0.4 - 1e-5 < m.target_utilization < 0.4
    g = m.at_goal
    assert g is not None and (g.more.replica_hours, g.less.replica_hours, g.share) == (3 * hours, 2 * hours, 0.5)
    assert m.under_provisioned_steps == m.under_provisioned_steps_at_goal == 0
    # Already spending more at u = 0.8: no lowering, and nothing tried spends less (the grid's highest
    # target, 0.98, still keeps one replica).
    m = run_hpa_matched(demand, SETUP, mask, 0.5 * hours)
    assert (m.target_utilization, m.replica_hours, m.reached, m.at_goal) == (0.8, hours, False, None)


def mixes(m: Matched) -> dict[str, tuple[list[int], list[int], float]]:
    g = m.at_goal
    assert g is not None
    return {"hpa_matched": (list(g.more_desired), list(g.less_desired), g.share)}


def test_the_curve_at_the_goal_interpolates_between_the_nearest_runs() -> None:
    # Spending 110 replica-hours gives 10 under-provisioned steps, spending 90 gives 30: at the goal of 100,
    # halfway between them, 20; at 105, a quarter of the way, 15.
    more, less = Run(0.70, 110.0, 10), Run(0.71, 90.0, 30)
    assert AtGoal(more, less, 0.5, (), ()).under_provisioned_steps == 20.0
    assert AtGoal(more, less, 0.25, (), ()).under_provisioned_steps == 15.0
    assert AtGoal(more, less, 0.25, (), ()).replica_hours == 105.0
    m = Matched([], 0.70, 110.0, 100.0, 5, True, 10, AtGoal(more, less, 0.5, (), ()))
    assert m.under_provisioned_steps_at_goal == 20.0
    # Without a curve at the goal (nothing tried spends less): the run's own count.
    assert Matched([], 0.80, 110.0, 100.0, 1, False, 10, None).under_provisioned_steps_at_goal == 10
    # The same mix step by step (what compare() bootstraps): a quarter of the second series.
    assert mix(np.array([0.0, 4.0]), np.array([4.0, 0.0]), 0.25).tolist() == [1.0, 3.0]


def test_hpa_matched_reads_the_curve_across_a_jump_in_replica_hours() -> None:
    # Demand 8 for 20 steps, then 25. Just below u = 0.4 the HPA holds ceil(0.8 / u) = 3 replicas before
    # the jump (30 >= 25: never short; 3.133 replica-hours); from 0.4 it holds 2, and with a lead time of
    # 2 steps it is short on the 3 steps after the jump (2.75 replica-hours). Both then run 7 replicas.
    # Halfway between the two costs, halfway between their under-provisioning: 1.5 steps.
    demand = np.concatenate([np.full(20, 8.0), np.full(20, 25.0)])
    mask = evaluated_mask(demand, 0)
    three, two = 47 / 15, 2.75  # ready (2 steps late): (23 x 3 + 17 x 7) / 60 and (23 x 2 + 17 x 7) / 60
    m = run_hpa_matched(demand, SETUP, mask, (three + two) / 2)
    assert m.reached and (math.isclose(m.replica_hours, three), m.under_provisioned_steps) == (True, 0)
    assert 0.4 - 1e-5 < m.target_utilization < 0.4
    g = m.at_goal
    assert g is not None
    assert (math.isclose(g.more.replica_hours, three), g.more.under_provisioned_steps) == (True, 0)
    assert (math.isclose(g.less.replica_hours, two), g.less.under_provisioned_steps) == (True, 3)
    assert math.isclose(g.share, 0.5) and math.isclose(m.under_provisioned_steps_at_goal, 1.5)
    # The bootstrap compares with the same mix step by step: a policy that spends what the cheaper end
    # spends (3 short steps) has twice the mix's 1.5, at 2.75 / 2.94 of its replica-hours.
    cheap = list(g.less_desired)
    ratios, _ = compare(demand, {"augur": cheap, "hpa_matched": m.desired}, SETUP, mask, mixes=mixes(m))
    assert math.isclose(ratios["augur/hpa_matched"]["under_provisioned"].value or 0, 2.0)
    assert math.isclose(ratios["augur/hpa_matched"]["replica_hours"].value or 0, two / ((three + two) / 2))


def test_the_curve_at_the_goal_takes_the_nearest_run_not_the_bisections_bracket() -> None:
    # Replica-hours not monotonic in the target: the bracket the bisection ends in spends far more on one
    # side, while another run tried spends just under the goal; the nearest runs on each side are read.
    runs = [([1], Run(0.60, 120.0, 5)), ([2], Run(0.70, 99.0, 40)), ([3], Run(0.80, 99.9, 12))]
    g = curve_at(runs, 100.0)
    assert g is not None and (g.more, g.less) == (runs[0][1], runs[2][1])
    assert math.isclose(g.under_provisioned_steps, 5 + (120 - 100) / (120 - 99.9) * (12 - 5))
    assert (g.more_desired, g.less_desired) == ((1,), (3,))
    # Equal replica-hours: the fewer under-provisioned steps.
    tied = [*runs, ([4], Run(0.90, 99.9, 11))]
    g = curve_at(tied, 100.0)
    assert g is not None and g.less == tied[3][1]
    # Nothing spends as much as the goal: the nearest run below it, alone.
    g = curve_at(runs[1:], 100.0)
    assert g is not None and g.more is g.less == runs[2][1] and g.share == 1.0


def test_block_sums_wrap_around() -> None:
    assert block_sums(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist() == [3.0, 5.0, 7.0, 5.0]
    assert block_sums(np.array([1.0, 2.0, 3.0]), 1).tolist() == [1.0, 2.0, 3.0]


def test_block_length_exceeds_the_lead_time() -> None:
    assert block_length(10000, 2) == 100
    assert block_length(100, 20) == 21
    assert block_length(5, 20) == 5


def test_ratio_intervals_by_hand() -> None:
    base = np.array([1.0, 0.0, 2.0, 0.0, 1.0, 3.0, 0.0, 1.0])
    starts = resample_starts(base.size, 2)
    assert starts.shape == (1000, 4)
    assert (starts == resample_starts(base.size, 2)).all(), "seeded"
    same = ratio_interval(base, base, starts, 2)
    assert (same.value, same.low, same.high) == (1.0, 1.0, 1.0)
    double = ratio_interval(2 * base, base, starts, 2)
    assert (double.value, double.low, double.high) == (2.0, 2.0, 2.0)
    # Some resamples draw only zero blocks of the denominator: an unbounded upper end.
    sparse = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    wide = ratio_interval(base, sparse, starts, 2)
    assert wide.value == 8.0 and wide.high is None
    nothing = ratio_interval(np.zeros(8), np.zeros(8), starts, 2)
    assert (nothing.value, nothing.low, nothing.high) == (None, None, None)


def test_ratio_interval_covers_the_truth_on_noise() -> None:
    rng = np.random.default_rng(1)
    a = rng.poisson(2.0, 4000).astype(float)
    b = rng.poisson(4.0, 4000).astype(float)
    interval = ratio_interval(a, b, resample_starts(4000, 63), 63)
    assert interval.low is not None and interval.high is not None
    assert interval.low < 0.5 < interval.high
    assert interval.high - interval.low < 0.1
    assert math.isclose(interval.value or 0, a.sum() / b.sum())
    assert ready_series([1, 2], 1).tolist() == [1, 1]
