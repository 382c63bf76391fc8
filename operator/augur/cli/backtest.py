"""``augur backtest TRACE.csv --capacity C``: replay a demand trace through every scaling policy."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from augur.api.durations import parse_duration
from augur.forecast.sf_models import statsforecast_available
from augur.scaling.learner import BUDGET
from augur.sim.backtest import AVAILABLE, POLICIES, BacktestResult, run_backtest
from augur.sim.policies import SF_POLICIES
from augur.sim.protocol import Setup, backtest_setup, policy_spec
from augur.sim.report import render_report
from augur.sim.trace import Trace, TraceError, load_trace


class _InputError(Exception):
    pass


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("backtest", help="replay a demand trace through the scaling policies")
    p.add_argument("trace", type=Path, help="CSV with a header: timestamp,demand")
    p.add_argument("--capacity", required=True, type=float, help="demand one replica serves per step at 100%%")
    p.add_argument("--target-utilization", type=float, default=0.8, help="share of capacity to plan for (0.8)")
    p.add_argument("--lead-time", default="2m", help="time a new replica needs to become ready (2m)")
    p.add_argument("--min-replicas", type=int, default=1, help="fewest replicas (1)")
    p.add_argument("--max-replicas", type=int, default=None, help="most replicas (unbounded)")
    p.add_argument("--warmup", default=None, help="history-only prefix: a duration (3d) or a fraction (0.3)")
    p.add_argument(
        "--policies",
        default=",".join(POLICIES),
        help=f"comma-separated ({','.join(POLICIES)}; also {','.join(SF_POLICIES)} with augur[statsforecast])",
    )
    p.add_argument(
        "--allow-forecast-scale-in",
        action="store_true",
        help="let a confident forecast (p95) scale below the reactive formula (off, as in a ScalingPolicy)",
    )
    p.add_argument(
        "--headroom-budget",
        default=str(BUDGET),
        help="ScalingPolicy headroomBudget: extra replica-hours over the reactive formula the learner may buy "
        f"({BUDGET:g}; 0..10)",
    )
    p.add_argument(
        "--refit-interval", default="6h", help="ScalingPolicy refitInterval: how often the forecaster is refitted (6h)"
    )
    p.add_argument("--history", default="14d", help="ScalingPolicy history: the points each fit sees (14d)")
    p.add_argument("--replica-hour-cost", type=float, default=1.0, help="ScalingPolicy costWeights.replicaHour (1)")
    p.add_argument(
        "--under-provisioned-minute-cost",
        default="10",
        help="ScalingPolicy costWeights.underProvisionedMinute (10)",
    )
    p.add_argument("--no-curve", action="store_true", help="skip the cost curves (Augur's budget sweep, HPA's targets)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--report", type=Path, default=None, help="write a self-contained HTML report")
    p.set_defaults(func=_run)


def _fail(message: str) -> int:
    print(f"augur backtest: error: {message}", file=sys.stderr)
    return 2


def _setup(args: argparse.Namespace, trace: Trace) -> Setup:
    if not math.isfinite(args.capacity) or args.capacity <= 0:
        raise _InputError(f"--capacity must be a positive number, got {args.capacity:g}")
    if not 0 < args.target_utilization <= 1:
        raise _InputError(f"--target-utilization must be in (0, 1], got {args.target_utilization:g}")
    if args.min_replicas < 0:
        raise _InputError(f"--min-replicas must be 0 or more, got {args.min_replicas}")
    if args.max_replicas is not None and args.max_replicas < max(1, args.min_replicas):
        raise _InputError(f"--max-replicas must be at least max(1, --min-replicas), got {args.max_replicas}")
    try:
        parse_duration(args.lead_time)
    except ValueError as exc:
        raise _InputError(f"--lead-time: {exc}") from None
    try:
        spec = policy_spec(
            args.target_utilization,
            args.lead_time,
            args.min_replicas,
            args.max_replicas,
            allow_forecast_scale_in=args.allow_forecast_scale_in,
            headroom_budget=_number(args.headroom_budget, "--headroom-budget"),
            refit_interval=args.refit_interval,
            history=args.history,
            cost_weights={
                "replica_hour": _number(args.replica_hour_cost, "--replica-hour-cost"),
                "under_provisioned_minute": _number(
                    args.under_provisioned_minute_cost, "--under-provisioned-minute-cost"
                ),
            },
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(map(str, error["loc"]))
        raise _InputError(f"{FLAGS.get(field, field)} must be valid: {error['msg']}") from None
    return backtest_setup(trace.interval_seconds, args.capacity, spec)


FLAGS = {
    "headroom_budget": "--headroom-budget",
    "cost_weights.replica_hour": "--replica-hour-cost",
    "cost_weights.under_provisioned_minute": "--under-provisioned-minute-cost",
    "lead_time": "--lead-time",
    "target_utilization": "--target-utilization",
    "min_replicas": "--min-replicas",
    "max_replicas": "--max-replicas",
    "refit_interval": "--refit-interval",
    "history": "--history",
}
"""Which option set a ``ScalingPolicySpec`` field, for error messages."""


def _number(text: str, flag: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _InputError(f"{flag} must be a number, got {text}") from None
    if not math.isfinite(value):
        raise _InputError(f"{flag} must be a finite number, got {text}")
    return value


def warmup_steps(text: str | None, trace: Trace) -> int | None:
    """``None`` for the default; a fraction takes the floor of that share, a duration whole steps."""
    if text is None:
        return None
    try:
        share = float(text)
    except ValueError:
        try:
            seconds = parse_duration(text)
        except ValueError as exc:
            raise _InputError(f"--warmup: {exc}, or a fraction such as 0.3") from None
        return math.floor(seconds / trace.interval_seconds)
    if not 0 <= share < 1:
        raise _InputError(f"--warmup fraction must be in [0, 1), got {text}")
    return math.floor(share * trace.steps)


def _policies(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in AVAILABLE]
    if unknown or not names:
        raise _InputError(
            f"--policies: unknown policy {unknown[0] if unknown else '(none)'!r}; choose from {','.join(AVAILABLE)}"
        )
    if any(n in SF_POLICIES for n in names) and not statsforecast_available():
        raise _InputError("--policies: the sf_* forecasters need statsforecast: pip install 'augur[statsforecast]'")
    return names


def _run(args: argparse.Namespace) -> int:
    try:
        policies = _policies(args.policies)
        trace = load_trace(args.trace)
        setup = _setup(args, trace)
        result = run_backtest(trace, setup, policies, warmup_steps(args.warmup, trace), curve=not args.no_curve)
    except (_InputError, TraceError) as exc:
        return _fail(str(exc))
    if args.report is not None:
        try:
            args.report.write_text(render_report(result))
        except OSError as exc:
            return _fail(f"cannot write report {args.report}: {exc.strerror}")
    print(json.dumps(result.as_json()) if args.json else _table(result))
    return 0


def _table(result: BacktestResult) -> str:
    params = result.setup.params
    lines = [
        f"{result.trace.name}: {result.evaluated_steps} evaluated steps of {result.trace.interval_seconds:g}s, "
        f"capacity {params.capacity:g}, target {params.target_utilization:g}, lead {params.lead_time_seconds:g}s",
        f"{'policy':<16}{'under-prov':>12}{'steps':>8}{'unserved':>12}{'replica-h':>12}{'util':>8}{'events':>8}"
        f"{'rMAE':>8}",
    ]
    for name, m in result.metrics.items():
        acc = result.accuracy.get(name)
        rmae = f"{acc.rmae:8.3f}" if acc else f"{'-':>8}"
        lines.append(
            f"{name:<16}{m.under_provisioned_fraction:12.4f}{m.under_provisioned_steps:8d}{m.unserved_fraction:12.5f}"
            f"{m.replica_hours:12.1f}{m.mean_utilization:8.3f}{m.scale_events:8d}{rmae}"
        )
    if result.matched is not None:
        lines.append(result.matched.describe())
    for pair, ratios in result.comparisons.items():
        parts = [f"{metric.replace('_', '-')} {_ratio(i.value, i.low, i.high)}" for metric, i in ratios.items()]
        lines.append(f"{pair:<24}" + "; ".join(parts))
    if result.comparisons:
        lines.append(f"(90% circular block-bootstrap intervals, blocks of {result.block_steps} steps)")
    return "\n".join(lines)


def _ratio(value: float | None, low: float | None, high: float | None) -> str:
    def show(x: float | None, missing: str) -> str:
        return missing if x is None else f"{x:.3f}"

    return f"{show(value, 'n/a')} [{show(low, 'n/a')}, {show(high, 'inf')}]"
