"""Movability rules: every reason a pod is never moved, and the opt-ins."""

from __future__ import annotations

from typing import Any

import pytest

from augur.migration.movability import available_by_controller, check_movable, controller_of, local_volumes


def pod(
    name: str = "web-1",
    kind: str = "ReplicaSet",
    annotations: dict[str, str] | None = None,
    volumes: list[dict[str, Any]] | None = None,
    ready: bool = True,
    **spec: Any,
) -> dict[str, Any]:
    owners = (
        [{"apiVersion": "apps/v1", "kind": kind, "name": "web-abc", "uid": "u1", "controller": True}] if kind else []
    )
    return {
        "metadata": {"name": name, "ownerReferences": owners, "annotations": annotations or {}},
        "spec": {"nodeName": "n1", "volumes": volumes or [], **spec},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def test_an_ordinary_replica_is_movable() -> None:
    assert check_movable(pod(), available=3).movable
    assert check_movable(pod(kind="StatefulSet"), available=2).reason == "Movable"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"kind": "DaemonSet"}, "DaemonSetPod"),
        ({"kind": ""}, "NoController"),
        ({"kind": "Job"}, "OwnerNotSupported"),
        ({"annotations": {"kubernetes.io/config.mirror": "x"}}, "MirrorPod"),
        ({"annotations": {"augur.dev/evict": "never"}}, "EvictionDisabled"),
        ({"annotations": {"augur.dev/evict": "Never"}}, "EvictionDisabled"),
        ({"volumes": [{"name": "data", "emptyDir": {}}]}, "LocalStorage"),
        ({"volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}]}, "LocalStorage"),
        ({"priorityClassName": "system-cluster-critical"}, "CriticalPod"),
    ],
)
def test_never_movable(changes: dict[str, Any], reason: str) -> None:
    verdict = check_movable(pod(**changes), available=5)
    assert not verdict.movable and verdict.reason == reason and "web-1" in verdict.message


def test_terminating_and_pending_pods_do_not_move() -> None:
    terminating = pod()
    terminating["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert check_movable(terminating, 3).reason == "PodTerminating"
    pending = pod()
    pending["status"]["phase"] = "Pending"
    assert check_movable(pending, 3).reason == "PodNotRunning"
    unbound = pod(nodeName="")
    assert check_movable(unbound, 3).reason == "PodNotRunning"


def test_memory_empty_dir_and_annotated_volumes_are_not_local_data() -> None:
    memory = pod(volumes=[{"name": "tmp", "emptyDir": {"medium": "Memory"}}, {"name": "cfg", "configMap": {}}])
    assert check_movable(memory, 3).movable
    annotated = pod(
        annotations={"augur.dev/safe-to-evict-local-volumes": "cache, scratch"},
        volumes=[{"name": "cache", "emptyDir": {}}, {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}],
    )
    assert check_movable(annotated, 3).movable
    partly = pod(
        annotations={"augur.dev/safe-to-evict-local-volumes": "cache"},
        volumes=[{"name": "cache", "emptyDir": {}}, {"name": "db", "emptyDir": {}}],
    )
    assert local_volumes(partly) == ["db"]


def test_last_available_replica_needs_opt_in() -> None:
    last = check_movable(pod(), available=1)
    assert not last.movable and last.reason == "LastAvailableReplica" and "evict-last-replica" in last.message
    assert check_movable(pod(annotations={"augur.dev/evict-last-replica": "true"}), available=1).movable


def test_available_counts_ready_pods_per_controller() -> None:
    pods = [pod("a"), pod("b"), pod("c", ready=False), pod("d", kind="")]
    assert available_by_controller(pods) == {"u1": 2}
    owner = controller_of(pods[0])
    assert owner is not None and (owner.kind, owner.name, owner.uid) == ("ReplicaSet", "web-abc", "u1")
