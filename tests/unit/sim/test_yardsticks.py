"""``oracle_floor``, ``hpa_matched`` and the block bootstrap on traces small enough to compute by hand."""

from __future__ import annotations

import math

import numpy as np

from augur.sim.bootstrap import block_length, block_sums, ratio_interval, resample_starts
from augur.sim.protocol import backtest_setup, compute_metrics, evaluated_mask, ready_series, run_oracle
from augur.sim.yardsticks import run_hpa_matched, run_oracle_floor

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
    # Goal 2.5 replicas is between whole counts: the HPA gets the next count up (3, so u < 0.8 / 2).
    m = run_hpa_matched(demand, SETUP, mask, 2.5 * hours)
    assert set(m.desired) == {3} and m.replica_hours == 3 * hours
    assert 0.4 - 1e-5 < m.target_utilization < 0.4
    # Already spending more at u = 0.8: no lowering.
    m = run_hpa_matched(demand, SETUP, mask, 0.5 * hours)
    assert (m.target_utilization, m.replica_hours, m.reached) == (0.8, hours, False)


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
