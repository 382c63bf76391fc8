"""Prioritize latency of the Augur extender at 100, 1,000 and 5,000 nodes, in process and over HTTP
(uvicorn on 127.0.0.1, keep-alive client), nodeCacheCapable mode. Writes bench/results/extender_latency.json.

Usage: .venv/bin/python bench/extender_latency.py [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
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


def stats(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "mean_ms": round(float(ms.mean()), 3),
    }


def in_process(state: ExtenderState, bodies: list[bytes]) -> list[float]:
    """Body parse + scoring + reply serialization, no HTTP."""
    out = []
    for body in bodies:
        start = time.perf_counter()
        orjson.dumps(state.scheduler.prioritize(parse_extender_args(body)))
        out.append(time.perf_counter() - start)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def over_http(state: ExtenderState, bodies: list[bytes]) -> list[float]:
    port = free_port()
    settings = Settings(port=port)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, state), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    out = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for body in bodies[:10]:
                client.post("/prioritize", content=body, headers={"content-type": "application/json"})
            for body in bodies:
                start = time.perf_counter()
                reply = client.post("/prioritize", content=body, headers={"content-type": "application/json"})
                reply.raise_for_status()
                out.append(time.perf_counter() - start)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()
    rows = []
    for size in SIZES:
        cache, names = cluster(size)
        state = ExtenderState.build(cache, Settings())
        count = args.requests if size <= 1000 else max(50, args.requests // 3)
        bodies = [orjson.dumps({"Pod": pending_pod(i), "Nodes": None, "NodeNames": names}) for i in range(count)]
        in_proc = stats(in_process(state, bodies))
        http = stats(over_http(state, bodies))
        rows.append(
            {"nodes": size, "requests": count, "request_bytes": len(bodies[0]), "in_process": in_proc, "http": http}
        )
        print(json.dumps(rows[-1]), file=sys.stderr)
    result = {
        "benchmark": "extender_latency",
        "verb": "prioritize",
        "mode": "nodeCacheCapable: true (NodeNames), 3 running pods per node, 30 workloads with dependencies",
        "target": "p99 <= 5 ms at 1,000 nodes over HTTP",
        "machine": machine(),
        "rows": rows,
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
