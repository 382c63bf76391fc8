"""What a replay runs (:class:`ReplayOptions`) and the extender entries it gives kube-scheduler
(:mod:`augur.devcluster.placement_replay`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from augur.placement.constants import SHIPPED_EXTENDER_WEIGHT

SHIPPED_EXTENDER: dict[str, Any] = {
    "prioritizeVerb": "prioritize",
    "weight": SHIPPED_EXTENDER_WEIGHT,
    "enableHTTPS": False,
    "nodeCacheCapable": True,
    "ignorable": True,
    "httpTimeout": "2s",
}
"""The extender entry of ``examples/scheduler/kube-scheduler-config.yaml`` without ``urlPrefix``
(a unit test keeps them equal): prioritize only (:data:`~augur.placement.constants.SHIPPED_EXTENDER_FILTER`)."""
HARD_RULES_EXTENDER: dict[str, Any] = {"filterVerb": "filter", **SHIPPED_EXTENDER}
"""The entry of ``examples/scheduler/kube-scheduler-config-hard-rules.yaml``: the shipped one with the filter verb."""
VARIANTS = ("augur", "default")
"""``augur``: kube-scheduler with the extender; ``default``: kube-scheduler alone."""


@dataclass(frozen=True)
class ReplayOptions:
    variants: tuple[str, ...] = VARIANTS
    node_order: tuple[int, ...] | None = None
    """Scenario node indices in the order the nodes are created and listed (``None``: the scenario's)."""
    bind_timeout: float = 30.0
    """Seconds a pod may stay pending without being marked unschedulable before the replay moves on."""
    search_rounds: int = 300
    extender: Mapping[str, Any] | None = None
    """Extender entry (without ``urlPrefix``) for the ``augur`` pass; ``None``: :data:`SHIPPED_EXTENDER`."""
    extender_args: tuple[str, ...] = ()
    """Extra flags for ``augur extender run``."""
    wait_for_plan: bool = True
    """``augur`` pass: each pod waits behind a scheduling gate until the extender's background plan has a
    slot for its workload (at most :attr:`plan_timeout` seconds), as the simulator assumes; ``False``:
    pods go to the scheduler at once (the first pod of a workload is then scored before any plan knows
    its size)."""
    plan_timeout: float = 30.0
    pod_requests_in_status: bool = True
    """Each profile's status has ``podRequests`` from its Deployment's template, as the operator writes it
    (``False``: left out, as an operator before it wrote them; the extender learns a workload's pod size
    from its first pod)."""
    burst: bool = False
    """Every Deployment scaled to its replicas at once, without the gate: the pods reach kube-scheduler as
    the ReplicaSet controller creates them, as when an application is installed (the extender plans while
    they are being scheduled; which pods go before the plan depends on timing)."""
    plan_gate: bool = False
    """``augur`` pass: the Deployments' pod templates carry the plan gate (:data:`~augur.constants.PLAN_GATE`),
    which the extender's gate keeper lifts (:mod:`augur.placement.gate`), as a user who opts in would ship
    them; with :attr:`burst`, the burst then waits for the plan as deployed rather than for the replay."""
    gate_webhook: bool = False
    """``augur`` pass: the pods get the plan gate from the chart's admission webhook instead (as Helm installs
    it, :mod:`augur.devcluster.replay_webhook`; the extender then serves HTTPS); the templates carry none."""
    extender_replicas: int = 1
    """``augur`` pass: extender processes, as the chart's ``extender.replicas``; with more than one they elect
    one gate keeper through a Lease (:mod:`augur.devcluster.replay_extenders`)."""
    scheduler_to_gate_keeper: bool = True
    """With several replicas: kube-scheduler calls the one holding the gate keeper's Lease, as through the
    chart's ``<release>-extender-gate-keeper`` Service (``False``: every replica through a per-connection
    balancer whose first connection goes to one that does not hold it)."""

    def __post_init__(self) -> None:
        if self.extender_replicas < 1:
            raise ValueError(f"extender replicas must be at least 1, got {self.extender_replicas}")
