"""``--topology NAME``: the extender scores with that NetworkTopology, not ``default``."""

from __future__ import annotations

from typing import Any

import pytest

from augur_extender.__main__ import build_parser, settings_from_args
from augur_extender.cache import MemoryCache
from augur_extender.settings import Settings


def topology(name: str, same_zone: int) -> dict[str, Any]:
    levels = {"sameNode": 0, "sameZone": same_zone, "sameRegion": 40, "crossRegion": 100}
    return {"metadata": {"name": name}, "spec": {"levels": levels}}


def same_zone_distance(cache: MemoryCache) -> float:
    cache.replace("networktopologies", [topology("default", 15), topology("replay-1", 25), topology("a", 30)])
    return cache.view().snapshot.table.topology.levels.same_zone


def test_named_topology_wins_over_default() -> None:
    assert same_zone_distance(MemoryCache()) == 15
    assert same_zone_distance(MemoryCache(topology="replay-1")) == 25


def test_a_named_topology_that_does_not_exist_means_default_levels() -> None:
    assert same_zone_distance(MemoryCache(topology="missing")) == 10  # the API defaults, not another object


def test_flag_reaches_the_settings() -> None:
    args = build_parser().parse_args(["--topology", "replay-1"])
    assert settings_from_args(args).topology == "replay-1"


def test_the_verb_fast_path_is_on_unless_turned_off() -> None:
    assert settings_from_args(build_parser().parse_args([])).verb_fast_path
    assert not settings_from_args(build_parser().parse_args(["--no-verb-fast-path"])).verb_fast_path


def test_the_planner_priority_flag_defaults_to_nice_and_takes_only_known_priorities() -> None:
    assert settings_from_args(build_parser().parse_args([])).planner_priority == "nice"
    args = build_parser().parse_args(["--planner-process", "--planner-priority", "idle"])
    assert settings_from_args(args).planner_priority == "idle"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--planner-priority", "high"])
    with pytest.raises(ValueError, match="nice, idle"):  # settings made in code are checked at once too
        Settings(planner_priority="high")
