"""The gate keeper: lets pods held at the plan gate (:data:`~augur.constants.PLAN_GATE`) through.

A daemon thread reads, every :data:`TICK_SECONDS`, the pods the cache holds at the gate
(:meth:`~augur_extender.view.ClusterCache.gate_state`) and the planner's current plan, asks
:func:`augur.placement.gate.lifts` which to let through, and removes the gate from each with a patch (its
``lift`` callable: :class:`KubeGateLifter` in a cluster). Nothing here waits on a request, and a request
never waits on it. A pod whose patch failed is tried again after :data:`RETRY_SECONDS`; one that is gone
(404) is dropped. A pod let through counts as on its way to kube-scheduler until the cache sees its gate
removed (the watch lags the patch), so it is neither patched twice nor its slot handed out twice.

With several extender replicas only the one holding the gate keeper's Lease lets pods through
(:mod:`augur_extender.leadership`); the others keep watching the held pods and take over when it stops.
While no extender runs, held pods wait: the gate is for workloads whose placement matters more
than a few seconds of start-up, and ``docs/placement.md`` ("The plan gate") says how to release them by hand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from augur.placement.gate import REMOVE_PLAN_GATE, Gated, Lift, lifts
from augur_extender.daemon import Daemon
from augur_extender.kubeobjects import PodFacts
from augur_extender.planning import BackgroundPlanner
from augur_extender.view import ClusterCache

log = logging.getLogger(__name__)

TICK_SECONDS = 0.05
"""Pause between two looks at the held pods (a look costs ``O(unbound pods)``, nothing when none is)."""
RETRY_SECONDS = 2.0
"""Least time before a pod whose gate was removed, but whose pod the cache still shows held, or whose patch
failed, is patched again."""


class GoneError(Exception):
    """The pod no longer exists (the lift callable's signal: do not try again)."""


class GateKeeper:
    def __init__(
        self,
        cache: ClusterCache,
        planner: BackgroundPlanner | None,
        max_wait: float,
        lift: Callable[[str, str], None],
        clock: Callable[[], float] = time.monotonic,
        in_flight_limit: int = 0,
        leads: Callable[[], bool] | None = None,
    ) -> None:
        self.cache, self.planner, self.max_wait, self.lift, self.clock = cache, planner, max_wait, lift, clock
        self.in_flight_limit = in_flight_limit
        """Most pods of a workload let through and not bound yet (``plan.gateInFlight``; 0: no limit)."""
        self.leads = leads
        """Whether this replica may let pods through now (:meth:`augur_extender.leadership.GateLeadership.leads`);
        ``None``: always (one extender)."""
        self.on_lift: Callable[[Lift], None] | None = None
        """Called after each pod let through (metrics)."""
        self.held = 0
        """Pods held at the gate at the last look."""
        self._first_seen: dict[str, float] = {}
        self._patched: dict[str, float] = {}
        """Pods whose patch was sent (or failed), by when: not patched again before :data:`RETRY_SECONDS`."""
        self._daemon = Daemon("gatekeeper", self._loop)

    def start(self) -> None:
        self._daemon.start()

    def stop(self) -> None:
        self._daemon.stop()

    def _loop(self) -> None:
        while not self._daemon.stopping.wait(TICK_SECONDS):
            try:
                self.run_once()
            except Exception:  # keep the thread alive; held pods are let through at the deadline anyway
                log.exception("gate keeper: look at held pods failed")

    def run_once(self) -> list[Lift]:
        """One look: let through what :func:`~augur.placement.gate.lifts` says; returns the pods let through."""
        if not self.cache.synced():
            return []
        held, in_flight = self.cache.gate_state()
        self.held = len(held)
        now = self.clock()
        if not held:
            self._first_seen.clear()
            self._patched.clear()
            return []
        gated, sent = self._gated(held, now)
        if self.leads is not None and not self.leads():
            return []  # standing by; the pods' waits still count from when this replica first saw them
        for workload, count in sent.items():
            in_flight[workload] = in_flight.get(workload, 0) + count
        done: list[Lift] = []
        for decided in lifts(gated, self._free(gated), in_flight, self.max_wait, self.in_flight_limit):
            if self._lift(decided.pod, now):
                done.append(decided)
                if self.on_lift is not None:
                    self.on_lift(decided)
        return done

    def _gated(self, held: list[tuple[PodFacts, str | None]], now: float) -> tuple[list[Gated], dict[str, int]]:
        """The held pods not patched within :data:`RETRY_SECONDS`, and per workload those that were (on their
        way: they take their slots)."""
        uids = {pod.uid for pod, _ in held}
        self._first_seen = {uid: t for uid, t in self._first_seen.items() if uid in uids}
        self._patched = {uid: t for uid, t in self._patched.items() if uid in uids}
        gated: list[Gated] = []
        sent: dict[str, int] = {}
        for pod, workload in held:
            first = self._first_seen.setdefault(pod.uid, now)
            if now - self._patched.get(pod.uid, float("-inf")) < RETRY_SECONDS:
                if workload is not None:
                    sent[workload] = sent.get(workload, 0) + 1
                continue
            gated.append(Gated(pod.uid, pod.namespace, pod.name, workload, now - first, pod.created))
        return gated, sent

    def _free(self, gated: list[Gated]) -> Mapping[str, int] | None:
        """Free slots of the current final plan per workload of ``gated`` (``None``: no planner)."""
        if self.planner is None:
            return None
        view = self.cache.view()
        plan = self.planner.lookup(view)
        if plan is None or plan.provisional:
            return {}
        free: dict[str, int] = {}
        for workload in {g.workload for g in gated if g.workload is not None}:
            slots = plan.slots(workload, view.snapshot)
            if slots is not None:
                free[workload] = round(float(slots.sum()))
        return free

    def _lift(self, pod: Gated, now: float) -> bool:
        self._patched[pod.uid] = now
        try:
            self.lift(pod.namespace, pod.name)
        except GoneError:
            return False
        except Exception as exc:  # the API server's answer or a network error: tried again later
            log.warning("could not remove the plan gate of %s/%s (%s); trying again", pod.namespace, pod.name, exc)
            return False
        log.debug("plan gate of %s/%s removed", pod.namespace, pod.name)
        return True


class KubeGateLifter:
    """Removes the plan gate from a pod through the API server (``patch`` on ``pods``)."""

    def __init__(self, kubeconfig: Path | None = None) -> None:
        self._kubeconfig = kubeconfig
        self._core: Any = None

    def __call__(self, namespace: str, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        if self._core is None:
            from kubernetes import client

            from augur_extender.watch import load_kube_config

            load_kube_config(self._kubeconfig)
            self._core = client.CoreV1Api()
        try:
            self._core.patch_namespaced_pod(
                name, namespace, REMOVE_PLAN_GATE, _content_type="application/strategic-merge-patch+json"
            )
        except ApiException as exc:
            if exc.status == 404:
                raise GoneError(f"{namespace}/{name}") from exc
            raise
