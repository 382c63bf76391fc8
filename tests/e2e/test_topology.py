"""NetworkTopology e2e: the operator computes the effective zone matrix from node labels, refines it with
latency measured by the real Prometheus (scraping a loopback exporter), and reports failures in a
condition without losing the matrix."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.exporter import scraped_exporter
from augur.devcluster.procs import wait_until
from augur.operator.sharding import LEGACY_FINALIZER

from .conftest import apply, condition, deployment, get_json

METRICS = """# TYPE e2e_zone_rtt_ms gauge
e2e_zone_rtt_ms{source_zone="east-a",destination_zone="west-a"} 80
e2e_zone_rtt_ms{source_zone="west-a",destination_zone="east-a"} 60
e2e_zone_rtt_ms{source_zone="east-a",destination_zone="east-b"} 5
# TYPE e2e_requests_per_second gauge
e2e_requests_per_second{source="web",destination="api",instance_id="1"} 30
e2e_requests_per_second{source="web",destination="api",instance_id="2"} 12
"""


@pytest.fixture(scope="module")
def exporter(cluster: LocalCluster) -> Iterator[str]:
    with scraped_exporter(cluster, "e2e-zone-rtt", METRICS) as served:

        def scraped() -> bool:
            r = httpx.get(f"{cluster.prometheus_url}/api/v1/query", params={"query": "e2e_zone_rtt_ms"}, timeout=5)
            return len(r.json()["data"]["result"]) == 3

        wait_until(scraped, 60, "Prometheus scraping the loopback exporter")
        yield served.address


def _matrix(cluster: LocalCluster, name: str) -> dict[tuple[str, str], int]:
    m = (get_json(cluster, "ntopo", name).get("status") or {}).get("matrix") or {"zones": [], "distances": []}
    return {(a, b): m["distances"][i][j] for i, a in enumerate(m["zones"]) for j, b in enumerate(m["zones"])}


def test_measured_latency_refines_the_matrix(operator, crds: LocalCluster, exporter: str) -> None:
    apply(
        crds,
        """
apiVersion: augur.dev/v1alpha1
kind: NetworkTopology
metadata: {name: measured}
spec:
  overrides: [{scope: Zone, from: east-a, to: east-b, distance: 20}]
  measurements:
    latency: {query: e2e_zone_rtt_ms, best: 0, worst: 100}
    refreshInterval: 10s
""",
    )
    wait_until(lambda: _matrix(crds, "measured").get(("east-a", "west-a")) == 70, 60, "measured distance 70")
    m = _matrix(crds, "measured")
    assert m["east-a", "east-b"] == 20  # explicit override beats the measured 5
    assert m["east-b", "west-a"] == 100  # not measured: cross-region level
    topo = get_json(crds, "ntopo", "measured")
    assert topo["status"]["measuredAt"]
    assert condition(topo, "MeasurementsAvailable")["status"] == "True"
    assert condition(topo, "Ready")["reason"] == "MatrixComputed"
    row = crds.kubectl("get", "ntopo", "measured").stdout.splitlines()
    assert row[0].split()[:4] == ["NAME", "SAME-ZONE", "SAME-REGION", "CROSS-REGION"]
    # the resync loop (no kopf timer, so no finalizer) measures again once refreshInterval has passed
    first = topo["status"]["measuredAt"]

    def measured_again() -> bool:
        return bool(get_json(crds, "ntopo", "measured")["status"]["measuredAt"] != first)

    wait_until(measured_again, 60, "a new measurement after refreshInterval (10 s)")
    assert not get_json(crds, "ntopo", "measured")["metadata"].get("finalizers")


def test_topologies_carry_no_finalizer_and_an_old_one_is_removed(operator, crds: LocalCluster) -> None:
    """Older releases left kopf's default finalizer on topologies (a kopf timer needed it); the operator
    removes it, and the topology can then be deleted at once."""
    apply(
        crds,
        f"""
apiVersion: augur.dev/v1alpha1
kind: NetworkTopology
metadata: {{name: legacy, finalizers: [{LEGACY_FINALIZER}]}}
spec: {{}}
""",
    )
    wait_until(lambda: not get_json(crds, "ntopo", "legacy")["metadata"].get("finalizers"), 60, "no finalizer")
    crds.kubectl("delete", "ntopo", "legacy", "--timeout=30s")


def test_a_failing_query_is_reported_and_placement_data_stays(operator, crds: LocalCluster) -> None:
    apply(
        crds,
        """
apiVersion: augur.dev/v1alpha1
kind: NetworkTopology
metadata: {name: broken}
spec:
  measurements:
    latency: {query: "rate(e2e_zone_rtt_ms[", worst: 100}
""",
    )

    def reason() -> str | None:
        c = condition(get_json(crds, "ntopo", "broken"), "MeasurementsAvailable")
        return None if c is None else c["reason"]

    wait_until(lambda: reason() == "QueryFailed", 60, "MeasurementsAvailable=False QueryFailed")
    assert _matrix(crds, "broken")[("east-a", "west-a")] == 100  # levels still serve placement
    events = get_json(crds, "events", "-n", "default")["items"]
    assert any(e["reason"] == "QueryFailed" and e["involvedObject"]["name"] == "broken" for e in events)


def test_dependency_traffic_is_measured_into_status(
    operator, crds: LocalCluster, exporter: str, namespace: str
) -> None:
    apply(crds, deployment("web", namespace, 1))
    apply(
        crds,
        f"""
apiVersion: augur.dev/v1alpha1
kind: WorkloadProfile
metadata: {{name: web, namespace: {namespace}}}
spec:
  scaleTargetRef: {{kind: Deployment, name: web}}
  dependencies:
    - {{name: api, traffic: 1, trafficQuery: 'e2e_requests_per_second{{source="web",destination="api"}}'}}
""",
    )

    def traffic() -> list[tuple[str, float]]:
        status = get_json(crds, "wp", "web", "-n", namespace).get("status") or {}
        return [(t["name"], t["traffic"]) for t in status.get("traffic", [])]

    wait_until(lambda: traffic() == [("api", 42.0)], 60, "measured traffic 42 in status")
    cond = condition(get_json(crds, "wp", "web", "-n", namespace), "TrafficMeasured")
    assert cond["status"] == "True" and cond["reason"] == "Measured"
