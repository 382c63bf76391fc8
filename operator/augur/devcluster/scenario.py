"""Predictive vs reactive on the local control plane: one scenario for the demo and the e2e test.

The same replayed demand (:mod:`augur.devcluster.replay`) drives two kwok-backed Deployments, each
with its own ``ScalingPolicy`` and ``WorkloadProfile``: ``web-augur`` scaled by Augur (mode ``Auto``)
and ``web-reactive`` whose policy has ``predictive: false`` (the reactive, HPA-like rule only). Every
replayed step a :class:`Recorder` reads both Deployments and profiles from the API server.

**Time.** Everything the operator sees runs on the compressed clock: :attr:`Scenario.compression`
trace seconds per wall second. The policies' durations (lead time, scale-down stabilization, history,
refit interval, demand step) are the trace-time values divided by that factor, and pods take
``pod_ready_trace_seconds`` of *trace* time (kwok Stage delay) to become Ready.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from augur.api.meta import epoch_seconds
from augur.devcluster import kwok
from augur.devcluster.cluster import LocalCluster
from augur.devcluster.replay import DemandReplay
from augur.sim.live_report import VariantRecord, finite_or_nan
from augur.sim.synthetic import DAY, SyntheticSpec

VARIANTS = ("augur", "reactive")


@dataclass(frozen=True)
class Scenario:
    """What to replay and how the two workloads are set up. Durations in trace seconds unless named wall."""

    trace: SyntheticSpec
    history_steps: int
    """Trace steps backfilled before replay starts (they end at the first live step)."""
    live_steps: int
    """Trace steps replayed live."""
    seconds_per_step: float = 5.0
    """Wall seconds per trace step (= the scrape interval)."""
    namespace: str = "augur-demo"
    capacity: float = 50.0
    """Demand units one replica serves at 100 %."""
    target_utilization: float = 0.8
    min_replicas: int = 2
    max_replicas: int = 20
    pod_ready_trace_seconds: tuple[float, float] = (60.0, 120.0)
    """How long a new pod takes to become Ready, in trace time (uniformly random)."""
    lead_time_trace_seconds: float = 360.0
    """The policies' ``leadTime``: pod start-up plus a scrape and a decision interval, in trace time."""
    scale_down_window_trace_seconds: float = 300.0
    """Scale-down stabilization (the HPA default), in trace time."""
    refit_trace_seconds: float = 6 * 3600.0

    @property
    def compression(self) -> float:
        """Trace seconds per wall second."""
        return self.trace.interval_seconds / self.seconds_per_step

    def wall(self, trace_seconds: float) -> float:
        return trace_seconds / self.compression

    def pod_ready_wall(self) -> tuple[float, float]:
        low, high = self.pod_ready_trace_seconds
        return self.wall(low), self.wall(high)

    def first_live_time(self) -> float:
        """Trace time (unix seconds) of the first live step."""
        return self.trace.start + self.history_steps * self.trace.interval_seconds


def scenario_at(
    live_day: int,
    live_from_hour: float,
    live_hours: float,
    namespace: str = "augur-demo",
    seed: int = 7,
    bursts_per_day: float = 0.3,
) -> Scenario:
    """Two-minute steps replayed at one step per scrape (5 s): 24x, so one trace day is one wall hour and
    the operator's calendar ``hour`` period catches the daily pattern exactly. History: days
    ``0 ... live_day - 1`` (day 0 a Monday) and ``live_day`` up to ``live_from_hour``; then
    ``live_hours`` replayed live. The morning ramp (08:00, 20 minutes from 10 % to 90 %) is steep enough
    that reacting to it is late."""
    spec = SyntheticSpec(
        days=live_day + 1,
        interval_seconds=120.0,
        ramp_minutes=20.0,
        bursts_per_day=bursts_per_day,
        noise=0.04,
        seed=seed,
    )
    per_hour = 3600 / spec.interval_seconds
    history = round(live_day * DAY / spec.interval_seconds + live_from_hour * per_hour)
    return Scenario(trace=spec, history_steps=history, live_steps=round(live_hours * per_hour), namespace=namespace)


def demo_scenario() -> Scenario:
    """The README demo: nine days of history, then Wednesday 06:50 to 08:30 (trace time) live: 50 steps,
    about four wall minutes; the first model fit takes a minute or two, well before the 08:00 ramp."""
    return scenario_at(live_day=9, live_from_hour=6 + 5 / 6, live_hours=5 / 3)


def _duration(seconds: float) -> str:
    whole = max(1, math.ceil(seconds))
    for unit, size in (("h", 3600), ("m", 60)):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def manifests(scenario: Scenario, query: str) -> str:
    """Namespace, two Deployments, two ScalingPolicies and two WorkloadProfiles (YAML, one document each)."""
    s = scenario
    low, high = s.pod_ready_wall()
    annotations = json.dumps(kwok.delay_annotations(round(low, 2), round(high, 2)))
    initial = max(s.min_replicas, math.ceil(s.trace.base * s.trace.night_level / (s.capacity * s.target_utilization)))
    docs = [f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {s.namespace}}}"]
    for variant in VARIANTS:
        name = f"web-{variant}"
        docs.append(
            f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {s.namespace}}}
spec:
  replicas: {initial}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata:
      labels: {{app: {name}}}
      annotations: {annotations}   # kwok: pods take {low:g}-{high:g} s (wall) to become Ready
    spec:
      tolerations: [{{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}}]
      containers: [{{name: web, image: registry.example/web:1.0, resources: {{requests: {{cpu: 100m}}}}}}]"""
        )
        docs.append(
            f"""apiVersion: augur.dev/v1alpha1
kind: ScalingPolicy
metadata: {{name: {name}, namespace: {s.namespace}}}
spec:
  mode: Auto
  predictive: {"true" if variant == "augur" else "false"}
  minReplicas: {s.min_replicas}
  maxReplicas: {s.max_replicas}
  targetUtilization: {s.target_utilization}
  leadTime: {_duration(s.wall(s.lead_time_trace_seconds))}
  decisionInterval: {_duration(s.seconds_per_step)}
  history: {_duration(3600 * math.ceil(s.wall(s.history_steps * s.trace.interval_seconds) / 3600 + 0.1))}
  refitInterval: {_duration(s.wall(s.refit_trace_seconds))}
  behavior:
    scaleDown: {{stabilizationWindow: {_duration(s.wall(s.scale_down_window_trace_seconds))}}}"""
        )
        docs.append(
            f"""apiVersion: augur.dev/v1alpha1
kind: WorkloadProfile
metadata: {{name: {name}, namespace: {s.namespace}}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}
  policyRef: {{name: {name}}}
  demand:
    query: '{query}'
    capacityPerReplica: {s.capacity:g}
    unit: req/s
    step: {_duration(s.seconds_per_step)}"""
        )
    return "\n---\n".join(docs) + "\n"


@dataclass(frozen=True)
class Observation:
    """One variant at one moment, as the API server reports it."""

    replicas: int
    ready: int
    desired: int | None
    forecast_p50: float
    forecast_upper: float
    decision: dict[str, Any] | None
    next_scale_up: tuple[float, int] | None = None
    """``status.forecast.nextScaleUp``: (wall unix seconds, replicas)."""


def observe(cluster: LocalCluster, namespace: str) -> dict[str, Observation]:
    """Both variants' Deployment and WorkloadProfile, read in one ``kubectl get``."""
    items = json.loads(cluster.kubectl("get", "deploy,wp", "-n", namespace, "-o", "json").stdout)["items"]
    by_key = {(i["kind"], i["metadata"]["name"]): i for i in items}
    out = {}
    for variant in VARIANTS:
        name = f"web-{variant}"
        deploy = by_key.get(("Deployment", name), {})
        status = by_key.get(("WorkloadProfile", name), {}).get("status") or {}
        forecast = status.get("forecast") or {}
        out[variant] = Observation(
            replicas=int((deploy.get("spec") or {}).get("replicas", 0)),
            ready=int((deploy.get("status") or {}).get("readyReplicas", 0)),
            desired=status.get("desiredReplicas"),
            forecast_p50=finite_or_nan(forecast.get("peakP50")),
            forecast_upper=finite_or_nan(forecast.get("peakUpper")),
            decision=status.get("lastDecision"),
            next_scale_up=_next_scale_up(forecast.get("nextScaleUp")),
        )
    return out


def _next_scale_up(raw: Any) -> tuple[float, int] | None:
    if not isinstance(raw, dict) or "at" not in raw or "replicas" not in raw:
        return None
    at = epoch_seconds(raw["at"])
    try:
        return None if at is None else (at, int(raw["replicas"]))
    except (TypeError, ValueError):
        return None


@dataclass
class Recorder:
    """Samples both variants once per replayed step, in the middle of the step."""

    cluster: LocalCluster
    scenario: Scenario
    replay: DemandReplay
    trace_times: list[float] = field(default_factory=list)
    demand: list[float] = field(default_factory=list)
    variants: dict[str, VariantRecord] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.variants = {v: VariantRecord(v, self.scenario.capacity) for v in VARIANTS}

    def run(self, on_step: Callable[[int, float, dict[str, Observation]], None] | None = None) -> None:
        """Record every step from the next one until the scenario's live part ends; ``on_step(index,
        demand, observations)`` is called after each."""
        clock, trace = self.replay.clock, self.replay.trace
        first = clock.index_at(time.time()) + 1
        end = min(self.scenario.history_steps + self.scenario.live_steps, trace.steps)
        for index in range(first, end):
            time.sleep(max(0.0, clock.wall_time(index + 0.5) - time.time()))
            obs = observe(self.cluster, self.scenario.namespace)
            value = float(trace.demand[index])
            self.trace_times.append(trace.start + index * trace.interval_seconds)
            self.demand.append(value)
            for variant, o in obs.items():
                record = self.variants[variant]
                record.replicas.append(o.replicas)
                record.ready.append(o.ready)
                record.forecast_p50.append(o.forecast_p50)
                record.forecast_upper.append(o.forecast_upper)
            if on_step is not None:
                on_step(index, value, obs)

    def demand_array(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.asarray(self.demand, dtype=np.float64)
