"""When a kwok node may take pods (``augur.devcluster.nodes.ready_for_pods``)."""

from __future__ import annotations

from typing import Any

from augur.devcluster.nodes import KWOK_TAINT, NodeSpec, node_manifest, ready_for_pods, uncordoned


def _node(ready: bool, *taints: dict[str, Any]) -> dict[str, Any]:
    node = node_manifest(NodeSpec("n0", "east-a", "east"))
    node["spec"]["taints"] = [KWOK_TAINT, *taints]
    node["status"]["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    return node


def test_a_node_takes_pods_once_ready_and_its_not_ready_taint_is_lifted() -> None:
    not_ready = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
    assert not ready_for_pods(_node(False))
    assert not ready_for_pods(_node(True, not_ready))  # Ready, but the lifecycle controller has not looked yet
    assert not ready_for_pods(_node(True, {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}))
    assert ready_for_pods(_node(True))
    # the harness's own taints and a cordon do not count: pods tolerate them, or the phase lifts them
    assert ready_for_pods(_node(True, {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}))
    assert not ready_for_pods({"metadata": {"name": "bare"}})  # no status yet


def test_a_node_is_uncordoned_once_the_cordon_taint_is_gone_too() -> None:
    node = _node(True)
    assert uncordoned(node)
    node["spec"]["unschedulable"] = True
    assert not uncordoned(node)
    del node["spec"]["unschedulable"]  # uncordoned in the API, but the lifecycle controller has not looked yet
    node["spec"]["taints"].append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
    assert not uncordoned(node)
