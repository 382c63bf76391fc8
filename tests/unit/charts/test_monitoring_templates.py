"""The chart ships the alerting rules and the dashboard as they are in the repository: the PrometheusRule's
groups are rules/augur-alerts.yaml (runbook links prefixed when asked), the ConfigMap holds
dashboards/augur.json byte for byte, and neither is rendered by default."""

from __future__ import annotations

import json

import yaml

from augur.devcluster.chart import documents, template
from tests.observability import DASHBOARD, RULES


def _render(helm_bin: str, *sets: str) -> list[dict[str, object]]:
    return documents(template(helm_bin, (), sets, release="augur", namespace="augur-system"))


def test_not_rendered_by_default(helm_bin: str) -> None:
    kinds = {str(d["kind"]) for d in _render(helm_bin)}
    assert "PrometheusRule" not in kinds
    assert not any(d["kind"] == "ConfigMap" and "dashboards" in str(d["metadata"]) for d in _render(helm_bin))


def test_prometheus_rule_is_the_checked_rules_file_with_runbook_links(helm_bin: str) -> None:
    base = "https://example.com/augur/"
    docs = _render(
        helm_bin,
        "prometheusRule.enabled=true",
        f"prometheusRule.runbookBaseUrl={base}",
        "prometheusRule.labels.release=kube-prometheus",
    )
    (rule,) = [d for d in docs if d["kind"] == "PrometheusRule"]
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus"  # type: ignore[index]
    expected = yaml.safe_load(RULES.read_text().replace("runbook_url: docs/", f"runbook_url: {base}docs/"))
    assert rule["spec"] == {"groups": expected["groups"]}


def test_dashboard_configmap_carries_the_generated_json(helm_bin: str) -> None:
    docs = _render(
        helm_bin,
        "grafanaDashboards.enabled=true",
        "grafanaDashboards.namespace=grafana",
        "grafanaDashboards.annotations.grafana_folder=Augur",
    )
    (cm,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "augur-dashboards"]  # type: ignore[index]
    meta = cm["metadata"]
    assert meta["namespace"] == "grafana" and meta["labels"]["grafana_dashboard"] == "1"  # type: ignore[index]
    assert meta["annotations"] == {"grafana_folder": "Augur"}  # type: ignore[index]
    assert json.loads(cm["data"]["augur.json"]) == json.loads(DASHBOARD.read_text())  # type: ignore[index]
