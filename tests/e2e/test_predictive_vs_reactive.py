"""Issue 7's first e2e claim: with backfilled history and a replayed peak, a kwok-backed Deployment
scaled by Augur has its replicas Ready before demand exceeds their capacity; the same demand against a
reactive-only policy (``predictive: false``) is late. Over the whole ramp Augur is short on fewer steps
and fewer minutes than reactive-only.

Real components only: the local control plane, kwok pods that take 60-120 s of trace time (2.5-5 s at
24x) to become Ready, the real Prometheus with promtool-backfilled history, the operator as shipped.
The trace's seed changes every run (printed on failure): the claim must not depend on a lucky seed.
"""

from __future__ import annotations

import os
import time
from functools import partial

import numpy as np

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.procs import wait_until
from augur.devcluster.replay import start_demand_replay
from augur.devcluster.scenario import Recorder, manifests, scenario_at
from augur.sim.live_report import summarize, summary_line
from augur.sim.synthetic import generate

from .conftest import apply, get_json


def _decision_kind(cluster: LocalCluster, namespace: str, name: str) -> str:
    status = get_json(cluster, "wp", name, "-n", namespace).get("status") or {}
    return str((status.get("lastDecision") or {}).get("kind", ""))


def test_augur_ready_before_the_ramp_reactive_late(operator: object, cluster: LocalCluster, namespace: str) -> None:
    seed = int(os.environ.get("AUGUR_E2E_SEED", time.time_ns() % 10_000))
    # Four days of history (Monday to Thursday), then Friday 06:45 to 08:15 live; the ramp is 07:50-08:10.
    # No random bursts: the claim is about the peak the history predicts (bursts surprise both variants).
    scenario = scenario_at(4, 6.75, 1.5, namespace=namespace, seed=seed, bursts_per_day=0.0)
    trace = generate(scenario.trace, name=f"pvr-{namespace}")
    replay = start_demand_replay(cluster, f"pvr-{namespace}", trace, scenario.history_steps)
    ramp = replay.clock.wall_time((4 * 86400 + 7.75 * 3600) / trace.interval_seconds)  # Friday 07:45, trace time
    try:
        docs = manifests(scenario, replay.query).split("\n---\n", 1)[1]  # the namespace exists already
        apply(cluster, docs)
        started = time.time()
        wait_until(partial(_decision_kind, cluster, namespace, "web-reactive"), 60, "web-reactive: a first decision")
        wait_until(
            lambda: _decision_kind(cluster, namespace, "web-augur") == "Predictive",
            max(1.0, ramp - time.time()),
            "web-augur: a first forecast-based decision before the ramp (07:45 trace time)",
        )
        print(f"seed {seed}: first Predictive decision {time.time() - started:.0f} s after the profiles were applied")
        recorder = Recorder(cluster, scenario, replay)
        recorder.run()
    finally:
        replay.stop(cluster)

    demand = recorder.demand_array()
    augur, reactive = recorder.variants["augur"], recorder.variants["reactive"]
    context = (
        f"seed {seed}; demand {np.round(demand).tolist()}; ready: augur {augur.ready}, reactive {reactive.ready}; "
        f"replicas asked: augur {augur.replicas}, reactive {reactive.replicas}"
    )
    print(context)
    start_capacity = reactive.ready[0] * scenario.capacity
    above = np.flatnonzero(demand > start_capacity)
    assert above.size, f"the replayed window never exceeds the starting capacity: {context}"
    first = int(above[0])
    # The claim: when demand first needs more than the starting replicas, Augur's added replicas are Ready;
    # the reactive-only Deployment is short then or later; over the ramp Augur is short on fewer steps.
    # (Not "never short": the decision covers the forecast's upper band, and on a loaded machine the 24x
    # replay moves the refits against the trace, so one step of the ramp can exceed it: seen once in CI,
    # 205 req/s against 200 for one step while reactive was short on six.)
    augur_short = np.flatnonzero(demand[first:] > augur.ready_capacity()[first:])
    reactive_short = np.flatnonzero(demand[first:] > reactive.ready_capacity()[first:])
    assert demand[first] <= augur.ready_capacity()[first], (
        f"Augur not Ready at the ramp's first step {first}: {context}"
    )
    assert reactive_short.size >= 1, f"reactive-only was never late: {context}"
    assert augur_short.size < reactive_short.size, (
        f"Augur short at steps {augur_short.tolist()}, reactive at {reactive_short.tolist()}: {context}"
    )
    s_augur, s_reactive = (summarize(demand, v, trace.interval_seconds) for v in (augur, reactive))
    assert s_augur.under_provisioned_minutes < s_reactive.under_provisioned_minutes, context
    print(summary_line([s_augur, s_reactive]))
