"""What a live run on the local control plane looked like: metrics and a self-contained HTML page.

The live demo (``augur dev demo``) and the predictive-vs-reactive e2e test record, at every replayed
trace step, the demand and, per variant (Augur, reactive-only), the Deployment's replicas, its *ready*
replicas (observed from the API server, not modelled) and the profile's forecast. Metrics follow
``facts.md`` §2 with the observed ready replicas (:func:`augur.sim.protocol.metrics_from_ready`), in
trace time: an under-provisioned step counts its whole trace step, replica-hours are trace hours.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from augur.constants import FloatArray
from augur.sim.protocol import PolicyMetrics, backtest_setup, metrics_from_ready
from augur.sim.report import COLORS, HEIGHT, PAD, WIDTH, _frame


@dataclass
class VariantRecord:
    """One variant's observations, one entry per recorded step (``NaN`` where nothing was reported)."""

    name: str
    capacity: float
    """Demand one replica serves at 100 % (``capacityPerReplica``)."""
    replicas: list[int] = field(default_factory=list)
    ready: list[int] = field(default_factory=list)
    forecast_p50: list[float] = field(default_factory=list)
    forecast_upper: list[float] = field(default_factory=list)

    def ready_capacity(self) -> FloatArray:
        return np.asarray(self.ready, dtype=np.float64) * self.capacity


@dataclass(frozen=True)
class LiveSummary:
    """A variant's outcome over the recorded steps, in trace time."""

    name: str
    under_provisioned_minutes: float
    replica_hours: float
    metrics: PolicyMetrics


def summarize(demand: FloatArray, variant: VariantRecord, interval_seconds: float) -> LiveSummary:
    """§2 metrics from the observed ready replicas; ``interval_seconds`` is the trace step."""
    setup = backtest_setup(interval_seconds, variant.capacity)
    mask = np.isfinite(demand)
    ready = np.asarray(variant.ready, dtype=np.int64)
    metrics = metrics_from_ready(demand, ready, list(variant.replicas), setup, mask)
    steps = int(np.count_nonzero(mask))
    minutes = metrics.under_provisioned_fraction * steps * interval_seconds / 60.0 if steps else 0.0
    return LiveSummary(variant.name, minutes, metrics.replica_hours, metrics)


def summary_line(summaries: list[LiveSummary]) -> str:
    """One line a person reads: under-provisioned minutes and replica-hours per variant."""
    parts = [
        f"{s.name}: {s.under_provisioned_minutes:.0f} under-provisioned min, {s.replica_hours:.1f} replica-h"
        for s in summaries
    ]
    return "; ".join(parts) + " (trace time)"


def _step_path(values: FloatArray, top: float, reverse: bool = False) -> str:
    """A staircase: value ``i`` holds from ``x(i)`` to ``x(i + 1)``; gaps (``NaN``) lift the pen.
    ``reverse`` walks right to left (to close a band) and continues the current path."""
    n = values.size
    points: list[tuple[float, float] | None] = []
    for i, v in enumerate(values.tolist()):
        if not np.isfinite(v):
            points.append(None)
            continue
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top
        left, right = (PAD + (WIDTH - 2 * PAD) * k / max(1, n) for k in (i, i + 1))
        points += [(left, y), (right, y)]
    if reverse:
        points.reverse()
    parts, pen = [], "L" if reverse else "M"
    for point in points:
        if point is None:
            pen = "M"
            continue
        parts.append(f"{pen}{point[0]:.1f},{point[1]:.1f}")
        pen = "L"
    return " ".join(parts)


def _variant_plot(name: str, demand: FloatArray, variant: VariantRecord) -> str:
    ready = variant.ready_capacity()
    upper = np.asarray(variant.forecast_upper, dtype=np.float64)
    p50 = np.asarray(variant.forecast_p50, dtype=np.float64)
    top = float(np.nanmax(np.concatenate([demand, ready, upper, [1.0]])))
    n = demand.size
    band = ""
    if np.isfinite(upper).any() and np.isfinite(p50).any():
        low = _step_path(p50, top, reverse=True)
        band = f'<path d="{_step_path(upper, top)} {low} Z" fill="#1f77b4" fill-opacity="0.2" stroke="none"/>'
    ticks = "".join(
        f'<line x1="{PAD + (WIDTH - 2 * PAD) * (i + 0.5) / max(1, n):.1f}" y1="{HEIGHT - PAD}" '
        f'x2="{PAD + (WIDTH - 2 * PAD) * (i + 0.5) / max(1, n):.1f}" y2="{HEIGHT - PAD + 8}" stroke="red"/>'
        for i in np.flatnonzero(demand > ready)
    )
    color = COLORS.get(name, "#d62728")
    body = (
        f"{band}"
        f'<path d="{_step_path(demand, top)}" fill="none" stroke="#333" stroke-width="1.2"/>'
        f'<path d="{_step_path(ready, top)}" fill="none" stroke="{color}" stroke-width="1.6"/>'
        f"{ticks}"
    )
    title = (
        f"{name}: demand (black), ready capacity (colour), status forecast peak p50 to policy quantile (band); "
        "red = under-provisioned"
    )
    return _frame(title, top, body)


def _replica_plot(variants: list[VariantRecord]) -> str:
    top = float(max([max(v.replicas + v.ready, default=1) for v in variants] + [1]))
    body = ""
    for v in variants:
        color = COLORS.get(v.name, "#d62728")
        replicas = np.asarray(v.replicas, dtype=np.float64)
        ready = np.asarray(v.ready, dtype=np.float64)
        body += f'<path d="{_step_path(replicas, top)}" fill="none" stroke="{color}" stroke-dasharray="4 3"/>'
        body += f'<path d="{_step_path(ready, top)}" fill="none" stroke="{color}" stroke-width="1.6"/>'
    return _frame("replicas: desired (dashed) and ready (solid) per variant", top, body)


def render_live_report(
    title: str,
    trace_times: list[float],
    demand: FloatArray,
    variants: list[VariantRecord],
    interval_seconds: float,
    notes: str = "",
) -> str:
    """The page: summary table, one plot per variant, the replica plot; inline CSS and SVG only."""
    summaries = [summarize(demand, v, interval_seconds) for v in variants]
    rows = "".join(
        f"<tr><td>{html.escape(s.name)}</td><td>{s.under_provisioned_minutes:.0f}</td>"
        f"<td>{s.metrics.unserved_fraction:.4f}</td><td>{s.replica_hours:.2f}</td>"
        f"<td>{s.metrics.mean_utilization:.3f}</td><td>{s.metrics.scale_events}</td></tr>"
        for s in summaries
    )
    head = "<tr><th>variant</th><th>under-provisioned min</th><th>unserved</th><th>replica-hours</th>"
    head += "<th>mean utilization</th><th>scale events</th></tr>"
    span = ""
    if trace_times:
        first, last = (
            datetime.fromtimestamp(t, UTC).strftime("%a %Y-%m-%d %H:%M") for t in (trace_times[0], trace_times[-1])
        )
        span = f"trace time {first} to {last} UTC, {len(trace_times)} steps of {interval_seconds:g} s. "
    plots = "".join(_variant_plot(v.name, demand, v) for v in variants) + _replica_plot(variants)
    style = "body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;text-align:right}svg{display:block}"
    text = html.escape(span + notes)
    line = html.escape(summary_line(summaries))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1><p>{text}</p><p><b>{line}</b></p>"
        f"<table>{head}{rows}</table>{plots}</body></html>\n"
    )


def finite_or_nan(value: object) -> float:
    """A number from status (may be missing or a string) as a float, ``NaN`` when absent."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan
