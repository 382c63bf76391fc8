"""Trace loading: timestamp formats, the median step, grid placement, gaps and clear errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from augur.sim.trace import TraceError, load_trace


def _write(tmp_path: Path, rows: list[str], header: str = "timestamp,value") -> Path:
    path = tmp_path / "t.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_formats_are_equivalent(tmp_path: Path) -> None:
    unix = [f"{1_600_000_000 + 60 * i},{i}" for i in range(12)]
    iso = [f"2020-09-13T12:{26 + i:02d}:40Z,{i}" for i in range(12)]
    plain = [f"2020-09-13 12:{26 + i:02d}:40,{i}" for i in range(12)]
    traces = [load_trace(_write(tmp_path, rows)) for rows in (unix, iso, plain)]
    for trace in traces:
        assert trace.interval_seconds == 60.0
        assert trace.start == 1_600_000_000.0
        assert trace.demand.tolist() == [float(i) for i in range(12)]


def test_gaps_and_jitter_land_on_the_grid(tmp_path: Path) -> None:
    seconds = [0, 60, 121, 179, 300, 360, 420, 480, 540, 600, 660]
    path = _write(tmp_path, [f"{s},{i + 1}" for i, s in enumerate(seconds)])
    trace = load_trace(path)
    assert trace.interval_seconds == 60.0
    assert trace.steps == 12
    assert math.isnan(trace.demand[4])
    assert trace.demand[3] == 4.0
    assert trace.demand[5] == 5.0


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["0,1", "60,abc"], "non-numeric"),
        (["yesterday,1"], "unparseable timestamp"),
        ([f"{60 * i},1" for i in range(5)], "too few points"),
        (["0,nan"], "non-numeric"),
    ],
)
def test_bad_input_is_reported_in_one_line(tmp_path: Path, rows: list[str], message: str) -> None:
    padded = rows + [f"{600 + 60 * i},1" for i in range(12)] if message != "too few points" else rows
    with pytest.raises(TraceError, match=message) as info:
        load_trace(_write(tmp_path, padded))
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="not found"):
        load_trace(tmp_path / "nope.csv")


def test_tail_keeps_the_last_whole_steps_on_the_same_grid(tmp_path: Path) -> None:
    trace = load_trace(_write(tmp_path, [f"{1_600_000_000 + 60 * i},{i}" for i in range(100)]))
    last = trace.tail(10 * 60 + 30)
    assert last.steps == 10
    assert last.demand.tolist() == list(range(90, 100))
    assert last.start == trace.start + 90 * 60
    assert last.interval_seconds == trace.interval_seconds
    assert trace.tail(10**9).steps == 100
