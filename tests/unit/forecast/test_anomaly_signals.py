"""Shape memory and value window of the anomaly detector, on small hand-computed cases."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from augur.forecast.anomaly import AnomalyDetector, AnomalyParams, state_dict
from augur.forecast.anomaly_signals import Shapes, ShapeState, Tail, TailState, Window
from augur.forecast.shape_memory import ShapeRows, ShapeSeries


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
    sc.remember(np.array([1.0, 2.0, 7.0, 4.0, 5.0]), 5)  # the next point: stores [2, 7]
    assert sc.count == 2
    # nearest to [5, 6] is now [2, 7]: 9 + 1 = 10, rms sqrt(5), over 10
    assert sc.novelty(np.array([5.0, 6.0]), 10.0, 6) == pytest.approx(5**0.5 / 10)


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
    # A shape met again far from the origin is still found within float32 rounding of the stored copy
    # (about 6e-8 of its distance from the origin), not float32 cancellation in the distance (which
    # would be about 1e-4 here).
    sc = _shapes()
    far = [1e6 + 0.3, 1e6 + 0.7]
    sc.remember(np.array([0.0, 1.0, 0.0, 0.0]), 4)  # [0, 1]: origin 0.5
    sc.remember(np.array([0.0, 1.0, 1e6 + 0.3, 0.0, 0.0]), 5)  # [1, 1e6 + 0.3]
    sc.remember(np.array([1.0, *far, 0.0, 0.0]), 6)  # [1e6 + 0.3, 1e6 + 0.7]
    assert isinstance(sc.store, ShapeSeries) and sc.store.buf.dtype == np.float32 and sc.count == 3
    assert sc.novelty(np.array(far), 1e6, 7) < 1e-7
    restored = Shapes(2, 1, 4, 1, Tail(3, 10, 1.0, TailState()), sc.state())
    assert np.array_equal(restored.store.rows(), sc.store.rows())
    assert restored.novelty(np.array(far) + 1.0, 1e6, 8) == sc.novelty(np.array(far) + 1.0, 1e6, 8) > 0.0


def _consecutive_shapes(count: int, bins: int, step: int, seed: int) -> list[np.ndarray]:
    """``count`` shapes of ``bins`` means, each ``step`` bins after the one before (one sliding series)."""
    means = np.random.default_rng(seed).normal(0, 100, bins + step * (count - 1))
    return [means[i * step : i * step + bins] for i in range(count)]


@pytest.mark.parametrize(("capacity", "step", "count"), [(4, 1, 3), (4, 1, 50), (7, 2, 40), (1000, 1, 2600)])
def test_series_of_bin_means_holds_the_shapes_a_ring_of_rows_holds(capacity: int, step: int, count: int) -> None:
    # The series store keeps each bin mean once; its windows are the shapes the ring keeps, oldest first,
    # through growth, the oldest dropped, and the held means moved back to the front of the buffer.
    series, ring = ShapeSeries(6, capacity, step), ShapeRows(6, capacity, (), 0)
    for shape in _consecutive_shapes(count, 6, step, seed=count):
        series.add(shape)
        ring.add(shape)
        assert np.array_equal(series.rows(), ring.oldest_first())
    assert len(series) == len(ring) == min(count, capacity)
    assert len(series.buf) <= series.limit + max(step, series.limit // 4)
    again = ShapeSeries(6, capacity, step, series.means())
    assert np.array_equal(again.rows(), series.rows())


def test_rows_saved_before_the_series_existed_restore_into_it() -> None:
    # A state saved as rows in ring order (the ring wrapped: the oldest is not first) restores into a
    # series store with the same shapes, and is saved back as means.
    tail, shapes = Tail(3, 10, 1.0, TailState()), _consecutive_shapes(11, 2, 1, seed=5)
    ring = ShapeRows(2, 4, (), 0)
    for shape in shapes:
        ring.add(shape)
    rows = tuple(tuple(float(x) for x in row) for row in ring.rows())
    restored = Shapes(2, 1, 4, 1, tail, ShapeState(rows, written=11, origin=0.5))
    assert np.array_equal(restored.store.rows(), ring.oldest_first())
    assert restored.state().shapes == () and len(restored.state().means) == 5
    with pytest.raises(ValueError, match="not whole bins"):
        Shapes(2, 2, 4, 3, tail, restored.state())  # a stride of 1.5 bins cannot read means


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
