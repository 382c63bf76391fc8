"""How far the cache's view lags behind kube-scheduler: pods scored by ``prioritize`` whose binding the pod
watch has not delivered yet.

kube-scheduler assumes a pod on its node at the end of the pod's scheduling cycle and binds it in the
background; the extender learns of the binding only when its pod watch delivers the pod with its
``spec.nodeName``. In a burst, kube-scheduler asks about the next pods before that, so the extender scores
them (and its planner reads slots) without the last few pods placed. :class:`UnseenBinds` counts them at
each ``prioritize`` call (``augur_extender_prioritize_unseen_binds``); the simulator models the same lag
(``KubeModel.view_lag``, ``augur placement simulate --view-lag``). It only measures: scores do not change.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

UNSEEN_TTL_SECONDS = 5.0
"""A scored pod not seen bound after this long is forgotten (kube-scheduler did not bind it, or it was
deleted): a binding takes milliseconds."""
UNSEEN_MEMORY = 65
"""Scored pods remembered at most (the oldest are forgotten first): one more than the last finite bucket of the
histogram (``metrics.UNSEEN_BUCKETS``, 64), so a larger lag still lands in ``+Inf``. Each call looks every
remembered pod up in the cache, so this bounds its cost: with 1,024 (before 2026-12-07) a prioritize call spent
about 0.5 ms of CPU on it (2-vCPU AMD EPYC) whenever a thousand pods scored within the TTL were not seen bound,
as in the latency benchmark, whose pending pods nothing binds; in a real burst the lag is a few pods."""


class UnseenBinds:
    """Pods scored and not yet seen bound, by uid; ``bound(uid)`` tells whether the cache has the pod bound."""

    def __init__(
        self, bound: Callable[[str], bool], ttl: float = UNSEEN_TTL_SECONDS, memory: int = UNSEEN_MEMORY
    ) -> None:
        self._bound, self._ttl, self._memory = bound, ttl, memory
        self._scored: OrderedDict[str, float] = OrderedDict()

    def scored(self, uid: str, now: float) -> int:
        """Record that pod ``uid`` was scored at ``now`` (monotonic seconds); returns how many pods scored
        before it are not bound in the cache yet (a pod scored again is not counted against itself)."""
        self._scored.pop(uid, None)
        for old in [u for u, t in self._scored.items() if now - t > self._ttl or self._bound(u)]:
            del self._scored[old]
        unseen = len(self._scored)
        if uid:
            self._scored[uid] = now
            while len(self._scored) > self._memory:
                self._scored.popitem(last=False)
        return unseen
