"""kopf indexes of everything that may scale a workload, keyed by its target (read by
:func:`augur.operator.conflicts.indexed_claims`). Watches, not per-cadence lists: the API server is not
asked again on every decision. The ScaledObject index watches only while ``keda.sh/v1alpha1`` is served
(kopf picks the CRD up when it appears); the WorkloadProfile index ignores the shard selector on purpose.
"""

from __future__ import annotations

from typing import Any

import kopf

from augur.api import GROUP, VERSION
from augur.kube.autoscalers import HPA, SCALED_OBJECT, WORKLOAD_PROFILE, ScaleClaim, TargetKey, claim_from_body


def _index(kind: str, body: kopf.Body) -> dict[TargetKey, ScaleClaim] | None:
    claim = claim_from_body(kind, dict(body))
    return None if claim is None else {claim.target: claim}


@kopf.index("autoscaling", "v2", "horizontalpodautoscalers")
def augur_hpa_claims(body: kopf.Body, **_: Any) -> dict[TargetKey, ScaleClaim] | None:
    return _index(HPA, body)


@kopf.index("keda.sh", "v1alpha1", "scaledobjects")
def augur_scaledobject_claims(body: kopf.Body, **_: Any) -> dict[TargetKey, ScaleClaim] | None:
    return _index(SCALED_OBJECT, body)


@kopf.index(GROUP, VERSION, "workloadprofiles")
def augur_profile_claims(body: kopf.Body, **_: Any) -> dict[TargetKey, ScaleClaim] | None:
    return _index(WORKLOAD_PROFILE, body)
