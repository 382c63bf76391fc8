from __future__ import annotations

import threading
from pathlib import Path

import httpx
import numpy as np
import pytest
import yaml

from augur.devcluster import kwok
from augur.devcluster.replay import ReplayClock, exposition, make_server, read_trace, save_trace, value_at
from augur.sim.trace import Trace

TRACE = Trace("web", 1_000.0, 120.0, np.array([10.0, 20.0, np.nan, 40.0, 50.0]))


def test_history_and_live_share_one_clock() -> None:
    clock = ReplayClock(anchor=5_000.0, first_live=3, seconds_per_step=5.0)
    assert clock.history_timestamps() == [4_985.0, 4_990.0, 4_995.0]
    assert [clock.index_at(t) for t in (4_985.0, 4_999.9, 5_000.0, 5_004.9, 5_005.0)] == [0, 2, 3, 3, 4]
    for i in range(5):
        assert clock.index_at(clock.wall_time(i)) == i


def test_value_outside_the_trace_or_in_a_gap_is_none() -> None:
    clock = ReplayClock(anchor=5_000.0, first_live=3, seconds_per_step=5.0)
    assert value_at(TRACE, clock, 4_984.0) is None
    assert value_at(TRACE, clock, 4_985.0) == 10.0
    assert value_at(TRACE, clock, 4_996.0) is None  # NaN in the trace
    assert value_at(TRACE, clock, 5_006.0) == 50.0
    assert value_at(TRACE, clock, 5_010.0) is None  # past the end


def test_exposition_serves_the_current_value_and_step() -> None:
    clock = ReplayClock(anchor=5_000.0, first_live=3, seconds_per_step=5.0)
    body = exposition(TRACE, clock, "augur_demand", "web", 5_001.0)
    assert 'augur_demand{trace="web"} 40.0' in body.splitlines()
    assert 'augur_replay_step{trace="web"} 3' in body.splitlines()
    past = exposition(TRACE, clock, "augur_demand", "web", 9_999.0)
    assert not [line for line in past.splitlines() if line.startswith("augur_demand{")]


def test_exporter_http(tmp_path: Path) -> None:
    trace = read_trace(save_trace(TRACE, tmp_path / "t.json"))
    assert np.array_equal(trace.demand, TRACE.demand, equal_nan=True)
    clock = ReplayClock(anchor=0.0, first_live=0, seconds_per_step=1e12)  # index 0 for ages
    server = make_server(0, trace, clock, "augur_demand", "web")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        reply = httpx.get(f"{url}/metrics", timeout=5)
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert 'augur_demand{trace="web"} 10.0' in reply.text
        assert httpx.get(f"{url}/other", timeout=5).status_code == 404
    finally:
        server.shutdown()
        server.server_close()


STAGES = """
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: node-initialize}
spec: {resourceRef: {kind: Node}}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-ready}
spec: {resourceRef: {kind: Pod}, next: {statusTemplate: "phase: Running"}}
"""


def test_kwok_pod_ready_stage_gets_the_cluster_delay_and_pod_override() -> None:
    docs = list(yaml.safe_load_all(kwok.render_config(STAGES, (2.5, 5.0))))
    assert docs[0]["kind"] == "KwokConfiguration" and docs[0]["options"]["cidr"] == kwok.POD_CIDR
    ready = next(d for d in docs if d.get("metadata", {}).get("name") == "pod-ready")
    delay = ready["spec"]["delay"]
    assert delay["durationMilliseconds"] == 2500 and delay["jitterDurationMilliseconds"] == 5000
    assert kwok.DELAY_ANNOTATION in delay["durationFrom"]["expressionFrom"]
    assert kwok.DELAY_MAX_ANNOTATION in delay["jitterDurationFrom"]["expressionFrom"]
    node = next(d for d in docs if d.get("metadata", {}).get("name") == "node-initialize")
    assert "delay" not in node["spec"]


def test_kwok_without_cluster_delay_has_no_jitter_default() -> None:
    docs = list(yaml.safe_load_all(kwok.render_config(STAGES)))
    delay = next(d for d in docs if d.get("metadata", {}).get("name") == "pod-ready")["spec"]["delay"]
    assert delay["durationMilliseconds"] == 0 and "jitterDurationMilliseconds" not in delay
    assert kwok.delay_annotations(2, 4) == {kwok.DELAY_ANNOTATION: "2s", kwok.DELAY_MAX_ANNOTATION: "4s"}


def test_kwok_bad_delay_or_missing_stage_is_refused() -> None:
    with pytest.raises(ValueError):
        kwok.render_config(STAGES, (5.0, 1.0))
    with pytest.raises(ValueError, match="pod-ready"):
        kwok.render_config(STAGES.split("---", maxsplit=1)[0])
