"""bench/planner_search.py: first plans under planner settings, compared with the lowest cost any found."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest


@pytest.fixture
def module(bench_import: Callable[[str], ModuleType]) -> ModuleType:
    return bench_import("planner_search")


def test_summary_compares_each_seed_with_the_lowest_cost_of_any_variant(module: ModuleType) -> None:
    rows = [
        {"variants": {"a": {"costs": [100.0, 120.0], "cpu_seconds": [1.0, 3.0]},
                      "b": {"costs": [105.0, 105.0], "cpu_seconds": [1.0, 1.0]}}},
        {"variants": {"a": {"costs": [50.0, 50.0], "cpu_seconds": [2.0, 2.0]},
                      "b": {"costs": [60.0, None], "cpu_seconds": [1.0, 1.0]}}},
    ]  # fmt: skip
    out = module.summarize(rows, ["a", "b"])
    assert out["a"]["worst"] == 1.2 and out["a"]["within_10pct_in_every_planner_seed"] == 1
    assert out["b"]["worst"] == 1.2 and out["b"]["within_10pct_in_every_planner_seed"] == 1
    assert out["a"]["cpu_seconds_per_plan_summed_over_scenarios"] == 4.0
    assert out["b"]["geometric_mean_median_seed"] == pytest.approx((1.05 * 1.2) ** 0.5, abs=1e-4)


def test_a_small_scenario_plans_every_seed_reproducibly(module: ModuleType) -> None:
    raw = module.generate("chain", 20, 0)
    first = module.first_plan_costs(raw, {"restarts": 1, "kicks": 5}, [0, 1])
    again = module.first_plan_costs(raw, {"restarts": 1, "kicks": 5}, [0, 1])
    assert first["costs"] == again["costs"] and all(c is not None and c > 0 for c in first["costs"])


def test_a_bad_variant_gets_a_clear_error(module: ModuleType) -> None:
    assert module.parse_variant('old={"restarts": 4, "ruin": 0}') == ("old", {"restarts": 4, "ruin": 0})
    assert module.parse_variant('half={"recreate_anywhere": 0.5}') == ("half", {"recreate_anywhere": 0.5})
    assert module.parse_variant('first={"recreate_anywhere": 0}') == ("first", {"recreate_anywhere": 0})
    assert module.parse_variant('pin={"recreate_pinned": true}') == ("pin", {"recreate_pinned": True})
    for text, says in [
        ("old", "expected NAME=JSON"),
        ("old={restarts: 4}", "not JSON"),
        ("old=[4]", "JSON object"),
        ('old={"restart": 4}', "not PlanSettings fields: restart"),
        ('old={"restarts": "4"}', "not numbers of the fields' types .*: restarts"),
        ('old={"kicks": 2.5, "seed": null}', "not numbers of the fields' types .*: kicks, seed"),
        ('old={"recreate_anywhere": true}', "not numbers of the fields' types .*: recreate_anywhere"),
        ('old={"recreate_pinned": 1}', "not numbers of the fields' types .*: recreate_pinned"),
        ('old={"recreate_anywhere": 1.5}', "recreate_anywhere is a share of rounds, from 0 to 1: got 1.5"),
    ]:
        with pytest.raises(ValueError, match=says):
            module.parse_variant(text)


def test_a_run_says_whether_its_scenarios_are_development_or_held_out(module: ModuleType) -> None:
    development = list(module.DEVELOPMENT_SEEDS)
    assert module.role(development[:2]).startswith("development")
    assert module.role([26, 27]).startswith("held out")
    assert module.role([development[0], 26]).startswith("mixed")
