"""``ScalingPolicy``: how far Augur may act on its forecasts for the profiles that reference it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from augur.api.meta import AGE_COLUMN, ApiModel, Conditions, Duration, Kind, PrinterColumn, ResourceInfo

Mode = Literal["Off", "ForecastOnly", "Auto"]
Fallback = Literal["Hold", "Reactive", "MinReplicas"]


class ScaleRule(ApiModel):
    """Limits on one direction of scaling, in the spirit of the HPA's ``behavior``."""

    max_step_percent: Annotated[int, Field(ge=1, le=1000)] = 100
    """Largest change in one step, as a percentage of current replicas."""
    max_step_pods: Annotated[int, Field(ge=1, le=10000)] = 4
    """Largest change in one step, in pods (the larger of the two limits applies)."""
    stabilization_window: Duration = "0s"
    """Window whose most conservative recommendation wins."""


def _scale_down_default() -> ScaleRule:
    return ScaleRule(stabilization_window="5m")


class Behavior(ApiModel):
    """Step limits and stabilization for scale-up and scale-down."""

    scale_up: ScaleRule = Field(default_factory=ScaleRule, json_schema_extra={"default": {}})
    """Limits on scaling out."""
    scale_down: ScaleRule = Field(
        default_factory=_scale_down_default, json_schema_extra={"default": {"stabilizationWindow": "5m"}}
    )
    """Limits on scaling in."""


class CostWeights(ApiModel):
    """What over- and under-provisioning cost, for the online headroom learner."""

    replica_hour: Annotated[float, Field(ge=0)] = 1.0
    """Cost of one replica running for one hour."""
    under_provisioned_minute: Annotated[float, Field(ge=0)] = 10.0
    """Cost of one minute with demand above ready capacity."""


class ScalingPolicySpec(ApiModel):
    """Desired state of a ``ScalingPolicy``."""

    mode: Mode = "ForecastOnly"
    """``Off``: nothing is computed; ``ForecastOnly``: decisions are computed and reported, never applied
    (the default, to earn trust first); ``Auto``: Augur scales through ``/scale``."""
    min_replicas: Annotated[int, Field(ge=0, le=100000)] = 1
    """Fewest replicas Augur will ask for. Zero is only honoured together with ``allowScaleToZero``."""
    max_replicas: Annotated[int, Field(ge=1, le=100000)]
    """Most replicas Augur will ask for."""
    allow_scale_to_zero: bool = False
    """Permit ``minReplicas: 0``; never reached because of missing metrics."""
    target_utilization: Annotated[float, Field(gt=0, le=1)] = 0.8
    """Share of a replica's capacity to plan for."""
    lead_time: Duration | Literal["auto"] = "2m"
    """How long a new replica takes to become ready; ``auto`` learns it from observed rollouts."""
    safety_quantile: Annotated[float, Field(ge=0.5, le=0.999)] = 0.9
    """Forecast quantile to provision for, before the online learner adjusts it."""
    learn_headroom: bool = True
    """Let the cost learner adjust the quantile from observed outcomes."""
    allow_forecast_scale_in: bool = False
    """Allow scaling below what the reactive (HPA) formula asks when the forecast is confident."""
    scale_in_confidence: Annotated[float, Field(ge=0.5, le=0.999)] = 0.95
    """Confidence the forecast must have before a forecast-driven scale-in."""
    behavior: Behavior = Field(default_factory=Behavior, json_schema_extra={"default": {}})
    """Step limits and stabilization."""
    cost_weights: CostWeights = Field(default_factory=CostWeights, json_schema_extra={"default": {}})
    """Costs the headroom learner balances."""
    predictive: bool = True
    """``false`` makes the profiles reactive only: the HPA formula on the observed demand, with the same
    limits, stabilization and fallback (the baseline to compare Augur with; forecasts are still computed
    and reported in status)."""
    decision_interval: Duration = "30s"
    """How often Augur reads demand and decides (the cadence); the operator checks at most every
    ``AUGUR_RESYNC_SECONDS``."""
    headroom_budget: Annotated[float, Field(ge=0, le=10)] = 0.25
    """Most extra replica-hours the headroom learner may spend, as a share of what the reactive (HPA)
    formula alone would keep ready: ``0.25`` (the default, chosen on the development series of
    ``bench/datasets.py``) allows 25 % more. The learner follows the quantile with the
    lowest cost (``costWeights``) among those within the budget; ``10`` leaves the choice to the weights."""
    history: Duration = "14d"
    """How much history to learn from."""
    refit_interval: Duration = "6h"
    """How often models are refit; between refits state is updated incrementally."""
    metrics_outage_fallback: Fallback = "Hold"
    """What to do when demand cannot be read: ``Hold`` keeps the current replicas, ``Reactive`` follows
    the reactive guard when it has data, ``MinReplicas`` falls back to ``minReplicas``. Never below
    ``minReplicas`` and never to zero."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.minReplicas <= self.maxReplicas",
                    "message": "minReplicas must be less than or equal to maxReplicas",
                    "fieldPath": ".minReplicas",
                },
                {
                    "rule": "self.minReplicas > 0 || self.allowScaleToZero",
                    "message": "minReplicas 0 requires allowScaleToZero: true",
                    "fieldPath": ".minReplicas",
                },
            ]
        }
    )

    @model_validator(mode="after")
    def _check_bounds(self) -> ScalingPolicySpec:
        # Mirrors the CEL rules so a stale CRD cannot let a bad policy through unnoticed.
        if self.min_replicas > self.max_replicas:
            raise ValueError("minReplicas must be less than or equal to maxReplicas")
        if self.min_replicas == 0 and not self.allow_scale_to_zero:
            raise ValueError("minReplicas 0 requires allowScaleToZero: true")
        return self


class ScalingPolicyStatus(ApiModel):
    """Observed state of a ``ScalingPolicy``."""

    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """The ``.metadata.generation`` this status describes."""
    conditions: Conditions = []
    """``Ready`` and related conditions."""
    profiles: Annotated[int, Field(ge=0)] | None = None
    """Number of ``WorkloadProfile``s using this policy."""


SCALING_POLICY = Kind(
    info=ResourceInfo(
        kind="ScalingPolicy",
        plural="scalingpolicies",
        scope="Namespaced",
        short_names=("sp",),
        printer_columns=(
            PrinterColumn("Mode", "string", ".spec.mode"),
            PrinterColumn("Min", "integer", ".spec.minReplicas"),
            PrinterColumn("Max", "integer", ".spec.maxReplicas"),
            PrinterColumn("Target", "number", ".spec.targetUtilization", "Target utilization"),
            PrinterColumn("Lead", "string", ".spec.leadTime"),
            AGE_COLUMN,
        ),
    ),
    spec=ScalingPolicySpec,
    status=ScalingPolicyStatus,
    description="How far Augur may act on its forecasts for the profiles that reference it.",
)
