"""Repairing a plan's search for a newer view of the same problem (:meth:`augur.placement.plan.Planner.update`).

While the node set, the traffic and the pod sizes stay the same, a plan is repaired rather than made anew:
pods that started on a planned slot consume it; a pod that started elsewhere, a deleted pod, a changed
replica count or a node that filled up moves only the planned pods concerned, followed by a short descent
over the workloads touched and their neighbours.
"""

from __future__ import annotations

import numpy as np

from augur.placement.constants import EPS
from augur.placement.problem import CountProblem
from augur.placement.search import CountSearch


def repair(search: CountSearch, p: CountProblem, passes: int) -> CountSearch:
    """``search`` (changed in place) repaired for ``p``, the same problem over a newer view, with at most
    ``passes`` descent passes over the workloads concerned."""
    q = search.p
    same_weights = np.array_equal(p.replicas, q.replicas)
    if same_weights:  # the pair weights did not change: reuse them
        p.__dict__["k"], p.__dict__["neighbours"] = q.k, q.neighbours
    started = np.maximum(p.fixed - q.fixed, 0.0)
    x = search.x - np.minimum(started, search.x)
    # counts change where fixed pods appeared off-plan or disappeared: update H and G entry by entry
    change = (p.fixed + x) - (q.fixed + search.x)
    touched = np.zeros(len(p.replicas), dtype=bool)
    for w, n in zip(*(a.tolist() for a in np.nonzero(np.abs(change) > EPS)), strict=True):
        search.shift_fixed(w, n, float(change[w, n]))
        touched[w] = True
    search.p, search.x = p, x
    if not same_weights:
        search.g = p.k @ search.h
        touched |= p.replicas != q.replicas
    search.room_cpu = p.room_cpu - p.cpu @ x
    search.room_mem = p.room_mem - p.mem @ x
    search.room_pods = p.pod_room - x.sum(axis=0)
    surplus = np.rint(p.fixed.sum(axis=1) + x.sum(axis=1) - p.replicas).astype(np.int64)
    for w in np.flatnonzero(surplus > 0).tolist():
        search.remove_worst(w, int(surplus[w]))
    for n in np.flatnonzero(search.over()).tolist():
        while search.over(n) and search.x[:, n].sum() > 0:
            on = np.flatnonzero(search.x[:, n] > 0)
            w = int(on[np.argmax(search.g[on, n])])
            search.add(w, n, -1.0)
            touched[w] = True
    touched |= p.missing(search.x) > 0
    search.insert()
    near = touched | (p.k[:, touched] > 0).any(axis=1)
    search.descend(passes, only=near)
    return search


__all__ = ["repair"]
