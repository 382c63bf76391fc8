"""Self-contained HTML report of a backtest: inline SVG plots and the metrics table, no scripts."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import numpy as np

from augur.constants import FloatArray
from augur.sim.backtest import BacktestResult
from augur.sim.protocol import ready_series

WIDTH, HEIGHT, PAD = 960, 220, 40
MAX_POINTS = 1200
COLORS = {
    "augur": "#1f77b4",
    "hpa": "#d62728",
    "oracle": "#2ca02c",
    "oracle_floor": "#17becf",
    "hpa_matched": "#e377c2",
    "seasonal_naive": "#9467bd",
    "holt_winters": "#ff7f0e",
}


def _buckets(size: int) -> FloatArray:
    return np.linspace(0, size, min(size, MAX_POINTS) + 1).astype(np.int64)


def _downsample(values: FloatArray, edges: FloatArray, how: str = "max") -> FloatArray:
    out = np.full(edges.size - 1, np.nan)
    for i in range(edges.size - 1):
        chunk = values[edges[i] : max(edges[i] + 1, edges[i + 1])]
        chunk = chunk[np.isfinite(chunk)]
        if chunk.size:
            out[i] = chunk.max() if how == "max" else chunk.min()
    return out


def _path(values: FloatArray, top: float) -> str:
    n = values.size
    parts, pen = [], "M"
    for i, v in enumerate(values.tolist()):
        if not np.isfinite(v):
            pen = "M"
            continue
        x = PAD + (WIDTH - 2 * PAD) * i / max(1, n - 1)
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top
        parts.append(f"{pen}{x:.1f},{y:.1f}")
        pen = "L"
    return " ".join(parts)


def _frame(title: str, top: float, body: str) -> str:
    axis = (
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>'
        f'<text x="{PAD}" y="{PAD - 8}" font-size="12">{html.escape(title)} (max {top:.4g})</text>'
    )
    return f'<svg width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">{axis}{body}</svg>'


def _capacity_plot(result: BacktestResult, name: str, edges: FloatArray, demand: FloatArray) -> str:
    s = result.setup
    ready = ready_series(result.desired[name], s.lead_steps).astype(np.float64) * s.params.capacity
    short = np.where(result.trace.demand > ready, 1.0, 0.0)
    short[: result.warmup_steps] = 0.0
    ready_ds = _downsample(ready, edges, "min")
    top = float(np.nanmax(np.concatenate([demand, ready_ds]))) or 1.0
    marks = _downsample(short, edges)
    ticks = "".join(
        f'<line x1="{PAD + (WIDTH - 2 * PAD) * i / max(1, marks.size - 1):.1f}" y1="{HEIGHT - PAD}" '
        f'x2="{PAD + (WIDTH - 2 * PAD) * i / max(1, marks.size - 1):.1f}" y2="{HEIGHT - PAD + 8}" stroke="red"/>'
        for i in np.flatnonzero(marks > 0)
    )
    warm = PAD + (WIDTH - 2 * PAD) * result.warmup_steps / max(1, result.trace.steps - 1)
    body = (
        f'<rect x="{PAD}" y="{PAD}" width="{warm - PAD:.1f}" height="{HEIGHT - 2 * PAD}" fill="#eee"/>'
        f'<path d="{_path(demand, top)}" fill="none" stroke="#333" stroke-width="1"/>'
        f'<path d="{_path(ready_ds, top)}" fill="none" stroke="{COLORS.get(name, "#555")}" stroke-width="1.2"/>'
        f"{ticks}"
    )
    return _frame(f"{name}: demand (black) vs ready capacity; red ticks = under-provisioned; grey = warm-up", top, body)


def _forecast_plot(result: BacktestResult, name: str) -> str:
    run = result.forecasts[name]
    span = min(result.trace.steps, max(200, 3 * (result.season_steps or 100)))
    sl = slice(result.trace.steps - span, result.trace.steps)
    demand, point, low, high = (a[sl] for a in (result.trace.demand, run.point, run.lower, run.upper))
    top = float(np.nanmax(np.concatenate([demand, high]))) or 1.0
    band_top = _path(high, top)
    band_low = _path(low[::-1], top).replace("M", "L", 1) if np.isfinite(low).any() else ""
    body = (
        f'<path d="{band_top} {band_low} Z" fill="#1f77b4" fill-opacity="0.2" stroke="none"/>'
        f'<path d="{_path(demand, top)}" fill="none" stroke="#333" stroke-width="1"/>'
        f'<path d="{_path(point, top)}" fill="none" stroke="#1f77b4" stroke-width="1.2"/>'
    )
    title = f"{name}: forecast {run.horizon} step(s) ahead (blue) with 10-90% interval vs demand, last {span} steps"
    return _frame(title, top, body)


def _curve_plot(result: BacktestResult) -> str:
    """Under-provisioned fraction against replica-hours: Augur's sweep, HPA's target sweep, the runs."""
    if not result.curve:
        return ""
    series = {
        name: [(p["replica_hours"], p["under_provisioned_fraction"]) for p in pts] for name, pts in result.curve.items()
    }
    marks = {n: (m.replica_hours, m.under_provisioned_fraction) for n, m in result.metrics.items()}
    xs = [x for pts in series.values() for x, _ in pts] + [x for x, _ in marks.values()]
    ys = [y for pts in series.values() for _, y in pts] + [y for _, y in marks.values()]
    x0, x1 = min(xs), max(xs)
    top = max(ys) or 1.0
    span = (x1 - x0) or 1.0

    def at(x: float, y: float) -> tuple[float, float]:
        return PAD + (WIDTH - 2 * PAD) * (x - x0) / span, HEIGHT - PAD - (HEIGHT - 2 * PAD) * y / top

    body = []
    for name, pts in series.items():
        color = COLORS.get(name, "#555")
        path = " ".join(f"{'M' if i == 0 else 'L'}{at(x, y)[0]:.1f},{at(x, y)[1]:.1f}" for i, (x, y) in enumerate(pts))
        body.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="1.2"/>')
        body += [f'<circle cx="{at(x, y)[0]:.1f}" cy="{at(x, y)[1]:.1f}" r="2.5" fill="{color}"/>' for x, y in pts]
    for name, (x, y) in marks.items():
        cx, cy = at(x, y)
        color = COLORS.get(name, "#555")
        body.append(
            f'<rect x="{cx - 3:.1f}" y="{cy - 3:.1f}" width="6" height="6" fill="none" stroke="{color}"/>'
            f'<text x="{cx + 5:.1f}" y="{cy - 5:.1f}" font-size="10">{html.escape(name)}</text>'
        )
    axis = f'<text x="{PAD}" y="{HEIGHT - 8}" font-size="11">replica-hours {x0:.4g} … {x1:.4g}</text>'
    knob = next(iter(result.curve["augur"][0])) if result.curve.get("augur") else "budget"
    title = (
        f"cost curve: under-provisioned fraction vs replica-hours; blue: augur's {knob} sweep, "
        "red: hpa's target-utilization sweep; squares: the runs in the table"
    )
    return _frame(title, top, "".join(body) + axis)


def _table(result: BacktestResult) -> str:
    head = "<tr><th>policy</th><th>under-provisioned</th><th>steps</th><th>unserved</th><th>replica-hours</th>"
    head += "<th>mean utilization</th><th>scale events</th><th>MAE</th><th>rMAE</th></tr>"
    rows = []
    for name, m in result.metrics.items():
        acc = result.accuracy.get(name)
        mae = f"{acc.mae:.4g}</td><td>{acc.rmae:.3f}" if acc else "-</td><td>-"
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{m.under_provisioned_fraction:.4f}</td>"
            f"<td>{m.under_provisioned_steps}</td>"
            f"<td>{m.unserved_fraction:.5f}</td><td>{m.replica_hours:.1f}</td><td>{m.mean_utilization:.3f}</td>"
            f"<td>{m.scale_events}</td><td>{mae}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _show(x: float | None, missing: str) -> str:
    return missing if x is None else f"{x:.3f}"


def _comparisons(result: BacktestResult) -> str:
    if not result.comparisons:
        return ""
    head = "<tr><th>ratio</th><th>under-provisioned steps</th><th>90% interval</th>"
    head += "<th>replica-hours</th><th>90% interval</th></tr>"
    rows = []
    for pair, ratios in result.comparisons.items():
        cells = "".join(
            f"<td>{_show(i.value, 'n/a')}</td><td>[{_show(i.low, 'n/a')}, {_show(i.high, '∞')}]</td>"
            for i in (ratios["under_provisioned"], ratios["replica_hours"])
        )
        rows.append(f"<tr><td>{html.escape(pair)}</td>{cells}</tr>")
    note = (
        f"<p>Intervals: circular block bootstrap over the evaluated steps, blocks of {result.block_steps} steps, "
        "1000 resamples, seed 0; n/a: no under-provisioned step in either; ∞: none in the yardstick.</p>"
    )
    matched = ""
    if result.matched is not None:
        m = result.matched
        matched = f"<p>{html.escape(m.describe())}</p>"
    return f"<table>{head}{''.join(rows)}</table>{note}{matched}"


def render_report(result: BacktestResult) -> str:
    """The whole page as one string (inline CSS and SVG, nothing fetched)."""
    edges = _buckets(result.trace.steps)
    demand = _downsample(result.trace.demand, edges)
    plots = [_curve_plot(result)] if result.curve else []
    plots += [_capacity_plot(result, name, edges, demand) for name in result.desired]
    plots += [_forecast_plot(result, name) for name in result.forecasts]
    s, t, lead = result.setup.params, result.trace, result.setup.lead_steps
    start = datetime.fromtimestamp(t.start, UTC).strftime("%Y-%m-%d %H:%M")
    summary = (
        f"{t.steps} steps of {t.interval_seconds:g} s from {start} UTC; warm-up {result.warmup_steps} steps; "
        f"{result.evaluated_steps} evaluated; capacity {s.capacity:g} per replica at {s.target_utilization:g}; "
        f"lead time {s.lead_time_seconds:g} s ({lead} steps); season {result.season_steps or 'none'} steps"
    )
    style = "body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;text-align:right}svg{display:block}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>augur backtest: {html.escape(t.name)}</title>"
        f"<style>{style}</style></head><body><h1>augur backtest: {html.escape(t.name)}</h1>"
        f"<p>{html.escape(summary)}</p>{_table(result)}{_comparisons(result)}{''.join(plots)}</body></html>\n"
    )
