from __future__ import annotations

import math
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from augur.devcluster import prometheus
from augur.devcluster.backfill import Series, check_retention, create_blocks, openmetrics_lines, write_openmetrics


def test_openmetrics_gauge_family_with_labels_values_and_eof() -> None:
    series = Series({"trace": "web", "job": "replay"}, [100.0, 160.0, 130.0], [1.5, 3.0, 2.25])
    lines = list(openmetrics_lines("augur_demand", [series], help_text="demand"))
    assert lines == [
        "# HELP augur_demand demand",
        "# TYPE augur_demand gauge",
        'augur_demand{job="replay",trace="web"} 1.5 100.000',
        'augur_demand{job="replay",trace="web"} 2.25 130.000',  # samples in time order
        'augur_demand{job="replay",trace="web"} 3.0 160.000',
        "# EOF",
    ]


def test_gaps_are_left_out_and_label_values_escaped() -> None:
    series = Series({"path": 'a"b\\c\nd'}, [1.0, 2.0, 3.0], [1.0, math.nan, math.inf])
    lines = list(openmetrics_lines("m", [series]))
    assert lines == ["# TYPE m gauge", 'm{path="a\\"b\\\\c\\nd"} 1.0 1.000', "# EOF"]


@pytest.mark.parametrize(
    ("name", "labels", "times", "values"),
    [
        ("1bad", {}, [1.0], [1.0]),
        ("ok", {"bad-label": "x"}, [1.0], [1.0]),
        ("ok", {"__name__": "x"}, [1.0], [1.0]),
        ("ok", {}, [1.0, 2.0], [1.0]),
        ("ok", {}, [1.0, 1.0], [1.0, 2.0]),
    ],
)
def test_bad_input_is_refused(name: str, labels: dict[str, str], times: list[float], values: list[float]) -> None:
    with pytest.raises(ValueError):
        list(openmetrics_lines(name, [Series(labels, times, values)]))


def test_history_beyond_retention_is_refused() -> None:
    now = 1_800_000_000.0
    check_retention([Series({}, [now - 30 * 86400], [1.0])], now=now)
    with pytest.raises(ValueError, match="retention"):
        check_retention([Series({}, [now - prometheus.RETENTION_SECONDS], [1.0])], now=now)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (hack/setup.sh installs it)")
def test_promtool_accepts_the_file_and_blocks_land_in_the_data_dir(tmp_path: Path) -> None:
    now = time.time()
    times = [now - 6 * 3600 + 5 * i for i in range(6 * 720)]
    source = write_openmetrics(tmp_path / "in.om", "augur_demand", [Series({"trace": "t"}, times, [1.0] * len(times))])
    blocks = create_blocks(source, tmp_path / "data")
    assert blocks and all(b.parent == tmp_path / "data" and (b / "meta.json").is_file() for b in blocks)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("backfill-")]  # staging removed
    dump = subprocess.run(
        ["promtool", "tsdb", "analyze", str(tmp_path / "data")], capture_output=True, text=True, check=True
    )
    assert "augur_demand" in dump.stdout
