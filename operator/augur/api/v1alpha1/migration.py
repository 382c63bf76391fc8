"""``Migration``: one pod move, requested by the rebalancer or by a person.

Who acts on it: the operator's migration executor (:mod:`augur.operator.migrations`, pure state machine
in :mod:`augur.migration`). The executor acts only on a Migration whose ``spec.approved`` is true. A
dry-run plan (the rebalancer's dry-run setting) is a Migration created with ``approved: false``: it stays
``Pending`` with ``Finished=False``, reason ``AwaitingApproval``, and nothing is touched. Approving it
later is the one change the spec allows (``kubectl patch migration NAME --type merge -p
'{"spec":{"approved":true}}'``); every other field is immutable (CEL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from augur.api.meta import AGE_COLUMN, ApiModel, Conditions, Duration, Kind, Name, PrinterColumn, ResourceInfo

Phase = Literal["Pending", "Reserving", "Evicting", "Rescheduling", "Succeeded", "Failed", "RolledBack"]
TERMINAL_PHASES: tuple[str, ...] = ("Succeeded", "Failed", "RolledBack")
MoveReason = Literal["Manual", "HardRule", "Rebalance", "NetworkCost", "Predictive", "Drain"]
Mode = Literal["ReservationFirst", "EvictDirectly"]
GainKind = Literal["NodeLoadStdDev", "NetworkCost"]
NodeName = Annotated[str, StringConstraints(max_length=253)]


class Gain(ApiModel):
    """An improvement, predicted (spec) or measured (status), of one kind."""

    kind: GainKind
    """``NodeLoadStdDev``: reduction of the standard deviation of node load (load as a fraction of node
    capacity, 0..1). ``NetworkCost``: reduction of the network cost of the pod's traffic to its peers
    (placement scoring units of ``augur.placement``). Positive is better."""
    value: float
    """The reduction, in the kind's units."""


def _immutable_except_approval(schema: dict[str, Any], cls: Any) -> None:
    """One CEL transition rule over every spec field except ``approved`` (generated, so a new field is
    covered without editing the rule), and ``approved`` may only go from false to true."""
    checks = []
    for name, info in cls.model_fields.items():
        if name == "approved":
            continue
        key = info.alias or name
        checks.append(f"has(self.{key}) == has(oldSelf.{key}) && (!has(self.{key}) || self.{key} == oldSelf.{key})")
    schema["x-kubernetes-validations"] = [
        {
            "rule": " && ".join(checks),
            "message": "spec is immutable (only approved may change, from false to true)",
        },
        {"rule": "self.approved || !oldSelf.approved", "message": "an approved Migration cannot be unapproved"},
        {
            "rule": "self.mode == 'ReservationFirst' || self.targetNode == ''",
            "message": "targetNode needs mode ReservationFirst: only the reservation pod can be pinned to a node",
        },
    ]


class MigrationSpec(ApiModel):
    """Desired state of a ``Migration``. Immutable once created, except ``approved`` (false → true)."""

    pod_name: Name
    """Pod to move, in the Migration's namespace."""
    reason: MoveReason = "Manual"
    """Why the pod moves: ``Manual`` (a person), ``HardRule`` (it runs on a node its workload's hard placement
    rules exclude), ``Rebalance`` (node load), ``NetworkCost`` (distance to chatty peers), ``Predictive`` (a
    forecast says the node will be hot), ``Drain``."""
    target_node: NodeName = ""
    """Destination node. The replacement is pinned to it (required node affinity on ``metadata.name``);
    empty lets kube-scheduler (and Augur's extender, when configured) choose any node but the current one.
    Needs ``mode: ReservationFirst``."""
    mode: Mode = "ReservationFirst"
    """``ReservationFirst``: the replacement is started first (a reservation pod cloned from the owner's
    template, pinned to ``targetNode``), the pod is evicted only once it is Ready, and the owner then
    adopts it. ``EvictDirectly``: only evicts; the owner recreates the pod where the scheduler decides.
    Eviction always goes through the Eviction API, so PodDisruptionBudgets hold."""
    approved: bool = True
    """False: a plan only (dry run); the executor leaves it ``Pending`` until it is set to true."""
    expected_gain: Gain | None = None
    """Predicted improvement that justified the move (copied to ``status.predictedGain``)."""
    explanation: Annotated[str, StringConstraints(max_length=4096)] = ""
    """Human-readable reasoning behind the move."""
    eviction_timeout: Duration = "5m"
    """How long evictions refused by a PodDisruptionBudget (HTTP 429) are retried before the move fails
    with reason ``DisruptionBudgetBlocked`` (the reservation pod is removed, nothing else changed)."""
    ready_timeout: Duration = "5m"
    """How long the reservation pod may take to be scheduled and Ready (before the eviction), and the
    replacement to be Ready after it, before the move is rolled back."""

    model_config = ConfigDict(json_schema_extra=_immutable_except_approval)

    @model_validator(mode="after")
    def _target_needs_reservation(self) -> MigrationSpec:
        if self.target_node and self.mode != "ReservationFirst":
            raise ValueError("targetNode needs mode ReservationFirst: only the reservation pod can be pinned to a node")
        return self


class PhaseTransition(ApiModel):
    """One entry of the phase history."""

    phase: Phase
    """The phase entered."""
    time: datetime
    """When it was entered."""
    message: Annotated[str, StringConstraints(max_length=1024)] = ""
    """Why."""


class Durations(ApiModel):
    """Seconds spent in each phase of the move (from the phase history)."""

    reserving_seconds: Annotated[float, Field(ge=0)] | None = None
    """Starting the reservation pod until it was Ready."""
    evicting_seconds: Annotated[float, Field(ge=0)] | None = None
    """Evicting the pod (retries on PodDisruptionBudget refusals included)."""
    rescheduling_seconds: Annotated[float, Field(ge=0)] | None = None
    """From the eviction until the replacement was Ready and owned by the workload."""
    total_seconds: Annotated[float, Field(ge=0)] | None = None
    """From the first action to the end."""


class OwnerRef(ApiModel):
    """The controller of the moved pod."""

    kind: Annotated[str, StringConstraints(max_length=253)]
    """``ReplicaSet`` or ``StatefulSet``."""
    name: Annotated[str, StringConstraints(max_length=253)]
    """Its name."""
    uid: Annotated[str, StringConstraints(max_length=64)]
    """Its UID."""


class MigrationStatus(ApiModel):
    """Observed state of a ``Migration``."""

    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """The ``.metadata.generation`` this status describes."""
    phase: Phase = "Pending"
    """Where the move stands. Terminal: ``Succeeded``, ``Failed`` (nothing was changed), ``RolledBack``
    (the reservation was removed and the pod left where it was)."""
    phase_history: Annotated[list[PhaseTransition], Field(max_length=32)] = []
    """Every phase entered, oldest first."""
    conditions: Conditions = []
    """``Finished``: True once the phase is terminal (reason = outcome reason), else False with the
    current step as reason (``AwaitingApproval``, ``Reserving``, ``DisruptionBudgetBlocked``, ...)."""
    pod_uid: Annotated[str, StringConstraints(max_length=64)] = ""
    """UID of the pod being moved (a StatefulSet's replacement keeps the name, not the UID)."""
    owner: OwnerRef | None = None
    """The pod's controller, which recreates or adopts the replacement."""
    source_node: NodeName = ""
    """Node the pod ran on."""
    destination_node: NodeName = ""
    """Node the replacement runs on."""
    replacement_pod: Annotated[str, StringConstraints(max_length=253)] = ""
    """Name of the replacement (with ``ReservationFirst``: the reservation pod)."""
    start_time: datetime | None = None
    """When the move began (first action)."""
    completion_time: datetime | None = None
    """When the move ended."""
    durations: Durations | None = None
    """Time spent per phase."""
    eviction_attempts: Annotated[int, Field(ge=0)] = 0
    """Eviction requests sent (refusals by a PodDisruptionBudget included)."""
    predicted_gain: Gain | None = None
    """The gain the move was expected to bring (``spec.expectedGain``)."""
    measured_gain: Gain | None = None
    """The gain measured after a rebalancer's move succeeded, filled in by the rebalancer's next run (with
    measured load, the first one ``load.settleTime`` after the move, once the figures show it): the
    cluster now against the same cluster with the pod back on its source node (node-load stddev or network
    cost, the rebalancer's own figures; positive = better). Not filled in for moves created by hand."""
    reason: Annotated[str, StringConstraints(max_length=128)] = ""
    """Outcome in CamelCase once finished (``Moved``, ``PodNotMovable``, ``DisruptionBudgetBlocked``,
    ``ReplacementNotReady``, ...); docs/migration.md lists them all."""
    message: Annotated[str, StringConstraints(max_length=4096)] = ""
    """Outcome in words."""


MIGRATION = Kind(
    info=ResourceInfo(
        kind="Migration",
        plural="migrations",
        scope="Namespaced",
        short_names=("mig",),
        printer_columns=(
            PrinterColumn("Pod", "string", ".spec.podName"),
            PrinterColumn("Why", "string", ".spec.reason"),
            PrinterColumn("Mode", "string", ".spec.mode", priority=1),
            PrinterColumn("Target", "string", ".spec.targetNode", priority=1),
            PrinterColumn("Approved", "boolean", ".spec.approved", priority=1),
            PrinterColumn("Phase", "string", ".status.phase"),
            PrinterColumn("From", "string", ".status.sourceNode"),
            PrinterColumn("To", "string", ".status.destinationNode"),
            PrinterColumn("Outcome", "string", ".status.reason"),
            PrinterColumn("Replacement", "string", ".status.replacementPod", priority=1),
            AGE_COLUMN,
        ),
    ),
    spec=MigrationSpec,
    status=MigrationStatus,
    description="One pod move: which pod, why, where to, how (reservation first or direct eviction), its "
    "phase history and outcome.",
)
