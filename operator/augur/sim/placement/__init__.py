"""Placement simulator: place a scenario's pods one by one as the shipped configuration does (kube-scheduler's
default plugins plus Augur's extender and its background plan), as kube-scheduler alone does, and as Augur
alone does, and compare them with the best placement found offline.

Metrics follow ``facts.md`` section 5. Modules: :mod:`.scenario` (file format), :mod:`.metrics`,
:mod:`.kube` (kube-scheduler's plugins), :mod:`.runs` (pod-by-pod placement), :mod:`.exact` and
:mod:`.best` (offline optimum), :mod:`.simulate` (the report). Pure: the caller reads the scenario file.
"""

from augur.sim.placement.best import build_problem, find_best
from augur.sim.placement.kube import KubeModel
from augur.sim.placement.metrics import (
    Outcome,
    counts_of,
    load_stddev,
    network_cost,
    node_distances,
    node_loads,
    to_assignment,
)
from augur.sim.placement.runs import simulate_augur_alone, simulate_default, simulate_deployed
from augur.sim.placement.scenario import Scenario, ScenarioWorkload, parse_scenario
from augur.sim.placement.simulate import ROWS, shuffled, simulate

__all__ = [
    "ROWS",
    "KubeModel",
    "Outcome",
    "Scenario",
    "ScenarioWorkload",
    "build_problem",
    "counts_of",
    "find_best",
    "load_stddev",
    "network_cost",
    "node_distances",
    "node_loads",
    "parse_scenario",
    "shuffled",
    "simulate",
    "simulate_augur_alone",
    "simulate_default",
    "simulate_deployed",
    "to_assignment",
]
