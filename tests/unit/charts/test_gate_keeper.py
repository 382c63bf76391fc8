"""The extender's gate keeper as the chart deploys it: a Lease per release, the replica holding it labelled, and
the Service kube-scheduler calls selecting that label (every replica's Service stays for the webhook and
metrics)."""

from __future__ import annotations

from typing import Any

from augur.constants import GATE_KEEPER_LABEL
from augur.devcluster.chart import documents, template


def render(helm_bin: str, *sets: str, api_versions: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return documents(template(helm_bin, sets=sets, api_versions=api_versions))


def by(objs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == kind}


def test_the_gate_keeper_s_service_selects_the_labelled_replica(helm_bin: str) -> None:
    objs = render(helm_bin)
    services = by(objs, "Service")
    every, keeper = services["augur-extender"], services["augur-extender-gate-keeper"]
    assert keeper["spec"]["selector"] == {**every["spec"]["selector"], GATE_KEEPER_LABEL: "true"}
    assert keeper["spec"]["ports"] == every["spec"]["ports"]
    assert "augur.dev/scrape-job" in every["metadata"]["labels"]  # scraped once, through every replica's Service
    assert "augur.dev/scrape-job" not in keeper["metadata"]["labels"]
    container = by(objs, "Deployment")["augur-extender"]["spec"]["template"]["spec"]["containers"][0]
    assert "--gate-lease=augur-system/augur-extender-gate-keeper" in container["args"]
    env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in container["env"]}
    assert env == {"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}
    webhook = by(objs, "MutatingWebhookConfiguration")["augur-extender-plan-gate"]
    assert webhook["webhooks"][0]["clientConfig"]["service"]["name"] == "augur-extender"  # any replica answers


def test_the_certificate_covers_the_gate_keeper_s_service(helm_bin: str) -> None:
    cert = by(render(helm_bin, api_versions=("cert-manager.io/v1",)), "Certificate")["augur-extender"]
    names = cert["spec"]["dnsNames"]
    assert "augur-extender.augur-system.svc" in names and "augur-extender-gate-keeper.augur-system.svc" in names


def test_without_leader_election_every_replica_keeps_the_gate_and_is_called(helm_bin: str) -> None:
    objs = render(helm_bin, "extender.planGate.leaderElection=false", "extender.replicas=1")
    assert "augur-extender-gate-keeper" not in by(objs, "Service")
    assert "augur-extender-gate-keeper" not in by(objs, "Role")
    container = by(objs, "Deployment")["augur-extender"]["spec"]["template"]["spec"]["containers"][0]
    assert not any(a.startswith("--gate-lease") for a in container["args"]) and "env" not in container
