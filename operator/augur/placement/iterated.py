"""Iterated local search on the engine of :mod:`augur.placement.search`: the pending-pod planner's kicks
(:func:`kicked`) and the simulator's multi-start search for the best placement (:func:`search_best`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from augur.constants import FloatArray
from augur.placement.constants import EPS
from augur.placement.problem import CountProblem
from augur.placement.search import CountSearch, cheaper

RUIN_SIZE = 12
"""Most workloads one ruin-and-recreate round of :func:`kicked` takes off (drawn from 1 to this): 12 rather than 6 on
the development scenarios (``report`` and ``dev2`` seeds; ``bench/planner_search.py``; ``docs/placement-results.md``,
"The planner's search")."""


def kicked(
    search: CountSearch,
    rounds: int,
    passes: int = 200,
    ruin: int = RUIN_SIZE,
    anywhere: float = 1.0,
    pin: bool = False,
    on_better: Callable[[CountSearch], None] | None = None,
) -> CountSearch:
    """Iterated local search from ``search``: ``rounds`` times, a copy of the best state so far is perturbed
    and descends (:meth:`CountSearch.descend`, node swaps included); the best state seen is returned
    (``search`` itself when no round improved on it). The perturbation is a ruin and recreate
    (:meth:`CountSearch.ruin` of 1 to ``ruin`` related workloads, then :meth:`CountSearch.insert`), or with
    ``ruin`` 0 a few random moves (:meth:`CountSearch.kick`).

    ``anywhere`` is the share of rounds whose recreate is anchored at a random node (1: every round; 0: none,
    unanchored as ruin and recreate was first shipped; in between, each round draws). An application taken
    off whole has no traffic to what stays, so every node costs it the same and, unanchored, it goes back to
    the node with most room, where it came from; anchored, its first pod goes to (or next to) the random node
    and the rest follow (``bench/planner_search.py``). With ``pin`` an anchored recreate puts the first
    workload it inserts at the anchor even when it has traffic to what stays (:meth:`CountSearch.insert`).
    ``on_better`` is called with each new best state (which later rounds copy and never change)."""
    best, best_value = search, search.quick_value()
    for _ in range(rounds):
        placed = int(best.x.sum())
        if placed == 0:
            break
        s = best.copy()
        if ruin > 0:
            s.ruin(int(s.rng.integers(1, ruin + 1)))
            s.insert(int(s.rng.integers(len(s.p.room_cpu))) if _anchored(s.rng, anywhere) else None, pin)
        else:
            s.kick(int(s.rng.integers(1, 4 + placed // 10)))
        s.descend(passes)
        if cheaper(value := s.quick_value(), best_value):
            best, best_value = s, value
            if on_better is not None:
                on_better(best)
    return best


def _anchored(rng: np.random.Generator, share: float) -> bool:
    """Whether this round's recreate is anchored: always at ``share`` >= 1 and never at <= 0, without a draw
    (so the rounds of either extreme use the generator as they did before shares existed)."""
    if share >= 1:
        return True
    return share > 0 and bool(rng.random() < share)


def search_best(
    p: CountProblem,
    starts: list[FloatArray],
    rng: np.random.Generator,
    rounds: int,
    anneal_steps: int = 0,
    restarts: int = 1,
) -> FloatArray:
    """Iterated local search: each start completed greedily and improved, then ``restarts`` annealing
    runs from the best (when every pod is placed), then ``rounds`` random kicks each followed by descent;
    returns the best movable counts seen. Starts are cleaned first (pods on nodes they may not use and
    pods beyond the targets are dropped). Runs in the problem's canonical node order (seeded from ``rng``)
    and returns counts in the caller's."""
    order = p.canonical(int(rng.integers(2**31)))
    x = _search_best(p.permuted(order), [s[:, order] for s in starts], rng, rounds, anneal_steps, restarts)
    out: FloatArray = np.empty_like(x)
    out[:, order] = x
    return out


def _search_best(
    p: CountProblem, starts: list[FloatArray], rng: np.random.Generator, rounds: int, anneal_steps: int, restarts: int
) -> FloatArray:
    best, best_value = np.zeros_like(p.fixed), math.inf
    for start in starts or [np.zeros_like(p.fixed)]:
        s = CountSearch(p, rng, _clean(p, start))
        s.insert()
        s.descend(200)
        if (value := s.value()) < best_value:
            best, best_value = s.x.copy(), value
    complete = not p.missing(best).any()
    for _ in range(restarts if anneal_steps > 0 and complete else 0):
        s = CountSearch(p, rng, best)
        s.anneal(anneal_steps)
        s.descend(200)
        if (value := s.value()) < best_value - EPS:
            best, best_value = s.x.copy(), value
    return kicked(CountSearch(p, rng, best), rounds).x if rounds > 0 else best


def _clean(p: CountProblem, start: FloatArray) -> FloatArray:
    x = np.where(p.allowed, start, 0.0)
    for w in range(len(p.replicas)):
        extra = int(x[w].sum() + p.fixed[w].sum() - p.replicas[w])
        for n in np.flatnonzero(x[w])[::-1].tolist() if extra > 0 else []:
            take = min(extra, int(x[w, n]))
            x[w, n] -= take
            extra -= take
    if not p.fits(x):  # over capacity (a start from another capacity model): keep what fits, in order
        room_cpu, room_mem, room_pods = p.room_cpu.copy(), p.room_mem.copy(), p.pod_room.copy()
        kept = np.zeros_like(x)
        for w, n in zip(*np.nonzero(x), strict=True):
            for _ in range(int(x[w, n])):
                if room_cpu[n] >= p.cpu[w] - EPS and room_mem[n] >= p.mem[w] - EPS and room_pods[n] >= 1 - EPS:
                    kept[w, n] += 1
                    room_cpu[n] -= p.cpu[w]
                    room_mem[n] -= p.mem[w]
                    room_pods[n] -= 1
        x = kept
    return x
