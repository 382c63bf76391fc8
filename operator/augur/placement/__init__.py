"""Network-, traffic- and affinity-aware placement scoring (pure: no I/O).

The scheduler extender, the rebalancer and the placement simulator all call :func:`score_nodes` and
:func:`filter_nodes` on a :class:`Snapshot` (:func:`score_unfiltered` where kube-scheduler does not call the
filter verb); every score comes with its per-node breakdown.
"""

from augur.placement.config import ScoringConfig, parse_config
from augur.placement.constants import MAX_PRIORITY, NEUTRAL_SCORE
from augur.placement.context import Snapshot
from augur.placement.convert import rules_from_api, topology_from_api
from augur.placement.filter import FilterResult, filter_nodes, has_hard_rules
from augur.placement.model import (
    DependencyRule,
    NodeInfo,
    Occupancy,
    PeerPlacement,
    PodInfo,
    RuleBook,
    WorkloadRules,
    workload_key,
)
from augur.placement.scoring import ScoreResult, normalize, score_nodes
from augur.placement.table import NodeTable
from augur.placement.topology import DistanceLevels, TopologyModel
from augur.placement.unfiltered import score_unfiltered, steer

__all__ = [
    "MAX_PRIORITY",
    "NEUTRAL_SCORE",
    "DependencyRule",
    "DistanceLevels",
    "FilterResult",
    "NodeInfo",
    "NodeTable",
    "Occupancy",
    "PeerPlacement",
    "PodInfo",
    "RuleBook",
    "ScoreResult",
    "ScoringConfig",
    "Snapshot",
    "TopologyModel",
    "WorkloadRules",
    "filter_nodes",
    "has_hard_rules",
    "normalize",
    "parse_config",
    "rules_from_api",
    "score_nodes",
    "score_unfiltered",
    "steer",
    "topology_from_api",
    "workload_key",
]
