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


def panel(
    title: str, targets: list[dict[str, Any]], x: int, y: int, w: int = 12, h: int = 8, **extra: Any
) -> dict[str, Any]:
    for i, t in enumerate(targets):
        t["refId"] = chr(ord("A") + i)
    out: dict[str, Any] = {
        "id": next(_ids),
        "type": extra.pop("kind", "timeseries"),
        "title": title,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": targets,
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


def quantile(q: float, metric: str, sel: str, by: str = "") -> str:
    group = f"{by}, le" if by else "le"
    return f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{{{sel}}}[$__rate_interval])))"


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
    return [
        row("Workload: $namespace/$profile", y),
        panel(
            "Demand, forecast band and ready capacity",
            band,
            0,
            y + 1,
            16,
            9,
            overrides=fill,
            description=(
                "Demand read from spec.demand.query; the forecast's peak within the horizon (p50 to the "
                "provisioned quantile); what the Ready replicas serve at 100% (readyReplicas x capacityPerReplica)."
            ),
        ),
        panel(
            "Conditions",
            [target(f"augur_profile_condition{{{P}}}", "{{condition}}")],
            16,
            y + 1,
            8,
            9,
            kind="state-timeline",
            defaults={"mappings": CONDITION_MAP},
            options={"showValue": "auto"},
        ),
        panel("Replicas", [target(f"augur_profile_replicas{{{P}}}", "{{kind}}")], 0, y + 10, 8, 8),
        panel(
            "Decisions (all profiles of the replica)",
            [target(f"sum by (kind) (increase(augur_decisions_total{{{OP}}}[$__rate_interval]))", "{{kind}}")],
            8,
            y + 10,
            8,
            8,
        ),
        panel(
            "Forecast error (relative to mean demand)",
            [target(f"augur_profile_forecast_error_ratio{{{P}}}", "rolling error")],
            16,
            y + 10,
            8,
            8,
            defaults={"unit": "percentunit"},
        ),
        panel(
            "Anomaly score",
            [target(f"augur_profile_anomaly_score{{{P}}}", "anomaly score")],
            0,
            y + 18,
            12,
            7,
            defaults={"min": 0, "max": 1},
        ),
        panel(
            "Lead time",
            [target(f"augur_profile_lead_time_seconds{{{P}}}", "lead time")],
            12,
            y + 18,
            12,
            7,
            defaults={"unit": "s"},
        ),
    ]


def operator(y: int) -> list[dict[str, Any]]:
    return [
        row("Operator health", y),
        panel(
            "Replicas up and leading",
            [
                target(f"up{{{OP}}}", "up {{instance}}"),
                target(f"augur_leader{{{OP}}}", "leader {{instance}}"),
                target(f"augur_profiles{{{OP}}}", "profiles {{instance}}"),
            ],
            0,
            y + 1,
            8,
            8,
        ),
        panel(
            "Decision latency",
            [
                target(quantile(0.5, "augur_decision_duration_seconds", OP), "p50"),
                target(quantile(0.99, "augur_decision_duration_seconds", OP), "p99"),
            ],
            8,
            y + 1,
            8,
            8,
            defaults={"unit": "s"},
        ),
        panel(
            "Cadences missed and lag",
            [
                target(f"sum(increase(augur_cadence_missed_total{{{OP}}}[$__rate_interval]))", "missed"),
                target(quantile(0.99, "augur_cadence_lag_seconds", OP), "lag p99 (s)"),
            ],
            16,
            y + 1,
            8,
            8,
        ),
        panel(
            "Model fits",
            [
                target(f"max(augur_refit_backlog{{{OP}}})", "backlog"),
                target(quantile(0.99, "augur_fit_duration_seconds", OP), "fit p99 (s)"),
            ],
            0,
            y + 9,
            8,
            8,
        ),
        panel(
            "Demand query errors",
            [target(f"sum by (reason) (rate(augur_query_errors_total{{{OP}}}[$__rate_interval]))", "{{reason}}")],
            8,
            y + 9,
            8,
            8,
            defaults={"unit": "reqps"},
        ),
        panel(
            "/scale writes",
            [
                target(f"sum by (result) (rate(augur_scale_writes_total{{{OP}}}[$__rate_interval]))", "{{result}}"),
                target(
                    f"sum by (reason) (rate(augur_scale_writes_blocked_total{{{OP}}}[$__rate_interval]))",
                    "blocked: {{reason}}",
                ),
            ],
            16,
            y + 9,
            8,
            8,
        ),
        panel(
            "Operator CPU",
            [target(f"rate(process_cpu_seconds_total{{{OP}}}[$__rate_interval])", "{{instance}}")],
            0,
            y + 17,
            12,
            7,
            defaults={"unit": "short"},
        ),
        panel(
            "Operator memory (RSS)",
            [target(f"process_resident_memory_bytes{{{OP}}}", "{{instance}}")],
            12,
            y + 17,
            12,
            7,
            defaults={"unit": "bytes"},
        ),
    ]


def extender(y: int) -> list[dict[str, Any]]:
    return [
        row("Scheduler extender", y),
        panel(
            "Calls by outcome",
            [
                target(
                    f"sum by (verb, outcome) (rate(augur_extender_requests_total{{{EX}}}[$__rate_interval]))",
                    "{{verb}} {{outcome}}",
                )
            ],
            0,
            y + 1,
            8,
            8,
            defaults={"unit": "reqps"},
        ),
        panel(
            "Latency",
            [
                target(quantile(0.5, "augur_extender_request_duration_seconds", EX, "verb"), "p50 {{verb}}"),
                target(quantile(0.99, "augur_extender_request_duration_seconds", EX, "verb"), "p99 {{verb}}"),
            ],
            8,
            y + 1,
            8,
            8,
            defaults={"unit": "s"},
        ),
        panel(
            "Planner",
            [
                target(f"augur_extender_plan_age_seconds{{{EX}}}", "plan age (s)"),
                target(f"sum by (kind) (rate(augur_extender_plans_total{{{EX}}}[$__rate_interval]))", "plans {{kind}}"),
                target(quantile(0.99, "augur_extender_plan_cpu_seconds", EX), "plan CPU p99 (s)"),
            ],
            16,
            y + 1,
            8,
            8,
        ),
        panel(
            "Watch cache",
            [
                target(f"augur_extender_cache_synced{{{EX}}}", "synced"),
                target(f"augur_extender_cache_nodes{{{EX}}}", "nodes"),
                target(f"augur_extender_cache_workloads{{{EX}}}", "workloads"),
            ],
            0,
            y + 9,
            24,
            7,
        ),
    ]


def migrations(y: int) -> list[dict[str, Any]]:
    return [
        row("Migrations", y),
        panel(
            "Finished Migrations by phase",
            [target(f"sum by (phase) (increase(augur_migrations_total{{{OP}}}[$__rate_interval]))", "{{phase}}")],
            0,
            y + 1,
            8,
            8,
        ),
        panel(
            "Evictions by result",
            [target(f"sum by (result) (increase(augur_evictions_total{{{OP}}}[$__rate_interval]))", "{{result}}")],
            8,
            y + 1,
            8,
            8,
        ),
        panel(
            "Migration duration",
            [
                target(quantile(0.5, "augur_migration_duration_seconds", OP), "p50"),
                target(quantile(0.99, "augur_migration_duration_seconds", OP), "p99"),
            ],
            16,
            y + 1,
            8,
            8,
            defaults={"unit": "s"},
        ),
        panel(
            "Gain of succeeded moves: predicted vs measured",
            [
                target(
                    f"sum by (kind) (increase(augur_migration_predicted_gain_total{{{OP}}}[1h]))", "predicted {{kind}}"
                ),
                target(
                    f"sum by (kind) (increase(augur_migration_realized_gain_total{{{OP}}}[1h]))", "measured {{kind}}"
                ),
            ],
            0,
            y + 9,
            12,
            7,
        ),
        panel(
            "Rollbacks",
            [target(f"sum(increase(augur_migration_rollbacks_total{{{OP}}}[$__rate_interval]))", "rolled back")],
            12,
            y + 9,
            12,
            7,
        ),
        panel(
            "Node load balance (rebalancer)",
            [
                target(f"max(augur_rebalance_node_load_stddev{{{OP}}})", "stddev"),
                target(f"max(augur_rebalance_node_load_spread{{{OP}}})", "busiest - idlest"),
            ],
            0,
            y + 16,
            8,
            8,
            defaults={"unit": "percentunit"},
        ),
        panel(
            "Network cost (rebalancer)",
            [target(f"max(augur_rebalance_network_cost{{{OP}}})", "traffic x distance")],
            8,
            y + 16,
            8,
            8,
        ),
        panel(
            "Proposed moves",
            [
                target(
                    f"sum by (reason, mode) (increase(augur_rebalance_proposals_total{{{OP}}}[$__rate_interval]))",
                    "{{reason}} ({{mode}})",
                )
            ],
            16,
            y + 16,
            8,
            8,
        ),
    ]


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
