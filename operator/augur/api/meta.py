"""Building blocks shared by every Augur API type.

The pydantic models in :mod:`augur.api` are the single source of truth for the CRDs
(see :mod:`augur.api.crdgen`): field docstrings become schema descriptions, defaults and
bounds become OpenAPI defaults and bounds, and ``x-kubernetes-validations`` entries in a
model's ``json_schema_extra`` become CEL rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

GROUP = "augur.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d|w))+$"
CONDITION_REASON = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"

Name = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN)]
LabelName = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=DNS_LABEL)]
Duration = Annotated[str, StringConstraints(max_length=64, pattern=DURATION)]
PromQL = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
ShortText = Annotated[str, StringConstraints(max_length=253)]


class ApiModel(BaseModel):
    """Base of every spec and status model: camelCase on the wire, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        serialize_by_alias=True,
    )


class Condition(ApiModel):
    """A ``metav1.Condition``: one aspect of the object's state."""

    type: Annotated[str, StringConstraints(min_length=1, max_length=316)]
    """Type of the condition in CamelCase, for example ``Ready`` or ``MetricsAvailable``."""
    status: Literal["True", "False", "Unknown"]
    """Status of the condition: True, False or Unknown."""
    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """The ``.metadata.generation`` the condition was set from."""
    last_transition_time: datetime
    """When the condition last changed from one status to another."""
    reason: Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=CONDITION_REASON)]
    """A programmatic CamelCase identifier of the condition's last transition."""
    message: Annotated[str, StringConstraints(max_length=32768)] = ""
    """A human-readable message with details about the transition."""


def parse_time(value: Any) -> datetime | None:
    """A Kubernetes timestamp (RFC 3339, ``2026-12-06T19:05:46Z``, or ``metav1.MicroTime``'s
    ``...46.123456Z``) as an aware datetime; ``None`` when empty or unreadable. The one reader of API
    timestamps: callers decide what a missing or unreadable one means."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def epoch_seconds(value: Any) -> float | None:
    """:func:`parse_time` in epoch seconds."""
    moment = parse_time(value)
    return None if moment is None else moment.timestamp()


Conditions = Annotated[
    list[Condition],
    Field(
        max_length=16,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    ),
]


class LocalObjectReference(ApiModel):
    """A reference to an object in the same namespace."""

    name: Name
    """Name of the referenced object."""


@dataclass(frozen=True)
class PrinterColumn:
    """One ``additionalPrinterColumns`` entry."""

    name: str
    type: str
    json_path: str
    description: str = ""
    priority: int = 0
    format: str | None = None


@dataclass(frozen=True)
class ResourceInfo:
    """What the CRD says about a kind besides its schema."""

    kind: str
    plural: str
    scope: Literal["Namespaced", "Cluster"]
    short_names: tuple[str, ...] = ()
    printer_columns: tuple[PrinterColumn, ...] = ()
    categories: tuple[str, ...] = ("augur",)
    status_subresource: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"


READY_COLUMNS = (
    PrinterColumn("Ready", "string", '.status.conditions[?(@.type=="Ready")].status'),
    PrinterColumn("Reason", "string", '.status.conditions[?(@.type=="Ready")].reason'),
)
AGE_COLUMN = PrinterColumn("Age", "date", ".metadata.creationTimestamp")


@dataclass(frozen=True)
class Kind:
    """A top-level kind: what the CRD says about it, and its spec and status models."""

    info: ResourceInfo
    spec: type[ApiModel]
    status: type[ApiModel]
    description: str
