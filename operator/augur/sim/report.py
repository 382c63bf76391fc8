"""Self-contained HTML report of a backtest (placeholder until the plots land)."""

from __future__ import annotations

import html

from augur.sim.backtest import BacktestResult


def render_report(result: BacktestResult) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(n)}</td><td>{m.under_provisioned_fraction:.4f}</td></tr>"
        for n, m in result.metrics.items()
    )
    return f"<!doctype html><html><body><table>{rows}</table></body></html>"
