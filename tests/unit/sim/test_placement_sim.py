"""The placement simulator: a scenario whose best placement is known by hand, and consistency checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from augur.api.validation import SpecError
from augur.cli.main import main
from augur.placement.iterated import search_best
from augur.sim.placement import (
    build_problem,
    counts_of,
    load_stddev,
    network_cost,
    node_distances,
    parse_scenario,
    simulate,
    simulate_default,
)
from augur.sim.placement.exact import exhaustive, milp_best

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "placement" / "three-tier.yaml"


def tiny() -> dict[str, Any]:
    """Nodes a1, a2 (zone a) and b1 (zone b) with 2 cores each; web (2 x 1 core) talks to api (2 x 1 core).

    A node holds two pods. Cheapest by hand: web+api on a1 and web+api on a2, pairs at distances
    (0, 10, 10, 0), cost 10 x 5 = 50; every other split costs more (all web on a1 and all api on a2:
    10 x 10 = 100; anything touching b1 pays 40 on some pair).
    """
    return {
        "nodes": [
            {"name": "a1", "zone": "a", "region": "east", "cpu": 2, "memory": 8},
            {"name": "a2", "zone": "a", "region": "east", "cpu": 2, "memory": 8},
            {"name": "b1", "zone": "b", "region": "east", "cpu": 2, "memory": 8},
        ],
        "distances": {"sameNode": 0, "sameZone": 10, "sameRegion": 40, "crossRegion": 100},
        "workloads": [
            {"name": "web", "replicas": 2, "cpu": 1, "memory": 1, "talksTo": {"api": 10}},
            {"name": "api", "replicas": 2, "cpu": 1, "memory": 1},
        ],
    }


def recompute(raw: dict[str, Any], result: dict[str, Any]) -> tuple[float, float]:
    sc = parse_scenario(raw)
    counts = counts_of(sc, result["assignment"])
    return network_cost(sc, counts, node_distances(sc)), load_stddev(sc, counts)


def test_best_is_exact_and_matches_hand_computation() -> None:
    report = simulate(parse_scenario(tiny()))
    assert report["best"]["exact"] is True
    assert report["best"]["network_cost"] == pytest.approx(50.0)
    assert report["best"]["unplaced"] == 0
    for name in ("augur", "augur_alone", "default"):
        assert report[name]["network_cost"] >= report["best"]["network_cost"] - 1e-9


def test_reported_metrics_match_the_assignments() -> None:
    raw = tiny()
    report = simulate(parse_scenario(raw))
    for name in ("augur", "augur_alone", "default", "best"):
        cost, stddev = recompute(raw, report[name])
        assert report[name]["network_cost"] == pytest.approx(cost, abs=1e-5)
        assert report[name]["load_stddev"] == pytest.approx(stddev, abs=1e-5)
        assert len(report[name]["assignment"]) + report[name]["unplaced"] == 4


def test_capacity_is_respected_and_overflow_is_unplaced() -> None:
    raw = tiny()
    raw["workloads"][1]["replicas"] = 5  # 7 cores asked, 6 available
    report = simulate(parse_scenario(raw))
    for name in ("augur", "default", "best"):
        assert report[name]["unplaced"] == 1
        used: dict[str, int] = {}
        for node in report[name]["assignment"].values():
            used[node] = used.get(node, 0) + 1
        assert max(used.values()) <= 2


def test_required_avoidance_holds_for_every_placement() -> None:
    raw = tiny()
    raw["workloads"][0].update(avoidZones=["a"], requiredAvoidance=True)
    report = simulate(parse_scenario(raw))
    for name in ("augur", "augur_alone", "best"):
        assert all(report[name]["assignment"].get(f"web-{i}") in (None, "b1") for i in range(2))


def test_augur_beats_default_on_the_example() -> None:
    raw = yaml.safe_load(EXAMPLE.read_text())
    report = simulate(parse_scenario(raw), search_rounds=20)
    assert report["augur"]["network_cost"] < report["default"]["network_cost"]
    cost, _ = recompute(raw, report["augur"])
    assert report["augur"]["network_cost"] == pytest.approx(cost, abs=1e-5)


def test_bad_scenario_lists_every_error() -> None:
    raw = tiny()
    raw["nodes"][1]["name"] = "a1"
    raw["nodes"][2]["cpu"] = -1
    raw["workloads"][0]["talksTo"] = {"ghost": 1}
    raw["scoring"] = {"load": {"weight": -1}}
    with pytest.raises(SpecError) as exc:
        parse_scenario(raw)
    assert sorted(e.path for e in exc.value.errors) == [
        "nodes[1].name",
        "nodes[2].cpu",
        "scoring.load.weight",
        "workloads[0].talksTo.ghost",
    ]


def test_cli_json_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "s.yaml"
    good.write_text(yaml.safe_dump(tiny()))
    assert main(["placement", "simulate", str(good), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"exact": true' in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("nodes: [1]\nworkloads: []\n")
    assert main(["placement", "simulate", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "nodes[0]" in err and "workloads" in err


def three_services() -> dict[str, Any]:
    """Three chatty services on four nodes in two zones and two regions, tight enough that capacity binds."""
    raw = tiny()
    raw["nodes"].append({"name": "c1", "zone": "c", "region": "west", "cpu": 3, "memory": 8})
    raw["workloads"] = [
        {"name": "web", "replicas": 2, "cpu": 1, "memory": 1, "talksTo": {"api": 30}},
        {"name": "api", "replicas": 3, "cpu": 1, "memory": 1, "talksTo": {"db": 50}},
        {"name": "db", "replicas": 2, "cpu": 1, "memory": 1},
    ]
    return raw


def test_milp_and_exhaustive_agree_on_the_optimum() -> None:
    sc = parse_scenario(three_services())
    problem = build_problem(sc, node_distances(sc))
    enumerated = exhaustive(problem, with_unplaced=False)
    solved, proven = milp_best(problem, time_limit=10)
    assert enumerated is not None and solved is not None
    assert proven is True
    assert problem.fits(solved)
    assert problem.objective(solved) == pytest.approx(problem.objective(enumerated), abs=1e-6)


def test_offline_search_reaches_the_exhaustive_optimum() -> None:
    sc = parse_scenario(three_services())
    problem = build_problem(sc, node_distances(sc))
    optimum = problem.objective(exhaustive(problem, with_unplaced=False))  # type: ignore[arg-type]
    starts = [counts_of(sc, simulate_default(sc).assignment)]
    found = search_best(problem, starts, np.random.default_rng(0), rounds=5, anneal_steps=5_000, restarts=2)
    assert problem.fits(found)
    assert problem.objective(found) == pytest.approx(optimum, abs=1e-6)


def test_replay_refuses_both_ways_of_gating_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    """``--plan-gate`` and ``--plan-gate-webhook`` together would leave one unused: argparse refuses the pair."""
    with pytest.raises(SystemExit) as exited:
        main(["placement", "replay", "s.yaml", "--burst", "--plan-gate", "--plan-gate-webhook"])
    assert exited.value.code == 2
    assert "--plan-gate-webhook: not allowed with argument --plan-gate" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--extender-replicas", "0"], "--extender-replicas must be at least 1, got 0"),
        (["--scheduler-to-any-replica"], "--scheduler-to-any-replica needs --extender-replicas above 1"),
    ],
)
def test_replay_refuses_replica_flags_that_cannot_apply(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["placement", "replay", "s.yaml", *flags]) == 2
    assert message in capsys.readouterr().err
