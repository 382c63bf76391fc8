"""Prioritize latency of the Augur extender at 100, 1,000 and 5,000 nodes, in process and over HTTP
(uvicorn on 127.0.0.1 in a separate process, keep-alive stdlib client), nodeCacheCapable mode, and
in process with a pod bound before every request (cache churn, as during a rollout).
Writes bench/results/extender_latency.json.

Usage: .venv/bin/python bench/extender_latency.py [--requests 300]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import uvicorn

sys.path.insert(0, str(Path(__file__).parent))
from placement_quality import machine

from augur_extender.app import create_app
from augur_extender.cache import MemoryCache
from augur_extender.deps import ExtenderState
from augur_extender.settings import Settings
from augur_extender.wire import parse_extender_args

OUT = Path(__file__).parent / "results" / "extender_latency.json"
SIZES = (100, 1000, 5000)
WORKLOADS = 30


def cluster(n_nodes: int, seed: int = 0) -> tuple[MemoryCache, list[str]]:
    """Nodes in 3 zones / 2 regions, 30 chained workloads, about 3 running pods per node."""
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
    cache = MemoryCache()
    cache.replace("nodes", nodes)
    cache.replace("pods", pods)
    cache.replace("workloadprofiles", profiles)
    cache.replace("networktopologies", [])
    return cache, [n["metadata"]["name"] for n in nodes]


def pending_pod(i: int) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"new-{i}",
            "namespace": "bench",
            "uid": f"new-{i}",
            "labels": {"app": f"svc{i % WORKLOADS}"},
        },
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}]},
    }


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def stats(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "mean_ms": round(float(ms.mean()), 3),
    }


def in_process(state: ExtenderState, bodies: list[bytes]) -> list[float]:
    """Body parse + scoring + reply rendering (what the route does), no HTTP."""
    out = []
    for body in bodies:
        start = time.perf_counter()
        state.scheduler.prioritize_json(parse_extender_args(body))
        out.append(time.perf_counter() - start)
    return out


def bound_pod(i: int, node: str) -> dict[str, Any]:
    pod = pending_pod(100_000 + i)
    pod["spec"]["nodeName"] = node
    pod["status"] = {"phase": "Running"}
    return pod


def in_process_with_churn(
    cache: MemoryCache, state: ExtenderState, bodies: list[bytes], names: list[str]
) -> list[float]:
    """As :func:`in_process`, but a pod is bound (a watch event) before every request, as during a rollout:
    each request then sees a new cache view (rebuilt lazily on the request path, and timed with it)."""
    out = []
    for i, body in enumerate(bodies):
        cache.apply("pods", "ADDED", bound_pod(i, names[(7 * i) % len(names)]))
        start = time.perf_counter()
        state.scheduler.prioritize_json(parse_extender_args(body))
        out.append(time.perf_counter() - start)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(size: int, port: int) -> None:
    """Child process: build the same cluster and serve it (kube-scheduler is another process too)."""
    cache, _ = cluster(size)
    state = ExtenderState.build(cache, Settings())
    uvicorn.run(
        create_app(Settings(port=port), state), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )


def over_http(size: int, bodies: list[bytes]) -> list[float]:
    """POST /prioritize to an extender in a separate process over a keep-alive connection (stdlib
    ``http.client``: a thin client, so the figure is mostly the server's)."""
    port = free_port()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(size, port), daemon=True)
    server.start()
    out = []
    try:
        conn = _connect(port)
        headers = {"content-type": "application/json"}
        for body in bodies[:10]:
            _post(conn, body, headers)
        for body in bodies:
            start = time.perf_counter()
            _post(conn, body, headers)
            out.append(time.perf_counter() - start)
        conn.close()
    finally:
        server.terminate()
        server.join(timeout=10)
    return out


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


def _post(conn: http.client.HTTPConnection, body: bytes, headers: dict[str, str]) -> bytes:
    conn.request("POST", "/prioritize", body=body, headers=headers)
    reply = conn.getresponse()
    data = reply.read()
    if reply.status != 200:
        raise RuntimeError(f"prioritize answered {reply.status}: {data[:200]!r}")
    return data


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()
    load_at_start = loadavg()
    rows = []
    for size in SIZES:
        cache, names = cluster(size)
        state = ExtenderState.build(cache, Settings())
        count = args.requests if size <= 1000 else max(50, args.requests // 3)
        bodies = [orjson.dumps({"Pod": pending_pod(i), "Nodes": None, "NodeNames": names}) for i in range(count)]
        load_before = loadavg()
        in_proc = stats(in_process(state, bodies))
        http = stats(over_http(size, bodies))
        churn = stats(in_process_with_churn(cache, state, bodies, names))
        rows.append(
            {
                "nodes": size,
                "requests": count,
                "request_bytes": len(bodies[0]),
                "in_process": in_proc,
                "http": http,
                "in_process_with_pod_churn": churn,
                "load_average_before": load_before,
                "load_average_after": loadavg(),
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr)
    result = {
        "benchmark": "extender_latency",
        "verb": "prioritize",
        "mode": "nodeCacheCapable: true (NodeNames), 3 running pods per node, 30 workloads with dependencies",
        "target": "p99 <= 5 ms at 1,000 nodes over HTTP",
        "machine": {**machine(), "load_average_at_start": load_at_start, "load_average_at_end": loadavg()},
        "rows": rows,
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
