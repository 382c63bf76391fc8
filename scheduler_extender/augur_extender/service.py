"""The extender's decisions: resolve the pod and nodes against a cache view, call :mod:`augur.placement`."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import orjson

from augur.constants import IntArray
from augur.placement import (
    MAX_PRIORITY,
    NEUTRAL_SCORE,
    NodeInfo,
    NodeTable,
    PodInfo,
    ScoringConfig,
    Snapshot,
    filter_nodes,
    has_hard_rules,
    score_nodes,
    score_unfiltered,
    steer,
)
from augur.placement.plan import Plan
from augur_extender.binds import UnseenBinds
from augur_extender.kubeobjects import PodFacts, node_info, pod_facts
from augur_extender.view import ClusterCache, ClusterView
from augur_extender.wire import ExtenderArgs

log = logging.getLogger(__name__)

FILTERED_MEMORY = 16
"""Filter calls remembered to tell whether a prioritized pod was filtered just before."""


Outcome = Literal["scored", "neutral", "error"]
"""How a verb call ended: Augur's decision, no opinion (no profile, nothing known), or an internal error."""
PlanUse = Literal["current", "provisional", "absent", "stale"]
"""The pending-pod plan a scored ``prioritize`` saw: a final plan, one published while a full plan is under way;
or no plan, the other components deciding alone: ``absent`` (the planner has published none yet, or is off) or
``stale`` (the latest plan does not hold for the view: expired, or other workloads or nodes)."""


def _plan_use(plan: Plan | None, published: bool) -> PlanUse:
    """What a request scored against ``plan`` (``None``: none was current) saw; ``published``: whether the
    planner had a plan at all when it was looked up."""
    if plan is None:
        return "stale" if published else "absent"
    return "provisional" if plan.provisional else "current"


class PlanSource(Protocol):
    """Where requests look the pending-pod plan up (the background planner)."""

    def lookup(self, view: ClusterView) -> Plan | None: ...

    def published(self) -> bool:
        """Whether a plan has been published (current or not)."""
        ...

    def describe(self, view: ClusterView) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Resolved:
    pod: PodInfo
    snapshot: Snapshot
    names: list[str]


class Scheduler:
    """``filter``, ``prioritize`` and ``explain`` over a :class:`ClusterCache`."""

    def __init__(
        self, cache: ClusterCache, config: ScoringConfig | None = None, plans: PlanSource | None = None
    ) -> None:
        self.cache = cache
        self.config = config or ScoringConfig()
        self.plans = plans
        self._last_pod: tuple[tuple[str, str], PodFacts] | None = None
        """The last request pod's facts by (uid, resourceVersion): kube-scheduler sends the same pod to
        filter and then to prioritize."""
        self._filtered: deque[tuple[str, str, str]] = deque(maxlen=FILTERED_MEMORY)
        """The pods of the latest filter calls: kube-scheduler filters a pod right before it prioritizes it (one
        scheduling cycle at a time), so a prioritize for a pod not among them means the filter verb was not
        called (several schedulers sharing the extender interleave their cycles, hence more than one)."""
        self.on_unfiltered: Callable[[str], None] | None = None
        """Called with the workload when a pod whose workload has hard rules is prioritized without a filter
        call before it (metrics); the pod is then scored by :func:`~augur.placement.score_unfiltered`."""
        self._warned: set[str] = set()
        self._unseen = UnseenBinds(cache.bound)
        self.on_unseen_binds: Callable[[int], None] | None = None
        """Called at each ``prioritize`` with the pods scored before whose binding the cache has not seen yet
        (:mod:`augur_extender.binds`; metrics)."""

    @property
    def filter_seen(self) -> bool:
        """Whether kube-scheduler has called the filter verb since the process started (its configuration has
        ``filterVerb``): :meth:`explain` then describes hard rules as enforced by the filter."""
        return bool(self._filtered)

    def facts(self, pod: dict[str, Any]) -> PodFacts:
        """:func:`pod_facts` of a request's pod, reused when the same version of the pod comes again."""
        meta = pod.get("metadata")
        if not isinstance(meta, dict):
            return pod_facts(pod)
        key = (str(meta.get("uid") or ""), str(meta.get("resourceVersion") or ""))
        last = self._last_pod
        if last is not None and key[0] and key[1] and last[0] == key:
            return last[1]
        facts = pod_facts(pod)
        self._last_pod = (key, facts)
        return facts

    def resolve(self, pod: PodFacts, args: ExtenderArgs | None, view: ClusterView) -> Resolved:
        info = PodInfo(pod.name, pod.namespace, view.workload_of(pod.namespace, pod.labels), pod.cpu, pod.memory)
        snapshot = view.snapshot
        if self.plans is not None and info.workload is not None and (plan := self.plans.lookup(view)) is not None:
            snapshot = replace(snapshot, plan=plan)
        names = args.names() if args else snapshot.table.names
        if args is not None and args.node_items is not None:
            snapshot = _with_request_nodes(snapshot, args.node_items, view)
        return Resolved(info, snapshot, names)

    def filter(self, args: ExtenderArgs) -> dict[str, Any]:
        return self.filter_outcome(args)[0]

    def filter_outcome(self, args: ExtenderArgs) -> tuple[dict[str, Any], Outcome]:
        """The filter reply and how it was reached (``neutral``: no profile, every node passes)."""
        try:
            facts = self.facts(args.pod)
            self._filtered.append(_pod_key(facts))
            r = self.resolve(facts, args, self.cache.view())
            if r.pod.workload is None:
                return _filter_reply(args, r.names, {}), "neutral"
            if not has_hard_rules(r.snapshot.rulebook.get(r.pod.workload)):
                return _filter_reply(args, r.names, {}), "scored"
            result = filter_nodes(r.pod, r.snapshot, r.names)
            if result.failed:
                log.debug("filter %s/%s: %s", r.pod.namespace, r.pod.name, result.failed)
            return _filter_reply(args, list(result.passed), result.failed), "scored"
        except Exception as exc:
            log.exception("filter failed")
            reply = {**_filter_reply(args, [], {}), "NodeNames": None, "Nodes": None, "Error": f"internal error: {exc}"}
            return reply, "error"

    def prioritize(self, args: ExtenderArgs) -> list[dict[str, Any]]:
        """The ``HostPriorityList`` as Python objects (see :meth:`prioritize_json` for the wire bytes)."""
        return orjson.loads(self.prioritize_json(args)[0])  # type: ignore[no-any-return]

    def prioritize_json(self, args: ExtenderArgs) -> tuple[bytes, Outcome, PlanUse | None]:
        """The rendered ``HostPriorityList``, its outcome and, when ``scored``, the plan it was scored
        against. Outcomes: ``scored`` when Augur's components decided, ``neutral`` (all 5) when the pod has
        no profile or no candidate is known, ``error`` (all 5) on an internal error. Per-node
        ``{"Host": ..., "Score": `` fragments are cached on the node table (rebuilt only when nodes change),
        so a reply is one join."""
        names = args.names()
        try:
            facts = self.facts(args.pod)
            unseen = self._unseen.scored(facts.uid, time.monotonic())
            if self.on_unseen_binds is not None:
                self.on_unseen_binds(unseen)
            r = self.resolve(facts, args, self.cache.view())
            if r.pod.workload is None:
                return render_neutral(names), "neutral", None
            if _pod_key(facts) not in self._filtered and has_hard_rules(r.snapshot.rulebook.get(r.pod.workload)):
                self._unfiltered(r.pod.workload)
                result = score_unfiltered(r.pod, r.snapshot, names, self.config)
            else:
                result = score_nodes(r.pod, r.snapshot, names, self.config)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("prioritize %s/%s: %s", r.pod.namespace, r.pod.name, _top(result.breakdown()))
            rendered = render_priorities(r.snapshot.table, result.cand, result.scores, result.unknown)
            if not len(result.cand):
                return rendered, "neutral", None
            plan = r.snapshot.plan
            published = plan is not None or (self.plans is not None and self.plans.published())
            return rendered, "scored", _plan_use(plan, published)
        except Exception:
            log.exception("prioritize failed; answering neutral scores")
            return render_neutral(names), "error", None

    def _unfiltered(self, workload: str) -> None:
        if self.on_unfiltered is not None:
            self.on_unfiltered(workload)
        if workload not in self._warned:  # once per workload and process: the metric counts every pod
            self._warned.add(workload)
            log.warning(
                "%s has hard rules (requiredAvoidance or maxDistance) but kube-scheduler does not call the "
                "filter verb: its pods are steered away from failing nodes (score 0), not kept off them. Add "
                "filterVerb: filter to the extender entry of the KubeSchedulerConfiguration (docs/placement.md).",
                workload,
            )

    def explain(self, pod: PodFacts, node_names: Sequence[str] | None = None) -> dict[str, Any]:
        """The per-node breakdown for a pod (best first), with the filter's verdicts. For a workload with hard
        rules, ``hardRules`` says how they act: ``filtered`` once kube-scheduler has called the filter verb
        (nodes that fail are removed before scoring), else ``steered``, and the scores are those of
        :func:`~augur.placement.score_unfiltered` (failing nodes 0), as ``prioritize`` gives them then."""
        view = self.cache.view()
        r = self.resolve(pod, None, view)
        names = list(node_names) if node_names is not None else r.names
        hard = r.pod.workload is not None and has_hard_rules(r.snapshot.rulebook.get(r.pod.workload))
        steered = hard and not self.filter_seen
        scored = score_nodes(r.pod, r.snapshot, names, self.config)
        failed = filter_nodes(r.pod, r.snapshot, names).failed if r.pod.workload else {}
        if steered:
            scored = steer(scored, failed, self.config)  # as score_unfiltered, without filtering again
        plan = r.snapshot.plan
        slots = plan.slots(r.pod.workload, r.snapshot) if plan is not None else None
        nodes = sorted(scored.breakdown(), key=lambda e: -e["total"])
        about = {"state": "off"} if self.plans is None else self.plans.describe(view)
        age = about.get("ageSeconds") if plan is not None else None
        for entry in nodes:
            entry["filteredOut"] = failed.get(entry["node"])
            entry["planSlots"] = None if slots is None else int(slots[r.snapshot.table.position[entry["node"]]])
            entry["planAgeSeconds"] = age
        return {
            "pod": f"{pod.namespace}/{pod.name}",
            "workload": r.pod.workload,
            "neutral": r.pod.workload is None,
            "hardRules": ("steered" if steered else "filtered") if hard else None,
            "unknownNodes": list(scored.unknown),
            "plan": about,
            "nodes": nodes,
        }


def _pod_key(pod: PodFacts) -> tuple[str, str, str]:
    return (pod.namespace, pod.name, pod.uid)


def neutral(names: Sequence[str]) -> list[dict[str, Any]]:
    return [{"Host": n, "Score": NEUTRAL_SCORE} for n in names]


def _fragments(table: NodeTable) -> npt.NDArray[np.uint8]:
    """``{"Host":"<name>","Score":NN},`` for every node and every score 0..10, padded with JSON whitespace to
    one width, as a byte array ``[node, score, byte]`` cached on the node table (rebuilt only when nodes
    change): a reply is one gather. Memory: 11 x (longest name + 23) bytes per node, 0.4 MB at 1,000 nodes."""
    cached: npt.NDArray[np.uint8] | None = table.memo.get("extender.fragments")
    if cached is None:
        heads = [orjson.dumps({"Host": n})[:-1] + b',"Score":' for n in table.names_tuple]
        width = max((len(h) for h in heads), default=0) + 4  # two digits, "}", ","
        rows = np.full((len(heads), width), ord(" "), dtype=np.uint8)
        for i, h in enumerate(heads):
            rows[i, : len(h)] = np.frombuffer(h, dtype=np.uint8)
            rows[i, len(h) + 2] = ord("}")
        rows[:, -1] = ord(",")
        at = np.array([len(h) for h in heads], dtype=np.int64)
        line = np.arange(len(heads))
        cached = np.repeat(rows[:, None, :], MAX_PRIORITY + 1, axis=1)
        for score in range(MAX_PRIORITY + 1):
            digits = f"{score:<2d}".encode()  # "7 " or "10": a digit and JSON whitespace below 10
            cached[line, score, at] = digits[0]
            cached[line, score, at + 1] = digits[1]
        table.memo["extender.fragments"] = cached
    return cached


def render_priorities(table: NodeTable, cand: IntArray, scores: IntArray, unknown: Sequence[str]) -> bytes:
    """``[{"Host": name, "Score": s}, ...]`` for the known candidates (in order), then the unknown ones
    with the neutral score. Scores below 10 are written ``7 `` (a digit and JSON whitespace)."""
    parts: list[bytes] = []
    if len(cand):
        rows = _fragments(table)[cand, np.clip(scores, 0, MAX_PRIORITY)]
        parts.append(rows.tobytes()[:-1])
    if unknown:
        parts += [orjson.dumps({"Host": n, "Score": NEUTRAL_SCORE}) for n in unknown]
    return b"[" + b",".join(parts) + b"]"


def render_neutral(names: Sequence[str]) -> bytes:
    return orjson.dumps(neutral(names))


def _top(breakdown: list[dict[str, Any]], n: int = 5) -> list[dict[str, Any]]:
    return sorted(breakdown, key=lambda e: -e["total"])[:n]


def _filter_reply(args: ExtenderArgs, passed: list[str], failed: dict[str, str]) -> dict[str, Any]:
    reply: dict[str, Any] = {"FailedNodes": failed, "FailedAndUnresolvableNodes": {}, "Error": ""}
    if args.cache_capable:
        return {"Nodes": None, "NodeNames": passed, **reply}
    keep = set(passed)
    items = [n for n in args.node_items or [] if (n.get("metadata") or {}).get("name") in keep]
    return {"Nodes": {"metadata": {}, "items": items}, "NodeNames": None, **reply}


def _with_request_nodes(snapshot: Snapshot, items: list[dict[str, Any]], view: ClusterView) -> Snapshot:
    """Add nodes the request carries but the cache does not know (``nodeCacheCapable: false``)."""
    table = snapshot.table
    extra: list[NodeInfo] = []
    for obj in items:
        info = node_info(obj, view.zone_label, view.region_label)
        if info.name and info.name not in table.position:
            extra.append(info)
    if not extra:
        return snapshot
    grown = NodeTable.build([*table.nodes, *extra], table.topology)
    # The grown table sorts every node by name: carry the known nodes' totals over to their new positions.
    old = np.fromiter((grown.position[n] for n in table.names_tuple), dtype=np.int64, count=len(table))
    columns = [np.zeros(len(grown)) for _ in range(3)]
    for column, known in zip(columns, (table.cpu_requested, table.memory_requested, table.pods), strict=True):
        column[old] = known
    grown = grown.with_requested(*columns)
    return Snapshot(grown, snapshot.occupancy, snapshot.rulebook)
