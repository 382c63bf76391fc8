"""Value combinations the chart is rendered with in the golden, RBAC and Pod Security tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from augur.devcluster.chart import DEPLOY_VALUES

REPO = Path(__file__).resolve().parents[3]
E2E_VALUES = REPO / "tests" / "e2e" / "chart-values.yaml"


@dataclass(frozen=True)
class Case:
    name: str
    values: tuple[Path, ...] = ()
    sets: tuple[str, ...] = ()
    api_versions: tuple[str, ...] = ()
    release: str = "augur"
    namespace: str = "augur-system"
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)


CASES = (
    Case("default", description="defaults: operator, extender with a chart-generated self-signed certificate"),
    Case("deploy", values=(DEPLOY_VALUES,), description="what deploy/*.yaml is rendered from (user TLS Secret)"),
    Case(
        "cert-manager",
        api_versions=("cert-manager.io/v1",),
        description="cert-manager present: self-signed root, CA Issuer, serving Certificate",
    ),
    Case(
        "monitoring",
        sets=(
            "serviceMonitor.enabled=true",
            "podMonitor.enabled=true",
            "networkPolicy.enabled=true",
            "image.digest=sha256:" + "a" * 64,
            "operator.prometheusUrl=http://prometheus.monitoring:9090",
            "prometheusRule.enabled=true",
            "prometheusRule.runbookBaseUrl=https://example.com/augur/",
            "grafanaDashboards.enabled=true",
        ),
        release="ops",
        namespace="monitoring-test",
        description="monitors, NetworkPolicies, PrometheusRule, dashboard ConfigMap, image by digest, another release",
    ),
    Case(
        "minimal",
        sets=(
            "extender.enabled=false",
            "operator.replicas=1",
            "operator.leaderElection.enabled=false",
            "rbac.keda=false",
            "operator.migrations.enabled=false",
            "operator.rebalancer.enabled=false",
        ),
        description="operator only, one replica: no leader election, KEDA rule, rebalancer or executor",
    ),
    Case(
        "plain-http-custom-targets",
        sets=(
            "extender.tls.enabled=false",
            "extender.scoring.load.weight=2",
            "extender.plannerProcess=true",
            "extender.plannerPriority=idle",
            "rbac.scaleTargets[0].apiGroup=apps",
            "rbac.scaleTargets[0].resources={deployments,statefulsets,replicasets}",
            "rbac.scaleTargets[1].apiGroup=example.com",
            "rbac.scaleTargets[1].resources={workers}",
            "operator.migrations.enabled=false",
        ),
        description="HTTP extender with scoring and its planner in a child process at SCHED_IDLE; ReplicaSets and a"
        " custom kind scaled; rebalancer, no executor",
    ),
    Case("e2e", values=(E2E_VALUES,), description="what the e2e tests install and take identities from"),
)
