"""Kubernetes objects for the extender tests."""

from __future__ import annotations

from typing import Any

from augur_extender.cache import MemoryCache

ZONES = {"a1": ("a", "east"), "a2": ("a", "east"), "b1": ("b", "east"), "c1": ("c", "west")}


def node(name: str, zone: str, region: str, cpu: str = "8", memory: str = "32Gi") -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "labels": {"topology.kubernetes.io/zone": zone, "topology.kubernetes.io/region": region},
        },
        "status": {"allocatable": {"cpu": cpu, "memory": memory}},
    }


def pod(name: str, app: str, node_name: str = "", cpu: str = "500m", namespace: str = "shop") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}", "labels": {"app": app}},
        "spec": {
            "nodeName": node_name or None,
            "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}],
        },
        "status": {"phase": "Running" if node_name else "Pending"},
    }


def profile(name: str, spec: dict[str, Any], selector: str = "", status_selector: str = "") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": name}, "selector": selector, **spec},
        "status": {"selector": status_selector} if status_selector else {},
    }


def fill(cache: MemoryCache) -> None:
    cache.replace("nodes", [node(n, z, r) for n, (z, r) in ZONES.items()])
    cache.replace("pods", [pod("api-0", "api", "b1"), pod("api-1", "api", "b1"), pod("web-0", "web")])
    cache.replace(
        "workloadprofiles",
        [
            profile(
                "web",
                {
                    "dependencies": [{"name": "api", "traffic": 100}],
                    "placement": {"avoidZones": ["c"], "requiredAvoidance": True},
                },
                selector="app=web",
            ),
            profile("api", {}, status_selector="app in (api)"),
        ],
    )
    cache.replace(
        "networktopologies",
        [{"metadata": {"name": "default"}, "spec": {"levels": {"sameZone": 10, "sameRegion": 40}}}],
    )
