"""``augur placement simulate``'s report: the shipped configuration (``augur``), Augur alone
(``augur_alone``, diagnosis), kube-scheduler without the extender (``default``) and the best placement found
offline (``best``), each with its metrics and assignment; optionally the same runs with the nodes listed in
other (seeded, shuffled) orders, to show that the result does not depend on the order; with ``rename``,
the shuffled nodes are also renamed by their position (``node-0000``, ...), as the replay names them: the
node table sorts by name, so only a renaming changes what the planner and the tie-breaks see."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from augur.placement import ScoringConfig
from augur.sim.placement.best import find_best
from augur.sim.placement.kube import KubeModel
from augur.sim.placement.metrics import Outcome, node_distances
from augur.sim.placement.runs import simulate_augur_alone, simulate_default, simulate_deployed
from augur.sim.placement.scenario import Scenario

ROWS = ("augur", "augur_alone", "default")


def _rows(sc: Scenario, model: KubeModel) -> dict[str, Outcome]:
    return {
        "augur": simulate_deployed(sc, model),
        "augur_alone": simulate_augur_alone(sc),
        "default": simulate_default(sc, model),
    }


def shuffled(sc: Scenario, orders: int) -> list[Scenario]:
    """``orders`` copies of the scenario with its nodes listed in seeded random orders."""
    return [s for s, _ in reordered(sc, orders)]


def reordered(sc: Scenario, orders: int, rename: bool = False) -> list[tuple[Scenario, dict[str, str]]]:
    """``orders`` copies of the scenario with its nodes in seeded random orders, each with the map from its
    node names to the scenario's; with ``rename``, node ``k`` of an order is named ``node-{k:04d}`` (only for
    scenarios that name no node in distances or avoidances)."""
    if rename and (sc.topology.nodes or any(w.avoid_nodes for w in sc.workloads)):
        raise ValueError("cannot rename the nodes of a scenario that refers to nodes by name")
    rng = np.random.default_rng([sc.seed, 1])
    out = []
    for _ in range(orders):
        nodes = tuple(sc.nodes[i] for i in rng.permutation(len(sc.nodes)))
        names = [f"node-{k:04d}" if rename else n.name for k, n in enumerate(nodes)]
        renamed = tuple(replace(n, name=name) for n, name in zip(nodes, names, strict=True))
        out.append((sc.with_nodes(renamed), {name: n.name for n, name in zip(nodes, names, strict=True)}))
    return out


def simulate(
    sc: Scenario,
    search_rounds: int = 300,
    variants: Mapping[str, ScoringConfig] | None = None,
    model: KubeModel | None = None,
    orders: int = 0,
    rename: bool = False,
) -> dict[str, Any]:
    """The report; ``variants`` adds as-deployed runs with other scoring configurations (under their names;
    their placements also seed the offline search); ``orders`` adds runs with shuffled node lists (renamed
    by position with ``rename``), reported in the scenario's own node names."""
    model = model or KubeModel()
    distances = node_distances(sc)
    rows = _rows(sc, model)
    extra = {name: simulate_deployed(replace(sc, scoring=config), model) for name, config in (variants or {}).items()}
    others = [
        {name: _named_back(o, back) for name, o in _rows(s, model).items()} for s, back in reordered(sc, orders, rename)
    ]
    starts = [*rows.values(), *extra.values(), *(o for r in others for o in r.values())]
    best, exact = find_best(sc, starts, distances, search_rounds)
    report: dict[str, Any] = {name: outcome.report(sc, distances) for name, outcome in rows.items()}
    report["best"] = {**best.report(sc, distances), "exact": exact}
    report.update({name: outcome.report(sc, distances) for name, outcome in extra.items()})
    report["model"] = {
        "extender_weight": model.extender_weight,
        "extender_filter": model.extender_filter,
        "view_lag": model.view_lag,
        "plugin_weights": dict(model.weights),
        "seed": sc.seed,
        "plan": sc.scoring.plan.weight > 0,
    }
    if orders:
        report["orders"] = [{name: o.report(sc, distances)["network_cost"] for name, o in r.items()} for r in others]
        report["orders_renamed"] = rename
    return report


def _named_back(outcome: Outcome, back: dict[str, str]) -> Outcome:
    return Outcome({pod: back[node] for pod, node in outcome.assignment.items()}, outcome.unplaced)
