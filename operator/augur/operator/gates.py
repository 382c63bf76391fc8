"""The plan gate's backstop: releases pods held at ``augur.dev/plan`` far longer than any extender would hold
them.

The extender lets gated pods through within ``plan.gateSeconds`` (30 s by default;
:mod:`augur_extender.gatekeeper`). When no extender runs (not installed, crashed, its RBAC missing), nothing
would: the pods would never be scheduled. Every :func:`interval` seconds this loop lists the unscheduled pods
that carry the gate (in ``AUGUR_NAMESPACES``, else the whole cluster), removes the gate from those created at
least ``AUGUR_PLAN_GATE_BACKSTOP_SECONDS`` ago (:func:`augur.placement.gate.overdue`), and posts a Warning
Event ``PlanGateReleased`` on each. With leader election only the leader acts. A failed list or patch is
logged and tried again at the next pass.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from kubernetes import client

from augur.kube.client import KubeError
from augur.kube.events import post_event
from augur.kube.pods import plan_gated_pods, remove_plan_gate
from augur.operator import metrics
from augur.operator.leader import LEADERSHIP
from augur.operator.settings import SETTINGS
from augur.placement.gate import HeldPod, overdue

log = logging.getLogger("augur.operator.gates")

LEAST_INTERVAL_SECONDS = 5.0


def interval(backstop: float) -> float:
    """Seconds between two passes: a quarter of the backstop, at least :data:`LEAST_INTERVAL_SECONDS`."""
    return max(LEAST_INTERVAL_SECONDS, backstop / 4)


def release_overdue(api: client.ApiClient, backstop: float, namespaces: tuple[str, ...] = ()) -> list[HeldPod]:
    """One pass: the pods whose gate was removed (a pod gone meanwhile is skipped)."""
    released: list[HeldPod] = []
    for pod in overdue(plan_gated_pods(api, namespaces), time.time(), backstop):
        try:
            if not remove_plan_gate(api, pod.namespace, pod.name):
                continue
        except KubeError as exc:
            log.warning(f"cannot release pod {pod.namespace}/{pod.name} from the plan gate: {exc}")
            continue
        released.append(pod)
        metrics.PLAN_GATE_RELEASES.inc()
        message = (
            f"held at the augur.dev/plan scheduling gate for more than {backstop:g} s: released by the operator "
            "(is the Augur scheduler extender running, with patch on pods?)"
        )
        log.warning(f"pod {pod.namespace}/{pod.name}: {message}")
        post_event(
            client.CoreV1Api(api), "Pod", pod.name, pod.uid, "Warning", "PlanGateReleased", message,
            pod.namespace, api_version="v1",
        )  # fmt: skip
    return released


async def backstop_loop(memo: Any) -> None:
    """Every :func:`interval` seconds, :func:`release_overdue` (on the leader only)."""
    backstop = SETTINGS.plan_gate_backstop_seconds
    while True:
        await asyncio.sleep(interval(backstop))
        if not LEADERSHIP.may_act():
            continue
        try:
            await asyncio.to_thread(release_overdue, memo["api"], backstop, SETTINGS.namespaces)
        except KubeError as exc:
            log.warning(f"cannot list pods held at the plan gate, retrying at the next pass: {exc}")
