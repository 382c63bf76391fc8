"""The synthetic workload of bench/operator_scale.py (and bench/profile_state.py): one demand series per
profile, its history backfilled into Prometheus and its live values served by an exporter, and the objects
(namespaces, policies, ``BenchTarget`` custom resources with ``/scale``, profiles) that use it.

Every profile has its own series ``augur_bench_demand{profile=...}``: a daily shape with a per-profile
level and phase plus deterministic noise, so history and live data join.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from augur.devcluster.backfill import Series, backfill
from augur.devcluster.cluster import LocalCluster
from augur.devcluster.ports import free_port

METRIC = "augur_bench_demand"
STEP_SECONDS = 300
NAMESPACES = 10

BENCH_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: benchtargets.bench.augur.dev}
spec:
  group: bench.augur.dev
  scope: Namespaced
  names: {kind: BenchTarget, plural: benchtargets, singular: benchtarget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {replicas: {type: integer}, selector: {type: string}}}
            status: {type: object, properties: {replicas: {type: integer}, selector: {type: string}}}
      subresources:
        status: {}
        scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas,
                labelSelectorPath: .status.selector}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: augur-bench-targets}
rules:
  - apiGroups: [bench.augur.dev]
    resources: [benchtargets, benchtargets/scale]
    verbs: [get, list, watch, update, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: augur-bench-targets}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: augur-bench-targets}
subjects: [{kind: ServiceAccount, name: augur-operator, namespace: augur-system}]
"""


# -- demand ------------------------------------------------------------------------------------------------
def profile_params(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20260101)
    return rng.uniform(100, 1000, n), rng.uniform(0, 2 * math.pi, n)


def demand(levels: np.ndarray, phases: np.ndarray, t: float) -> np.ndarray:
    """Demand of every profile at unix time ``t`` (deterministic: history and live data agree)."""
    step = int(t // STEP_SECONDS)
    noise = np.array(
        [
            int.from_bytes(hashlib.blake2b(f"{i}:{step}".encode(), digest_size=2).digest()) / 65535
            for i in range(len(levels))
        ]
    )
    daily = 1 + 0.6 * np.sin(2 * math.pi * (t % 86400) / 86400 + phases)
    return levels * daily * (0.9 + 0.2 * noise)


def name_of(i: int) -> str:
    return f"p{i:04d}"


def start_exporter(levels: np.ndarray, phases: np.ndarray) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            values = demand(levels, phases, time.time())
            lines = [f"# TYPE {METRIC} gauge"]
            lines += [f'{METRIC}{{profile="{name_of(i)}"}} {v:.3f}' for i, v in enumerate(values)]
            body = ("\n".join(lines) + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{port}"


def backfill_history(cluster: LocalCluster, levels: np.ndarray, phases: np.ndarray, hours: float) -> float:
    started = time.monotonic()
    end = (time.time() // STEP_SECONDS) * STEP_SECONDS - STEP_SECONDS
    stamps = np.arange(end - hours * 3600, end + 1, STEP_SECONDS)
    matrix = np.stack([demand(levels, phases, float(t)) for t in stamps], axis=1)
    series = [Series({"profile": name_of(i)}, stamps.tolist(), matrix[i].tolist()) for i in range(len(levels))]
    backfill(cluster, METRIC, series, help_text="bench demand")
    return time.monotonic() - started


# -- objects -------------------------------------------------------------------------------------------------
def manifests(n: int, history_hours: float, shards: int = 2) -> list[str]:
    """Namespaces, policies (``spec.history`` as long as the backfill), targets and profiles."""
    docs: list[str] = []
    for ns in range(NAMESPACES):
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: bench-{ns}}}\n")
        docs.append(
            f"apiVersion: augur.dev/v1alpha1\nkind: ScalingPolicy\nmetadata: {{name: bench, namespace: bench-{ns}}}\n"
            "spec: {mode: ForecastOnly, minReplicas: 1, maxReplicas: 50, decisionInterval: 30s,"
            f" history: {round(history_hours * 60)}m, leadTime: 2m}}\n"
        )
    for i in range(n):
        ns, name = f"bench-{i % NAMESPACES}", name_of(i)
        docs.append(
            f"apiVersion: bench.augur.dev/v1\nkind: BenchTarget\nmetadata: {{name: {name}, namespace: {ns}}}\n"
            f"spec: {{replicas: 2, selector: 'app={name}'}}\n"
        )
        docs.append(
            f"apiVersion: augur.dev/v1alpha1\nkind: WorkloadProfile\nmetadata: {{name: {name}, namespace: {ns}, "
            f"labels: {{augur.dev/shard: '{i % shards}'}}}}\n"
            f"spec:\n  scaleTargetRef: {{apiVersion: bench.augur.dev/v1, kind: BenchTarget, name: {name}}}\n"
            f"  policyRef: {{name: bench}}\n"
            f"  demand: {{query: 'sum({METRIC}{{profile=\"{name}\"}})', capacityPerReplica: 100, step: 5m}}\n"
        )
    return docs


def apply_all(cluster: LocalCluster, docs: list[str], chunk: int = 200) -> None:
    for k in range(0, len(docs), chunk):
        cluster.kubectl(
            "apply", "--server-side", "--field-manager=augur-bench", "-f", "-", stdin="---\n".join(docs[k : k + chunk])
        )
