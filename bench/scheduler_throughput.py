"""Real kube-scheduler throughput (pods/s) on kwok nodes, with and without Augur's extender, in one run.

    .venv/bin/python bench/scheduler_throughput.py [--nodes 1000] [--pods 1000] [--rounds 3]

For each measurement the scheduler is stopped, the pods are created (all pending) in a fresh namespace, and
the scheduler is started; throughput is pods / (time the last pod was bound - time the first pod was bound),
observed with a watch, so informer start-up is not counted. Pods belong to three WorkloadProfiles with
dependencies so that the extender's proximity, spread and load components all do real work. Modes alternate
(round 0: without, with; round 1: with, without; ...) so that a drift in the machine's load hits both, and
each namespace is deleted and waited for before the next measurement; an untimed warm-up without the
extender (``--warmup-pods``) comes first. The ratio is reported per round
(paired) and as the ratio of the medians, with min and max. Writes bench/results/scheduler_throughput.json.

The extender runs with the shipped configuration (``examples/scheduler/kube-scheduler-config.yaml``:
``prioritizeVerb`` only, node names only); ``--with-filter`` adds a mode with the filter verb too
(``kube-scheduler-config-hard-rules.yaml``, what hard rules need: two calls per pod).

``--planner-process`` adds a mode whose extender runs its planner's search in a child process
(``--planner-process``) instead of on a thread of its own process (the default); each extender mode
has its own extender process, started before its measurement and stopped after it, so that an idle
extender's watch and planner do not run during another mode's measurement. ``extender_cpu_seconds``
counts the extender and its planner child over the whole measurement (pod creation included);
``extender_in_burst`` what it did from the scheduler's start to the last bind.

``--compare-code DIR`` adds a mode whose extender runs the code of another checkout (``DIR/operator`` and
``DIR/scheduler_extender`` first on ``PYTHONPATH``; same flags, same configuration), named after that
checkout's commit: an A/B of two versions of the code alternated within one run, on the same cluster.

``--null-extenders`` adds two modes that measure the floor under any extender on this machine: null
extenders (``bench/null_extender/``) that speak the same protocol with the shipped configuration
(node names only) but decide nothing — one on Augur's server stack
(uvicorn, a raw ASGI app, orjson), one in Go (``net/http``, ``encoding/json``; built here with the Go
toolchain into ``$AUGUR_CACHE/build``). What they cost kube-scheduler is what the protocol and the server
cost before Augur does any work.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml
from kubernetes import client, config, watch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import code_version, git, machine, write
from procstat import cpu_seconds_with_children, machine_cpu
from scrape import parse

from augur.devcluster.cluster import ClusterConfig, LocalCluster
from augur.devcluster.kwok import delay_annotations
from augur.devcluster.nodes import KWOK_TOLERATION, generated_nodes
from augur.devcluster.ports import free_port
from augur.devcluster.procs import ManagedProcess, wait_until

REPO = Path(__file__).resolve().parents[1]
NULL_DIR = Path(__file__).resolve().parent / "null_extender"
Launch = Callable[[], tuple[ManagedProcess, str]]
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


def pod(ns: str, i: int, ready_delay: float = 0.0) -> dict[str, Any]:
    app = WORKLOADS[i % len(WORKLOADS)][0]
    meta: dict[str, Any] = {"name": f"p-{i:05d}", "namespace": ns, "labels": {"app": app}}
    if ready_delay > 0:  # kwok (the nodes' fake kubelets) patches the pod Running only after this
        meta["annotations"] = delay_annotations(ready_delay, ready_delay)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "tolerations": [KWOK_TOLERATION],
            "containers": [
                {"name": "c", "image": "example/app:1", "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}
            ],
        },
    }


def create_pods(cluster: LocalCluster, ns: str, count: int, ready_delay: float = 0.0) -> None:
    """All pods in one ``kubectl create`` of a List (one Go client, no Python models per pod)."""
    for k in range(0, count, 250):  # in chunks, for kubectl's 5-minute limit on a saturated machine
        items = [pod(ns, i, ready_delay) for i in range(k, min(count, k + 250))]
        cluster.kubectl(
            "create", "-f", "-", "-o", "name", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
        )


def measure(
    cluster: LocalCluster,
    api: client.CoreV1Api,
    ns: str,
    pods: int,
    extenders: list[dict[str, Any]],
    extender_url: str,
    ready_delay: float = 0.0,
    extender_cpu: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """One measurement. ``extender_cpu`` (the extender process's CPU seconds so far) and, for Augur's
    extender, ``extender_url`` also give what the extender did between the scheduler's start and the last
    bind (``extender_in_burst``: its CPU, planner CPU and plans, server time per verb), apart from what it did
    while the pods were created."""
    cluster.restart_scheduler(start=False)
    cluster.kubectl("create", "namespace", ns)
    cluster.kubectl("apply", "-f", "-", stdin=profiles(ns))
    if extender_url:  # Augur's extender: its cache holds the profiles before the pods come
        wait_for_profiles(extender_url, len(WORKLOADS))
    create_pods(cluster, ns, pods, ready_delay)
    load = os.getloadavg()[0]
    bound: dict[str, float] = {}
    done = threading.Event()

    def observe() -> None:
        # A watch stream may end at any time; resume from the last resourceVersion until every pod is bound.
        version = api.list_namespaced_pod(ns, limit=1).metadata.resource_version
        deadline = time.monotonic() + 900
        while len(bound) < pods and time.monotonic() < deadline:
            w = watch.Watch()
            # Raw events (no client models): the observer shares the two cores with the scheduler.
            stream = w.stream(
                api.list_namespaced_pod, ns, resource_version=version, timeout_seconds=60, deserialize=False
            )
            for event in stream:
                obj = event.get("raw_object") or event.get("object") or {}
                version = obj["metadata"]["resourceVersion"]
                name = obj["metadata"]["name"]
                if (obj.get("spec") or {}).get("nodeName") and name not in bound:
                    bound[name] = time.monotonic()
                    if len(bound) == pods:
                        w.stop()
        done.set()

    observer = threading.Thread(target=observe, daemon=True)
    observer.start()
    time.sleep(1.0)
    started = time.monotonic()
    cpu_before = machine_cpu()
    extender_before = extender_cpu() if extender_cpu else 0.0
    served_before = requests_served(extender_url) if extender_url else {}
    cluster.restart_scheduler(extenders=extenders)
    done.wait(timeout=900)
    cpu_after = machine_cpu()
    in_burst: dict[str, float] = {}
    if extender_cpu is not None:
        in_burst["cpu_seconds"] = round(extender_cpu() - extender_before, 2)
    if extender_url:
        in_burst |= delta(requests_served(extender_url), served_before)
    if len(bound) < pods:
        raise RuntimeError(f"only {len(bound)} of {pods} pods were bound")
    first, last = min(bound.values()), max(bound.values())
    cluster.restart_scheduler(start=False)
    return {
        **{f"machine_{k}_seconds": round(cpu_after[k] - cpu_before[k], 2) for k in cpu_after},
        "pods": pods,
        "load_average_1m_before": round(load, 2),
        "seconds_first_to_last_bind": round(last - first, 3),
        "seconds_scheduler_start_to_last_bind": round(last - started, 3),
        "pods_per_second": round((pods - 1) / (last - first), 1),
        **({"extender_in_burst": in_burst} if in_burst else {}),
    }


@contextlib.contextmanager
def bench_lock(path: Path | None) -> Iterator[float]:
    """Hold an exclusive ``flock`` on ``path`` (shared with ``flock(1)`` users) for one measurement; yields
    the seconds spent waiting for it."""
    if path is None:
        yield 0.0
        return
    started = time.monotonic()
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield round(time.monotonic() - started, 1)
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def delete_namespace(cluster: LocalCluster, ns: str, timeout: float = 900) -> None:
    """Force-delete the pods (kwok's fake nodes need no graceful stop), then the namespace; wait until gone."""
    try:
        cluster.kubectl("delete", "pods", "--all", "-n", ns, "--grace-period=0", "--force", "--wait=false")
    except subprocess.TimeoutExpired:  # a saturated machine: the namespace deletion below removes them too
        print(f"force-deleting the pods of {ns} took over 5 minutes; deleting the namespace", flush=True)
    cluster.kubectl("delete", "namespace", ns, "--wait=false")
    deadline = time.monotonic() + timeout
    while cluster.kubectl("get", "namespace", ns, check=False).returncode == 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"namespace {ns} still there after {timeout:.0f} s")
        time.sleep(2)


def wait_for_profiles(url: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while requests_served(url).get("cached_workload_profiles", 0) != count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the extender's cache did not reach {count} WorkloadProfiles")
        time.sleep(0.2)


def requests_served(url: str) -> dict[str, float]:
    """Extender calls by verb and outcome, and the profiles its cache held: proof it really scored. Also
    where its time went: seconds spent answering each verb (``server_seconds/<verb>``, body read to reply
    rendered) and the background planner's plans by kind and their CPU seconds (``plans/<kind>``,
    ``plan_cpu_seconds``), full plans by reason (``full_plans/<reason>``)."""
    scrape = parse(httpx.get(f"{url}/metrics", timeout=5).text)
    counts: dict[str, float] = {}
    for (name, labels), value in scrape.items():
        label = dict(labels)
        if name == "augur_extender_requests_total":
            counts[f"{label['verb']}/{label['outcome']}"] = value
        elif name == "augur_extender_request_duration_seconds_sum":
            counts[f"server_seconds/{label['verb']}"] = value
        elif name == "augur_extender_plans_total":
            counts[f"plans/{label['kind']}"] = value
        elif name == "augur_extender_full_plans_total":
            counts[f"full_plans/{label['reason']}"] = value
        elif name == "augur_extender_plan_cpu_seconds_sum":
            counts["plan_cpu_seconds"] = value
        elif name == "augur_extender_cache_workloads":
            counts["cached_workload_profiles"] = value
    return counts


def spread(values: list[float]) -> dict[str, Any]:
    return {
        "values": values,
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    skip = "cached_workload_profiles"
    return {k: round(v - before.get(k, 0.0), 3) for k, v in after.items() if k != skip and v != before.get(k)}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="measurements per mode (modes alternate)")
    parser.add_argument("--weight", type=int, default=5, help="extender weight in the scheduler config")
    parser.add_argument(
        "--with-filter",
        action="store_true",
        help="also measure the configuration with the filter verb (kube-scheduler-config-hard-rules.yaml)",
    )
    parser.add_argument(
        "--planner-process",
        action="store_true",
        help="also measure an extender whose planner searches in a child process (--planner-process)",
    )
    parser.add_argument(
        "--no-planner",
        action="store_true",
        help="also measure an extender without its background planner (--no-planner; diagnosis, not shipped)",
    )
    parser.add_argument(
        "--compare-code",
        type=Path,
        help="also measure the shipped extender from another checkout of this repository (a git worktree)",
    )
    parser.add_argument(
        "--null-extenders",
        action="store_true",
        help="also measure null extenders (no decision; Python on uvicorn and Go): the protocol's own cost",
    )
    parser.add_argument(
        "--pod-ready-delay",
        type=float,
        default=0.0,
        help="seconds before kwok marks each pod Running (0: at once, kwok's default). kwok fakes every "
        "node's kubelet on the same cores as the control plane; a delay past the burst keeps that work, "
        "which real kubelets do on their own nodes, out of the measurement",
    )
    parser.add_argument(
        "--warmup-pods",
        type=int,
        default=300,
        help="pods scheduled once without the extender before the rounds, not in the ratios (0: none)",
    )
    parser.add_argument("--out", default="scheduler_throughput.json")
    parser.add_argument(
        "--lock",
        type=Path,
        help="hold this flock(1)-compatible lock file during each measurement only (not during set-up)",
    )
    args = parser.parse_args()
    if args.pod_ready_delay < 0:
        parser.error(f"--pod-ready-delay must be 0 or more seconds, not {args.pod_ready_delay:g}")
    return args


def main() -> int:
    args = parse_args()
    started = machine()
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalCluster.create(Path(tmp), ClusterConfig(nodes=(), prometheus=False)) as cluster,
    ):
        nodes = generated_nodes(args.nodes)
        for k in range(0, len(nodes), 100):  # in chunks: one apply of 1,000 nodes can exceed kubectl's 5 minutes
            cluster.add_nodes(nodes[k : k + 100], timeout=900)  # slow to turn Ready on a loaded machine
        cluster.kubectl("apply", "-f", str(REPO / "crds"))
        cluster.wait_established("crd", "-l", "app.kubernetes.io/part-of=augur")
        modes = extender_modes(args, cluster, example_entry("kube-scheduler-config", args.weight))
        config.load_kube_config(str(cluster.kubeconfig))
        api = client.CoreV1Api(client.ApiClient())
        runs: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
        args.warmup = warm_up(cluster, api, args.warmup_pods, args.lock, args.pod_ready_delay)
        for r in range(args.rounds):
            order = list(modes) if r % 2 == 0 else list(reversed(modes))
            for mode in order:
                ns = f"bench-{r}-{mode.replace('_', '-')}"
                spec = modes[mode]
                proc, url, extenders = None, "", []
                if spec is not None:
                    proc, url = spec[0]()
                    extenders = [{**spec[1], "urlPrefix": url}]
                is_augur = spec is not None and not mode.startswith("null_")
                cpu_before = cpu_seconds_with_children(proc.pid) if proc else 0.0
                calls_before = requests_served(url) if is_augur else {}
                with bench_lock(args.lock) as waited:
                    run = measure(
                        cluster,
                        api,
                        ns,
                        args.pods,
                        extenders,
                        url if is_augur else "",
                        args.pod_ready_delay,
                        (lambda pid=proc.pid: cpu_seconds_with_children(pid)) if proc else None,
                    )
                run["lock_wait_seconds"] = waited
                run["round"] = r
                if proc is not None:
                    run["extender_cpu_seconds"] = round(cpu_seconds_with_children(proc.pid) - cpu_before, 2)
                    if is_augur:
                        run["extender_requests"] = delta(requests_served(url), calls_before)
                    proc.stop()
                runs[mode].append(run)
                print(f"round {r} {mode}: {run}", flush=True)
                report(args, started, runs)
                delete_namespace(cluster, ns)
    report(args, started, runs)
    return 0


def example_entry(name: str, weight: int) -> dict[str, Any]:
    """The extender entry of ``examples/scheduler/NAME.yaml`` with ``weight``."""
    example = yaml.safe_load((REPO / "examples" / "scheduler" / f"{name}.yaml").read_text())
    return {**example["extenders"][0], "weight": weight}


def extender_modes(
    args: argparse.Namespace, cluster: LocalCluster, shipped: dict[str, Any]
) -> dict[str, tuple[Launch, dict[str, Any]] | None]:
    """The modes measured: mode -> (how to start its extender, extender config without its URL); None: no
    extender."""
    base_args = ["--log-level", "warning"]

    def augur(*flags: str, env: dict[str, str] | None = None) -> Launch:
        return lambda: cluster.start_extender(args=[*base_args, *flags], env=env)

    modes: dict[str, tuple[Launch, dict[str, Any]] | None] = {
        "without_extender": None,
        "with_extender": (augur(), shipped),
    }
    if args.with_filter:
        # what hard rules (requiredAvoidance, maxDistance) need: the filter verb, a second call per pod
        modes["with_extender_filter"] = (augur(), example_entry("kube-scheduler-config-hard-rules", args.weight))
    if args.planner_process:
        modes["with_extender_planner_process"] = (augur("--planner-process"), shipped)
    if args.no_planner:
        # diagnosis: the request path alone (the plan component neutral), to split the extender's cost
        modes["with_extender_no_planner"] = (augur("--no-planner"), shipped)
    if args.compare_code is not None:
        other = args.compare_code.resolve()
        commit = git("rev-parse", "--short", "HEAD", where=other)
        path = os.pathsep.join([str(other / "operator"), str(other / "scheduler_extender")])
        modes[f"with_extender_code_{commit}"] = (augur(env={"PYTHONPATH": path}), shipped)
    if args.null_extenders:
        go_binary = build_null_extender()
        python = [sys.executable, str(NULL_DIR / "null_extender.py")]
        modes["null_extender_python"] = (
            null(cluster, "null-extender-python", lambda port: [*python, "--port", str(port)]),
            shipped,
        )
        go = [str(go_binary)]
        modes["null_extender_go"] = (
            null(cluster, "null-extender-go", lambda port: [*go, "--listen", f"127.0.0.1:{port}"]),
            shipped,
        )
    return modes


def build_null_extender() -> Path:
    """The Go null extender, built once per version of its source into ``$AUGUR_CACHE/build``."""
    source = NULL_DIR / "main.go"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    cache = Path(os.environ.get("AUGUR_CACHE", Path.home() / ".cache" / "augur"))
    binary = cache / "build" / f"null-extender-{digest}" / "null-extender"
    if not binary.exists():
        binary.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["go", "build", "-o", str(binary), str(source)], check=True, cwd=binary.parent)
    return binary


def null(cluster: LocalCluster, name: str, argv: Callable[[int], list[str]]) -> Launch:
    """Start a null extender (``argv(port)``: its command line to listen on that port) on a free port;
    wait until it answers."""

    def launch() -> tuple[ManagedProcess, str]:
        port = free_port()
        proc = cluster.spawn(name, argv(port))
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(f"{url}/readyz", timeout=2).status_code == 200, 60, f"{name} ready", proc)
        return proc, url

    return launch


def warm_up(
    cluster: LocalCluster, api: client.CoreV1Api, pods: int, lock: Path | None, ready_delay: float = 0.0
) -> dict[str, Any] | None:
    """Schedule ``pods`` once without the extender on the fresh cluster (the first measurement after set-up
    was the slowest in two runs, and round 0 always starts without the extender); reported, not in the
    ratios."""
    if pods <= 0:
        return None
    with bench_lock(lock):
        run = measure(cluster, api, "bench-warmup", pods, [], "", ready_delay)
    print(f"warm-up without the extender: {run}", flush=True)
    delete_namespace(cluster, "bench-warmup")
    return run


def report(args: argparse.Namespace, started: dict[str, Any], runs: dict[str, list[dict[str, Any]]]) -> None:
    """Write the result so far (after every measurement: a long run that is cut short keeps its rounds)."""
    done = min(len(v) for v in runs.values())
    rate = {m: [x["pods_per_second"] for x in rs[:done]] for m, rs in runs.items()}
    if done == 0:
        return
    base = rate["without_extender"]
    ratios = {
        m: {
            "ratio_of_medians": round(statistics.median(v) / statistics.median(base), 3),
            "paired_ratios": spread([round(a / b, 3) for a, b in zip(v, base, strict=True)]),
        }
        for m, v in rate.items()
        if m != "without_extender"
    }
    result = {
        "benchmark": "kube-scheduler throughput with and without the Augur extender",
        "machine": {**started, "load_average_at_end": list(os.getloadavg())},
        "kubernetes": "v1.36.3 (kube-scheduler built from the Go module proxy), kwok v0.8.0 nodes",
        "nodes": args.nodes,
        "pods": args.pods,
        "rounds": done,
        "rounds_planned": args.rounds,
        "protocol": "modes alternate each round; pods force-deleted, namespace waited for before the next run",
        "pod_ready_delay_seconds": args.pod_ready_delay,
        "warmup_without_extender": getattr(args, "warmup", None),
        "extender": {
            "config": "examples/scheduler/kube-scheduler-config.yaml (prioritize only); with_extender_filter: "
            "kube-scheduler-config-hard-rules.yaml (filter and prioritize)",
            "weight": args.weight,
            "planner": "search on a thread (shipped); with_extender_planner_process: in a child process",
            "null_extenders": "null_extender_*: bench/null_extender/, the same protocol deciding nothing",
        },
        **code_version(),
        **({"compare_code": code_version(args.compare_code.resolve())} if args.compare_code else {}),
        "pods_per_second": {m: spread(v) for m, v in rate.items()},
        "ratios": ratios,
        "target_ratio": 0.7,
        "runs": runs,
    }
    path = write(args.out, result)
    print(json.dumps({"pods_per_second": result["pods_per_second"], "ratios": ratios}, indent=2))
    print(f"-> {path}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
