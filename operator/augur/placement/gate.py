"""Which pods held at the plan gate (:data:`~augur.constants.PLAN_GATE`) to let through, and why.

A pod template that carries the gate makes its pods wait, before kube-scheduler sees them, until the
extender's background planner has a final plan with room for them: then every pod of a burst is scored
against that plan rather than against none or a provisional one. The extender's gate keeper
(:mod:`augur_extender.gatekeeper`) calls :func:`lifts` with what its cache holds and removes the gate
from the pods it returns; this module decides, the keeper only reads and patches.

A pod is let through when

- ``planned``: the plan has a free slot for its workload that no pod already let through will take (free
  slots, the plan's planned pods minus those bound, minus the workload's pods let through and not bound
  yet: at most that many, the oldest first: by creation time, then UID, which every extender replica reads
  alike, so replicas that look at the same moment pick the same pods), and fewer than ``in_flight_limit`` of
  the workload's pods are let through and not bound yet (``plan.gateInFlight``; 0: no limit). The extender
  counts a slot as taken only once its watch shows the bind, so two pods of one workload scheduled a moment
  apart could both be sent to the slot that only one of them may take: with a limit of 1, each pod of a
  workload is scored after the previous one's bind is seen, as in the gated replay (pods of different
  workloads still go together);
- ``unplanned``: no ``WorkloadProfile`` selects it, so no plan will ever have a slot for it;
- ``no_planner``: the extender runs without its planner (``--no-planner`` or a ``plan`` weight of 0);
- ``deadline``: it has waited ``plan.gateSeconds`` (whatever the plan), so that a planner that is slow,
  failing or behind never holds a pod longer than that.

Pure and ``O(gated pods + workloads)``.

The operator's backstop (:mod:`augur.operator.gates`) releases pods that stayed held far longer than that,
as when no extender runs: :func:`overdue`.

The extender's admission webhook (``POST /admission/plan-gate``) adds the gate to new pods that a
``WorkloadProfile`` selects, so that their templates need not carry it: :func:`admit` decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from augur.constants import PLAN_GATE, PLAN_GATE_OPT_OUT

REMOVE_PLAN_GATE: Final[dict[str, Any]] = {"spec": {"schedulingGates": [{"$patch": "delete", "name": PLAN_GATE}]}}
"""Strategic merge patch that removes the plan gate and keeps a pod's other gates (the list merges by ``name``;
removing a gate that is gone already changes nothing): what the extender and the operator send."""


def carries_plan_gate(pod_spec: Any) -> bool:
    """A pod spec (a camelCase mapping) lists the plan gate among its ``schedulingGates``."""
    gates = pod_spec.get("schedulingGates") if isinstance(pod_spec, Mapping) else None
    return isinstance(gates, list) and any(isinstance(g, Mapping) and g.get("name") == PLAN_GATE for g in gates)


LIFT_REASONS: Final = ("planned", "unplanned", "no_planner", "deadline")
"""Why a pod was let through (:attr:`Lift.reason`), in the order :func:`lifts` tries them."""


@dataclass(frozen=True)
class Gated:
    """A pod held at the plan gate."""

    uid: str
    namespace: str
    name: str
    workload: str | None
    """The ``WorkloadProfile`` that selects it (``None``: none does)."""
    waited: float
    """Seconds since the gate keeper first saw it held."""
    created: float = 0.0
    """Its ``creationTimestamp`` (epoch seconds): the order pods of a workload go in (then by UID)."""


@dataclass(frozen=True)
class Lift:
    pod: Gated
    reason: str
    """One of :data:`LIFT_REASONS`."""


def lifts(
    gated: Sequence[Gated],
    free: Mapping[str, int] | None,
    in_flight: Mapping[str, int],
    max_wait: float,
    in_flight_limit: int = 0,
) -> list[Lift]:
    """The pods of ``gated`` to let through now.

    ``free``: per workload, the free slots of the current final plan (``None``: the extender has no planner;
    a workload missing from it has no slot, or there is no current final plan); ``in_flight``: per workload,
    its pods let through (gate removed) and not bound yet, which take free slots first; ``max_wait``: the
    seconds after which a pod is let through whatever the plan; ``in_flight_limit``: most pods of a workload
    let through and not bound yet for a ``planned`` lift (0: no limit)."""
    out: list[Lift] = []
    by_workload: dict[str, list[Gated]] = {}
    for pod in gated:
        if pod.workload is None:
            out.append(Lift(pod, "unplanned"))
        elif free is None:
            out.append(Lift(pod, "no_planner"))
        else:
            by_workload.setdefault(pod.workload, []).append(pod)
    for workload in sorted(by_workload):
        waiting = sorted(by_workload[workload], key=lambda p: (p.created, p.uid))
        room = (free or {}).get(workload, 0) - in_flight.get(workload, 0)
        if in_flight_limit > 0:
            room = min(room, in_flight_limit - in_flight.get(workload, 0))
        room = max(0, room)
        out += [Lift(pod, "planned") for pod in waiting[:room]]
        out += [Lift(pod, "deadline") for pod in waiting[room:] if pod.waited >= max_wait]
    return out


@dataclass(frozen=True)
class HeldPod:
    """A pod held at the plan gate, as the operator's backstop lists it."""

    namespace: str
    name: str
    uid: str
    created: float | None
    """Its ``creationTimestamp`` (epoch seconds; ``None`` when unreadable)."""


def overdue(held: Sequence[HeldPod], now: float, after: float) -> list[HeldPod]:
    """The pods of ``held`` created at least ``after`` seconds before ``now`` (epoch seconds), in name order:
    held so long that no extender is letting them through. A pod whose creation time cannot be read counts as
    overdue (nothing else would ever release it)."""
    late = [p for p in held if p.created is None or now - p.created >= after]
    return sorted(late, key=lambda p: (p.namespace, p.name))


ADMIT_OUTCOMES: Final = (
    "gated",
    "unprofiled",
    "opted_out",
    "has_gate",
    "bound",
    "no_gate_keeper",
    "not_synced",
    "malformed",
)
"""What the admission webhook did with a new pod (:func:`admit`): only ``gated`` changes it."""


def admit(pod: Any, workload: str | None, gate_keeper: bool, synced: bool) -> tuple[str, list[dict[str, Any]] | None]:
    """Whether a pod being created gets the plan gate: its outcome (one of :data:`ADMIT_OUTCOMES`) and the
    JSON patch that adds the gate (``None``: the pod is admitted unchanged).

    ``pod`` is the pod object (a camelCase mapping); ``workload`` the ``WorkloadProfile`` that selects it
    (``None``: none does); ``gate_keeper``: a gate keeper runs that lets held pods through as the plan has
    room (without one a gated pod would wait for the operator's backstop; without a planner it would be let
    through at once, so the gate would only cost a patch); ``synced``: the extender's cache has synced (before that it
    cannot tell which profiles select a pod). A pod is gated only when a profile selects it, it is not bound
    already (``spec.nodeName``), does not carry the gate already, and is not labelled
    ``augur.dev/plan-gate: "off"`` (:data:`~augur.constants.PLAN_GATE_OPT_OUT`)."""
    meta = pod.get("metadata") if isinstance(pod, Mapping) else None
    spec = pod.get("spec") if isinstance(pod, Mapping) else None
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    if isinstance(labels, Mapping) and labels.get(PLAN_GATE_OPT_OUT) == "off":
        return "opted_out", None
    if not isinstance(spec, Mapping):
        return "malformed", None
    if spec.get("nodeName"):
        return "bound", None
    if carries_plan_gate(spec):
        return "has_gate", None
    if not synced:
        return "not_synced", None
    if workload is None:
        return "unprofiled", None
    if not gate_keeper:
        return "no_gate_keeper", None
    gate = {"name": PLAN_GATE}
    if isinstance(spec.get("schedulingGates"), list):
        return "gated", [{"op": "add", "path": "/spec/schedulingGates/-", "value": gate}]
    return "gated", [{"op": "add", "path": "/spec/schedulingGates", "value": [gate]}]
