"""The devcluster pieces the live-scaling e2e tests and the demo stand on: replayed demand with backfilled
history in the real Prometheus, and kwok pods that take a while to become Ready."""

from __future__ import annotations

import time
from datetime import datetime

import httpx

from augur.devcluster import kwok
from augur.devcluster.cluster import LocalCluster
from augur.devcluster.replay import start_demand_replay
from augur.sim.synthetic import SyntheticSpec, generate

from .conftest import apply, deployment, get_json


def test_backfilled_history_and_live_values_in_one_range_query(cluster: LocalCluster) -> None:
    trace = generate(SyntheticSpec(days=3, interval_seconds=120, seed=11), name="replay-e2e")
    history = 2 * 720  # two trace days = two wall hours at 5 s per step
    replay = start_demand_replay(cluster, "replay-e2e", trace, history, seconds_per_step=5.0)
    try:
        time.sleep(12)  # a few live scrapes
        now = time.time()
        start = replay.clock.wall_time(0)
        answer = httpx.get(
            f"{cluster.prometheus_url}/api/v1/query_range",
            params={"query": replay.query, "start": start, "end": now, "step": 5},
            timeout=30,
        ).json()
        assert answer["status"] == "success"
        [series] = answer["data"]["result"]  # history and live share one label set
        points = [(float(t), float(v)) for t, v in series["values"]]
        history_points = [p for p in points if p[0] < replay.clock.anchor]
        live_points = [p for p in points if p[0] > replay.clock.anchor + 5]
        assert len(history_points) >= history - 1
        assert len(live_points) >= 1
        # Raw samples: every one is the trace's value at its index on the shared clock.
        raw = httpx.get(
            f"{cluster.prometheus_url}/api/v1/query",
            params={"query": f"{replay.query}[{int(now - start) + 10}s]", "time": now},
            timeout=30,
        ).json()["data"]["result"][0]["values"]
        samples = [(float(t), float(v)) for t, v in raw]
        assert sum(1 for t, _ in samples if t < replay.clock.anchor) == history
        live = [(t, v) for t, v in samples if t >= replay.clock.anchor]
        assert live, "no live sample scraped from the exporter"
        for t, v in samples:
            i = replay.clock.index_at(t)
            # a scrape that starts a few ms before a step boundary may read the next step
            assert any(abs(v - trace.demand[j]) < 1e-6 for j in (i, i + 1) if j < trace.steps), (t, v, i)
    finally:
        replay.stop(cluster)


def test_kwok_pod_startup_delay_from_annotations(cluster: LocalCluster, namespace: str) -> None:
    apply(cluster, deployment("slow", namespace, 3, annotations=kwok.delay_annotations(4, 6)))
    cluster.kubectl("rollout", "status", "deployment/slow", "-n", namespace, "--timeout=120s")
    pods = get_json(cluster, "pods", "-n", namespace, "-l", "app=slow")["items"]
    assert len(pods) == 3
    for pod in pods:
        created = datetime.fromisoformat(pod["metadata"]["creationTimestamp"])
        ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
        took = (datetime.fromisoformat(ready["lastTransitionTime"]) - created).total_seconds()
        assert 4 <= took <= 6 + 5, f"{pod['metadata']['name']} Ready after {took} s, expected 4-6 s (+ kwok latency)"
