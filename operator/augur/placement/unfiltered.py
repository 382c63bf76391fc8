"""Scores for a kube-scheduler that does not call the extender's filter verb.

The shipped scheduler configuration calls ``prioritize`` only (one HTTP call per pod instead of two:
``docs/placement.md``, "Scheduler verbs"). Kube-scheduler then never asks whether a node breaks a workload's
hard rules (``requiredAvoidance``, ``maxDistance``), so :func:`score_unfiltered` does the most a score can:
nodes :func:`~augur.placement.filter.filter_nodes` fails score 0, and the passing ones are normalized among
themselves (the best passing node gets the top score) and score at least 1, above every failing node.
kube-scheduler adds ``score x weight x 10`` to its own plugins' totals, so a failing node is strongly
disfavoured but can still be chosen (for example when no passing node fits); only the filter verb
guarantees the rules. The extender and the simulator both call this function, and the extender counts
every such pod (``augur_extender_hard_rules_unfiltered``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from augur.placement.config import ScoringConfig
from augur.placement.context import Snapshot
from augur.placement.filter import filter_nodes, has_hard_rules
from augur.placement.model import PodInfo
from augur.placement.scoring import DEFAULT_CONFIG, ScoreResult, normalize, score_nodes


def score_unfiltered(
    pod: PodInfo,
    snapshot: Snapshot,
    node_names: Sequence[str] | None = None,
    config: ScoringConfig = DEFAULT_CONFIG,
) -> ScoreResult:
    """:func:`~augur.placement.scoring.score_nodes`, with every node the pod's hard rules fail scored 0 and
    the others normalized among themselves, at least 1; the same result as ``score_nodes`` when the pod's workload has
    no hard rules or every node passes."""
    result = score_nodes(pod, snapshot, node_names, config)
    if not has_hard_rules(snapshot.rulebook.get(pod.workload)) or not len(result.nodes):
        return result
    return steer(result, filter_nodes(pod, snapshot, result.nodes).failed, config)


def steer(result: ScoreResult, failed: Mapping[str, str], config: ScoringConfig = DEFAULT_CONFIG) -> ScoreResult:
    """``result`` with the nodes in ``failed`` (:attr:`~augur.placement.filter.FilterResult.failed`) scored 0
    and the others normalized among themselves, at least 1 (``result`` itself when none of its nodes failed).
    For a caller that has filtered already (the extender's ``/debug/explain``)."""
    if not failed:  # prioritize's common case: no per-node pass
        return result
    passing = np.fromiter((n not in failed for n in result.nodes), dtype=bool, count=len(result.nodes))
    if passing.all():
        return result
    scores = np.zeros(len(result.nodes), dtype=np.int64)
    scores[passing] = np.maximum(normalize(result.total[passing], config.normalization), 1)
    return replace(result, scores=scores)
