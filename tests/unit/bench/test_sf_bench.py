"""bench/sf_bench.py: re-running only the walks (``--ceilings-from``) scores them exactly as a full run does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import numpy as np


def _trace(path: Path, n: int = 700) -> Path:
    rng = np.random.default_rng(5)
    t0 = datetime(2026, 1, 1)
    values = 100 + 30 * np.sin(2 * np.pi * np.arange(n) / 288) + rng.normal(0, 4, n)
    lines = ["timestamp,value"] + [
        f"{(t0 + timedelta(minutes=5 * i)).isoformat(sep=' ')},{v:.3f}" for i, v in enumerate(values)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_kept_refits_score_the_walk_as_a_full_run_does(
    bench_import: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    sf_bench = bench_import("sf_bench")
    trace = _trace(tmp_path / "series.csv")
    full = sf_bench.bench_policy(trace, "seasonal_naive", 4, 4032, 60.0)
    kept = sf_bench.bench_policy(trace, "seasonal_naive", 4, 4032, 60.0, ceiling=full["unlimited"])
    assert len(full["unlimited"]["origins"]) == 4
    assert kept["budget"]["rmae"] == full["budget"]["rmae"]
    # the refits at the origins are the earlier run's; the walk is scored again at them, to the same figure
    assert {k: v for k, v in kept["unlimited"].items() if k != "walk_rmae_same_steps"} == {
        k: v for k, v in full["unlimited"].items() if k != "walk_rmae_same_steps"
    }
    assert kept["unlimited"]["walk_rmae_same_steps"] == full["unlimited"]["walk_rmae_same_steps"]
    assert np.isfinite(full["unlimited"]["walk_rmae_same_steps"])
