"""Real kube-scheduler throughput (pods/s) on kwok nodes, with and without Augur's extender, in one run.

    .venv/bin/python bench/scheduler_throughput.py [--nodes 1000] [--pods 1000]

For each mode the scheduler is stopped, the pods are created (all pending), and the scheduler is started;
throughput is pods / (time the last pod was bound - time the first pod was bound), observed with a watch,
so informer start-up is not counted. Pods belong to three WorkloadProfiles with dependencies so that the
extender's proximity, spread and load components all do real work. Writes bench/results/scheduler_throughput.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from kubernetes import client, config, watch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, write

from augur.devcluster.cluster import ClusterConfig, LocalCluster
from augur.devcluster.nodes import KWOK_TOLERATION, generated_nodes

REPO = Path(__file__).resolve().parents[1]
WORKLOADS = (("db", {}), ("api", {"db": 50}), ("web", {"api": 100}))


def profiles(ns: str) -> str:
    docs = []
    for name, deps in WORKLOADS:
        dep = ", ".join(f"{{name: {p}, traffic: {t}}}" for p, t in deps.items())
        docs.append(
            f"apiVersion: augur.dev/v1alpha1\nkind: WorkloadProfile\nmetadata: {{name: {name}, namespace: {ns}}}\n"
            f"spec:\n  scaleTargetRef: {{kind: Deployment, name: {name}}}\n  selector: app={name}\n"
            f"  dependencies: [{dep}]\n"
        )
    return "---\n".join(docs)


def pod(ns: str, i: int) -> dict[str, Any]:
    app = WORKLOADS[i % len(WORKLOADS)][0]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"p-{i:05d}", "namespace": ns, "labels": {"app": app}},
        "spec": {
            "tolerations": [KWOK_TOLERATION],
            "containers": [
                {"name": "c", "image": "example/app:1", "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}
            ],
        },
    }


def create_pods(api: client.CoreV1Api, ns: str, count: int) -> None:
    def worker(start: int) -> None:
        for i in range(start, count, 8):
            api.create_namespaced_pod(ns, pod(ns, i))

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def measure(
    cluster: LocalCluster, api: client.CoreV1Api, ns: str, pods: int, extenders: list[dict[str, Any]]
) -> dict[str, Any]:
    cluster.restart_scheduler(start=False)
    cluster.kubectl("create", "namespace", ns)
    cluster.kubectl("apply", "-f", "-", stdin=profiles(ns))
    create_pods(api, ns, pods)
    bound: dict[str, float] = {}
    done = threading.Event()

    def observe() -> None:
        # A watch stream may end at any time; resume from the last resourceVersion until every pod is bound.
        version = api.list_namespaced_pod(ns, limit=1).metadata.resource_version
        deadline = time.monotonic() + 900
        while len(bound) < pods and time.monotonic() < deadline:
            w = watch.Watch()
            for event in w.stream(api.list_namespaced_pod, ns, resource_version=version, timeout_seconds=60):
                obj = event["object"]
                version = obj.metadata.resource_version
                if obj.spec.node_name and obj.metadata.name not in bound:
                    bound[obj.metadata.name] = time.monotonic()
                    if len(bound) == pods:
                        w.stop()
        done.set()

    observer = threading.Thread(target=observe, daemon=True)
    observer.start()
    time.sleep(1.0)
    started = time.monotonic()
    cluster.restart_scheduler(extenders=extenders)
    done.wait(timeout=900)
    if len(bound) < pods:
        raise RuntimeError(f"only {len(bound)} of {pods} pods were bound")
    first, last = min(bound.values()), max(bound.values())
    cluster.kubectl("delete", "namespace", ns, "--wait=false")
    return {
        "pods": pods,
        "seconds_first_to_last_bind": round(last - first, 3),
        "seconds_scheduler_start_to_last_bind": round(last - started, 3),
        "pods_per_second": round((pods - 1) / (last - first), 1),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and its reaped children) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def requests_served(url: str) -> dict[str, float]:
    """Extender calls by verb and outcome, and the profiles its cache held: proof it really scored."""
    counts: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith("augur_extender_requests_total{"):
            labels = dict(part.split("=", 1) for part in line[line.index("{") + 1 : line.index("}")].split(","))
            counts[f"{labels['verb'].strip(chr(34))}/{labels['outcome'].strip(chr(34))}"] = float(line.split()[-1])
        elif line.startswith("augur_extender_cache_workloads "):
            counts["cached_workload_profiles"] = float(line.split()[-1])
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--weight", type=int, default=5, help="extender weight in the scheduler config")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalCluster.create(Path(tmp), ClusterConfig(nodes=generated_nodes(args.nodes), prometheus=False)) as cluster,
    ):
        cluster.kubectl("apply", "-f", str(REPO / "crds"))
        cluster.kubectl("wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=augur")
        proc, url = cluster.start_extender(args=["--log-level", "warning"])
        example = yaml.safe_load((REPO / "examples" / "scheduler" / "kube-scheduler-config.yaml").read_text())
        extender = {**example["extenders"][0], "urlPrefix": url, "weight": args.weight}
        config.load_kube_config(str(cluster.kubeconfig))
        api = client.CoreV1Api(client.ApiClient())
        without = measure(cluster, api, "bench-without", args.pods, [])
        print(f"without extender: {without}", flush=True)
        cpu_before = cpu_seconds(proc.pid)
        with_ext = measure(cluster, api, "bench-with", args.pods, [extender])
        with_ext["extender_cpu_seconds"] = round(cpu_seconds(proc.pid) - cpu_before, 2)
        with_ext["extender_requests"] = requests_served(url)
        print(f"with extender:    {with_ext}", flush=True)
        # Without hard rules (requiredAvoidance, maxDistance) the filter verb can be left out: half the calls.
        prioritize_only = {k: v for k, v in extender.items() if k != "filterVerb"}
        cpu_before = cpu_seconds(proc.pid)
        only = measure(cluster, api, "bench-prioritize-only", args.pods, [prioritize_only])
        only["extender_cpu_seconds"] = round(cpu_seconds(proc.pid) - cpu_before, 2)
        print(f"prioritize only:  {only}", flush=True)
    result = {
        "benchmark": "kube-scheduler throughput with and without the Augur extender",
        "machine": machine(),
        "kubernetes": "v1.36.3 (kube-scheduler built from the Go module proxy), kwok v0.8.0 nodes",
        "nodes": args.nodes,
        "extender": {"config": "examples/scheduler/kube-scheduler-config.yaml", "weight": args.weight},
        "without_extender": without,
        "with_extender": with_ext,
        "with_extender_prioritize_only": only,
        "ratio_with_over_without": round(with_ext["pods_per_second"] / without["pods_per_second"], 3),
        "ratio_prioritize_only_over_without": round(only["pods_per_second"] / without["pods_per_second"], 3),
        "target_ratio": 0.7,
    }
    path = write("scheduler_throughput.json", result)
    print(f"ratio {result['ratio_with_over_without']} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
