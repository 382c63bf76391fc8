"""Pods running where their workload's hard rules say they must not (pure).

kube-scheduler keeps pods off such nodes only when it calls the extender's filter verb. The shipped
configuration does not (one call per pod; the rules then only steer, ``augur.placement.unfiltered``), and
with ``ignorable: true`` no configuration does while the extender is down. A pod placed then may run on a
node its workload avoids with ``requiredAvoidance`` or beyond a dependency's ``maxDistance``; the rebalancer
moves it (reason ``HardRule``) to a node that passes, judged by the same ``filter_nodes`` as the extender.
"""

from __future__ import annotations

from collections.abc import Iterator

from augur.migration.snapshot import PodState
from augur.migration.working import Working
from augur.placement.filter import filter_nodes, has_hard_rules


def explain(pod: PodState, source: str, why: str, target: str, score: float, options: int) -> str:
    return (
        f"{pod.key} runs on {source}, which its workload's hard rules exclude ({why}): placed while "
        f"kube-scheduler did not call the extender's filter verb. Moving it to {target}, the node the extender's "
        f"scoring ranks first ({score:.0f}/100) among {options} node(s) that pass the rules and have room."
    )


def violations(work: Working) -> Iterator[tuple[PodState, str]]:
    """Every pod on a node its workload's hard rules fail, with the reasons, in the working set's pod order.
    A pod is judged when it is reached, against the working set as it is then (moves made for earlier pods
    included: a pod whose avoided peer has just left is no longer in breach) and without itself (its own
    replicas elsewhere still count)."""
    for pod in work.pods:
        if not has_hard_rules(work.rulebook.get(pod.workload)):
            continue
        node = work.names[work.at[pod.key]]
        failed = filter_nodes(work.pod_info(pod), work.placement(without=pod), [node]).failed
        if node in failed:
            yield pod, failed[node]
