"""``augur dev demo``: the local control plane, the CRDs, the operator and a profile reaching Ready."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from augur.api import KINDS
from augur.api.crdgen import render_all
from augur.devcluster.cluster import ClusterConfig, LocalCluster, free_port
from augur.devcluster.procs import ManagedProcess, wait_until

MANIFEST = Path(__file__).with_name("demo.yaml")


def say(text: str) -> None:
    print(f"==> {text}", flush=True)


def apply_crds(cluster: LocalCluster) -> None:
    cluster.kubectl(
        "apply", "--server-side", "--field-manager=augur", "-f", "-", stdin="\n---\n".join(render_all(KINDS).values())
    )
    for kind in KINDS:
        cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{kind.info.crd_name}")


def start_operator(cluster: LocalCluster, resync_seconds: float = 5.0) -> tuple[str, ManagedProcess]:
    port = free_port()
    proc = cluster.spawn(
        "augur-operator",
        [
            sys.executable,
            "-m",
            "augur",
            "operator",
            "run",
            f"--liveness=http://127.0.0.1:{port}/healthz",
            f"--resync-seconds={resync_seconds}",
        ],
    )
    return f"http://127.0.0.1:{port}/healthz", proc


def profile_ready(cluster: LocalCluster, namespace: str, name: str) -> bool:
    out = cluster.kubectl("get", "wp", name, "-n", namespace, "-o", "json").stdout
    conditions = json.loads(out).get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def run_demo(directory: Path, keep: bool) -> int:
    started = time.monotonic()
    say("starting the local control plane (the first run compiles Kubernetes: ~15 min on 2 cores)")
    cluster = LocalCluster.create(directory, ClusterConfig(die_with_parent=not keep))
    try:
        cluster.start()
        say(f"control plane up in {cluster.startup_seconds:.1f} s; kubeconfig: {cluster.kubeconfig}")
        print(cluster.kubectl("get", "nodes", "-L", "topology.kubernetes.io/zone,topology.kubernetes.io/region").stdout)
        say("installing the augur.dev CRDs")
        apply_crds(cluster)
        say("starting the Augur operator")
        start_operator(cluster)
        say(f"applying {MANIFEST.name}: a Deployment, a ScalingPolicy and a WorkloadProfile")
        cluster.kubectl("apply", "-f", str(MANIFEST))
        wait_until(lambda: profile_ready(cluster, "augur-demo", "web"), 120, "WorkloadProfile augur-demo/web Ready")
        cluster.kubectl("rollout", "status", "deployment/web", "-n", "augur-demo", "--timeout=120s")
        print(cluster.kubectl("get", "wp,sp", "-n", "augur-demo").stdout)
        print(cluster.kubectl("get", "pods", "-n", "augur-demo", "-o", "wide").stdout)
        print(
            cluster.kubectl(
                "get", "events", "-n", "augur-demo", "--field-selector", "involvedObject.kind=WorkloadProfile"
            ).stdout
        )
        say(f"demo finished in {time.monotonic() - started:.1f} s")
        if keep:
            say(f"cluster left running: export KUBECONFIG={cluster.kubeconfig}")
            say(f"stop it with: augur dev down --dir {directory}")
        return 0
    finally:
        if not keep:
            say("tearing down")
            cluster.stop()
