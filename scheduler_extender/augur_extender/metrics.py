"""Prometheus metrics of one extender app (own registry, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

UNSEEN_BUCKETS = (0, 1, 2, 3, 4, 6, 8, 12, 16, 32, 64)
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "augur_extender_request_duration_seconds",
            "Time to answer a scheduler extender verb, from body read to reply serialized.",
            ["verb"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            "augur_extender_requests",
            "Extender verb calls by outcome: scored (Augur decided), neutral (no profile or no known node: "
            "every node passes / scores 5), error (internal error: neutral answer), bad_request (HTTP 400).",
            ["verb", "outcome"],
            registry=self.registry,
        )
        self.hard_rules_unfiltered = Counter(
            "augur_extender_hard_rules_unfiltered",
            "Pods of a workload with hard rules (requiredAvoidance, maxDistance) prioritized without a filter call "
            "before them: kube-scheduler is configured without filterVerb, so the rules only steer (failing nodes "
            "score 0) instead of keeping the pods off failing nodes.",
            ["workload"],
            registry=self.registry,
        )
        self.unseen_binds = Histogram(
            "augur_extender_prioritize_unseen_binds",
            "Pods prioritized earlier (within 5 s) whose binding the extender's cache had not seen yet when a "
            "prioritize call came: how many of kube-scheduler's latest placements the scores could not take into "
            "account (kube-scheduler binds in the background; the pod watch delivers each binding later).",
            buckets=UNSEEN_BUCKETS,
            registry=self.registry,
        )
        self.cache_synced = Gauge(
            "augur_extender_cache_synced", "1 when the watch cache has listed every kind.", registry=self.registry
        )
        self.cache_nodes = Gauge("augur_extender_cache_nodes", "Nodes in the cache.", registry=self.registry)
        self.cache_workloads = Gauge(
            "augur_extender_cache_workloads", "WorkloadProfiles in the cache.", registry=self.registry
        )
        self.plans = Counter(
            "augur_extender_plans",
            "Pending-pod plans of the background planner, by kind: full, incremental, provisional (the best "
            "plan so far of a full plan under way, published for requests), failed, superseded (a full plan "
            "abandoned because new workloads, pod sizes or traffic overtook it), cut_short (full plans, also "
            "counted as full, whose annealing runs stopped at plan.searchSeconds), refreshed (provisional plans, also "
            "counted as provisional, handed over again under plan.refreshProvisionalPlans).",
            ["kind"],
            registry=self.registry,
        )
        self.prioritize_plans = Counter(
            "augur_extender_prioritize_plans",
            "Scored prioritize calls by the pending-pod plan they were scored against: current (a final plan), "
            "provisional (a plan published while a full plan is under way); with no plan, the other components "
            "deciding alone: absent (none published yet, or the planner is off) or stale (the latest plan does not "
            "hold for the view: older than plan.maxAgeSeconds, or made for other workloads or nodes).",
            ["plan"],
            registry=self.registry,
        )
        self.full_plans = Counter(
            "augur_extender_full_plans",
            "Full plans (not repairs) of the background planner by why the previous plan could not be repaired: "
            "first, nodes (node set or topology), workloads (the plannable workloads), pod_size, traffic, "
            "placement_rules (the nodes a workload may use).",
            ["reason"],
            registry=self.registry,
        )
        self.plan_cpu = Histogram(
            "augur_extender_plan_cpu_seconds",
            "CPU time of one plan update of the background planner.",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=self.registry,
        )
        self.planner_priority = Gauge(
            "augur_extender_planner_priority",
            "1 for the CPU priority the planner process runs at as the kernel has it (idle: SCHED_IDLE, nice: a "
            "higher niceness than the extender's, normal), 0 for the others; absent with the planner on a thread.",
            ["policy"],
            registry=self.registry,
        )
        self.gate_lifts = Counter(
            "augur_extender_plan_gate_lifts",
            "Pods let through the plan gate (augur.dev/plan), by why: planned (the final plan has a slot for it), "
            "unplanned (no WorkloadProfile selects it), no_planner (the extender runs without its planner), "
            "deadline (it waited plan.gateSeconds).",
            ["reason"],
            registry=self.registry,
        )
        self.gate_wait = Histogram(
            "augur_extender_plan_gate_wait_seconds",
            "How long a pod was held at the plan gate, from when the extender first saw it held to its release.",
            buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0),
            registry=self.registry,
        )
        self.gate_admissions = Counter(
            "augur_extender_plan_gate_admissions",
            "New pods the admission webhook (POST /admission/plan-gate) answered, by outcome: gated (it added "
            "the plan gate), unprofiled (no WorkloadProfile selects the pod), opted_out (labelled "
            "augur.dev/plan-gate=off), has_gate, bound (spec.nodeName set), no_gate_keeper (no gate keeper or "
            "no planner), not_synced, malformed.",
            ["outcome"],
            registry=self.registry,
        )
        self.gate_leader = Gauge(
            "augur_extender_plan_gate_leader",
            "1 while this replica's gate keeper lets pods through the plan gate: it holds the gate keeper's Lease "
            "(--gate-lease; the chart's default with several replicas), or runs without one; 0 while it stands by "
            "(another replica holds the Lease) or has no gate keeper.",
            registry=self.registry,
        )
        self.gate_held = Gauge(
            "augur_extender_plan_gate_held_pods",
            "Pods held at the plan gate when the gate keeper last looked.",
            registry=self.registry,
        )
        self.plan_age = Gauge(
            "augur_extender_plan_age_seconds",
            "Age of the latest pending-pod plan (-1: none).",
            registry=self.registry,
        )
