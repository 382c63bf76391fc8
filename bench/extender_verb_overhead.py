"""What the web framework adds to the extender's verbs: the same ASGI app called in process (no sockets) with
the verb fast path (:class:`augur_extender.verbs.VerbFastPath`, the default) and without it (FastAPI's
routes), interleaved request by request so that the machine's load hits both alike. 1,000 nodes, 420
NodeNames per request as kube-scheduler samples them (the cluster of bench/extender_latency.py), no planner.
Writes bench/results/extender_verb_overhead.json.

Usage: .venv/bin/python bench/extender_verb_overhead.py [--requests 300] [--nodes 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, write
from extender_latency import body, cluster, sampled_names

from augur_extender.app import create_app
from augur_extender.deps import ExtenderState
from augur_extender.settings import Settings

VERBS = ("filter", "prioritize")


async def call(app: Any, path: str, payload: bytes) -> None:
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
        "app": app,
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"{path} answered {message['status']}")

    await app(scope, receive, send)


async def measure(apps: dict[str, Any], bodies: list[bytes]) -> dict[str, dict[str, list[float]]]:
    times: dict[str, dict[str, list[float]]] = {m: {v: [] for v in VERBS} for m in apps}
    for b in bodies[:5]:
        for app in apps.values():
            for verb in VERBS:
                await call(app, f"/{verb}", b)
    for i, b in enumerate(bodies):
        for mode in list(apps) if i % 2 else list(reversed(apps)):
            for verb in VERBS:
                start = time.perf_counter()
                await call(apps[mode], f"/{verb}", b)
                times[mode][verb].append(time.perf_counter() - start)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    started = machine()
    cache, names = cluster(args.nodes)
    apps = {}
    for mode, fast in (("fast_path", True), ("fastapi_routes", False)):
        settings = Settings(planner=False, verb_fast_path=fast)
        apps[mode] = create_app(settings, ExtenderState.build(cache, settings))
    bodies = [body(i, sampled_names(names, i)) for i in range(args.requests)]
    runs = []
    for _ in range(args.repeats):
        times = asyncio.run(measure(apps, bodies))
        runs.append(
            {m: {v: round(1000 * statistics.median(t), 3) for v, t in by_verb.items()} for m, by_verb in times.items()}
            | {"load_average": list(os.getloadavg())}
        )
        print(runs[-1], file=sys.stderr)
    result = {
        "benchmark": "extender_verb_overhead",
        "definition": "median ms per in-process ASGI call, fast path vs FastAPI routes, interleaved per request",
        "how_run": "nice -n 15, not under the bench lock (held by a 30-minute run): a paired comparison only",
        "nodes": args.nodes,
        "names_per_request": len(sampled_names(names, 0)),
        "requests": args.requests,
        "machine": {**started, "load_average_at_end": list(os.getloadavg())},
        "runs": runs,
    }
    print(f"-> {write('extender_verb_overhead.json', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
