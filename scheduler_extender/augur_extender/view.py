"""The read side of the extender's cluster cache: what a request sees, never how it is fed.

:class:`ClusterView` is the immutable snapshot one request (or one planner step) works on: the placement
:class:`~augur.placement.Snapshot` plus the :class:`Profile`\\ s by namespace that map a pod to its
workload. :class:`ClusterCache` is what the HTTP layer and the planner need from a cache; the one
implementation, fed object by object, is :class:`augur_extender.cache.MemoryCache`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from augur.constants import REGION_LABEL, ZONE_LABEL
from augur.placement import RuleBook, Snapshot, WorkloadRules
from augur_extender.kubeobjects import PodFacts
from augur_extender.selector import Selector


@dataclass(frozen=True)
class Profile:
    key: str
    namespace: str
    rules: WorkloadRules
    selector: Selector | None
    pod_size: tuple[float, float] | None = None
    """Cores and GiB of one pod from ``status.podRequests`` (the operator reads the target's template);
    the size of a pod seen replaces it."""


@dataclass(frozen=True, eq=False)
class ClusterView:
    """An immutable snapshot for one request."""

    snapshot: Snapshot
    profiles: Mapping[str, tuple[Profile, ...]] = field(default_factory=dict)
    """Profiles by namespace."""
    zone_label: str = ZONE_LABEL
    region_label: str = REGION_LABEL
    version: int = 0
    """The cache's change counter when the view was built (the planner records which view it planned)."""

    def workload_of(self, namespace: str, labels: Mapping[str, str]) -> str | None:
        """Key of the first profile (by name) in ``namespace`` whose selector matches ``labels``."""
        for profile in self.profiles.get(namespace, ()):
            if profile.selector is not None and profile.selector.matches(labels):
                return profile.key
        return None


class ClusterCache(Protocol):
    """What the HTTP layer needs from a cache; tests feed a :class:`~augur_extender.cache.MemoryCache` directly."""

    def synced(self) -> bool: ...

    def view(self) -> ClusterView: ...

    def rulebook(self) -> RuleBook:
        """The rule book :meth:`view` would hold now, without building a view (the planner's cheap check)."""
        ...

    def wait_for_change(self, timeout: float) -> bool:
        """Block until something changed since the last call (``True``) or ``timeout`` seconds passed."""
        ...

    def find_pod(self, namespace: str, name: str) -> PodFacts | None: ...

    def workload_of(self, namespace: str, labels: Mapping[str, str]) -> str | None:
        """The profile that would select a pod with ``labels`` in ``namespace`` (the admission webhook's look)."""
        ...

    def bound(self, uid: str) -> bool:
        """Whether the cache has the pod ``uid`` bound to a node (its watch has delivered the binding)."""
        ...

    def gate_state(self) -> tuple[list[tuple[PodFacts, str | None]], dict[str, int]]:
        """Pods held at the plan gate with their workloads; per workload, its unbound pods not held."""
        ...

    def start(self) -> None: ...

    def stop(self) -> None: ...
