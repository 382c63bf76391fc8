"""Trace replay: a demand metric in the local Prometheus that follows a trace at a compressed clock.

:func:`start_demand_replay` gives a test or the demo weeks of demand history in a few seconds and then
keeps it going live:

* a small exporter (this module run as ``python -m augur.devcluster.replay``, a loopback HTTP server)
  serves ``/metrics`` with the trace's value *now*, and is registered as a Prometheus scrape target;
* the trace's first ``history_steps`` points are backfilled with ``promtool``
  (:mod:`augur.devcluster.backfill`) at the same compressed clock, ending where the live part starts.

**The clock mapping** (one rule for the history and the live part). Prometheus timestamps are real
wall-clock time; one trace step lasts ``seconds_per_step`` wall seconds. With ``anchor`` the wall time
at which replay started and ``k0 = history_steps``::

    trace index at wall time w  =  k0 + floor((w - anchor) / seconds_per_step)
    wall time of trace index i  =  anchor + (i - k0) * seconds_per_step

so index ``k0 - 1`` (the last backfilled point) sits at ``anchor - seconds_per_step`` and the exporter
serves index ``k0`` from ``anchor`` on. The compression factor is ``trace.interval_seconds /
seconds_per_step``: with a two-minute trace and ``seconds_per_step=5`` one trace day is one wall hour
and two weeks of history are 14 wall hours, written in a few seconds. Every wall-clock duration the
operator sees (lead time, cadence, stabilization windows, ``history``) is compressed by the same
factor: a pod that takes 5 s to become Ready is a two-minute start in trace time.

Keep ``seconds_per_step`` at or above the scrape interval (:data:`~augur.devcluster.prometheus.SCRAPE_INTERVAL`),
or scrapes skip trace points. Past the end of the trace the exporter serves no demand sample
(Prometheus marks the series stale), never a made-up value.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from augur.devcluster import prometheus
from augur.devcluster.backfill import Series, backfill
from augur.devcluster.cluster import LocalCluster
from augur.devcluster.ports import free_port
from augur.devcluster.procs import ManagedProcess, wait_until
from augur.sim.trace import Trace

DEFAULT_METRIC = "augur_demand"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class ReplayClock:
    """The compressed clock shared by the backfilled history and the live exporter."""

    anchor: float
    """Wall unix seconds at which trace index ``first_live`` starts."""
    first_live: int
    """Trace index served from ``anchor`` on (= the number of backfilled steps)."""
    seconds_per_step: float
    """Wall seconds one trace step lasts."""

    def __post_init__(self) -> None:
        if self.seconds_per_step <= 0:
            raise ValueError("seconds_per_step must be positive")

    def index_at(self, wall: float) -> int:
        return self.first_live + math.floor((wall - self.anchor) / self.seconds_per_step)

    def wall_time(self, index: int | float) -> float:
        return self.anchor + (index - self.first_live) * self.seconds_per_step

    def history_timestamps(self) -> list[float]:
        """Wall times of the backfilled points, indices ``0 ... first_live - 1``."""
        return [self.wall_time(i) for i in range(self.first_live)]


def value_at(trace: Trace, clock: ReplayClock, wall: float) -> float | None:
    """The trace's value at wall time ``wall``, or None outside the trace or in a gap."""
    i = clock.index_at(wall)
    if not 0 <= i < trace.steps:
        return None
    v = float(trace.demand[i])
    return v if math.isfinite(v) else None


def exposition(trace: Trace, clock: ReplayClock, metric: str, name: str, wall: float) -> str:
    """The ``/metrics`` body at wall time ``wall`` (Prometheus text format 0.0.4)."""
    label = f'{{trace="{name}"}}'
    lines = [
        f"# HELP {metric} Demand replayed from trace {name} at a compressed clock.",
        f"# TYPE {metric} gauge",
    ]
    value = value_at(trace, clock, wall)
    if value is not None:
        lines.append(f"{metric}{label} {value!r}")
    index = clock.index_at(wall)
    lines += [
        "# HELP augur_replay_step Trace index being served.",
        "# TYPE augur_replay_step gauge",
        f"augur_replay_step{label} {index}",
        "# HELP augur_replay_trace_time_seconds Trace time (unix seconds) being served.",
        "# TYPE augur_replay_trace_time_seconds gauge",
        f"augur_replay_trace_time_seconds{label} {trace.start + index * trace.interval_seconds!r}",
    ]
    return "\n".join(lines) + "\n"


# -- the trace file handed to the exporter process ------------------------------------------------------------
def save_trace(trace: Trace, path: Path) -> Path:
    values = [v if math.isfinite(v) else None for v in trace.demand.tolist()]
    data = {"name": trace.name, "start": trace.start, "interval_seconds": trace.interval_seconds, "demand": values}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def read_trace(path: Path) -> Trace:
    data = json.loads(path.read_text())
    demand = np.array([math.nan if v is None else v for v in data["demand"]], dtype=np.float64)
    return Trace(data["name"], float(data["start"]), float(data["interval_seconds"]), demand)


# -- the exporter process ------------------------------------------------------------------------------------
def make_server(port: int, trace: Trace, clock: ReplayClock, metric: str, name: str) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = exposition(trace, clock, metric, name, time.time()).encode()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a trace as a Prometheus gauge at a compressed clock.")
    parser.add_argument("--trace", type=Path, required=True, help="trace JSON written by save_trace")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--anchor", type=float, required=True)
    parser.add_argument("--first-live", type=int, required=True)
    parser.add_argument("--seconds-per-step", type=float, required=True)
    parser.add_argument("--metric", default=DEFAULT_METRIC)
    parser.add_argument("--name", required=True)
    args = parser.parse_args(argv)
    clock = ReplayClock(args.anchor, args.first_live, args.seconds_per_step)
    server = make_server(args.port, read_trace(args.trace), clock, args.metric, args.name)
    print(f"serving {args.name} on 127.0.0.1:{args.port}/metrics", flush=True)
    server.serve_forever()
    return 0


# -- the public API for tests and the demo -------------------------------------------------------------------
@dataclass(frozen=True)
class DemandReplay:
    """A running replay: the PromQL to put in ``spec.demand.query``, its clock and its exporter."""

    name: str
    trace: Trace
    clock: ReplayClock
    metric: str
    job: str
    address: str
    process: ManagedProcess

    @property
    def query(self) -> str:
        """Selects exactly one series: the backfilled history and the live scrapes share its labels."""
        return f'{self.metric}{{trace="{self.name}"}}'

    @property
    def compression(self) -> float:
        """Trace seconds per wall second."""
        return self.trace.interval_seconds / self.clock.seconds_per_step

    def value_now(self) -> float | None:
        return value_at(self.trace, self.clock, time.time())

    def stop(self, cluster: LocalCluster) -> None:
        """Stop the exporter and unregister it (the history stays in Prometheus)."""
        (cluster.prometheus_dir / "file_sd" / f"{self.job}.json").unlink(missing_ok=True)
        self.process.stop()


def start_demand_replay(
    cluster: LocalCluster,
    name: str,
    trace: Trace,
    history_steps: int,
    *,
    seconds_per_step: float = prometheus.SCRAPE_INTERVAL_SECONDS,
    metric: str = DEFAULT_METRIC,
    timeout: float = 120.0,
) -> DemandReplay:
    """Backfill ``trace[:history_steps]`` ending now and replay the rest live; see the module docstring.

    Returns once Prometheus answers a range query with the backfilled history and a live sample.
    Restarts the cluster's Prometheus once (about 1-2 s) so the history is queryable at once.
    """
    if not 0 < history_steps < trace.steps:
        raise ValueError(f"history_steps must be between 1 and {trace.steps - 1}, got {history_steps}")
    port = free_port()
    address = f"127.0.0.1:{port}"
    job = f"augur-replay-{name}"
    clock = ReplayClock(float(math.ceil(time.time())), history_steps, seconds_per_step)
    trace_file = save_trace(trace, cluster.dir / "replay" / f"{name}.json")
    argv = [sys.executable, "-m", "augur.devcluster.replay", "--trace", str(trace_file), "--port", str(port)]
    argv += ["--anchor", repr(clock.anchor), "--first-live", str(history_steps)]
    argv += ["--seconds-per-step", repr(seconds_per_step), "--metric", metric, "--name", name]
    proc = cluster.spawn(job, argv)
    wait_until(lambda: httpx.get(f"http://{address}/metrics", timeout=2).status_code == 200, 30, job, proc)
    prometheus.add_target(cluster.prometheus_dir, job, address)
    history = Series(
        {"trace": name, "job": job, "instance": address},
        clock.history_timestamps(),
        trace.demand[:history_steps].tolist(),
    )
    backfill(cluster, metric, [history], help_text=f"Demand replayed from trace {name} at a compressed clock.")
    replay = DemandReplay(name, trace, clock, metric, job, address, proc)
    wait_until(lambda: _has_history_and_live(cluster, replay), timeout, f"{job}: history and a live sample")
    return replay


def _has_history_and_live(cluster: LocalCluster, replay: DemandReplay) -> bool:
    step = replay.clock.seconds_per_step
    first = replay.clock.wall_time(0) + step / 2
    answer = httpx.get(
        f"{cluster.prometheus_url}/api/v1/query",
        params={"query": f"timestamp({replay.query})"},
        timeout=5,
    ).json()["data"]["result"]
    if not answer or float(answer[0]["value"][1]) < replay.clock.anchor:
        return False
    oldest = httpx.get(
        f"{cluster.prometheus_url}/api/v1/query",
        params={"query": f"count_over_time({replay.query}[{step * 1000:.0f}ms])", "time": first},
        timeout=5,
    ).json()["data"]["result"]
    return bool(oldest)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
