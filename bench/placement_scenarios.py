"""Generated placement scenarios (``augur placement simulate`` format) of several shapes, for the quality
benchmarks. Every family is seeded; sizes are total pods.

- ``chain``: microservice chains (each workload talks to 1-2 later ones), 8-core nodes in 3 zones of
  2 regions, sized for ~60% CPU.
- ``fanin``: front ends (2-6 replicas) that each call 1-2 of a few shared back ends with heavy traffic,
  4-core nodes in 4 zones of 2 regions, ~70% CPU.
- ``groups``: applications of 3-6 services, dense traffic inside an application and light traffic across,
  nodes of 8 and 16 cores in 6 zones of 3 regions, ~55% CPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FAMILIES = ("chain", "fanin", "groups")


def _nodes(
    rng: np.random.Generator, cpu_needed: float, fill: float, zones: list[tuple[str, str]], sizes: list[int]
) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    total = 0.0
    while total < cpu_needed / fill or len(nodes) < len(zones):
        cpu = int(rng.choice(sizes))
        zone, region = zones[len(nodes) % len(zones)]
        nodes.append({"name": f"n{len(nodes)}", "zone": zone, "region": region, "cpu": cpu, "memory": 4 * cpu})
        total += cpu
    return nodes


def chain(pods: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    workloads: list[dict[str, Any]] = []
    left = pods
    while left > 0:
        replicas = int(min(left, rng.integers(2, 7)))
        workloads.append(
            {
                "name": f"svc{len(workloads)}",
                "replicas": replicas,
                "cpu": float(rng.choice([0.25, 0.5, 1.0])),
                "memory": float(rng.choice([0.5, 1.0, 2.0])),
            }
        )
        left -= replicas
    for i, w in enumerate(workloads[:-1]):
        targets = rng.choice(range(i + 1, len(workloads)), size=min(2, len(workloads) - i - 1), replace=False)
        w["talksTo"] = {workloads[int(t)]["name"]: float(rng.integers(10, 101)) for t in targets[: rng.integers(1, 3)]}
    total_cpu = sum(w["cpu"] * w["replicas"] for w in workloads)
    zones = [("east-a", "east"), ("east-b", "east"), ("west-a", "west")]
    n_nodes = max(3, int(np.ceil(total_cpu / (8 * 0.6))))
    nodes = [
        {"name": f"n{i}", "zone": zones[i % 3][0], "region": zones[i % 3][1], "cpu": 8, "memory": 32}
        for i in range(n_nodes)
    ]
    distances = {"sameNode": 0, "sameZone": 10, "sameRegion": 40, "crossRegion": 100, "zones": {"east-a|east-b": 20}}
    return {"nodes": nodes, "distances": distances, "workloads": workloads, "seed": seed}


def fanin(pods: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    backends = [
        {"name": f"db{i}", "replicas": int(rng.integers(2, 5)), "cpu": 1.0, "memory": 4.0}
        for i in range(max(1, pods // 25))
    ]
    workloads: list[dict[str, Any]] = []
    left = pods - sum(b["replicas"] for b in backends)
    while left > 0:
        replicas = int(min(left, rng.integers(2, 7)))
        peers = rng.choice(len(backends), size=min(len(backends), int(rng.integers(1, 3))), replace=False)
        workloads.append(
            {
                "name": f"fe{len(workloads)}",
                "replicas": replicas,
                "cpu": float(rng.choice([0.25, 0.5])),
                "memory": 1.0,
                "talksTo": {backends[int(p)]["name"]: float(rng.integers(50, 201)) for p in peers},
            }
        )
        left -= replicas
    workloads += backends
    cpu = sum(w["cpu"] * w["replicas"] for w in workloads)
    zones = [("z1", "r1"), ("z2", "r1"), ("z3", "r2"), ("z4", "r2")]
    nodes = _nodes(rng, cpu, 0.7, zones, [4])
    distances = {"sameNode": 0, "sameZone": 8, "sameRegion": 30, "crossRegion": 90}
    return {"nodes": nodes, "distances": distances, "workloads": workloads, "seed": seed}


def groups(pods: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    workloads: list[dict[str, Any]] = []
    left, app = pods, 0
    while left > 0:
        size = int(rng.integers(3, 7))
        members: list[dict[str, Any]] = []
        for s in range(size):
            if left <= 0:
                break
            replicas = int(min(left, rng.integers(1, 6)))
            members.append(
                {
                    "name": f"app{app}-s{s}",
                    "replicas": replicas,
                    "cpu": float(rng.choice([0.5, 1.0, 2.0])),
                    "memory": float(rng.choice([1.0, 2.0, 4.0])),
                }
            )
            left -= replicas
        for i, m in enumerate(members[:-1]):
            m["talksTo"] = {
                members[int(j)]["name"]: float(rng.integers(40, 121))
                for j in range(i + 1, len(members))
                if rng.random() < 0.6
            }
        workloads += members
        app += 1
    names = [w["name"] for w in workloads]
    for w in workloads:
        if rng.random() < 0.3:
            other = str(rng.choice(names))
            if other != w["name"] and other.split("-", maxsplit=1)[0] != w["name"].split("-")[0]:
                w.setdefault("talksTo", {})[other] = float(rng.integers(1, 11))
    cpu = sum(w["cpu"] * w["replicas"] for w in workloads)
    zones = [(f"{r}-{z}", r) for r in ("us", "eu", "ap") for z in ("a", "b")]
    nodes = _nodes(rng, cpu, 0.55, zones, [8, 16])
    distances = {"sameNode": 0, "sameZone": 10, "sameRegion": 35, "crossRegion": 100, "regions": {"us|eu": 70}}
    return {"nodes": nodes, "distances": distances, "workloads": workloads, "seed": seed}


def generate(family: str, pods: int, seed: int) -> dict[str, Any]:
    return {"chain": chain, "fanin": fanin, "groups": groups}[family](pods, seed)
