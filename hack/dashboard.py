#!/usr/bin/env python3
"""Generate Augur's Grafana dashboard, charts/augur/dashboards/augur.json (the source of truth is this file).

    python3 hack/dashboard.py          # rewrite the JSON
    python3 hack/dashboard.py --check  # exit 1 when the committed JSON is stale (a unit test runs this)

Every PromQL expression names metrics that the operator (augur.operator.metrics) or the extender
(augur_extender.metrics) export; an e2e test scrapes both and fails on a missing one.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "charts" / "augur" / "dashboards" / "augur.json"
DS = {"type": "prometheus", "uid": "${datasource}"}
P = 'namespace="$namespace", name="$profile"'
OP = 'job=~"$operator_job"'
EX = 'job=~"$extender_job"'

_ids = iter(range(1, 1000))


def target(expr: str, legend: str) -> dict[str, Any]:
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": legend[:20] or "A"}


@dataclass(frozen=True)
class Cell:
    """A panel without its place: :func:`section` lays cells out left to right, one row of the grid at a time."""

    title: str
    targets: list[dict[str, Any]]
    w: int
    extra: dict[str, Any]


def cell(title: str, targets: list[dict[str, Any]], w: int, **extra: Any) -> Cell:
    return Cell(title, targets, w, extra)


def panel(cell: Cell, x: int, y: int, h: int) -> dict[str, Any]:
    extra = dict(cell.extra)
    for i, t in enumerate(cell.targets):
        t["refId"] = chr(ord("A") + i)
    out: dict[str, Any] = {
        "id": next(_ids),
        "type": extra.pop("kind", "timeseries"),
        "title": cell.title,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": cell.w, "h": h},
        "targets": cell.targets,
    }
    if "description" in extra:
        out["description"] = extra.pop("description")
    out["fieldConfig"] = {"defaults": extra.pop("defaults", {}), "overrides": extra.pop("overrides", [])}
    out["options"] = extra.pop("options", {"legend": {"displayMode": "list", "placement": "bottom"}})
    out.update(extra)
    return out


def row(title: str, y: int) -> dict[str, Any]:
    return {
        "id": next(_ids),
        "type": "row",
        "title": title,
        "collapsed": False,
        "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
        "panels": [],
    }


def section(title: str, y: int, rows: list[tuple[int, list[Cell]]]) -> list[dict[str, Any]]:
    """A row header at ``y`` and under it ``rows`` of (height, cells)."""
    out = [row(title, y)]
    y += 1
    for h, cells in rows:
        x = 0
        for c in cells:
            out.append(panel(c, x, y, h))
            x += c.w
        y += h
    return out


def quantile(q: float, metric: str, sel: str, by: str = "") -> str:
    group = f"{by}, le" if by else "le"
    return f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{{{sel}}}[$__rate_interval])))"


def per_label(label: str, fn: str, metric: str, sel: str = OP, window: str = "$__rate_interval") -> str:
    """``sum by (label) (fn(metric{sel}[window]))``; ``label`` empty: the plain sum."""
    by = f" by ({label}) " if label else ""
    return f"sum{by}({fn}({metric}{{{sel}}}[{window}]))"


CONDITION_MAP = [
    {
        "type": "value",
        "options": {
            "1": {"text": "True", "color": "green"},
            "0": {"text": "False", "color": "red"},
            "-1": {"text": "Unknown", "color": "yellow"},
        },
    }
]


def workload(y: int) -> list[dict[str, Any]]:
    band = [
        target(f"augur_profile_demand{{{P}}}", "demand"),
        target(f'augur_profile_forecast_peak{{{P}, bound="p50"}}', "forecast peak p50"),
        target(f'augur_profile_forecast_peak{{{P}, bound="upper"}}', "forecast peak upper"),
        target(f"augur_profile_capacity{{{P}}}", "ready capacity"),
    ]
    fill = [
        {
            "matcher": {"id": "byName", "options": "forecast peak upper"},
            "properties": [{"id": "custom.fillBelowTo", "value": "forecast peak p50"}],
        }
    ]
    band_help = (
        "Demand read from spec.demand.query; the forecast's peak within the horizon (p50 to the "
        "provisioned quantile); what the Ready replicas serve at 100% (readyReplicas x capacityPerReplica)."
    )
    conditions = [target(f"augur_profile_condition{{{P}}}", "{{condition}}")]
    return section(
        "Workload: $namespace/$profile",
        y,
        [
            (
                9,
                [
                    cell("Demand, forecast band and ready capacity", band, 16, overrides=fill, description=band_help),
                    cell(
                        "Conditions",
                        conditions,
                        8,
                        kind="state-timeline",
                        defaults={"mappings": CONDITION_MAP},
                        options={"showValue": "auto"},
                    ),
                ],
            ),
            (
                8,
                [
                    cell("Replicas", [target(f"augur_profile_replicas{{{P}}}", "{{kind}}")], 8),
                    cell(
                        "Decisions (all profiles of the replica)",
                        [target(per_label("kind", "increase", "augur_decisions_total"), "{{kind}}")],
                        8,
                    ),
                    cell(
                        "Forecast error (relative to mean demand)",
                        [target(f"augur_profile_forecast_error_ratio{{{P}}}", "rolling error")],
                        8,
                        defaults={"unit": "percentunit"},
                    ),
                ],
            ),
            (
                7,
                [
                    cell(
                        "Anomaly score",
                        [target(f"augur_profile_anomaly_score{{{P}}}", "anomaly score")],
                        12,
                        defaults={"min": 0, "max": 1},
                    ),
                    cell(
                        "Lead time",
                        [target(f"augur_profile_lead_time_seconds{{{P}}}", "lead time")],
                        12,
                        defaults={"unit": "s"},
                    ),
                ],
            ),
        ],
    )


def operator(y: int) -> list[dict[str, Any]]:
    up = [
        target(f"up{{{OP}}}", "up {{instance}}"),
        target(f"augur_leader{{{OP}}}", "leader {{instance}}"),
        target(f"augur_profiles{{{OP}}}", "profiles {{instance}}"),
    ]
    latency = [
        target(quantile(0.5, "augur_decision_duration_seconds", OP), "p50"),
        target(quantile(0.99, "augur_decision_duration_seconds", OP), "p99"),
    ]
    cadence = [
        target(per_label("", "increase", "augur_cadence_missed_total"), "missed"),
        target(quantile(0.99, "augur_cadence_lag_seconds", OP), "lag p99 (s)"),
    ]
    fits = [
        target(f"max(augur_refit_backlog{{{OP}}})", "backlog"),
        target(quantile(0.99, "augur_fit_duration_seconds", OP), "fit p99 (s)"),
    ]
    writes = [
        target(per_label("result", "rate", "augur_scale_writes_total"), "{{result}}"),
        target(per_label("reason", "rate", "augur_scale_writes_blocked_total"), "blocked: {{reason}}"),
    ]
    query_errors = [target(per_label("reason", "rate", "augur_query_errors_total"), "{{reason}}")]
    cpu = [target(f"rate(process_cpu_seconds_total{{{OP}}}[$__rate_interval])", "{{instance}}")]
    rss = [target(f"process_resident_memory_bytes{{{OP}}}", "{{instance}}")]
    return section(
        "Operator health",
        y,
        [
            (
                8,
                [
                    cell("Replicas up and leading", up, 8),
                    cell("Decision latency", latency, 8, defaults={"unit": "s"}),
                    cell("Cadences missed and lag", cadence, 8),
                ],
            ),
            (
                8,
                [
                    cell("Model fits", fits, 8),
                    cell("Demand query errors", query_errors, 8, defaults={"unit": "reqps"}),
                    cell("/scale writes", writes, 8),
                ],
            ),
            (
                7,
                [
                    cell("Operator CPU", cpu, 12, defaults={"unit": "short"}),
                    cell("Operator memory (RSS)", rss, 12, defaults={"unit": "bytes"}),
                ],
            ),
        ],
    )


def extender(y: int) -> list[dict[str, Any]]:
    calls = [target(per_label("verb, outcome", "rate", "augur_extender_requests_total", EX), "{{verb}} {{outcome}}")]
    latency = [
        target(quantile(0.5, "augur_extender_request_duration_seconds", EX, "verb"), "p50 {{verb}}"),
        target(quantile(0.99, "augur_extender_request_duration_seconds", EX, "verb"), "p99 {{verb}}"),
    ]
    planner = [
        target(f"augur_extender_plan_age_seconds{{{EX}}}", "plan age (s)"),
        target(per_label("kind", "rate", "augur_extender_plans_total", EX), "plans {{kind}}"),
        target(per_label("reason", "rate", "augur_extender_full_plans_total", EX), "full plans: {{reason}}"),
        target(quantile(0.99, "augur_extender_plan_cpu_seconds", EX), "plan CPU p99 (s)"),
        target(per_label("plan", "rate", "augur_extender_prioritize_plans_total", EX), "scored with plan: {{plan}}"),
        target(quantile(0.99, "augur_extender_prioritize_unseen_binds", EX), "binds not yet seen p99"),
    ]
    cache = [
        target(f"augur_extender_cache_synced{{{EX}}}", "synced"),
        target(f"augur_extender_cache_nodes{{{EX}}}", "nodes"),
        target(f"augur_extender_cache_workloads{{{EX}}}", "workloads"),
    ]
    return section(
        "Scheduler extender",
        y,
        [
            (
                8,
                [
                    cell("Calls by outcome", calls, 8, defaults={"unit": "reqps"}),
                    cell("Latency", latency, 8, defaults={"unit": "s"}),
                    cell("Planner", planner, 8),
                ],
            ),
            (7, [cell("Watch cache", cache, 24)]),
        ],
    )


def migrations(y: int) -> list[dict[str, Any]]:
    phases = [target(per_label("phase", "increase", "augur_migrations_total"), "{{phase}}")]
    evictions = [target(per_label("result", "increase", "augur_evictions_total"), "{{result}}")]
    duration = [
        target(quantile(0.5, "augur_migration_duration_seconds", OP), "p50"),
        target(quantile(0.99, "augur_migration_duration_seconds", OP), "p99"),
    ]
    gain = [
        target(
            per_label("kind", "increase", "augur_migration_predicted_gain_total", window="1h"), "predicted {{kind}}"
        ),
        target(per_label("kind", "increase", "augur_migration_realized_gain_total", window="1h"), "measured {{kind}}"),
    ]
    rollbacks = [target(per_label("", "increase", "augur_migration_rollbacks_total"), "rolled back")]
    balance = [
        target(f"max(augur_rebalance_node_load_stddev{{{OP}}})", "stddev"),
        target(f"max(augur_rebalance_node_load_spread{{{OP}}})", "busiest - idlest"),
    ]
    cost = [target(f"max(augur_rebalance_network_cost{{{OP}}})", "traffic x distance")]
    proposals = [
        target(per_label("reason, mode", "increase", "augur_rebalance_proposals_total"), "{{reason}} ({{mode}})")
    ]
    return section(
        "Migrations",
        y,
        [
            (
                8,
                [
                    cell("Finished Migrations by phase", phases, 8),
                    cell("Evictions by result", evictions, 8),
                    cell("Migration duration", duration, 8, defaults={"unit": "s"}),
                ],
            ),
            (
                7,
                [
                    cell("Gain of succeeded moves: predicted vs measured", gain, 12),
                    cell("Rollbacks", rollbacks, 12),
                ],
            ),
            (
                8,
                [
                    cell("Node load balance (rebalancer)", balance, 8, defaults={"unit": "percentunit"}),
                    cell("Network cost (rebalancer)", cost, 8),
                    cell("Proposed moves", proposals, 8),
                ],
            ),
        ],
    )


def dashboard() -> dict[str, Any]:
    panels = workload(0) + operator(26) + extender(51) + migrations(68)
    variables = [
        {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"},
        {
            "name": "operator_job",
            "type": "custom",
            "query": "augur-operator",
            "current": {"text": "augur-operator", "value": "augur-operator"},
            "label": "operator job",
        },
        {
            "name": "extender_job",
            "type": "custom",
            "query": "augur-extender",
            "current": {"text": "augur-extender", "value": "augur-extender"},
            "label": "extender job",
        },
        {
            "name": "namespace",
            "type": "query",
            "datasource": DS,
            "query": "label_values(augur_profile_replicas, namespace)",
            "refresh": 2,
            "label": "namespace",
        },
        {
            "name": "profile",
            "type": "query",
            "datasource": DS,
            "query": 'label_values(augur_profile_replicas{namespace="$namespace"}, name)',
            "refresh": 2,
            "label": "WorkloadProfile",
        },
    ]
    return {
        "uid": "augur-overview",
        "title": "Augur",
        "description": (
            "Predictive scaling per WorkloadProfile, operator health and the scheduler extender "
            "(generated by hack/dashboard.py)."
        ),
        "tags": ["augur", "kubernetes", "autoscaling"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "templating": {"list": variables},
        "panels": panels,
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is stale: run python3 hack/dashboard.py", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
