"""``Migration``: one pod move, requested by the rebalancer or by a person."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from augur.api.meta import AGE_COLUMN, ApiModel, Conditions, Kind, Name, PrinterColumn, ResourceInfo

Phase = Literal["Pending", "Running", "Succeeded", "Failed", "Cancelled"]


class MigrationSpec(ApiModel):
    """Desired state of a ``Migration``. Immutable once created."""

    pod_name: Name
    """Pod to move, in the Migration's namespace."""
    reason: Literal["Rebalance", "NetworkCost", "Drain", "Manual"] = "Manual"
    """Why the pod moves."""
    target_node: Annotated[str, StringConstraints(max_length=253)] = ""
    """Preferred destination node; empty lets the scheduler (and Augur's extender) choose."""
    mode: Literal["SurgeThenEvict", "Evict"] = "SurgeThenEvict"
    """``SurgeThenEvict`` adds capacity first, then evicts through the Eviction API; ``Evict`` only evicts.
    Pod disruption budgets always hold."""
    expected_gain: Annotated[float, Field(ge=0)] | None = None
    """Estimated improvement (network cost or load) that justified the move."""
    explanation: Annotated[str, StringConstraints(max_length=4096)] = ""
    """Human-readable reasoning behind the move."""

    model_config = ConfigDict(
        json_schema_extra={"x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "spec is immutable"}]}
    )


class MigrationStatus(ApiModel):
    """Observed state of a ``Migration``."""

    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """The ``.metadata.generation`` this status describes."""
    phase: Phase = "Pending"
    """Where the move stands."""
    conditions: Conditions = []
    """``Ready`` (finished) and progress conditions."""
    source_node: Annotated[str, StringConstraints(max_length=253)] = ""
    """Node the pod ran on."""
    destination_node: Annotated[str, StringConstraints(max_length=253)] = ""
    """Node the replacement landed on."""
    start_time: datetime | None = None
    """When the move began."""
    completion_time: datetime | None = None
    """When the move ended."""
    outcome: Annotated[str, StringConstraints(max_length=4096)] = ""
    """What happened, in words."""


MIGRATION = Kind(
    info=ResourceInfo(
        kind="Migration",
        plural="migrations",
        scope="Namespaced",
        short_names=("mig",),
        printer_columns=(
            PrinterColumn("Pod", "string", ".spec.podName"),
            PrinterColumn("Reason", "string", ".spec.reason"),
            PrinterColumn("Phase", "string", ".status.phase"),
            PrinterColumn("From", "string", ".status.sourceNode"),
            PrinterColumn("To", "string", ".status.destinationNode"),
            AGE_COLUMN,
        ),
    ),
    spec=MigrationSpec,
    status=MigrationStatus,
    description="One pod move with its reason, mode, phase and outcome.",
)
