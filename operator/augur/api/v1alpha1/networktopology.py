"""``NetworkTopology`` (cluster-scoped): network distances between nodes, zones and regions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from augur.api.meta import (
    AGE_COLUMN,
    ApiModel,
    Conditions,
    Duration,
    Kind,
    PrinterColumn,
    PromQL,
    ResourceInfo,
    ShortText,
)
from augur.constants import (
    CROSS_REGION_DISTANCE,
    DEFAULT_LEVELS,
    MAX_DISTANCE,
    REGION_LABEL,
    SAME_NODE_DISTANCE,
    SAME_REGION_DISTANCE,
    SAME_ZONE_DISTANCE,
    ZONE_LABEL,
)

Distance = Annotated[int, Field(ge=0, le=MAX_DISTANCE)]


class DistanceLevels(ApiModel):
    """Default distance (0 = free, 100 = most expensive) by how far apart two nodes are."""

    same_node: Distance = SAME_NODE_DISTANCE
    """Both pods on one node."""
    same_zone: Distance = SAME_ZONE_DISTANCE
    """Different nodes in one zone."""
    same_region: Distance = SAME_REGION_DISTANCE
    """Different zones in one region."""
    cross_region: Distance = CROSS_REGION_DISTANCE
    """Different regions."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.sameNode <= self.sameZone && self.sameZone <= self.sameRegion"
                    " && self.sameRegion <= self.crossRegion",
                    "message": "distances must not decrease: sameNode <= sameZone <= sameRegion <= crossRegion",
                }
            ]
        }
    )


class DistanceOverride(ApiModel):
    """An explicit, symmetric distance between two zones, regions or nodes."""

    scope: Literal["Zone", "Region", "Node"]
    """What ``from`` and ``to`` name."""
    from_: Annotated[ShortText, Field(alias="from", min_length=1)]
    """One end."""
    to: Annotated[ShortText, Field(min_length=1)]
    """The other end."""
    distance: Distance
    """Distance between them, 0..100."""


class MeasuredQuery(ApiModel):
    """A PromQL query giving one value per pair of zones (labels ``source_zone`` and
    ``destination_zone``, or the label names below), normalized to 0..100 between ``best`` and ``worst``."""

    query: PromQL
    """The PromQL query."""
    source_label: Annotated[str, StringConstraints(max_length=63)] = "source_zone"
    """Label naming the first end."""
    destination_label: Annotated[str, StringConstraints(max_length=63)] = "destination_zone"
    """Label naming the second end."""
    best: float = 0.0
    """Value that maps to distance 0."""
    worst: float
    """Value that maps to distance 100."""
    weight: Annotated[float, Field(ge=0)] = 1.0
    """Weight of this measurement in the combined distance."""


class Measurements(ApiModel):
    """Measured network quality that refines the defaults."""

    latency: MeasuredQuery | None = None
    """Round-trip latency between zones."""
    bandwidth: MeasuredQuery | None = None
    """Available bandwidth between zones (use ``best`` > ``worst``)."""
    loss: MeasuredQuery | None = None
    """Packet loss between zones."""
    refresh_interval: Duration = "5m"
    """How often the measurements are re-read."""


class NetworkTopologySpec(ApiModel):
    """Desired state of a ``NetworkTopology``."""

    levels: DistanceLevels = Field(
        default_factory=DistanceLevels,
        # The full object, not {}: CEL rules validate a default as written, before nested defaulting.
        json_schema_extra={"default": dict(DEFAULT_LEVELS)},
    )
    """Default distances by level."""
    zone_label: Annotated[str, StringConstraints(min_length=1, max_length=253)] = ZONE_LABEL
    """Node label holding the zone."""
    region_label: Annotated[str, StringConstraints(min_length=1, max_length=253)] = REGION_LABEL
    """Node label holding the region."""
    overrides: Annotated[list[DistanceOverride], Field(max_length=1024)] = []
    """Explicit distances that replace the level defaults for specific pairs."""
    measurements: Measurements | None = None
    """Measured latency, bandwidth and loss from Prometheus."""


class MatrixStatus(ApiModel):
    """The effective zone-to-zone distance matrix."""

    zones: Annotated[list[ShortText], Field(max_length=256)] = []
    """Zone names, in the order of the matrix rows and columns."""
    distances: Annotated[list[Annotated[list[Distance], Field(max_length=256)]], Field(max_length=256)] = []
    """Row-major matrix of distances between zones."""


class NetworkTopologyStatus(ApiModel):
    """Observed state of a ``NetworkTopology``."""

    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """The ``.metadata.generation`` this status describes."""
    conditions: Conditions = []
    """``Ready`` and ``MeasurementsAvailable``."""
    matrix: MatrixStatus | None = None
    """Effective distances between zones."""
    measured_at: datetime | None = None
    """When the measurements were last read."""


NETWORK_TOPOLOGY = Kind(
    info=ResourceInfo(
        kind="NetworkTopology",
        plural="networktopologies",
        scope="Cluster",
        short_names=("ntopo",),
        printer_columns=(
            PrinterColumn("Same-Zone", "integer", ".spec.levels.sameZone"),
            PrinterColumn("Same-Region", "integer", ".spec.levels.sameRegion"),
            PrinterColumn("Cross-Region", "integer", ".spec.levels.crossRegion"),
            PrinterColumn("Measured", "date", ".status.measuredAt"),
            AGE_COLUMN,
        ),
    ),
    spec=NetworkTopologySpec,
    status=NetworkTopologyStatus,
    description="Network distances between nodes, zones and regions used for placement.",
)
