"""KEDA ``ScaledObject``s read by a periodic list as well as kopf's watch.

kopf starts watching an API group it could not serve at startup only when it rescans, and it rescans
only on CustomResourceDefinition events. When KEDA is installed after the operator, all of those
events can arrive before the API server's discovery serves ``keda.sh`` (seen in CI: three rescans,
none found the group); kopf then never watches ScaledObjects until another CRD changes or the
operator restarts, and Augur would scale a workload KEDA scales too.

:class:`ScaledObjectPoll` closes that gap: every ``AUGUR_SCALEDOBJECT_POLL_SECONDS`` (30) one list of
ScaledObjects (cluster-wide, or per namespace of ``AUGUR_NAMESPACES``) gives their claims, which the
conflict check merges with kopf's index (:func:`augur.operator.conflicts.indexed_claims`). Without
KEDA the list answers 404 and the claims stay empty; a 403 (no RBAC to list them) is logged once.
A failed list keeps the last claims, so a blip never clears a conflict.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from augur.kube.autoscalers import SCALED_OBJECT, ScaleClaim, TargetKey, claim_from_body
from augur.kube.client import KubeError

log = logging.getLogger("augur.operator.late_claims")

Lister = Callable[[], list[dict[str, Any]]]
"""Returns every ScaledObject body (:meth:`augur.kube.cluster.ClusterReader.scaled_objects`); raises
:class:`~augur.kube.client.KubeError`."""


def index_claims(bodies: Iterable[dict[str, Any]]) -> dict[TargetKey, list[ScaleClaim]]:
    """ScaledObject bodies as kopf's index holds them: target → claims."""
    claims: dict[TargetKey, list[ScaleClaim]] = {}
    for body in bodies:
        claim = claim_from_body(SCALED_OBJECT, body)
        if claim is not None:
            claims.setdefault(claim.target, []).append(claim)
    return claims


class ScaledObjectPoll:
    """The latest list of ScaledObjects, refreshed by :meth:`run` on its own thread."""

    def __init__(self, list_all: Lister, interval: float) -> None:
        self._list = list_all
        self.interval = interval
        self._claims: dict[TargetKey, list[ScaleClaim]] = {}
        self._stop = threading.Event()
        self._warned = False

    @property
    def claims(self) -> dict[TargetKey, list[ScaleClaim]]:
        """Target → claims (replaced whole on each refresh, so readers never see a half-built map)."""
        return self._claims

    def refresh(self) -> None:
        try:
            bodies = self._list()
        except KubeError as exc:
            if exc.status.code == 404:  # keda.sh not served: no ScaledObjects exist
                self._claims = {}
            elif exc.status.code == 403:
                if not self._warned:
                    log.warning("cannot list ScaledObjects (%s); conflicts with KEDA rely on the watch alone", exc)
                    self._warned = True
            else:  # keep the last claims: a failed list must not clear a conflict
                log.info("listing ScaledObjects failed, keeping the last list: %s", exc)
            return
        self._claims = index_claims(bodies)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception:  # never let the thread die: the next refresh may work
                log.exception("ScaledObject poll failed")
            self._stop.wait(self.interval)

    def start(self) -> ScaledObjectPoll:
        threading.Thread(target=self.run, name="augur-scaledobject-poll", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
