"""Constants and array types that every layer shares (one home; it imports nothing of Augur, so the API
models, the pure layers, the extender and the local control plane all import from here).

Constants of one layer live with it: placement scoring's in :mod:`augur.placement.constants`.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

import numpy as np
import numpy.typing as npt

# -- Kubernetes' well-known node labels that Augur reads --------------------------------------------------
ZONE_LABEL: Final = "topology.kubernetes.io/zone"
REGION_LABEL: Final = "topology.kubernetes.io/region"
HOSTNAME_LABEL: Final = "kubernetes.io/hostname"

# -- Augur's own names on other objects ---------------------------------------------------------------------
PLAN_GATE: Final = "augur.dev/plan"
"""Scheduling gate (``spec.schedulingGates``) a pod template may carry so that its pods wait for the extender's
pending-pod plan before kube-scheduler sees them (:mod:`augur.placement.gate`)."""
PLAN_GATE_WEBHOOK_PATH: Final = "/admission/plan-gate"
"""Where the extender serves the plan gate's admission webhook (the chart's ``MutatingWebhookConfiguration``)."""
PLAN_GATE_OPT_OUT: Final = "augur.dev/plan-gate"
"""Pod label: with the value ``"off"`` the extender's admission webhook never adds the plan gate to the pod."""
GATE_KEEPER_LABEL: Final = "augur.dev/gate-keeper"
"""Label (value ``"true"``) the extender replica holding the gate keeper's Lease puts on its own pod, and removes
when it stops leading: the chart's ``<release>-extender-gate-keeper`` Service selects it, so kube-scheduler's
calls are scored by the replica whose plan pods are let through by (:mod:`augur_extender.leadership`)."""

# -- network distances --------------------------------------------------------------------------------------
MAX_DISTANCE: Final = 100
"""Network distances lie in ``0..MAX_DISTANCE`` (0 = free, 100 = most expensive)."""
SAME_NODE_DISTANCE: Final = 0
SAME_ZONE_DISTANCE: Final = 10
SAME_REGION_DISTANCE: Final = 40
CROSS_REGION_DISTANCE: Final = MAX_DISTANCE
DEFAULT_LEVELS: Final = MappingProxyType(
    {
        "sameNode": SAME_NODE_DISTANCE,
        "sameZone": SAME_ZONE_DISTANCE,
        "sameRegion": SAME_REGION_DISTANCE,
        "crossRegion": CROSS_REGION_DISTANCE,
    }
)
"""The default distance levels as a ``NetworkTopology`` (and a scenario file) spells them."""

# -- array types --------------------------------------------------------------------------------------------
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Float32Array = npt.NDArray[np.float32]
