"""kwok's configuration for the local cluster: options, and the Stages that fake the kubelet.

The Stages are the ones shipped in the kwok module (``build-tools.sh`` fetches ``kustomize/stage``:
nodes Ready with heartbeats, pods Ready, Complete and Deleted). One change: the ``pod-ready`` Stage
gets a **startup delay** (kwok's ``spec.delay``), so a new pod stays ``Pending`` and not Ready for a
while, like a real one pulling its image and passing its readiness probe.

* Per cluster: :attr:`ClusterConfig.pod_ready_delay <augur.devcluster.cluster.ClusterConfig>`
  ``(low, high)`` in seconds; each pod waits a uniformly random time in ``[low, high)``
  (kwok: ``durationMilliseconds`` = low, ``jitterDurationMilliseconds`` = high). ``None`` (the default)
  keeps pods becoming Ready within about a second.
* Per pod, in any cluster: the annotations :data:`DELAY_ANNOTATION` and :data:`DELAY_MAX_ANNOTATION`
  (Go durations such as ``"3s"``), kwok's own convention. Set both (``delay <= max``): when only the
  first is set and the cluster has a range, kwok uses the smaller of the two values.
"""

from __future__ import annotations

from typing import Any

import yaml

POD_CIDR = "10.128.0.0/12"
# kwok's defaults are only filled in by kwokctl, so a standalone kwok needs them spelled out.
KWOK_OPTIONS = {
    "manageAllNodes": False,
    "manageNodesWithAnnotationSelector": "kwok.x-k8s.io/node=fake",
    "manageNodesWithLabelSelector": "",
    "manageSingleNode": "",
    "cidr": POD_CIDR,
    "nodeIP": "10.127.0.1",
    "nodeLeaseDurationSeconds": 40,
    "nodeLeaseParallelism": 4,
    "podPlayStageParallelism": 4,
    "nodePlayStageParallelism": 4,
    "podsOnNodeSyncParallelism": 4,
    "enablePodsOnNodeSyncListPager": False,
    "enablePodsOnNodeSyncStreamWatch": True,
}
READY_STAGE = "pod-ready"
DELAY_ANNOTATION = "pod-ready.stage.kwok.x-k8s.io/delay"
DELAY_MAX_ANNOTATION = "pod-ready.stage.kwok.x-k8s.io/jitter-delay"


def ready_delay(low: float | None = None, high: float | None = None) -> dict[str, Any]:
    """kwok ``spec.delay`` for the pod-ready Stage: the cluster's range, overridable per pod."""
    delay: dict[str, Any] = {
        "durationMilliseconds": round((low or 0.0) * 1000),
        "durationFrom": {"expressionFrom": f'.metadata.annotations["{DELAY_ANNOTATION}"]'},
        "jitterDurationFrom": {"expressionFrom": f'.metadata.annotations["{DELAY_MAX_ANNOTATION}"]'},
    }
    if high is not None:
        delay["jitterDurationMilliseconds"] = round(high * 1000)
    return delay


def render_config(stages_yaml: str, pod_ready_delay: tuple[float, float] | None = None) -> str:
    """The ``--config`` file for kwok: options, then every shipped Stage (pod-ready with its delay)."""
    if pod_ready_delay is not None:
        low, high = pod_ready_delay
        if not 0 <= low <= high:
            raise ValueError(f"pod_ready_delay must be (low, high) with 0 <= low <= high, got {pod_ready_delay}")
    header = {"kind": "KwokConfiguration", "apiVersion": "config.kwok.x-k8s.io/v1alpha1", "options": KWOK_OPTIONS}
    docs: list[Any] = [header]
    found = False
    for stage in yaml.safe_load_all(stages_yaml):
        if not stage:
            continue
        if stage.get("kind") == "Stage" and stage["metadata"]["name"] == READY_STAGE:
            stage["spec"]["delay"] = ready_delay(*(pod_ready_delay or (None, None)))
            found = True
        docs.append(stage)
    if not found:
        raise ValueError(f"kwok stages have no {READY_STAGE!r} Stage; rebuild the tools (build-tools.sh)")
    return yaml.safe_dump_all(docs, sort_keys=False)


def delay_annotations(low: float, high: float) -> dict[str, str]:
    """Pod annotations for a startup delay uniformly random in ``[low, high)`` seconds."""
    if not 0 <= low <= high:
        raise ValueError(f"need 0 <= low <= high, got {low}, {high}")
    return {DELAY_ANNOTATION: f"{low:g}s", DELAY_MAX_ANNOTATION: f"{high:g}s"}
