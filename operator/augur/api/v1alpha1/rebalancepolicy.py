"""``RebalancePolicy`` (cluster-scoped): when and how the rebalancer moves pods.

One policy acts: the one named ``default``, else the first by name; any other gets ``Ready=False`` with
reason ``Superseded``. Without a policy the rebalancer does nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from augur.api.durations import parse_duration
from augur.api.meta import AGE_COLUMN, ApiModel, Conditions, Duration, Kind, PrinterColumn, PromQL, ResourceInfo

RebalanceMode = Literal["Off", "DryRun", "Auto"]
LoadSource = Literal["Auto", "Requests", "Prometheus"]
MoveReason = Literal["HardRule", "Rebalance", "NetworkCost", "Predictive"]

DEFAULT_NODE_QUERY = 'sum by (node) (rate(container_cpu_usage_seconds_total{container!=""}[2m]))'
DEFAULT_POD_QUERY = 'sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=""}[2m]))'


class LoadSpec(ApiModel):
    """Where node load comes from. Load is CPU: used (or requested) cores over allocatable cores."""

    source: LoadSource = "Auto"
    """``Requests``: the sum of the pods' CPU requests; ``Prometheus``: measured use from the queries below;
    ``Auto`` (default): Prometheus when the operator has ``AUGUR_PROMETHEUS_URL``, else requests. When
    Prometheus cannot be read the rebalancer falls back to requests and says so in the ``LoadMeasured``
    condition."""
    node_query: PromQL = DEFAULT_NODE_QUERY
    """PromQL giving the CPU cores used per node, one series per node with the node's name in ``nodeLabel``."""
    node_label: Annotated[str, StringConstraints(min_length=1, max_length=63)] = "node"
    """Label of ``nodeQuery`` that holds the node name."""
    pod_query: PromQL = DEFAULT_POD_QUERY
    """PromQL giving the CPU cores used per pod (labels ``namespace`` and ``pod``); what a move takes off a
    node and adds to another. Pods without a series count with their requests."""
    settle_time: Duration = "150s"
    """With measured load, how long after a move has finished its readings stay out of the hysteresis and no
    load or network move is proposed (hard-rule moves, which read no load, still are): a moved pod's use
    stays in a ``rate()`` over its source node for the query's window after the pod is gone, so make this
    at least that window plus a scrape interval (the default queries use 2m). Not used while load comes
    from requests."""


class LimitsSpec(ApiModel):
    """Rate limits. Dry-run plans count like moves, so a dry run shows the pace ``Auto`` would have."""

    window: Duration = "10m"
    """Sliding window the counts below apply to."""
    max_moves: Annotated[int, Field(ge=0, le=1000)] = 10
    """Most moves in the cluster per window (0 stops every move)."""
    max_moves_per_node: Annotated[int, Field(ge=1, le=1000)] = 4
    """Most moves per window that leave or enter one node."""
    max_moves_per_workload: Annotated[int, Field(ge=1, le=1000)] = 3
    """Most moves per window of one workload (pods with the same controller)."""
    max_moves_per_run: Annotated[int, Field(ge=1, le=1000)] = 3
    """Most moves proposed in one run."""


class RebalancePolicySpec(ApiModel):
    """Desired state of a ``RebalancePolicy``."""

    mode: RebalanceMode = "DryRun"
    """``Off``: nothing is computed; ``DryRun`` (default): moves are planned and recorded as ``Migration``
    objects with ``spec.approved: false``, which stay ``Pending`` and move no pod; ``Auto``: the Migrations
    are created approved and carried out."""
    scheduling_interval: Duration = "30s"
    """How often node load is read and moves are considered."""
    rebalance_threshold: Annotated[int, Field(ge=1, le=100)] = 20
    """Act when the busiest and the idlest node's CPU load differ by more than this many percentage points."""
    consecutive_readings: Annotated[int, Field(ge=1, le=100)] = 3
    """For this many readings in a row (hysteresis), so a short spike moves nothing. Readings taken while
    moves are in progress do not count: the count starts again once they have finished."""
    network_gain_threshold: Annotated[float, Field(ge=0, le=100)] = 5.0
    """A network-driven move must lower the cluster's network cost (traffic x distance between peers'
    pods, from ``WorkloadProfile`` dependencies and measured traffic) by at least this percentage of it.
    ``100`` turns network-driven moves off."""
    predictive: bool = True
    """Also act when the forecasts of the ``WorkloadProfile``s say the spread will exceed the threshold
    within ``leadTime`` (reason ``Predictive``), before it does."""
    lead_time: Duration = "10m"
    """How far ahead forecasts count for predictive moves."""
    cooldown: Duration = "15m"
    """Per-workload cool-down against ping-pong: for this long after a move of one of its pods from node A
    to node B, no pod of the workload is moved onto A or off B (moves onward in the same direction are
    allowed)."""
    limits: LimitsSpec = Field(default_factory=LimitsSpec, json_schema_extra={"default": {}})
    """Rate limits."""
    load: LoadSpec = Field(default_factory=LoadSpec, json_schema_extra={"default": {}})
    """Where node load comes from."""
    node_selector: Annotated[dict[str, Annotated[str, StringConstraints(max_length=63)]], Field(max_length=32)] = {}
    """Labels a node must carry to be balanced and to receive pods (a node pool); pods on other nodes are left
    alone. Empty: every node."""
    namespaces: Annotated[list[Annotated[str, StringConstraints(max_length=63)]], Field(max_length=256)] = []
    """Namespaces whose pods may be moved; empty: all but ``excludedNamespaces``."""
    excluded_namespaces: Annotated[list[Annotated[str, StringConstraints(max_length=63)]], Field(max_length=256)] = [
        "kube-system"
    ]
    """Namespaces whose pods are never moved (their load still counts)."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.limits.maxMovesPerRun <= self.limits.maxMoves || self.limits.maxMoves == 0",
                    "message": "limits.maxMovesPerRun must not exceed limits.maxMoves",
                    "fieldPath": ".limits.maxMovesPerRun",
                },
            ]
        }
    )

    @model_validator(mode="after")
    def _check(self) -> RebalancePolicySpec:
        # Mirrors the CEL rules so a stale CRD cannot let a bad policy through unnoticed.
        if self.limits.max_moves and self.limits.max_moves_per_run > self.limits.max_moves:
            raise ValueError("limits.maxMovesPerRun must not exceed limits.maxMoves")
        if parse_duration(self.scheduling_interval) < 1:
            raise ValueError("schedulingInterval must be at least 1s")
        return self


class PlannedMove(ApiModel):
    """One move the last run proposed."""

    pod: Annotated[str, StringConstraints(max_length=317)]
    """``namespace/name`` of the pod."""
    source_node: Annotated[str, StringConstraints(max_length=253)]
    """Node it runs on."""
    target_node: Annotated[str, StringConstraints(max_length=253)]
    """Node it should move to."""
    reason: MoveReason
    """Why."""
    predicted_gain: float
    """Reduction of the node-load standard deviation (percentage points) for ``Rebalance``/``Predictive``,
    of the network cost for ``NetworkCost``; 0 for ``HardRule`` (a move that restores a workload's hard
    placement rule, made for no gain)."""
    migration: Annotated[str, StringConstraints(max_length=253)] = ""
    """Name of the ``Migration`` created for it."""


class RebalancePolicyStatus(ApiModel):
    """Observed state of a ``RebalancePolicy``."""

    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """The ``.metadata.generation`` this status describes."""
    conditions: Conditions = []
    """``Ready`` (the policy is valid and in use), ``Active`` (False in ``Off`` and ``DryRun``: nothing is
    moved), ``Balanced`` (spread within the threshold), ``LoadMeasured`` (where load came from)."""
    last_run_time: datetime | None = None
    """When the rebalancer last ran."""
    load_source: Literal["", "Requests", "Prometheus"] = ""
    """Where the last run's load came from."""
    node_load_spread: float | None = None
    """Busiest minus idlest node's CPU load, percentage points."""
    node_load_stddev: float | None = None
    """Population standard deviation of node CPU load, percentage points."""
    forecast_load_spread: float | None = None
    """The spread the forecasts expect within ``leadTime`` (when any profile has a forecast)."""
    network_cost: float | None = None
    """Network cost: sum over dependencies of traffic x mean distance between the peers' pods."""
    readings_above_threshold: Annotated[int, Field(ge=0)] = 0
    """Consecutive readings with the spread above the threshold (0 while moves are in progress)."""
    forecast_readings_above_threshold: Annotated[int, Field(ge=0)] = 0
    """Consecutive readings with the forecast spread above the threshold (0 while moves are in progress)."""
    proposals: Annotated[list[PlannedMove], Field(max_length=50)] = []
    """Moves proposed by the last run that proposed any, best first."""
    last_proposal_time: datetime | None = None
    """When ``proposals`` were made."""
    notes: Annotated[list[Annotated[str, StringConstraints(max_length=1024)]], Field(max_length=10)] = []
    """Why the last run moved nothing or held back (waiting for readings, moves in progress, rate limits,
    cool-down, no movable pod)."""
    migrations_created: Annotated[int, Field(ge=0)] = 0
    """Migrations created by this operator process under this policy (resets on restart)."""


REBALANCE_POLICY = Kind(
    info=ResourceInfo(
        kind="RebalancePolicy",
        plural="rebalancepolicies",
        scope="Cluster",
        short_names=("rbp",),
        printer_columns=(
            PrinterColumn("Mode", "string", ".spec.mode"),
            PrinterColumn("Threshold", "integer", ".spec.rebalanceThreshold", "Spread threshold, percent"),
            PrinterColumn("Spread", "number", ".status.nodeLoadSpread", "Node load spread, percent"),
            PrinterColumn("Balanced", "string", '.status.conditions[?(@.type=="Balanced")].status'),
            PrinterColumn("Last run", "date", ".status.lastRunTime"),
            PrinterColumn("Network", "number", ".status.networkCost", priority=1),
            AGE_COLUMN,
        ),
    ),
    spec=RebalancePolicySpec,
    status=RebalancePolicyStatus,
    description="When and how the rebalancer moves pods to even out node load and lower network cost.",
)
