"""Per-WorkloadProfile learning state, built as the operator builds it: memory of the live ``DemandLoop``
and CPU of its first read, per ``spec.history`` length.

    PYTHONPATH=operator:scheduler_extender .venv/bin/python bench/profile_state.py
        [--history-hours 72 336] [--repeats 5] [--increments 100] [--step-seconds 300] [--output NAME]

One profile as bench/operator_scale.py declares it (specs parsed with ``augur.api.validation.parse``, as the
reconcile does) goes through what ``Scaler`` calls: ``loop_config`` and ``new_loop`` (``augur.operator.profileloop``:
the policy's ``LoopConfig``, source digest and refit jitter); the range ``next_read`` asks for, answered as one series,
``validate_range`` and ``ingest`` of the whole history; the fit ``refit_due`` asks for (``fit_job`` and
``run_fit``, what the fit worker runs; the forecaster pickled back); the first decision (reactive, the fit
is out); ``install`` at the next cadence; ``--increments`` cadences of one new point each (ingest, decide).
Demand: ``scale_workload.demand`` (daily shape, level and phase per profile, deterministic noise; profile
``i`` is seed ``i``; its noise changes every 300 s whatever ``--step-seconds``). No ../shared data.

Per history length, mean/min/max over the seeds, after discarded warm-up runs:
- CPU (``time.process_time``, an untraced run): first read (validate_range, ingest), fit, install, per
  increment (validate, ingest, decide), a save (``state.snapshot`` + ``json.dumps``);
- memory (tracemalloc, a second run of the seed; current traced memory after ``gc.collect()`` minus the
  baseline, the loop alive): after the first read, the fit job, the pickled-back forecaster, the loop after
  the increments, peaks of the first read and of the fit (above what was held before); the anomaly detector
  alone (a fresh ``AnomalyDetector`` fed the points as ``ingest`` feeds them); the snapshot's JSON size and
  largest parts; for seed 0, retained memory by the file that allocated it (innermost Python frame).
The loop's pending forecasts and predictions fill up over about 65 increments (lead time + 64 steps), so the
default of 100 measures a settled loop (with 20, 3 days gave 92 KiB against 106 KiB at 150, ad hoc).
The ``augur`` measured is the one on ``PYTHONPATH`` (another worktree's ``operator`` gives a before/after with
the same script); the result names its source folder and that folder's commit.
Not measured: kopf, the Kubernetes client, Prometheus and HTTP/JSON parsing, the ConfigMap write, the fit
pool's IPC and worker process. tracemalloc counts Python allocations (numpy buffers included), not the
allocator's fragmentation nor RSS. Writes bench/results/profile_state.json.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import pickle
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, git, machine, write
from scale_workload import METRIC, demand, profile_params

import augur
from augur.api.v1alpha1 import ScalingPolicySpec, WorkloadProfileSpec
from augur.api.validation import parse
from augur.forecast.anomaly import AnomalyDetector
from augur.forecast.demand import DemandWindow, RawSeries, validate_range
from augur.operator.profileloop import loop_config, new_loop
from augur.prom.ranges import aligned
from augur.scaling.fitjob import run_fit
from augur.scaling.loop import DemandLoop
from augur.scaling.state import snapshot

NOW = 1_767_225_600.0
"""First sight of the profile (2026-01-01T00:00:00Z; fixed, so every run reads the same points)."""
UID = "00000000-0000-4000-8000-000000000001"
Series = Callable[[float], float]


def specs(hours: float, step_seconds: float) -> tuple[WorkloadProfileSpec, ScalingPolicySpec]:
    """``bench/scale_workload.py``'s manifests (``spec.history`` as long as the history read)."""
    policy = {"mode": "ForecastOnly", "minReplicas": 1, "maxReplicas": 50, "decisionInterval": "30s",
              "history": f"{round(hours * 60)}m", "leadTime": "2m"}  # fmt: skip
    query = f'sum({METRIC}{{profile="p0000"}})'
    profile = {"scaleTargetRef": {"apiVersion": "bench.augur.dev/v1", "kind": "BenchTarget", "name": "p0000"},
               "policyRef": {"name": "bench"},
               "demand": {"query": query, "capacityPerReplica": 100, "step": f"{step_seconds:g}s"}}  # fmt: skip
    return parse(WorkloadProfileSpec, profile), parse(ScalingPolicySpec, policy, prefix="policy.spec")


def ask(loop: DemandLoop, series: Series, now: float) -> tuple[float, float, RawSeries]:
    """As ``Scaler._read``: the range ``next_read`` asks for, answered by one series."""
    step = loop.config.step_seconds
    start, end = loop.next_read(now), aligned(now, step)
    stamps = tuple(start + k * step for k in range(round((end - start) / step) + 1))
    return start, end, RawSeries({}, stamps, tuple(series(t) for t in stamps))


def check(loop: DemandLoop, start: float, end: float, answer: RawSeries) -> DemandWindow:
    """As ``Scaler._read``: the answer checked, with the last points held as context."""
    return validate_range([answer], start, end, loop.config.step_seconds, loop.context())


class Meter:
    """CPU per phase; with ``traced``, memory after ``gc.collect()`` (KiB, from the baseline or ``since``)."""

    def __init__(self, traced: bool) -> None:
        self.traced = traced
        self.cpu: dict[str, list[float]] = {}
        self.kib: dict[str, float] = {}
        self.base = self.memory()
        self.skip()

    def skip(self) -> None:  # the next lap starts here
        self.mark = time.process_time()

    def lap(self, name: str) -> None:
        t = time.process_time()
        if not self.traced:  # (a traced run's laps would be counted in its memory)
            self.cpu.setdefault(name, []).append((t - self.mark) * 1000)
        self.mark = t

    def memory(self, name: str = "", since: int | None = None) -> int:
        gc.collect()
        current = tracemalloc.get_traced_memory()[0] if self.traced else 0
        if name:
            self.kib[name] = (current - (self.base if since is None else since)) / 1024
        if self.traced:
            tracemalloc.reset_peak()
        self.skip()
        return current

    def peak(self, name: str, since: int) -> None:
        if self.traced:
            self.kib[name] = (tracemalloc.get_traced_memory()[1] - since) / 1024


def run(hours: float, step: float, series: Series, increments: int, traced: bool) -> tuple[DemandLoop, Meter]:
    """One profile from first sight through ``increments`` cadences, as the operator drives it."""
    spec, policy = specs(hours, step)
    meter = Meter(traced)
    loop = new_loop(UID, loop_config(spec, policy, None))  # as Scaler.run and Scaler._runtime
    start, end, answer = ask(loop, series, NOW)
    answered, first_start = meter.memory(), start
    window = check(loop, start, end, answer)
    meter.lap("first_read_validate_ms")
    loop.ingest(window)
    meter.lap("first_read_ingest_ms")
    meter.peak("first_read_peak_kib", answered)
    del window, answer
    first_read = meter.memory("after_first_read_kib")
    assert loop.refit_due(NOW)  # Scaler._start_fit: the pool runs run_fit(job) in a worker process
    job = loop.fit_job()
    with_job = meter.memory("fit_job_kib", since=first_read)
    result = run_fit(job)
    meter.lap("fit_ms")
    meter.peak("fit_peak_kib", with_job)
    forecaster = pickle.loads(pickle.dumps(result))  # the worker's answer, unpickled in the operator
    del result
    meter.memory("forecaster_kib", since=with_job)
    loop.decide(NOW, 2, 2)  # the first cycle decides before the fit is back (reactive)
    meter.lap("first_decide_ms")
    loop.install(forecaster, job, NOW + 30)  # Scaler._collect_fit at the next cadence
    meter.lap("install_ms")
    del job, forecaster
    now, first = NOW, loop.config.history_points  # the first read: history_points points from first_start
    for _ in range(increments):
        now += step
        start, end, answer = ask(loop, series, now)
        meter.skip()
        window = check(loop, start, end, answer)
        meter.lap("increment_validate_ms")
        loop.ingest(window)
        meter.lap("increment_ingest_ms")
        kind = loop.decide(now, 2, 2).kind
        meter.lap("increment_decide_ms")
        assert kind == "Predictive", kind
    del window, answer
    meter.memory("loop_kib")
    saved = json.dumps(snapshot(loop))
    meter.lap("save_ms")
    meter.kib["snapshot_bytes"] = len(saved)
    if traced:
        fed = [series(t) for t in np.arange(first_start, now + step / 2, step).tolist()]
        meter.kib["anomaly_alone_kib"] = anomaly_alone(fed, first) / 1024
    return loop, meter


def anomaly_alone(fed: list[float], first: int) -> int:
    """Bytes a fresh detector retains after the points ``ingest`` gave it: the ``first`` read learned but
    for its last ``settle_points`` (all finite here), then scored, then each increment scored."""
    gc.collect()
    base = tracemalloc.get_traced_memory()[0]
    detector = AnomalyDetector()
    skim = first - detector.settle_points
    for i, value in enumerate(fed):
        (detector.learn if i < skim else detector.update)(value)
    gc.collect()
    return tracemalloc.get_traced_memory()[0] - base


def by_file(hours: float, step: float, series: Series, increments: int) -> dict[str, float]:
    """Retained memory of one traced run by the file that allocated it (innermost Python frame), KiB."""
    skip = [tracemalloc.Filter(False, tracemalloc.__file__)]
    gc.collect()
    base = tracemalloc.take_snapshot().filter_traces(skip)
    kept, _ = run(hours, step, series, increments, traced=True)
    gc.collect()
    stats = tracemalloc.take_snapshot().filter_traces(skip).compare_to(base, "filename")
    del kept
    top = {s.traceback[0].filename.replace(f"{ROOT}/", ""): round(s.size_diff / 1024, 1) for s in stats[:10]}
    return {"all files": round(sum(s.size_diff for s in stats) / 1024, 1), **top}


def spread(xs: list[float]) -> dict[str, float]:
    return {"mean": round(float(np.mean(xs)), 3), "min": round(min(xs), 3), "max": round(max(xs), 3)}


def measure(hours: float, step: float, repeats: int, increments: int) -> dict[str, Any]:
    levels, phases = profile_params(repeats)
    at = functools.cache(lambda t: demand(levels, phases, t))  # every profile at once, as its backfill does

    def series_of(i: int) -> Series:
        return lambda t: float(at(t)[i])

    run(hours, step, series_of(0), increments, traced=False)  # warm-up: lazy imports, first-use caches
    tracemalloc.start()
    run(hours, step, series_of(0), increments, traced=True)  # warm-up of the traced run
    files = by_file(hours, step, series_of(0), increments)
    tracemalloc.stop()
    cpu: dict[str, list[float]] = {}
    memory: dict[str, list[float]] = {}
    for i in range(repeats):
        loop, timed = run(hours, step, series_of(i), increments, traced=False)
        for name, laps in timed.cpu.items():
            cpu.setdefault(name, []).append(float(np.mean(laps)))
        if i == 0:  # bytes of the snapshot's largest parts
            sizes = {key: len(json.dumps(value)) for key, value in snapshot(loop).items()}
            snapshot_parts = dict(sorted(sizes.items(), key=lambda kv: -kv[1])[:6])
        del loop
        tracemalloc.start()
        _, traced = run(hours, step, series_of(i), increments, traced=True)
        tracemalloc.stop()
        for name, kib in traced.kib.items():
            memory.setdefault(name, []).append(kib)
    return {
        "history_points": loop_config(*specs(hours, step), None).history_points,
        "cpu_ms": {name: spread(xs) for name, xs in cpu.items()},
        "memory_kib": {name: spread(xs) for name, xs in memory.items()},
        "snapshot_parts_bytes_seed0": snapshot_parts,
        "retained_by_file_kib_seed0": files,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history-hours", type=float, nargs="+", default=[72.0, 336.0])
    parser.add_argument("--repeats", type=int, default=5, help="seeds (profiles) per history length")
    parser.add_argument("--increments", type=int, default=100, help="cadences of one new point after the first read")
    parser.add_argument("--step-seconds", type=float, default=300.0, help="spec.demand.step")
    parser.add_argument("--output", default="profile_state.json", help="file name under bench/results")
    args = parser.parse_args()
    started = time.monotonic()
    source = Path(augur.__file__).resolve().parent
    config = {**vars(args), "now": NOW, "demand": "bench/scale_workload.py demand(), profile i = seed i"}
    result: dict[str, Any] = {
        "benchmark": "profile_state",
        "machine": machine(),
        "commit": git("rev-parse", "HEAD"),
        "augur_source": str(source),
        "augur_commit": git("rev-parse", "HEAD", where=source),
        "operator_code_modified": bool(git("status", "--porcelain", ".", where=source)),
        "config": config,
        "histories": {},
    }
    for hours in args.history_hours:
        result["histories"][f"{hours:g}h"] = got = measure(hours, args.step_seconds, args.repeats, args.increments)
        means = {k: v["mean"] for k, v in {**got["cpu_ms"], **got["memory_kib"]}.items()}
        print(f"{hours:g}h", means, flush=True)
    result["seconds"] = round(time.monotonic() - started, 1)
    print(write(args.output, result), f"{result['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
