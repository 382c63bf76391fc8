from __future__ import annotations

import math

import pytest

from augur.devcluster.demo import Printer
from augur.devcluster.replay import DemandReplay, ReplayClock
from augur.devcluster.scenario import Observation, demo_scenario
from augur.sim.synthetic import generate


def _obs(replicas: int, ready: int, decision: dict[str, object] | None = None) -> Observation:
    return Observation(replicas, ready, replicas, math.nan, math.nan, decision)


def test_lines_flag_short_capacity_and_print_decisions_once(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = demo_scenario()
    trace = generate(scenario.trace)
    clock = ReplayClock(1_000_000.0, scenario.history_steps, scenario.seconds_per_step)
    replay = DemandReplay("web", trace, clock, "augur_demand", "job", "127.0.0.1:1", None)  # type: ignore[arg-type]
    printer = Printer(scenario, replay)
    hold = {"time": "t1", "fromReplicas": 2, "desiredReplicas": 2, "kind": "Reactive", "reason": "warming up"}
    scale = {"time": "t2", "fromReplicas": 2, "desiredReplicas": 4, "kind": "Predictive", "acted": True, "reason": "r"}
    index = scenario.history_steps
    printer.step(index, 120.0, {"augur": _obs(2, 2, hold), "reactive": _obs(2, 2)})
    printer.step(index + 1, 90.0, {"augur": _obs(2, 2, {**hold, "time": "t1b"}), "reactive": _obs(2, 2)})
    printer.step(index + 2, 90.0, {"augur": _obs(4, 2, scale), "reactive": _obs(2, 2)})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Wed 06:50") and lines[0].count("SHORT") == 2  # 120 > 2 x 50 for both
    assert lines[1] == "   augur (Reactive): decided 2 -> 2: warming up"  # the first decision of its kind
    assert lines[2].startswith("Wed 06:52") and "SHORT" not in lines[2]  # a hold of the same kind: no line
    assert lines[3].startswith("Wed 06:54")
    assert lines[4] == "   augur (Predictive): scaled 2 -> 4: r"
    assert len(lines) == 5
