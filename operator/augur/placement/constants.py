"""Constants of placement: shared by its scoring, the planner, the extender and the simulators (one home;
what every layer shares, label keys and distances among them, is :mod:`augur.constants`).

Kubernetes facts (kube-scheduler's score scale and default plugin weights) are quoted from
``k8s.io/kube-scheduler`` and ``pkg/scheduler/apis/config/v1/default_plugins.go``; see
``docs/placement.md`` for what the simulator models.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from augur.constants import HOSTNAME_LABEL, ZONE_LABEL

EPS: Final = 1e-9
"""Tolerance of capacity checks and cost comparisons."""

MAX_PRIORITY: Final = 10
"""``MaxExtenderPriority``: the extender's scores are integers ``0..MAX_PRIORITY``."""
NEUTRAL_SCORE: Final = MAX_PRIORITY // 2
"""The extender's score when it has no opinion (no profile, unknown node, internal error)."""


DEFAULT_MAX_PODS: Final = 110.0
"""Pods a node accepts when its ``status.allocatable.pods`` is absent or unreadable (the kubelet's
default ``maxPods``)."""

UNPLACED_PENALTY: Final = 1e9
"""Cost of one pod left unplaced in the planner's and the offline search's objective."""

# --- kube-scheduler (v1.36) ---
MAX_NODE_SCORE: Final = 100
"""``framework.MaxNodeScore``: every score plugin returns ``0..100`` after normalization."""
EXTENDER_SCALE: Final = MAX_NODE_SCORE // MAX_PRIORITY
"""An extender's score is multiplied by its weight and by ``MaxNodeScore / MaxExtenderPriority``."""
DEFAULT_PLUGIN_WEIGHTS: Final = MappingProxyType(
    {
        "TaintToleration": 3,
        "NodeAffinity": 2,
        "NodeResourcesFit": 1,
        "PodTopologySpread": 2,
        "InterPodAffinity": 2,
        "NodeResourcesBalancedAllocation": 1,
        "ImageLocality": 1,
    }
)
"""Score weights of the default profile (``getDefaultPlugins``)."""
DEFAULT_SPREAD_CONSTRAINTS: Final = ((ZONE_LABEL, 5), (HOSTNAME_LABEL, 3))
"""PodTopologySpread's system default constraints ``(topologyKey, maxSkew)``, ``ScheduleAnyway``."""
NONZERO_CPU: Final = 0.1
"""Cores a container without a CPU request counts for in scoring (``DefaultMilliCPURequest`` 100m)."""
NONZERO_MEMORY: Final = 200 / 1024
"""GiB a container without a memory request counts for in scoring (``DefaultMemoryRequest`` 200 MiB)."""
SHIPPED_EXTENDER_WEIGHT: Final = 5
"""``weight`` of the extender in ``examples/scheduler/kube-scheduler-config.yaml`` (a unit test keeps
them equal); the simulator's as-deployed row uses it unless told otherwise."""
SHIPPED_EXTENDER_FILTER: Final = False
"""Whether ``examples/scheduler/kube-scheduler-config.yaml`` has kube-scheduler call the extender's filter verb
(``filterVerb``): no, one call per pod (``kube-scheduler-config-hard-rules.yaml`` adds it). Without it, hard
rules only steer (:func:`augur.placement.score_unfiltered`). A unit test keeps the two equal."""
