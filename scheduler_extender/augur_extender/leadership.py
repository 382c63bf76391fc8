"""One gate keeper per cluster: of several extender replicas, only the one holding a Lease lets pods through
the plan gate.

Every replica scores (kube-scheduler's calls go to any of them), but two gate keepers, each following its own
plan, would let through up to twice the pods of a workload that ``plan.gateInFlight`` allows, by plans made
moments apart. The replicas elect one with the Lease rules of :mod:`augur.kube.leader` (client-go's, shared
with the operator's leader election): a standby takes over once the holder has not renewed for the Lease's
duration (15 s by default), at once when the holder stops cleanly (it releases the Lease). The leader stops
letting pods through when it could not renew within the renew deadline (10 s), before anybody else may take
over. A thread drives the elector; the gate keeper asks :meth:`GateLeadership.leads` before each look.

Scores come from the same replica: the leader labels its own pod :data:`~augur.constants.GATE_KEEPER_LABEL`
``"true"`` (:class:`PodLabel`, with ``$POD_NAMESPACE``/``$POD_NAME``) and removes the label when it stops
leading, or when it starts (a container restarted in the same pod); the chart's ``<release>-extender-gate-keeper``
Service, which kube-scheduler calls, selects that label. Otherwise kube-scheduler's calls could be scored by a
replica whose planner has not finished the plan the gate keeper let the pods through by (measured: the standby
scored every call of a burst with a provisional plan, because its planner steps aside while requests come). A
label that cannot be written is tried again at every renewal.

Without a Lease (``--gate-lease`` not given: one extender, a test, the replay) the gate keeper acts alone.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from augur.constants import GATE_KEEPER_LABEL
from augur.kube.leader import Attempt, Elector, LeaderElectionError, LeaseTiming, identity
from augur_extender.daemon import Daemon

log = logging.getLogger(__name__)

HINT = "is the extender's Role for Leases bound and the namespace present? (chart: rbac.create)"


class GateLeadership:
    """Keeps trying to acquire, then renewing, the gate keeper's Lease on a daemon thread."""

    def __init__(self, elector: Elector, mark: Callable[[bool], None] | None = None) -> None:
        self.elector = elector
        self.mark = mark
        """Shows whether this replica leads on its pod (:class:`PodLabel`); ``None``: not shown."""
        self._marked: bool | None = None
        """What :attr:`mark` last wrote (``None``: nothing yet, so the first step removes a stale label)."""
        self.on_change: Callable[[bool], None] | None = None
        """Called with the new state when this replica starts or stops leading (metrics)."""
        self._leading = False
        self._error = ""
        self._daemon = Daemon("gate-leadership", self._loop)

    @classmethod
    def kube(cls, lease: str, kubeconfig: Path | None = None, timing: LeaseTiming | None = None) -> GateLeadership:
        """The Lease ``NAMESPACE/NAME`` through the API server (``kubeconfig``, else in-cluster, else the
        default kubeconfig)."""
        from kubernetes import client

        from augur.kube.lease import KubeLeaseStore
        from augur_extender.watch import load_kube_config

        namespace, name = parse_lease(lease)
        load_kube_config(kubeconfig)
        api = client.ApiClient()
        store = KubeLeaseStore(api, namespace, name)
        pod_namespace, pod_name = os.environ.get("POD_NAMESPACE", ""), os.environ.get("POD_NAME", "")
        mark = PodLabel(api, pod_namespace, pod_name) if pod_namespace and pod_name else None
        if mark is None:
            log.info("gate keeper: POD_NAMESPACE or POD_NAME not set; this replica's pod is not labelled when it leads")
        return cls(Elector(store, identity(), timing or LeaseTiming(), hint=HINT), mark)

    def leads(self) -> bool:
        """True while this replica's last acquire or renewal is younger than the renew deadline."""
        return self.elector.is_leader()

    def start(self) -> None:
        self._daemon.start()

    def stop(self) -> None:
        """Stop renewing, remove the label and release the Lease, so a standby takes over at once."""
        self._daemon.stop(timeout=self.elector.timing.renew_deadline)
        self._show(False)
        if self.elector.release():
            log.info("gate keeper: released %s", self.elector.store.where)
        self._changed(False)

    def _loop(self) -> None:
        delay = 0.0
        while not self._daemon.stopping.wait(delay):
            delay = self.step()

    def step(self) -> float:
        """One acquire or renewal; returns the seconds until the next."""
        timing = self.elector.timing
        try:
            result = self.elector.attempt()
        except LeaderElectionError as exc:  # RBAC or a missing namespace: say so, keep trying (it may be fixed)
            if str(exc) != self._error:
                log.error("gate keeper: %s; this replica lets no pod through the plan gate", exc)
                self._error = str(exc)
            self._changed(False)
            self._show(False)
            return timing.renew_every
        self._error = ""
        leading = self.elector.is_leader()
        self._changed(leading)
        self._show(leading)
        if result is Attempt.FAILED:
            log.warning("gate keeper: %s", self.elector.last_error)
        return timing.renew_every if result is Attempt.LEADING else timing.retry_every

    def _show(self, leading: bool) -> None:
        """Bring the pod's label in line with ``leading`` (a failed write is tried again at the next step)."""
        if self.mark is None or self._marked is leading:
            return
        try:
            self.mark(leading)
        except Exception as exc:  # the API server's answer or a network error
            log.warning(
                "gate keeper: could not %s the pod's label (%s); trying again", "set" if leading else "remove", exc
            )
            return
        self._marked = leading

    def _changed(self, leading: bool) -> None:
        if leading == self._leading:
            return
        self._leading = leading
        where = self.elector.store.where
        if leading:
            log.info(
                "gate keeper: %s leads through %s; letting pods through the plan gate", self.elector.identity, where
            )
        else:
            log.info("gate keeper: standing by (%s holds %s)", self.elector.holder or "nobody", where)
        if self.on_change is not None:
            self.on_change(leading)


class PodLabel:
    """Sets or removes :data:`~augur.constants.GATE_KEEPER_LABEL` on one pod (a JSON merge patch)."""

    def __init__(self, api: Any, namespace: str, name: str) -> None:
        from kubernetes import client

        self._core: Any = client.CoreV1Api(api)
        self.namespace, self.name = namespace, name

    def __call__(self, leading: bool) -> None:
        body = {"metadata": {"labels": {GATE_KEEPER_LABEL: "true" if leading else None}}}
        self._core.patch_namespaced_pod(
            self.name, self.namespace, body, _content_type="application/merge-patch+json", _request_timeout=(3, 5)
        )


def parse_lease(lease: str) -> tuple[str, str]:
    """``NAMESPACE/NAME`` → (namespace, name); a clear error for anything else."""
    namespace, sep, name = lease.partition("/")
    if not sep or not namespace or not name or "/" in name:
        raise ValueError(f"the gate keeper's Lease must be NAMESPACE/NAME, got {lease!r}")
    return namespace, name
