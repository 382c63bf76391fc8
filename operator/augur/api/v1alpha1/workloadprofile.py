"""``WorkloadProfile``: which workload Augur looks after, its demand, dependencies and placement rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from augur.api.meta import (
    AGE_COLUMN,
    READY_COLUMNS,
    ApiModel,
    Conditions,
    Duration,
    Kind,
    LocalObjectReference,
    Name,
    PrinterColumn,
    PromQL,
    ResourceInfo,
    ShortText,
)
from augur.api.quantity import format_cpu, format_memory
from augur.api.v1alpha1.feeds import ExternalFeed
from augur.constants import ZONE_LABEL

ApiVersionText = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=r"^([a-z0-9.-]+/)?v[0-9a-z]+$")]
KindText = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=r"^[A-Z][A-Za-z0-9]*$")]
ZoneList = Annotated[list[ShortText], Field(max_length=64)]


class ScaleTargetRef(ApiModel):
    """The workload to scale: any object that serves the ``/scale`` subresource
    (Deployment, StatefulSet, ReplicaSet or a custom resource)."""

    api_version: ApiVersionText = "apps/v1"
    """API version of the target, for example ``apps/v1``."""
    kind: KindText
    """Kind of the target, for example ``Deployment``."""
    name: Name
    """Name of the target in the profile's namespace."""


class DemandMetric(ApiModel):
    """The demand the workload serves, read from Prometheus, and what one replica can take."""

    query: PromQL
    """PromQL for the workload's total demand (for example requests per second), one series."""
    capacity_per_replica: Annotated[float, Field(gt=0)]
    """Demand units one replica serves at 100% utilization."""
    unit: Annotated[str, StringConstraints(max_length=63)] = ""
    """Unit of the demand, for display only (for example ``req/s``)."""
    step: Duration = "1m"
    """Resolution at which demand history is read and forecast."""


class Dependency(ApiModel):
    """A workload this one talks to, with the traffic between them."""

    name: Name
    """Name of the peer's ``WorkloadProfile``."""
    namespace: Annotated[str, StringConstraints(max_length=63, pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$")] = ""
    """Namespace of the peer; empty means the profile's own namespace."""
    traffic: Annotated[float, Field(ge=0)] = 1.0
    """Relative traffic weight from this workload to the peer."""
    traffic_query: Annotated[str, StringConstraints(max_length=4096)] = ""
    """Optional PromQL measuring the traffic; when set it replaces ``traffic`` once data exists."""
    max_distance: Annotated[int, Field(ge=0, le=100)] | None = None
    """Hard limit: never place a replica farther than this network distance (0..100) from the nearest running
    peer pod. Enforced when kube-scheduler calls the extender's filter verb (``filterVerb``); the shipped
    configuration does not, and then nodes beyond it only score 0 (counted in
    ``augur_extender_hard_rules_unfiltered_total``)."""


class Placement(ApiModel):
    """Where replicas should and should not run. Preferences add or subtract score; ``avoid*`` with
    ``required`` filter nodes out."""

    prefer_zones: ZoneList = []
    """Zones that get a bonus."""
    avoid_zones: ZoneList = []
    """Zones that get a penalty (or are excluded when ``requiredAvoidance`` is true)."""
    prefer_regions: ZoneList = []
    """Regions that get a bonus."""
    avoid_regions: ZoneList = []
    """Regions that get a penalty (or are excluded when ``requiredAvoidance`` is true)."""
    avoid_nodes: ZoneList = []
    """Nodes that get a penalty (or are excluded when ``requiredAvoidance`` is true)."""
    colocate_with: Annotated[list[Name], Field(max_length=32)] = []
    """Names of ``WorkloadProfile``s whose nodes get a co-location bonus."""
    avoid_workloads: Annotated[list[Name], Field(max_length=32)] = []
    """Names of ``WorkloadProfile``s whose nodes get a penalty."""
    required_avoidance: bool = False
    """Treat every ``avoid*`` list as a hard rule instead of a penalty. Enforced when kube-scheduler calls the
    extender's filter verb (``filterVerb``); the shipped configuration does not, and then avoided nodes only
    score 0 (counted in ``augur_extender_hard_rules_unfiltered_total``)."""
    spread_topology_key: Annotated[str, StringConstraints(max_length=253)] = ZONE_LABEL
    """Node label across whose values replicas are spread."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.preferZones) || !has(self.avoidZones)"
                    " || !self.preferZones.exists(z, z in self.avoidZones)",
                    "message": "a zone cannot be both preferred and avoided",
                },
                {
                    "rule": "!has(self.preferRegions) || !has(self.avoidRegions)"
                    " || !self.preferRegions.exists(r, r in self.avoidRegions)",
                    "message": "a region cannot be both preferred and avoided",
                },
            ]
        }
    )


class WorkloadProfileSpec(ApiModel):
    """Desired state of a ``WorkloadProfile``."""

    scale_target_ref: ScaleTargetRef
    """The workload this profile describes and scales through ``/scale``."""
    policy_ref: LocalObjectReference | None = None
    """The ``ScalingPolicy`` in the same namespace; without one Augur only observes (mode ``ForecastOnly``)."""
    demand: DemandMetric | None = None
    """Where demand comes from; without it Augur cannot forecast, only place."""
    feeds: Annotated[
        list[ExternalFeed],
        Field(
            max_length=16,
            json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
        ),
    ] = []
    """External regressors for the forecast."""
    dependencies: Annotated[list[Dependency], Field(max_length=64)] = []
    """Workloads this one sends traffic to."""
    placement: Placement | None = None
    """Placement preferences and rules for the scheduler extender."""
    selector: Annotated[str, StringConstraints(max_length=1024)] = ""
    """Label selector of the workload's pods; empty means the one the target's ``/scale`` reports."""


class NextScaleUp(ApiModel):
    """A scale-up the forecast plans: ``replicas`` asked for at ``at`` so they are Ready in time."""

    at: datetime
    """When Augur expects to ask for more replicas (the need minus the lead time)."""
    replicas: Annotated[int, Field(ge=0)]
    """Replicas needed then."""


class ForecastSummary(ApiModel):
    """The latest forecast, condensed for ``kubectl``."""

    generated_at: datetime | None = None
    """When the forecast was computed."""
    model: Annotated[str, StringConstraints(max_length=63)] = ""
    """Model chosen by rolling-origin validation."""
    horizon_seconds: Annotated[int, Field(ge=0)] = 0
    """How far ahead the forecast looks."""
    peak_p50: float | None = None
    """Median forecast of the peak demand within the horizon."""
    peak_upper: float | None = None
    """Upper quantile of the peak demand within the horizon."""
    quantile: Annotated[float, Field(ge=0, le=1)] | None = None
    """The quantile ``peakUpper`` stands for (the cost learner's choice when it is on)."""
    peak_at: datetime | None = None
    """When the upper-quantile peak is expected."""
    rolling_error: Annotated[float, Field(ge=0)] | None = None
    """Mean absolute error of the lead-time forecast relative to mean demand, over about the last 60 steps."""
    next_scale_up: NextScaleUp | None = None
    """The first planned scale-up within the horizon, if the forecast needs one."""


class Fingerprint(ApiModel):
    """Compact behavioural profile of the demand series."""

    periods_seconds: Annotated[list[int], Field(max_length=8)] = []
    """Detected seasonal periods."""
    level: float | None = None
    """Typical demand."""
    trend: float | None = None
    """Trend in demand units per day."""
    noise: float | None = None
    """Relative noise around the seasonal shape."""
    burstiness: float | None = None
    """How spiky demand is (0 = smooth)."""


class Decision(ApiModel):
    """The most recent scaling decision and the numbers behind it."""

    time: datetime
    """When the decision was made."""
    desired_replicas: Annotated[int, Field(ge=0)]
    """Replicas Augur wants."""
    acted: bool = False
    """Whether Augur changed ``/scale`` (false in ``ForecastOnly``)."""
    reason: Annotated[str, StringConstraints(max_length=4096)] = ""
    """Human-readable explanation."""
    kind: Annotated[str, StringConstraints(max_length=32)] = ""
    """``Predictive`` (forecast), ``Reactive`` (policy ``predictive: false`` or no model yet) or
    ``Fallback`` (demand unavailable; the policy's ``metricsOutageFallback``)."""
    from_replicas: Annotated[int, Field(ge=0)] | None = None
    """Replicas the target asked for when the decision was made."""


class LearnedState(ApiModel):
    """Where what Augur learned about the workload is kept, so a restart continues without a cold start."""

    config_map: Annotated[str, StringConstraints(max_length=253)] = ""
    """ConfigMap (owned by this profile) holding the model, calibration, learner and anomaly state."""
    saved_at: datetime | None = None
    """When it was last written."""
    restored_at: datetime | None = None
    """When this operator process restored it (empty: started from scratch)."""
    model: Annotated[str, StringConstraints(max_length=63)] = ""
    """Model in the saved state."""
    fitted_at: datetime | None = None
    """When the model was last (re)fitted."""
    fit_points: Annotated[int, Field(ge=0)] | None = None
    """History points the last fit used."""
    safety_quantile: Annotated[float, Field(ge=0, le=1)] | None = None
    """Quantile the cost learner currently provisions for."""


class MeasuredLeadTime(ApiModel):
    """Lead time measured from the workload's own pods: the p90 of the last 20 creation-to-Ready times."""

    seconds: Annotated[float, Field(ge=0)] | None = None
    """The measured lead time; empty until 3 pods were seen becoming Ready."""
    samples: Annotated[list[Annotated[float, Field(ge=0)]], Field(max_length=20)] = []
    """Creation-to-Ready seconds of the last pods counted, oldest first."""
    newest_ready_at: datetime | None = None
    """When the newest counted pod became Ready (pods are counted once)."""
    used: bool = False
    """Whether the decision uses it (the policy's ``leadTime`` is ``auto``)."""


class MeasuredTraffic(ApiModel):
    """Traffic to one dependency as measured by its ``trafficQuery``."""

    name: Name
    """Name of the peer's `WorkloadProfile`."""
    namespace: Annotated[str, StringConstraints(max_length=63)] = ""
    """Namespace of the peer; empty means the profile's own namespace."""
    traffic: Annotated[float, Field(ge=0)]
    """Measured traffic (the sum of the query's samples); replaces the spec's weight for placement."""
    measured_at: datetime
    """When it was measured."""


Quantity = Annotated[str, StringConstraints(max_length=32, pattern=r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?$")]


class PodRequests(ApiModel):
    """What one pod of the target requests, as kube-scheduler counts it (``augur.api.quantity``)."""

    cpu: Quantity
    """CPU, in whole millicores rounded up (for example ``250m``)."""
    memory: Quantity
    """Memory, in whole kibibytes rounded up (for example ``524288Ki``)."""

    @classmethod
    def of(cls, cpu: float, memory: float) -> PodRequests:
        """From cores and GiB (:func:`augur.api.quantity.pod_requests`)."""
        return cls(cpu=format_cpu(cpu), memory=format_memory(memory))


class WorkloadProfileStatus(ApiModel):
    """Observed state of a ``WorkloadProfile``."""

    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """The ``.metadata.generation`` this status describes."""
    conditions: Conditions = []
    """``Ready`` (target and policy resolved), ``MetricsAvailable`` (demand readable), ``Scaling`` (whether
    Augur acts, and how), ``TrafficMeasured``; ``Conflict`` is reserved for another autoscaler on the target."""
    target_kind: Annotated[str, StringConstraints(max_length=63)] = ""
    """Resolved kind of the scale target."""
    selector: Annotated[str, StringConstraints(max_length=1024)] = ""
    """Label selector of the workload's pods, from the target's ``/scale``."""
    pod_requests: PodRequests | None = None
    """Requests of one pod, from the target's pod template (Deployment and StatefulSet only; other kinds
    leave it out): the scheduler extender plans the workload's pods at this size until it sees one of them."""
    current_replicas: Annotated[int, Field(ge=0)] | None = None
    """Replicas the target's ``/scale`` reports."""
    desired_replicas: Annotated[int, Field(ge=0)] | None = None
    """Replicas Augur's latest decision asks for."""
    mode: Annotated[str, StringConstraints(max_length=32)] = ""
    """Effective mode from the policy (``Off``, ``ForecastOnly``, ``Auto``)."""
    fingerprint: Fingerprint | None = None
    """Behavioural profile of the demand."""
    forecast: ForecastSummary | None = None
    """Latest forecast."""
    anomaly_score: Annotated[float, Field(ge=0, le=1)] | None = None
    """Latest streaming anomaly score (0 normal, 1 highly anomalous)."""
    last_decision: Decision | None = None
    """The most recent scaling decision."""
    ready_replicas: Annotated[int, Field(ge=0)] | None = None
    """Ready replicas of the target (its ``status.readyReplicas``, else the ``/scale`` count)."""
    demand: float | None = None
    """Latest demand read from ``spec.demand.query``."""
    lead_time_seconds: Annotated[float, Field(ge=0)] | None = None
    """Time a new replica needs to become Ready, as used by the decision (the policy's ``leadTime``)."""
    learned: LearnedState | None = None
    """Persisted learned state."""
    measured_lead_time: MeasuredLeadTime | None = None
    """Lead time measured from the workload's pods; used with ``leadTime: auto``, reported otherwise."""
    traffic: Annotated[list[MeasuredTraffic], Field(max_length=64)] = []
    """Measured traffic per dependency that has a `trafficQuery` (the last good value is kept on failure)."""


WORKLOAD_PROFILE = Kind(
    info=ResourceInfo(
        kind="WorkloadProfile",
        plural="workloadprofiles",
        scope="Namespaced",
        short_names=("wp",),
        printer_columns=(
            PrinterColumn("Target", "string", ".spec.scaleTargetRef.name", "Workload scaled through /scale"),
            PrinterColumn("Kind", "string", ".status.targetKind", priority=1),
            PrinterColumn("Policy", "string", ".spec.policyRef.name"),
            PrinterColumn("Mode", "string", ".status.mode"),
            PrinterColumn("Replicas", "integer", ".status.currentReplicas"),
            PrinterColumn("Desired", "integer", ".status.desiredReplicas"),
            PrinterColumn("Model", "string", ".status.forecast.model", priority=1),
            PrinterColumn("Peak", "number", ".status.forecast.peakUpper", "Forecast peak (upper quantile)", 1),
            PrinterColumn("Lead", "number", ".status.leadTimeSeconds", "Lead time in seconds", 1),
            PrinterColumn("Metrics", "string", '.status.conditions[?(@.type=="MetricsAvailable")].status', priority=1),
            *READY_COLUMNS,
            AGE_COLUMN,
        ),
    ),
    spec=WorkloadProfileSpec,
    status=WorkloadProfileStatus,
    description="How Augur profiles, forecasts, scales and places one workload.",
)
