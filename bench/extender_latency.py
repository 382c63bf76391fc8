"""Prioritize latency of the Augur extender (default 1,000 nodes; 100 and 5,000 on request), nodeCacheCapable mode.

Modes, each in process and over HTTP (uvicorn on 127.0.0.1 in a separate process, keep-alive stdlib client):
- ``fixed``: every request carries all nodes (the same NodeNames list each time);
The HTTP server runs as ``augur extender run`` does (background planner on, the same GIL switch interval,
the garbage collector frozen once the cache has synced),
with the planner's search in a child process (``process``, ``--planner-process``, at nice +10;
``process_idle``: at ``SCHED_IDLE``, ``--planner-priority idle``; ``process_normal``: at the server's own
priority, ``--planner-priority normal``) or on a thread of the server (``thread``, the
default); the modes alternate within each repeat (``--planners``). In process, the planner is not
started (scores fall back to the other components). Each repeat lists the nodes to the cache in another
seeded order (the first in name order), so a figure cannot hinge on one order; the spread over repeats is
reported, and so are the latencies of the churned requests that overlapped a plan update (the planner
searching; in a window of 300 requests there may be none, as the planner pauses after each update).
``server_cpu_ms_per_request`` is the server process's CPU time (all its threads, not the planner's
child) per timed request: less sensitive to the machine's load than wall-clock latency.
- ``varied_churn``: as kube-scheduler sends them, the feasible nodes it sampled, a different list each time
  (``percentageOfNodesToScore`` adaptive: ``max(100, n x (50 - n/125)%)`` nodes from a rotating start over the
  zone-interleaved node list), and a pod is bound before every request (a watch event: each request sees
  a new cache view, as during a rollout). Over HTTP the event goes to the server process through a pipe,
  where a thread applies it to the cache as the watch thread would; the client waits for the event to be
  applied, so every timed request rebuilds its view. Each such pod appears already bound, so its workload's
  pod count grows and the planner's next update is a full plan: harsher than a rollout.
- ``rollout`` (over HTTP only, a server of its own per planner mode): what kube-scheduler sees during a
  scale-up the profiles' status announced (``status.desiredReplicas`` counts the pods to come): before each
  request the pod it scores is created pending, after it the pod is bound (``MODIFIED``), the same kube-like
  node samples; replica counts do not change, so the planner repairs its plan after each bind.
Writes bench/results/extender_latency.json.

Usage: .venv/bin/python bench/extender_latency.py [--requests 300] [--sizes 1000] [--repeats 3]
       [--planners process,thread] (also: process_idle, process_normal)
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import uvicorn

sys.path.insert(0, str(Path(__file__).parent))
from common import code_version, machine
from procstat import cpu_seconds
from scrape import parse

from augur.devcluster.ports import free_port
from augur_extender.__main__ import PLANNER_SWITCH_INTERVAL
from augur_extender.app import create_app
from augur_extender.cache import MemoryCache
from augur_extender.deps import ExtenderState
from augur_extender.settings import Settings
from augur_extender.wire import parse_extender_args

OUT = Path(__file__).parent / "results" / "extender_latency.json"
SIZES = (1000,)
WORKLOADS = 30


def cluster(n_nodes: int, seed: int = 0, order: int = 0, rollout: int = 0) -> tuple[MemoryCache, list[str]]:
    """Nodes in 3 zones / 2 regions, 30 chained workloads, about 3 running pods per node; the nodes are
    listed to the cache in name order (``order`` 0) or a permutation seeded by ``order``. With ``rollout``,
    each profile's ``status.desiredReplicas`` counts its running pods plus its share of ``rollout`` pods to
    come (:func:`rollout_events`), as the operator's status says before a scale-up."""
    rng = np.random.default_rng(seed)
    zones = [("east-a", "east"), ("east-b", "east"), ("west-a", "west")]
    nodes = [
        {
            "metadata": {
                "name": f"node-{i}",
                "labels": {
                    "topology.kubernetes.io/zone": zones[i % 3][0],
                    "topology.kubernetes.io/region": zones[i % 3][1],
                },
            },
            "status": {"allocatable": {"cpu": "16", "memory": "64Gi"}},
        }
        for i in range(n_nodes)
    ]
    profiles = [
        {
            "metadata": {"name": f"svc{w}", "namespace": "bench"},
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": f"svc{w}"},
                "selector": f"app=svc{w}",
                "dependencies": [
                    {"name": f"svc{(w + 1) % WORKLOADS}", "traffic": 50},
                    {"name": f"svc{(w + 7) % WORKLOADS}", "traffic": 10},
                ],
            },
        }
        for w in range(WORKLOADS)
    ]
    pods = [
        {
            "metadata": {
                "name": f"p{j}",
                "namespace": "bench",
                "uid": f"u{j}",
                "labels": {"app": f"svc{j % WORKLOADS}"},
            },
            "spec": {
                "nodeName": f"node-{int(rng.integers(n_nodes))}",
                "containers": [{"name": "c", "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}}],
            },
            "status": {"phase": "Running"},
        }
        for j in range(3 * n_nodes)
    ]
    if rollout:
        for w, profile in enumerate(profiles):
            # pod j (running) and rollout pod i belong to workload j % WORKLOADS, i % WORKLOADS
            desired = len(range(w, 3 * n_nodes, WORKLOADS)) + len(range(w, rollout, WORKLOADS))
            profile["status"] = {"desiredReplicas": desired}
    cache = MemoryCache()
    listed = nodes if order == 0 else [nodes[i] for i in np.random.default_rng(order).permutation(n_nodes)]
    cache.replace("nodes", listed)
    cache.replace("pods", pods)
    cache.replace("workloadprofiles", profiles)
    cache.replace("networktopologies", [])
    return cache, [n["metadata"]["name"] for n in nodes]


def pending_pod(i: int, cpu: str = "500m", memory: str = "1Gi") -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"new-{i}",
            "namespace": "bench",
            "uid": f"new-{i}",
            "labels": {"app": f"svc{i % WORKLOADS}"},
        },
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]},
    }


def stats(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "mean_ms": round(float(ms.mean()), 3),
    }


def sampled_names(names: list[str], i: int) -> list[str]:
    """kube-scheduler's sample for request ``i``: the adaptive percentage of feasible nodes to score, from
    a start that moves on with every pod (its node tree iterates zones round-robin)."""
    n = len(names)
    k = n if n <= 100 else max(100, n * max(5, 50 - n // 125) // 100)
    start = (i * 131) % n
    return [names[(start + j) % n] for j in range(k)]


def body(i: int, names: list[str], pod: dict[str, Any] | None = None) -> bytes:
    return orjson.dumps({"Pod": pod or pending_pod(i), "Nodes": None, "NodeNames": names})


Events = list[list[tuple[str, dict[str, Any]]]]
"""Per request, the pod watch events (event type, pod) to apply."""


def in_process(state: ExtenderState, bodies: list[bytes], churn: Events | None = None) -> list[float]:
    """Body parse + scoring + reply rendering (what the route does), no HTTP; with ``churn``, the pod events
    are applied before each request (untimed) and the view rebuild falls in the timed request."""
    cache = state.cache
    out = []
    for i, b in enumerate(bodies):
        if churn is not None:
            assert isinstance(cache, MemoryCache)
            for event, pod in churn[i]:
                cache.apply("pods", event, pod)
        start = time.perf_counter()
        state.scheduler.prioritize_json(parse_extender_args(b))
        out.append(time.perf_counter() - start)
    return out


def bound_pod(i: int, node: str) -> dict[str, Any]:
    pod = pending_pod(100_000 + i)
    pod["spec"]["nodeName"] = node
    pod["status"] = {"phase": "Running"}
    return pod


def churn_events(names: list[str], count: int) -> Events:
    """Before each request a new pod of an existing workload appears already bound: its workload's pod count
    grows, so the plan's replica counts change and the planner's next update is a full plan."""
    return [[("ADDED", bound_pod(i, names[(7 * i) % len(names)]))] for i in range(count)]


def rollout_pod(i: int, node: str = "") -> dict[str, Any]:
    """Pod ``i`` of the rollout, the size of the running pods; bound to ``node`` when given."""
    pod = pending_pod(200_000 + i, cpu="250m", memory="512Mi")
    if node:
        pod["spec"]["nodeName"], pod["status"] = node, {"phase": "Running"}
    return pod


def rollout_events(names: list[str], count: int) -> tuple[Events, Events]:
    """A rollout the profiles' status announced (:func:`cluster` with ``rollout``), as kube-scheduler sees
    it: before request ``i`` pod ``i`` is created pending (the request scores it), after it the pod is bound;
    the replica counts do not change, so the planner repairs its plan instead of making a new one."""
    before = [[("ADDED", rollout_pod(i))] for i in range(count)]
    after = [[("MODIFIED", rollout_pod(i, names[(7 * i) % len(names)]))] for i in range(count)]
    return before, after


PLANNERS = {
    "process": (True, "nice"),
    "process_idle": (True, "idle"),
    "process_normal": (True, "normal"),
    "thread": (False, "nice"),
}
"""Planner modes over HTTP: (``Settings.planner_process``, ``Settings.planner_priority``)."""


def _serve(size: int, port: int, events: Connection, order: int, planner: str, rollout: int) -> None:
    """Child process: build the same cluster and serve it; a thread applies the pod events it receives."""
    cache, _ = cluster(size, order=order, rollout=rollout)
    process, priority = PLANNERS[planner]
    state = ExtenderState.build(cache, Settings(planner_process=process, planner_priority=priority))
    updates: list[tuple[float, float]] = []
    """When the planner updated its plan (``perf_counter``, the client's clock on Linux): bench only."""
    if state.planner is not None:
        sys.setswitchinterval(PLANNER_SWITCH_INTERVAL)  # as `augur extender run` does with its planner
        run_once = state.planner.run_once

        def timed() -> Any:
            start = time.perf_counter()
            try:
                return run_once()
            finally:
                updates.append((start, time.perf_counter()))

        state.planner.run_once = timed  # type: ignore[method-assign]

    def feed() -> None:
        while True:
            try:
                event = events.recv()
            except EOFError:
                return
            if event == "updates":
                events.send(list(updates))
                continue
            for kind, pod in event:
                cache.apply("pods", kind, pod)
            events.send(True)

    threading.Thread(target=feed, daemon=True).start()
    uvicorn.run(
        create_app(Settings(port=port, freeze_gc=True), state),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


def over_http(
    size: int,
    runs: dict[str, tuple[list[bytes], Events | None, Events | None]],
    order: int = 0,
    planner: str = "thread",
    rollout: int = 0,
) -> tuple[dict[str, list[float]], dict[str, float], dict[str, float], dict[str, list[float]]]:
    """POST /prioritize to an extender in a separate process over a keep-alive connection (stdlib
    ``http.client``: a thin client, so the figure is mostly the server's); also the server's CPU
    milliseconds per timed request of each run, the planner's plan counts at the end (by kind), and the
    latencies of the requests that overlapped a plan update (the planner searching, in any mode). Each run
    is (request bodies, events before each request, events after it); ``rollout``: see :func:`cluster`."""
    port = free_port()
    ctx = multiprocessing.get_context("fork")
    ours, theirs = ctx.Pipe()
    # not a daemon: a daemonic process may not start the planner's child process
    server = ctx.Process(target=_serve, args=(size, port, theirs, order, planner, rollout), daemon=False)
    server.start()
    out: dict[str, list[float]] = {}
    cpu: dict[str, float] = {}
    plans: dict[str, float] = {}
    spans: dict[str, list[tuple[float, float]]] = {}
    during: dict[str, list[float]] = {}
    try:
        conn = _connect(port)
        _wait_for_first_plan(conn)  # the runs measure requests while the planner repairs, not before it starts
        headers = {"content-type": "application/json"}
        for name, (bodies, before, after) in runs.items():
            for b in bodies[:10]:
                _post(conn, b, headers)
            times, spans[name] = [], []
            assert server.pid is not None
            cpu_before = cpu_seconds(server.pid)
            for i, b in enumerate(bodies):
                if before is not None:
                    ours.send(before[i])
                    ours.recv()
                start = time.perf_counter()
                _post(conn, b, headers)
                end = time.perf_counter()
                times.append(end - start)
                spans[name].append((start, end))
                if after is not None:
                    ours.send(after[i])
                    ours.recv()
            out[name] = times
            cpu[name] = round((cpu_seconds(server.pid) - cpu_before) * 1000 / len(bodies), 3)
        plans = _plan_counts(conn)
        conn.close()
        ours.send("updates")
        updates = ours.recv()
        during = {
            name: [b - a for a, b in ss if any(a < y and b > x for x, y in updates)] for name, ss in spans.items()
        }
    finally:
        server.terminate()
        server.join(timeout=10)
        if server.is_alive():
            server.kill()
            server.join(timeout=10)
    return out, cpu, plans, during


def _plan_counts(conn: http.client.HTTPConnection) -> dict[str, float]:
    conn.request("GET", "/metrics")
    scrape = parse(conn.getresponse().read().decode())
    return {
        dict(labels)["kind"]: value for (name, labels), value in scrape.items() if name == "augur_extender_plans_total"
    }


def _wait_for_first_plan(conn: http.client.HTTPConnection, timeout: float = 120.0) -> None:
    """Until ``augur_extender_plans_total{kind="full"}`` is at least 1 (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _plan_counts(conn).get("full", 0.0) >= 1:
            return
        time.sleep(0.2)
    print("no full plan within the timeout: measuring anyway", file=sys.stderr)


def _connect(port: int) -> http.client.HTTPConnection:
    deadline = time.monotonic() + 120
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/readyz")
            conn.getresponse().read()
            return conn
        except OSError:
            conn.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _post(conn: http.client.HTTPConnection, b: bytes, headers: dict[str, str]) -> bytes:
    conn.request("POST", "/prioritize", body=b, headers=headers)
    reply = conn.getresponse()
    data = reply.read()
    if reply.status != 200:
        raise RuntimeError(f"prioritize answered {reply.status}: {data[:200]!r}")
    return data


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--repeats", type=int, default=3, help="runs per size and planner mode (node order varies)")
    ap.add_argument(
        "--planners", default="process,thread", help=f"planner modes over HTTP, alternating: {', '.join(PLANNERS)}"
    )
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    started = machine()
    modes = args.planners.split(",")
    rows = []
    for size in [int(x) for x in args.sizes.split(",")]:
        for repeat in range(args.repeats):
            cache, names = cluster(size, order=repeat)
            state = ExtenderState.build(cache, Settings())
            count = args.requests if size <= 1000 else max(50, args.requests // 3)
            fixed = [body(i, names) for i in range(count)]
            varied = [body(i, sampled_names(names, i)) for i in range(count)]
            load_before = list(os.getloadavg())
            local = {"fixed": stats(in_process(state, fixed))}
            local["varied_churn"] = stats(in_process(state, varied, churn_events(names, count)))
            before, after = rollout_events(names, count)
            rolled = [body(i, sampled_names(names, i), rollout_pod(i)) for i in range(count)]
            http: dict[str, Any] = {}
            cpu: dict[str, Any] = {}
            plans: dict[str, Any] = {}
            during: dict[str, Any] = {}
            rollout_plans: dict[str, Any] = {}
            rollout_during: dict[str, Any] = {}
            for mode in modes if repeat % 2 == 0 else list(reversed(modes)):
                runs = {"fixed": (fixed, None, None), "varied_churn": (varied, churn_events(names, count), None)}
                times, cpu[mode], plans[mode], overlapped = over_http(size, runs, order=repeat, planner=mode)
                http[mode] = {name: stats(t) for name, t in times.items()}
                during[mode] = _overlapped(overlapped["varied_churn"])
                rollout = {"rollout": (rolled, before, after)}
                times, used, rollout_plans[mode], overlapped = over_http(
                    size, rollout, order=repeat, planner=mode, rollout=count
                )
                http[mode]["rollout"], cpu[mode]["rollout"] = stats(times["rollout"]), used["rollout"]
                rollout_during[mode] = _overlapped(overlapped["rollout"])
            rows.append(
                {
                    "nodes": size,
                    "repeat": repeat,
                    "node_order": "by name" if repeat == 0 else f"permutation seed {repeat}",
                    "requests": count,
                    "names_per_request": {"fixed": size, "varied_churn": len(sampled_names(names, 0))},
                    "request_bytes": {
                        "fixed": len(fixed[0]),
                        "varied_churn": len(varied[0]),
                        "rollout": len(rolled[0]),
                    },
                    "in_process": local,
                    "http_by_planner": http,
                    "server_cpu_ms_per_request": cpu,
                    "plans_at_end": plans,
                    "varied_churn_during_updates": during,
                    "plans_at_end_rollout": rollout_plans,
                    "rollout_during_updates": rollout_during,
                    "load_average_before": load_before,
                    "load_average_after": list(os.getloadavg()),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr)
    result = {
        "benchmark": "extender_latency",
        "verb": "prioritize",
        "mode": "nodeCacheCapable: true (NodeNames), 3 running pods per node, 30 workloads with dependencies",
        "target": "p99 <= 5 ms at 1,000 nodes over HTTP with churn (http_by_planner.process.varied_churn)",
        "planners": {
            "process": "the planner's search in a child process at nice +10 (--planner-process)",
            "process_idle": "the same at SCHED_IDLE (--planner-process --planner-priority idle)",
            "process_normal": "the same at the server's own priority (--planner-process --planner-priority normal)",
            "thread": "the planner's search on a thread of the server (the default)",
        },
        **code_version(),
        "summary": summarize(rows, modes),
        "machine": {**started, "load_average_at_end": list(os.getloadavg())},
        "rows": rows,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"], indent=2))
    return 0


def summarize(rows: list[dict[str, Any]], modes: list[str]) -> dict[str, Any]:
    """Per size, planner mode and request kind: p50 and p99 over the repeats (values, median, min, max)."""
    out: dict[str, Any] = {}
    for size in sorted({r["nodes"] for r in rows}):
        mine = [r for r in rows if r["nodes"] == size]
        out[str(size)] = {
            mode: {
                kind: {q: _spread([r["http_by_planner"][mode][kind][q] for r in mine]) for q in ("p50_ms", "p99_ms")}
                | {"server_cpu_ms_per_request": _spread([r["server_cpu_ms_per_request"][mode][kind] for r in mine])}
                for kind in ("fixed", "varied_churn", "rollout")
            }
            for mode in modes
        }
        out[str(size)]["varied_churn_during_updates"] = {mode: _pooled(mine, mode) for mode in modes}
        out[str(size)]["rollout_during_updates"] = {
            mode: _pooled(mine, mode, "rollout_during_updates") for mode in modes
        }
        out[str(size)]["in_process_no_planner"] = {
            kind: {q: _spread([r["in_process"][kind][q] for r in mine]) for q in ("p50_ms", "p99_ms")}
            for kind in ("fixed", "varied_churn")
        }
    return out


def _overlapped(seconds: list[float]) -> dict[str, Any]:
    return {"requests": len(seconds), "latencies_ms": [round(t * 1000, 3) for t in seconds]}


def _pooled(rows: list[dict[str, Any]], mode: str, key: str = "varied_churn_during_updates") -> dict[str, Any]:
    """The churned requests that overlapped a plan update, over all repeats: how many per repeat, and their
    latency percentiles pooled (a repeat's window may hold no update: the planner pauses after each)."""
    per = [r[key][mode] for r in rows]
    ms = [t for p in per for t in p["latencies_ms"]]
    pooled = {"p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None}
    if ms:
        pooled = {f"p{q}_ms": round(float(np.percentile(ms, q)), 3) for q in (50, 90, 99)} | {"max_ms": max(ms)}
    return {"requests_per_repeat": [p["requests"] for p in per], **pooled}


def _spread(values: list[float]) -> dict[str, Any]:
    return {"values": values, "median": round(statistics.median(values), 3), "min": min(values), "max": max(values)}


if __name__ == "__main__":
    sys.exit(main())
