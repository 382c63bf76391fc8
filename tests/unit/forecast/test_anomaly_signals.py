"""Shape memory and value window of the anomaly detector, on small hand-computed cases."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from augur.forecast.anomaly import AnomalyDetector, AnomalyParams, state_dict
from augur.forecast.anomaly_signals import Shapes, ShapeState, Tail, TailState, Window


def _shapes(period: int = 1, bins: int = 2, bin_size: int = 1) -> Shapes:
    return Shapes(bins, bin_size, 4, bin_size, Tail(3, 10, 1.0, TailState()), ShapeState(), period)


def test_window_is_the_last_values_oldest_first() -> None:
    w = Window(3)
    for v in (1.0, 2.0):
        w.append(v)
    assert w.view().tolist() == [1.0, 2.0]
    for v in (3.0, 4.0, 5.0):
        w.append(v)
    assert w.view().tolist() == [3.0, 4.0, 5.0]
    assert w.values() == (3.0, 4.0, 5.0)
    assert Window(3, (9.0, 3.0, 4.0, 5.0)).values() == (3.0, 4.0, 5.0)


def test_nearest_shape_distance_by_hand() -> None:
    sc = _shapes()
    sc.remember(np.array([1.0, 2.0, 3.0, 4.0]), 4)  # stores [1, 2], the shape one width ago
    assert sc.count == 1 and sc.origin == 1.5
    # latest shape [5, 6]: squared distance 4^2 + 4^2 = 32, rms over 2 bins = 4, over a span of 10
    assert sc.novelty(np.array([5.0, 6.0]), 10.0, 5) == pytest.approx(0.4)
    sc.remember(np.array([4.0, 7.0, 0.0, 0.0]), 6)  # stores [4, 7]
    # nearest to [5, 6] is now [4, 7]: 1 + 1 = 2, rms 1, over 10
    assert sc.novelty(np.array([5.0, 6.0]), 10.0, 7) == pytest.approx(0.1)


def test_bin_means_at_a_coarser_scale() -> None:
    sc = _shapes(bins=2, bin_size=2)
    sc.remember(np.array([0.0, 2.0, 4.0, 6.0, 9.0, 9.0, 9.0, 9.0]), 8)  # stores the bin means [1, 5]
    assert sc.novelty(np.array([1.0, 1.0, 5.0, 5.0]), 1.0, 9) == pytest.approx(0.0)
    assert sc.novelty(np.array([2.0, 2.0, 6.0, 6.0]), 2.0, 10) == pytest.approx(0.5)


def test_search_period_reuses_the_last_novelty() -> None:
    sc = _shapes(period=3)
    sc.remember(np.array([1.0, 2.0, 3.0, 4.0]), 4)
    assert sc.novelty(np.array([5.0, 6.0]), 10.0, 6) == pytest.approx(0.4)  # 6 is a multiple of 3
    assert sc.novelty(np.array([1.0, 2.0]), 10.0, 7) == pytest.approx(0.4)  # not searched: the last value
    assert sc.novelty(np.array([1.0, 2.0]), 10.0, 9) == pytest.approx(0.0)


def test_a_series_far_from_zero_keeps_its_precision() -> None:
    # Stored relative to the first shape's mean: |m|^2 - 2 m.q + |q|^2 stays exact at an offset of 1e9.
    sc = _shapes()
    base = 1e9
    sc.remember(np.array([base, base + 1.0, 0.0, 0.0]), 4)
    assert sc.novelty(np.array([base + 0.5, base + 1.5]), 1.0, 5) == pytest.approx(0.5)


@pytest.mark.parametrize("periods", [(1, 1, 1), (1, 5, 20)])
def test_round_trip_with_search_periods(periods: tuple[int, ...]) -> None:
    rng = np.random.default_rng(3)
    values = 50 + 10 * np.sin(np.arange(900) / 20) + rng.normal(0, 1, 900)
    params = replace(AnomalyParams(), shape_periods=periods)
    whole = AnomalyDetector(params)
    expected = [whole.update(float(v)) for v in values]
    first = AnomalyDetector(params)
    got = [first.update(float(v)) for v in values[:613]]
    resumed = AnomalyDetector.from_state(json.loads(json.dumps(state_dict(first.state()))), params)
    got += [resumed.update(float(v)) for v in values[613:]]
    assert got == expected


def test_shapes_are_stored_in_float32_and_compared_in_float64() -> None:
    # Half the memory per stored shape; a shape met again far from the origin is still found within
    # float32 rounding of the stored copy (about 6e-8 of its distance from the origin), not float32
    # cancellation in the distance (which would be about 1e-4 here).
    sc = _shapes()
    sc.remember(np.array([0.0, 1.0, 0.0, 0.0]), 4)  # origin 0.5
    far = np.array([1e6 + 0.3, 1e6 + 0.7])
    sc.remember(np.concatenate([far, far]), 6)
    assert sc.memory.dtype == np.float32 and sc.memory.nbytes == 4 * 2 * len(sc.memory)
    assert sc.novelty(far, 1e6, 7) < 1e-7
    restored = Shapes(2, 1, 4, 1, Tail(3, 10, 1.0, TailState()), sc.state())
    assert np.array_equal(restored.memory[: restored.count], sc.memory[: sc.count])
    assert restored.novelty(far + 1.0, 1e6, 8) == sc.novelty(far + 1.0, 1e6, 8) > 0.0


def test_likelihood_history_is_float32_and_its_sums_cancel_exactly() -> None:
    # The ring stores float32; the running sums add the stored value, so after the window has turned
    # over many times they equal the sums of what the ring holds (no drift from rounding).
    tail = Tail(1, 4, 1.0, TailState())
    values = [0.1 * k + 1e-9 for k in range(1, 40)]
    for v in values:
        tail.learn(v)
    held = tail.history.values()
    assert tail.history.buf.dtype == np.float32 and len(held) == 4
    assert held == tuple(float(np.float32(v)) for v in values[-4:])
    assert tail.total == pytest.approx(sum(held), rel=1e-12)
    assert tail.squares == pytest.approx(sum(v * v for v in held), rel=1e-12)
