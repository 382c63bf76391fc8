"""Issue 7's first e2e claim: with backfilled history and a replayed peak, a kwok-backed Deployment
scaled by Augur has its replicas Ready before demand exceeds their capacity; the same demand against a
reactive-only policy (``predictive: false``) is late.

Real components only: the local control plane, kwok pods that take 60-120 s of trace time (2.5-5 s at
24x) to become Ready, the real Prometheus with promtool-backfilled history, the operator as shipped.
The trace's seed changes every run (printed on failure): the claim must not depend on a lucky seed.
"""

from __future__ import annotations

import json
import os
import time
from functools import partial

import numpy as np

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.procs import wait_until
from augur.devcluster.replay import start_demand_replay
from augur.devcluster.scenario import VARIANTS, Recorder, manifests, scenario_at
from augur.sim.live_report import summarize
from augur.sim.synthetic import generate

from .conftest import apply, get_json


def _decided(cluster: LocalCluster, namespace: str, name: str) -> bool:
    status = get_json(cluster, "wp", name, "-n", namespace).get("status") or {}
    return bool(status.get("lastDecision"))


def test_augur_ready_before_the_morning_ramp_reactive_late(
    operator: object, cluster: LocalCluster, namespace: str
) -> None:
    seed = int(os.environ.get("AUGUR_E2E_SEED", time.time_ns() % 10_000))
    # Four days of history (Monday to Thursday), then Friday 07:20 to 08:40 live: the ramp is at 08:00.
    scenario = scenario_at(live_day=4, live_from_hour=7 + 1 / 3, live_hours=4 / 3, namespace=namespace, seed=seed)
    trace = generate(scenario.trace, name=f"pvr-{namespace}")
    replay = start_demand_replay(cluster, f"pvr-{namespace}", trace, scenario.history_steps)
    try:
        docs = manifests(scenario, replay.query).split("\n---\n", 1)[1]  # the namespace exists already
        apply(cluster, docs)
        for variant in VARIANTS:
            name = f"web-{variant}"
            wait_until(partial(_decided, cluster, namespace, name), 90, f"{name}: a first decision")
        recorder = Recorder(cluster, scenario, replay)
        recorder.run()
    finally:
        replay.stop(cluster)

    demand = recorder.demand_array()
    augur, reactive = recorder.variants["augur"], recorder.variants["reactive"]
    context = (
        f"seed {seed}; demand {np.round(demand).tolist()}; augur ready {augur.ready}; reactive ready {reactive.ready}"
    )
    start_capacity = reactive.ready[0] * scenario.capacity
    above = np.flatnonzero(demand > start_capacity)
    assert above.size, f"the replayed window never exceeds the starting capacity: {context}"
    # Augur: from the first step that needs more than the starting replicas, ready capacity covers demand.
    augur_short = np.flatnonzero(demand[above[0] :] > augur.ready_capacity()[above[0] :])
    reactive_short = np.flatnonzero(demand[above[0] :] > reactive.ready_capacity()[above[0] :])
    assert augur_short.size == 0, f"Augur under-provisioned at steps {augur_short.tolist()}: {context}"
    assert reactive_short.size >= 1, f"reactive-only was never late: {context}"
    s_augur, s_reactive = (summarize(demand, v, trace.interval_seconds) for v in (augur, reactive))
    assert s_augur.under_provisioned_minutes < s_reactive.under_provisioned_minutes, context
    events = get_json(cluster, "events", "-n", namespace, "--field-selector", "involvedObject.kind=WorkloadProfile")
    print(json.dumps([e.get("message") for e in events["items"]][-10:], indent=1))
