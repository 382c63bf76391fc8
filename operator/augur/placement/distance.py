"""Vectorized distances from candidate nodes to where a workload's pods run.

Sums go through the zone matrix (``O(zones² + nodes)``), then two corrections make them exact: the
candidate's own node counts at the ``sameNode`` level, and node-pair overrides replace the zone value.
"""

from __future__ import annotations

import numpy as np

from augur.constants import FloatArray, IntArray
from augur.placement.table import NodeTable


def pairwise(table: NodeTable, a: IntArray, b: IntArray) -> FloatArray:
    """Exact ``len(a) * len(b)`` distance matrix between node positions."""
    d = table.zone_matrix[np.ix_(table.zone_idx[a], table.zone_idx[b])].copy()
    d[a[:, None] == b[None, :]] = table.topology.levels.same_node
    oi, oj, od = table.overrides
    if len(oi):
        lookup = {(int(i), int(j)): float(x) for i, j, x in zip(oi, oj, od, strict=True)}
        for r, i in enumerate(a.tolist()):
            for c, j in enumerate(b.tolist()):
                if (i, j) in lookup:
                    d[r, c] = lookup[(i, j)]
    return d


def distance_values(table: NodeTable) -> FloatArray:
    """Every value :func:`pairwise` can give over ``table``: its zone matrix, the same-node distance and the
    node-pair overrides (the candidates of :func:`augur.placement.canonical.distance_codes`)."""
    same = np.array([table.topology.levels.same_node], dtype=np.float64)
    return np.concatenate([table.zone_matrix.ravel(), same, table.overrides[2]])


def distance_sums(table: NodeTable, cand: IntArray, peer: IntArray, weight: FloatArray) -> FloatArray:
    """For each candidate, Σ over peer pods of weight * distance (peer given as node positions + counts)."""
    if len(peer) == 0:
        return np.zeros(len(cand), dtype=np.float64)
    nz = len(table.zones)
    wz = np.bincount(table.zone_idx[peer], weights=weight, minlength=nz).astype(np.float64)
    zc = table.zone_idx[cand]
    sums = (table.zone_matrix @ wz)[zc]
    w_node = np.bincount(peer, weights=weight, minlength=len(table)).astype(np.float64)
    diag = table.zone_matrix[zc, zc]
    sums += w_node[cand] * (table.topology.levels.same_node - diag)
    if len(table.overrides[0]):
        _apply_override_sums(table, cand, w_node, sums)
    return sums


def _apply_override_sums(table: NodeTable, cand: IntArray, w_node: FloatArray, sums: FloatArray) -> None:
    oi, oj, od = table.overrides
    inv = np.full(len(table), -1, dtype=np.int64)
    inv[cand] = np.arange(len(cand))
    hit = (inv[oi] >= 0) & (w_node[oj] > 0)
    if not hit.any():
        return
    i, j, d = oi[hit], oj[hit], od[hit]
    default = np.where(i == j, table.topology.levels.same_node, table.zone_matrix[table.zone_idx[i], table.zone_idx[j]])
    np.add.at(sums, inv[i], w_node[j] * (d - default))


def nearest(table: NodeTable, cand: IntArray, peer: IntArray) -> FloatArray:
    """Distance from each candidate to the nearest peer pod (``inf`` when there is none)."""
    if len(peer) == 0:
        return np.full(len(cand), np.inf)
    zmask = np.zeros(len(table.zones), dtype=bool)
    zmask[table.zone_idx[peer]] = True
    zone_min = table.zone_matrix[:, zmask].min(axis=1)
    out: FloatArray = zone_min[table.zone_idx[cand]].astype(np.float64)
    hosts = np.zeros(len(table), dtype=bool)
    hosts[peer] = True
    out[hosts[cand]] = np.minimum(out[hosts[cand]], table.topology.levels.same_node)
    oi, _, _ = table.overrides
    if len(oi):
        touched = np.isin(cand, oi)
        for r in np.flatnonzero(touched).tolist():
            out[r] = float(pairwise(table, cand[r : r + 1], peer).min())
    return out
