"""``augur dev demo``: predictive scaling live on the local control plane, Augur next to reactive-only.

Steps: the control plane (kwok pods take 60-120 s of trace time to become Ready), the CRDs, the
operator, a synthetic demand trace (:func:`augur.devcluster.scenario.demo_scenario`) with nine days of
history backfilled into Prometheus and a Wednesday morning replayed live at one scrape = two minutes,
two Deployments with their policies and profiles (``web-augur``: Augur in mode ``Auto``;
``web-reactive``: ``predictive: false``). Every replayed step one line shows demand, each variant's
replicas, ready replicas and ready capacity, and Augur's forecast band; each decision is printed as it
appears in status. At the end: a self-contained HTML report and a one-line summary.
"""

from __future__ import annotations

import json
import math
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from augur.api import KINDS
from augur.api.crdgen import render_all
from augur.devcluster.cluster import ClusterConfig, LocalCluster
from augur.devcluster.ports import free_ports
from augur.devcluster.procs import ManagedProcess, wait_until
from augur.devcluster.replay import DemandReplay, start_demand_replay
from augur.devcluster.scenario import VARIANTS, Observation, Recorder, Scenario, demo_scenario, manifests
from augur.sim.live_report import render_live_report, summarize, summary_line
from augur.sim.synthetic import generate

SHORT = "SHORT"


def say(text: str) -> None:
    print(f"==> {text}", flush=True)


def apply_crds(cluster: LocalCluster) -> None:
    cluster.kubectl(
        "apply", "--server-side", "--field-manager=augur", "-f", "-", stdin="\n---\n".join(render_all(KINDS).values())
    )
    for kind in KINDS:
        cluster.wait_established(f"crd/{kind.info.crd_name}")


def start_operator(cluster: LocalCluster, resync_seconds: float = 5.0) -> tuple[str, ManagedProcess]:
    port, metrics_port = free_ports(2)
    health = f"http://127.0.0.1:{port}/healthz"
    argv = [sys.executable, "-m", "augur", "operator", "run", f"--liveness={health}"]
    argv.append(f"--resync-seconds={resync_seconds}")
    env = {"AUGUR_PROMETHEUS_URL": cluster.prometheus_url, "AUGUR_METRICS": f"127.0.0.1:{metrics_port}"}
    proc = cluster.spawn("augur-operator", argv, env=env)
    return health, proc


def profile_ready(cluster: LocalCluster, namespace: str, name: str) -> bool:
    out = cluster.kubectl("get", "wp", name, "-n", namespace, "-o", "json").stdout
    conditions = json.loads(out).get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


class Printer:
    """The terminal view: one line per replayed step, one line per decision."""

    def __init__(self, scenario: Scenario, replay: DemandReplay) -> None:
        self.scenario = scenario
        self.replay = replay
        self.decisions: dict[str, str] = {}
        self.kinds: dict[str, str] = {}

    def trace_clock(self, index: float) -> str:
        trace = self.replay.trace
        return datetime.fromtimestamp(trace.start + index * trace.interval_seconds, UTC).strftime("%a %H:%M")

    def header(self) -> None:
        augur = f"{'augur':<8} repl ready capacity  {'peak p50/q':<13} {'next scale-up':<13}"
        print(f"{'trace time':<10} {'demand':>7} | {augur}      | reactive repl ready capacity", flush=True)

    def step(self, index: int, demand: float, obs: dict[str, Observation]) -> None:
        parts = []
        for variant in VARIANTS:
            o = obs[variant]
            capacity = o.ready * self.scenario.capacity
            flag = SHORT if demand > capacity else ""
            extra = ""
            if variant == "augur":
                known = math.isfinite(o.forecast_p50) and math.isfinite(o.forecast_upper)
                peak = f"{o.forecast_p50:.0f}/{o.forecast_upper:.0f}" if known else "-"
                nxt = "-"
                if o.next_scale_up is not None:
                    at, replicas = o.next_scale_up
                    nxt = f"{replicas} @{self.trace_clock(self.replay.clock.index_at(at))[4:]}"
                extra = f"  {peak:<13} {nxt:<13}"
            parts.append(f"{'':<8} {o.replicas:4d} {o.ready:5d} {capacity:8.0f}{extra} {flag:<5}")
        moment = self.trace_clock(index)
        print(f"{moment:<10} {demand:7.0f} | " + " | ".join(parts), flush=True)
        for variant in VARIANTS:
            self.decision(variant, obs[variant])

    def decision(self, variant: str, o: Observation) -> None:
        """Print a decision that changes replicas, or the first of a new kind (``Reactive`` while the
        first model is fitted, then ``Predictive``); decisions that hold the count are not repeated."""
        d = o.decision
        if not d:
            return
        kind = str(d.get("kind", ""))
        key = f"{d.get('time')}/{d.get('desiredReplicas')}"
        changes = d.get("fromReplicas") != d.get("desiredReplicas")
        if self.decisions.get(variant) == key or not (changes or self.kinds.get(variant) != kind):
            return
        self.decisions[variant], self.kinds[variant] = key, kind
        acted = "scaled" if d.get("acted") and changes else "decided"
        change = f"{d.get('fromReplicas', '?')} -> {d.get('desiredReplicas')}"
        print(f"   {variant} ({kind or '?'}): {acted} {change}: {d.get('reason', '')}", flush=True)


def run_demo(directory: Path, keep: bool, report: Path | None = None, scenario: Scenario | None = None) -> int:
    started = time.monotonic()
    scenario = scenario or demo_scenario()
    say("starting the local control plane (the first run compiles Kubernetes: ~15 min on 2 cores)")
    config = ClusterConfig(die_with_parent=not keep, pod_ready_delay=scenario.pod_ready_wall())
    cluster = LocalCluster.create(directory, config)
    try:
        cluster.start()
        say(f"control plane up in {cluster.startup_seconds:.1f} s; kubeconfig: {cluster.kubeconfig}")
        print(cluster.kubectl("get", "nodes", "-L", "topology.kubernetes.io/zone,topology.kubernetes.io/region").stdout)
        say("installing the augur.dev CRDs and starting the Augur operator")
        apply_crds(cluster)
        start_operator(cluster)
        trace = generate(scenario.trace, name="demo")
        days = scenario.history_steps * trace.interval_seconds / 86400
        say(
            f"synthetic demand: {days:.1f} days of {trace.interval_seconds / 60:g}-minute history backfilled with "
            f"promtool, then replayed live at one step per {scenario.seconds_per_step:g} s "
            f"({scenario.compression:g}x: one wall minute = {scenario.compression:g} trace minutes)"
        )
        replay = start_demand_replay(
            cluster, "web", trace, scenario.history_steps, seconds_per_step=scenario.seconds_per_step
        )
        say(f"demand query: {replay.query}")
        say("applying web-augur (Augur, mode Auto) and web-reactive (predictive: false), same demand")
        cluster.kubectl("apply", "-f", "-", stdin=manifests(scenario, replay.query))
        for variant in VARIANTS:
            name = f"web-{variant}"
            wait_until(partial(profile_ready, cluster, scenario.namespace, name), 120, f"WorkloadProfile {name} Ready")
        print(cluster.kubectl("get", "wp,sp", "-n", scenario.namespace).stdout)
        low, high = scenario.pod_ready_trace_seconds
        printer = Printer(scenario, replay)
        say(
            f"live until {printer.trace_clock(scenario.history_steps + scenario.live_steps)} (trace time); capacity "
            f"{scenario.capacity:g} req/s per replica; pods take {low:g}-{high:g} s (trace) to become Ready; "
            "SHORT = demand above ready capacity"
        )
        printer.header()
        recorder = Recorder(cluster, scenario, replay)
        recorder.run(printer.step)
        demand = recorder.demand_array()
        variants = [recorder.variants[v] for v in VARIANTS]
        path = report or directory / "demo-report.html"
        notes = f"Compression {scenario.compression:g}x; pods Ready after {low:g}-{high:g} s of trace time."
        path.write_text(
            render_live_report("augur demo", recorder.trace_times, demand, variants, trace.interval_seconds, notes)
        )
        say(f"report: {path}")
        say(summary_line([summarize(demand, v, trace.interval_seconds) for v in variants]))
        say(f"demo finished in {time.monotonic() - started:.1f} s")
        if keep:
            say(f"cluster left running: export KUBECONFIG={cluster.kubeconfig}")
            say(f"stop it with: augur dev down --dir {directory}")
        return 0
    finally:
        if not keep:
            say("tearing down")
            cluster.stop()
