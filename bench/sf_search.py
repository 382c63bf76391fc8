"""Candidate sets for Augur's selection, compared on the DEVELOPMENT series only (``bench/datasets.py``).

Each configuration is a tuple of candidates walked exactly as ``augur backtest`` walks the ``augur``
policy (same refit schedule, incremental updates, median forecast at the lead-time horizon); the score
is rMAE against seasonal naive over the evaluated steps common to every configuration. Walks are cached
per series and configuration (``--cache``), so configurations can be added without re-running the
others. Writes ``bench/results/sf_search.json``. Tuning sees development data only: on validation series
(``--split validation``) only the chosen change runs, against the candidates before it, to report it.

``--warmup F`` moves the first fit to a fraction F of the steps (default: ``default_warmup_steps``), which
shifts every later refit and reselection; ``--spread FILE ...`` tabulates each configuration's
geometric-mean ratio over ``--score-only`` files made at several warm-ups, so that a choice rests on
the spread, not on one refit schedule.

Fifth round (2026-12-07), rule written before any run: ``pool_2`` and ``pool_3`` (the combination of the 2
or 3 members with the lowest validation errors) are compared with ``median_level`` (the defaults) on all
22 development series at the four warm-ups (the rule, 0.25, 0.3, 0.4). A variant passes on development
when its geometric-mean ratio to ``median_level`` is below 1.0 at every warm-up and below 0.98 on average
(the fourth round's criterion); of the variants that pass, the one with the lowest average goes to
validation at the same four warm-ups, and becomes the default only if its average ratio there is below
1.0 too (this uses validation data for the decision, as the third round did, and is disclosed).
Outcome: neither passed (``pool_2`` 1.003 at the rule, 0.995 on average; ``pool_3`` 1.000 and 0.995;
``sf_search_pool*.json``), so nothing ran on validation.

Run: ``OPENBLAS_NUM_THREADS=1 PYTHONPATH=operator nice -n 19 .venv/bin/python bench/sf_search.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import functools
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets
from common import RESULTS, machine, write

from augur.forecast import forecaster, selection
from augur.forecast.forecaster import ForecastSettings
from augur.forecast.selection import Evaluation
from augur.scaling import loop
from augur.sim import policies
from augur.sim.backtest import detected_season, seasonal_naive_reference
from augur.sim.policies import WalkSettings, run_forecast_policy
from augur.sim.progress import Progress
from augur.sim.protocol import backtest_setup, default_warmup_steps, evaluated_mask
from augur.sim.trace import load_trace

BEFORE = ("seasonal_naive", "holt_winters", "mstl", "sarimax")
"""Augur's candidates before issue 12's rounds."""
COMBINED = (*BEFORE, "combination")
"""... after the first round (``combination``), before the second (``median_level``)."""
CONFIGS: dict[str, tuple[str, ...]] = {
    "augur_before": BEFORE,
    "combination_all": (*BEFORE, "combination"),
    "autoreg": (*BEFORE, "autoreg"),
    "autoreg_combination": (*BEFORE, "autoreg", "combination"),
    "near": BEFORE,
    "near_autoreg_combination": (*BEFORE, "autoreg", "combination"),
    "ses_combination": (*COMBINED, "ses"),
    "ses_autoreg_combination": (*COMBINED, "ses", "autoreg"),
    "with_sf": (*BEFORE, "sf_autoets", "sf_autoarima"),
    "combination_sf": (*BEFORE, "sf_autoets", "sf_autoarima", "combination"),
    "median_level": (*COMBINED, "median_level"),
    "smooth_level": (*COMBINED, "smooth_level"),
    "both_levels": (*COMBINED, "median_level", "smooth_level"),
    "median_follow": (*COMBINED, "median_follow"),
    "median_both": (*COMBINED, "median_level", "median_follow"),
    "sticky_05": (*COMBINED, "median_level"),
    "sticky_10": (*COMBINED, "median_level"),
    "every_origin": (*COMBINED, "median_level"),
    "eo_val_third": (*COMBINED, "median_level"),
    "eo_val_half": (*COMBINED, "median_level"),
    "always_combination": (*COMBINED, "median_level"),
    "arima_d1": (*COMBINED, "median_level", "arima_d1"),
    # 2026-12-05, on the operator's refit schedule (every 6 h): a full reselection every 8th or 16th refit
    # (every 2 or 4 days, as every 4th was under the old daily schedule) instead of every 4th
    "reselect_8": (*COMBINED, "median_level"),
    "reselect_16": (*COMBINED, "median_level"),
    # 2026-12-07 (fifth round): the combination averages only its 2 or 3 members with the lowest
    # validation errors (``ForecastSettings.combination_pool``), not all five
    "pool_2": (*COMBINED, "median_level"),
    "pool_3": (*COMBINED, "median_level"),
    "arima_d1_alone": ("arima_d1",),
    "sf_autoets": ("sf_autoets",),
    "sf_autoarima": ("sf_autoarima",),
    "sf_mstl": ("sf_mstl",),
}
SETTINGS: dict[str, dict[str, Any]] = {
    "near": {"near_horizons_score": True},
    "near_autoreg_combination": {"near_horizons_score": True},
    "sticky_05": {"reselect_margin": 0.05},
    "sticky_10": {"reselect_margin": 0.10},
    # the third round: how the selection scores, not what it chooses from (``eo_val_half`` was chosen on
    # development, did not hold on validation, and is not a default)
    "every_origin": {"score_every_origin": True, "validation_share": 0.0},
    "eo_val_third": {"score_every_origin": True, "validation_share": 1 / 3},
    "eo_val_half": {"score_every_origin": True, "validation_share": 0.5},
    "reselect_8": {"reselect_every": 8},
    "reselect_16": {"reselect_every": 16},
    "pool_2": {"combination_pool": 2},
    "pool_3": {"combination_pool": 3},
}
"""ForecastSettings fields other than the candidates, per configuration."""
ALWAYS = {"always_combination": "combination"}
"""Configurations whose selection always keeps one candidate when it could be fitted (the others are
fitted for it, and scored, as usual): no switching between models at all."""
MAX_STEPS = 4032


WARMUP: list[float] = []
"""``--warmup``: the warm-up as a fraction of the steps (the first fit's origin, which shifts every later
refit); empty: ``default_warmup_steps``."""


def _warmup(steps: int, season: int | None) -> int:
    return math.floor(WARMUP[0] * steps) if WARMUP else default_warmup_steps(steps, season)


def cached(cache: Path, path: Path, name: str) -> Path:
    suffix = f"__w{WARMUP[0]:g}" if WARMUP else ""
    return cache / f"{path.parent.name}__{path.stem}__{name}{suffix}.npy"


def walk(path: Path, name: str, candidates: tuple[str, ...], cache: Path) -> tuple[np.ndarray, float]:
    file = cached(cache, path, name)
    if file.exists():
        return np.load(file), 0.0
    trace = load_trace(path)
    if trace.steps > MAX_STEPS:
        trace = trace.tail(MAX_STEPS * trace.interval_seconds)
    setup = backtest_setup(trace.interval_seconds, 1.0)
    season = detected_season(trace)
    warmup = _warmup(trace.steps, season)
    policies.FORECASTERS[name] = candidates
    loop.ForecastSettings = functools.partial(ForecastSettings, **SETTINGS.get(name, {}))  # type: ignore[misc]
    forecaster.best = functools.partial(_always, ALWAYS[name]) if name in ALWAYS else selection.best
    start = time.process_time()
    run = run_forecast_policy(name, trace.demand, setup, WalkSettings(), warmup, Progress("s", trace.steps, None), 0)
    cpu = time.process_time() - start
    np.save(file, run.point)
    file.with_suffix(".models").write_text(" ".join(run.models))
    return run.point, cpu


def _always(name: str, evaluations: list[Evaluation], *args: Any) -> Any:
    kept = [e for e in evaluations if e.name == name]
    return selection.best(kept or evaluations, *args)


def score(path: Path, points: dict[str, np.ndarray]) -> dict[str, float]:
    trace = load_trace(path)
    if trace.steps > MAX_STEPS:
        trace = trace.tail(MAX_STEPS * trace.interval_seconds)
    season = detected_season(trace)
    warmup = _warmup(trace.steps, season)
    mask = evaluated_mask(trace.demand, warmup)
    setup = backtest_setup(trace.interval_seconds, 1.0)
    horizon = max(1, setup.lead_steps)
    reference = seasonal_naive_reference(trace.demand, season or max(1, round(86400 / trace.interval_seconds)), horizon)
    common = mask & np.isfinite(reference)
    for p in points.values():
        common &= np.isfinite(p)
    d = trace.demand[common]
    base = float(np.mean(np.abs(d - reference[common])))
    return {n: float(np.mean(np.abs(d - p[common]))) / base for n, p in points.items()}


def table(files: list[str]) -> str:
    """Markdown: rMAE per development series and configuration, from the ``--score-only`` files (a
    configuration missing from a file's series is shown as -), and the geometric mean ratio to
    ``augur_before`` over the series it ran on."""
    rows: dict[str, dict[str, float]] = {}
    names: list[str] = []
    for file in files:
        payload = json.loads((RESULTS / file).read_text())
        for trace, entry in payload["traces"].items():
            rows.setdefault(trace, {}).update(entry["rmae"])
        names += [n for n in payload["configs"] if n not in names]
    out = [f"| series | {' | '.join(names)} |", "|---" * (len(names) + 1) + "|"]
    for trace, values in rows.items():
        out.append(f"| {trace} | " + " | ".join(f"{values[n]:.3f}" if n in values else "-" for n in names) + " |")
    ratios = []
    for n in names:
        pairs = [(v[n], v["augur_before"]) for v in rows.values() if n in v and "augur_before" in v]
        geo = float(np.exp(np.mean([np.log(a / b) for a, b in pairs]))) if pairs else float("nan")
        ratios.append(f"{geo:.3f} ({len(pairs)})")
    out.append("| geometric mean ÷ augur_before (series) | " + " | ".join(ratios) + " |")
    return "\n".join(out)


def spread(files: list[str]) -> str:
    """Markdown: each configuration's geometric-mean rMAE ratio to a reference configuration (the first
    one every file has) in each ``--score-only`` file (one per ``--warmup``), and their mean, min and max."""
    payloads = [json.loads((RESULTS / file).read_text()) for file in files]
    names = [n for n in payloads[0]["configs"] if all(n in p["configs"] for p in payloads)]
    ratios: dict[str, list[float]] = {n: [] for n in names[1:]}
    for payload in payloads:
        rows = payload["traces"].values()
        for n in names[1:]:
            logs = [np.log(r["rmae"][n] / r["rmae"][names[0]]) for r in rows]
            ratios[n].append(float(np.exp(np.mean(logs))))
    warmups = [str(p.get("warmup_fraction") or "rule") for p in payloads]
    out = [f"| ÷ {names[0]}, warm-up | {' | '.join(warmups)} | mean | min … max |", "|---" * (len(files) + 3) + "|"]
    for n, values in ratios.items():
        cells = " | ".join(f"{v:.3f}" for v in values)
        out.append(f"| {n} | {cells} | {np.mean(values):.3f} | {min(values):.3f} … {max(values):.3f} |")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--table"]:
        print(table(argv[1:]))
        return 0
    if argv[:1] == ["--spread"]:
        print(spread(argv[1:]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/sf_search"))
    parser.add_argument("--shard", default="0/1")
    parser.add_argument("--score-only", action="store_true")
    parser.add_argument("--out", default="sf_search.json")
    parser.add_argument(
        "--split",
        default=datasets.DEVELOPMENT,
        help="validation: only to check the chosen changes (combination_all, median_level, eo_val_half), after tuning",
    )
    parser.add_argument("--series", default="", help="comma-separated file names (default: every development series)")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up fraction of the steps (default: the rule)")
    args = parser.parse_args(argv)
    if args.warmup is not None and not 0 < args.warmup < 1:
        parser.error(f"--warmup is a fraction of the steps, between 0 and 1 (got {args.warmup})")
    WARMUP[:] = [] if args.warmup is None else [args.warmup]
    args.cache.mkdir(parents=True, exist_ok=True)
    names = args.configs.split(",")
    k, n = (int(x) for x in args.shard.split("/"))
    series = datasets.by_split(args.split)
    chosen = {"augur_before", "combination_all", "median_level", "eo_val_half", "pool_2", "pool_3"}
    if args.split != datasets.DEVELOPMENT and not set(names) <= chosen:
        parser.error("on validation series only the before/after comparison of the chosen change runs")
    if args.series:
        series = [p for p in series if p.name in args.series.split(",")]
    out: dict[str, Any] = {}
    for path in series[k::n] if not args.score_only else series:
        points, cpu = {}, {}
        for name in names:
            if args.score_only and not cached(args.cache, path, name).exists():
                break
            points[name], cpu[name] = walk(path, name, CONFIGS[name], args.cache)
        else:
            out[path.name] = {"rmae": score(path, points), "walk_cpu_seconds": cpu}
            print(path.name, {n: round(v, 3) for n, v in out[path.name]["rmae"].items()}, flush=True)
    if args.score_only:
        rm = {n: [t["rmae"][n] for t in out.values()] for n in names}
        base = np.asarray(rm[names[0]])
        summary = {
            n: {
                "series": len(v),
                "mean_rmae": float(np.mean(v)),
                "geomean_ratio_to_first": float(np.exp(np.mean(np.log(np.asarray(v) / base)))),
                "wins_vs_first": int(np.sum(np.asarray(v) < base - 1e-9)),
            }
            for n, v in rm.items()
        }
        for n, s in summary.items():
            print(n, s)
        write(
            args.out,
            {
                "machine": machine(),
                "split": args.split,
                "warmup_fraction": args.warmup,
                "configs": {n: CONFIGS[n] for n in names},
                "summary": summary,
                "traces": out,
            },
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
