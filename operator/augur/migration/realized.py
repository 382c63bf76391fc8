"""The gain a finished move realized, measured on the cluster as it is now (pure).

A move's *measured gain* compares the cluster now (the replacement running where it landed, loads as the
rebalancer reads them: measured use or requests) with the same cluster with that one pod back on the
node it left, through the rebalancer's own figures (:class:`augur.migration.working.Working`: node-load
standard deviation over the schedulable nodes, network cost from :mod:`augur.placement`'s search
engine). Positive means the move helped. Measuring each move against its own counterfactual keeps moves
of one wave apart (a before/after of the whole pool would credit every move with all of them).
"""

from __future__ import annotations

from dataclasses import dataclass

from augur.migration.snapshot import ClusterSnapshot
from augur.migration.working import Working


@dataclass(frozen=True)
class Realized:
    kind: str
    """``NodeLoadStdDev`` (fraction of node capacity) or ``NetworkCost`` (placement scoring units)."""
    value: float


def realized_gain(snapshot: ClusterSnapshot, pod_key: str, source: str, kind: str) -> Realized | None:
    """The gain of having moved ``pod_key`` (``namespace/name`` of the pod running now) off ``source``;
    None when the pod or the source node is not in the snapshot, or the pod runs on ``source``."""
    work = Working(snapshot.canonical())
    pod = next((p for p in work.pods if p.key == pod_key), None)
    if pod is None or source not in work.pos or work.names[work.at[pod.key]] == source:
        return None
    now = work.figures()
    work.move(pod, work.pos[source])
    back = work.figures()
    if kind == "NetworkCost":
        return Realized(kind, back.network_cost - now.network_cost)
    return Realized("NodeLoadStdDev", back.stddev - now.stddev)
