"""Validation of Prometheus range answers before anything learns from them (pure)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from augur.forecast.demand import (
    JUMP_FACTOR,
    DemandError,
    RawSeries,
    check_fresh,
    grid_points,
    stale_after_seconds,
    validate_range,
)


def series(values: list[float], start: float = 600.0, step: float = 60.0, labels: dict | None = None) -> RawSeries:
    return RawSeries(labels or {}, tuple(start + i * step for i in range(len(values))), tuple(values))


def test_aligns_on_the_grid_with_gaps_as_nan() -> None:
    s = RawSeries({}, (600.0, 720.0, 781.0), (1.0, 3.0, 4.0))  # 660 missing, 781 rounds to 780
    window = validate_range([s], 600.0, 840.0, 60.0)
    assert window.values.size == grid_points(600, 840, 60) == 5
    assert np.isnan(window.values[1]) and np.isnan(window.values[4])
    assert window.values[[0, 2, 3]].tolist() == [1.0, 3.0, 4.0]
    assert window.newest == 780.0 and window.end == 840.0


def test_no_series_is_an_empty_window_and_no_data_when_nothing_was_seen() -> None:
    window = validate_range([], 600.0, 840.0, 60.0)
    assert np.isnan(window.values).all() and window.newest is None
    with pytest.raises(DemandError) as err:
        check_fresh(window.newest, 900.0, 300.0)
    assert err.value.reason == "NoData"


def test_multiple_series_are_rejected_with_their_labels() -> None:
    answer = [series([1.0], labels={"pod": "a"}), series([2.0], labels={"pod": "b"})]
    with pytest.raises(DemandError) as err:
        validate_range(answer, 600.0, 600.0, 60.0)
    assert err.value.reason == "MultipleSeries"
    assert 'pod="a"' in str(err.value) and "sum(" in str(err.value)


def test_stale_data_names_the_age() -> None:
    check_fresh(1000.0, 1200.0, 300.0)  # fresh enough: no error
    with pytest.raises(DemandError) as err:
        check_fresh(1000.0, 1400.0, 300.0)
    assert err.value.reason == "StaleData" and "400s old" in str(err.value)
    assert stale_after_seconds(60.0) == 300.0 and stale_after_seconds(600.0) == 1800.0


def test_nan_inf_and_negative_values_are_dropped_and_counted() -> None:
    window = validate_range([series([5.0, math.nan, math.inf, -math.inf, -3.0, 6.0])], 600.0, 900.0, 60.0)
    assert window.values[0] == 5.0 and window.values[5] == 6.0
    assert np.isnan(window.values[1:5]).all()
    assert (window.dropped.non_finite, window.dropped.negative) == (3, 1)
    assert "3 NaN/Inf" in window.dropped.describe()


def test_an_isolated_huge_jump_is_dropped() -> None:
    context = np.full(30, 10.0)
    values = [10.0, 10.0, 10.0 * JUMP_FACTOR * 3, 11.0, 10.0]
    window = validate_range([series(values)], 600.0, 840.0, 60.0, context)
    assert np.isnan(window.values[2]) and window.dropped.jumps == 1
    assert not window.held and window.values.size == 5


def test_a_sustained_jump_is_real_demand() -> None:
    context = np.full(30, 10.0)
    values = [10.0, 500.0, 520.0, 510.0]
    window = validate_range([series(values)], 600.0, 780.0, 60.0, context)
    assert window.values.tolist() == values and window.dropped.jumps == 0


def test_a_suspect_last_point_is_held_until_its_successor_arrives() -> None:
    context = np.full(30, 10.0)
    first = validate_range([series([10.0, 10.0, 900.0])], 600.0, 720.0, 60.0, context)
    assert first.held and first.values.tolist() == [10.0, 10.0] and first.end == 660.0
    # next read starts at the held point; its successor confirms it: real demand
    history = np.concatenate([context, first.values])
    second = validate_range([series([900.0, 950.0], start=720.0)], 720.0, 780.0, 60.0, history)
    assert second.values.tolist() == [900.0, 950.0] and not second.held
    # once the level moved, further high points are not suspects any more
    third = validate_range([series([960.0], start=840.0)], 840.0, 840.0, 60.0, np.concatenate([history, second.values]))
    assert third.values.tolist() == [960.0] and not third.held


def test_no_jump_rule_without_enough_context_or_from_zero() -> None:
    assert validate_range([series([1.0, 1000.0, 1.0])], 600.0, 720.0, 60.0).dropped.jumps == 0
    zeros = np.zeros(30)
    window = validate_range([series([0.0, 50.0, 0.0])], 600.0, 720.0, 60.0, zeros)
    assert window.dropped.jumps == 0 and window.values.tolist() == [0.0, 50.0, 0.0]
