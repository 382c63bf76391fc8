"""The Migration executor on the real control plane (kube-apiserver, controller-manager, kube-scheduler,
kwok nodes): a user-created Migration moves a pod to the requested node; impossible ones fail with a clear
reason and change nothing; an operator killed mid-migration resumes or rolls back; finished Migrations
are garbage-collected. A watcher samples every workload's Ready pods through the whole module and
confirms that no PodDisruptionBudget (all with integer ``minAvailable`` here) was ever violated
(:class:`tests.e2e._watch.AvailabilityWatcher`, shared with the rebalancer's e2e).

The operator started here (as the chart's operator ServiceAccount) acts only on objects labelled
``augur.dev/e2e-shard=migration``; the session's shared operator ignores them.
"""

from __future__ import annotations

import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config

from augur.devcluster.cluster import LocalCluster
from augur.devcluster.kwok import delay_annotations
from augur.devcluster.procs import wait_until
from augur.devcluster.rebalance_watch import RunWatcher
from augur.devcluster.replay_kube import Rest
from tests.e2e._watch import AvailabilityWatcher
from tests.e2e.conftest import apply, deployment, disruption_budget, get_json
from tests.e2e.test_operator_ops import SHARD_LABEL, Operator, start_operator

SHARD = "migration"
RETENTION_SECONDS = 30


def workload(
    name: str,
    ns: str,
    replicas: int,
    *,
    cpu: str = "100m",
    min_available: int | None = None,
    annotations: dict[str, str] | None = None,
) -> str:
    """conftest's kwok Deployment, with a PodDisruptionBudget when ``min_available`` is given."""
    manifest = deployment(name, ns, replicas, cpu=cpu, annotations=annotations)
    return manifest if min_available is None else f"{manifest}---{disruption_budget(name, ns, min_available)}"


def stateful_set(name: str, ns: str, replicas: int, min_available: int) -> str:
    return f"""
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: {name}, namespace: {ns}}}
spec:
  replicas: {replicas}
  serviceName: {name}
  podManagementPolicy: Parallel
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      tolerations: [{{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}}]
      containers: [{{name: app, image: example/{name}:1, resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}}}]
---{disruption_budget(name, ns, min_available)}"""


def migration(name: str, ns: str, pod: str, **spec: Any) -> str:
    fields = ", ".join(f"{k}: {v}" for k, v in {"podName": pod, **spec}.items())
    return f"""
apiVersion: augur.dev/v1alpha1
kind: Migration
metadata: {{name: {name}, namespace: {ns}, labels: {{{SHARD_LABEL}: {SHARD}}}}}
spec: {{{fields}}}
"""


@pytest.fixture(scope="module")
def watcher(crds: LocalCluster) -> Iterator[AvailabilityWatcher]:
    api = config.new_client_from_config(config_file=str(crds.kubeconfig))
    w = AvailabilityWatcher(client.CoreV1Api(api)).start()
    yield w
    w.finish()
    why = w.watched_throughout()
    assert not why, f"the watcher did not watch throughout: {why}"
    assert not w.violations, w.violations[:5]


@pytest.fixture(scope="module")
def mover(augur_identities: LocalCluster) -> Iterator[Operator]:
    crds = augur_identities  # the chart's operator ServiceAccount and RBAC (conftest)
    env = {"KUBECONFIG": str(crds.service_account_kubeconfig("augur-system", "augur-operator"))}
    op = start_operator(
        crds,
        env,
        "augur-migrations",
        SHARD,
        AUGUR_MIGRATION_POLL_SECONDS="1",
        AUGUR_MIGRATION_RETENTION_SECONDS=str(RETENTION_SECONDS),
    )
    yield op
    op.proc.stop()


@pytest.fixture
def ns(namespace: str, watcher: AvailabilityWatcher) -> Iterator[str]:
    yield namespace
    watcher.forget(namespace)  # before the namespace goes


def pods(cluster: LocalCluster, ns: str, app: str) -> list[dict[str, Any]]:
    return [p for p in get_json(cluster, "pods", "-n", ns, "-l", f"app={app}")["items"]]


def placement(cluster: LocalCluster, ns: str, app: str) -> dict[str, str]:
    """uid → node of the workload's pods."""
    return {p["metadata"]["uid"]: p["spec"].get("nodeName", "") for p in pods(cluster, ns, app)}


def status(cluster: LocalCluster, ns: str, name: str) -> dict[str, Any]:
    return get_json(cluster, "migration", name, "-n", ns).get("status") or {}


def finished(cluster: LocalCluster, ns: str, name: str, timeout: float = 60) -> dict[str, Any]:
    terminal = ("Succeeded", "Failed", "RolledBack")
    wait_until(lambda: status(cluster, ns, name).get("phase") in terminal, timeout, f"Migration {name} finished")
    return status(cluster, ns, name)


def settled(cluster: LocalCluster, ns: str, app: str, replicas: int) -> None:
    def ok() -> bool:
        items = pods(cluster, ns, app)
        live = [p for p in items if not p["metadata"].get("deletionTimestamp")]
        return len(live) == replicas and all(p["status"].get("phase") == "Running" for p in live)

    wait_until(ok, 60, f"{app}: {replicas} running pods")


def reasons(cluster: LocalCluster, ns: str, name: str) -> list[str]:
    items = get_json(cluster, "events", "-n", ns)["items"]
    mine = [e for e in items if e["involvedObject"]["kind"] == "Migration" and e["involvedObject"]["name"] == name]
    return [e["reason"] for e in sorted(mine, key=lambda e: e.get("firstTimestamp") or e.get("eventTime") or "")]


def leftovers(cluster: LocalCluster, ns: str) -> list[str]:
    """Reservation pods nobody adopted."""
    items = get_json(cluster, "pods", "-n", ns, "-l", "augur.dev/migration")["items"]
    return [
        p["metadata"]["name"]
        for p in items
        if not any(o.get("controller") for o in p["metadata"].get("ownerReferences") or [])
    ]


def test_a_pod_moves_to_the_requested_node(
    crds: LocalCluster, mover: Operator, ns: str, watcher: AvailabilityWatcher
) -> None:
    """ReservationFirst to a target node, ReservationFirst anywhere else, EvictDirectly of a StatefulSet pod."""
    # a new pod is Ready 1 s after it is bound (kwok; a real pod needs at least its container start), so a
    # replacement the ReplicaSet may start on the eviction is not Ready before the reservation is adopted
    apply(crds, workload("web", ns, 3, min_available=3, annotations=delay_annotations(1, 1)))
    apply(crds, workload("api", ns, 2, min_available=2, annotations=delay_annotations(1, 1)))
    apply(crds, stateful_set("db", ns, 2, min_available=1))
    for app, n in (("web", 3), ("api", 2), ("db", 2)):
        settled(crds, ns, app, n)
    wait_until(lambda: all(_ready(p) for a in ("web", "api", "db") for p in pods(crds, ns, a)), 60, "all Ready")
    watcher.watch(ns, {"web": 3, "api": 2, "db": 1})
    rest = Rest(crds.kubeconfig)
    deletions = RunWatcher(rest, ns, lambda node: node)  # the bench's watcher: evicted / deleted while Ready
    deletions.__enter__()
    time.sleep(1)  # its first list is done
    before = placement(crds, ns, "web")
    moved = pods(crds, ns, "web")[0]
    source = moved["spec"]["nodeName"]
    target = next(n for n in sorted(crds.ready_nodes()) if n not in set(before.values()))
    apply(crds, migration("to-target", ns, moved["metadata"]["name"], targetNode=target))
    api = pods(crds, ns, "api")[0]
    apply(crds, migration("anywhere", ns, api["metadata"]["name"]))
    db = next(p for p in pods(crds, ns, "db") if p["metadata"]["name"] == "db-0")
    apply(crds, migration("direct", ns, "db-0", mode="EvictDirectly"))

    s = finished(crds, ns, "to-target")
    assert (s["phase"], s["reason"]) == ("Succeeded", "Moved"), s
    assert s["sourceNode"] == source and s["destinationNode"] == target
    assert [h["phase"] for h in s["phaseHistory"]] == ["Reserving", "Evicting", "Rescheduling", "Succeeded"]
    assert s["durations"]["totalSeconds"] > 0 and s["evictionAttempts"] == 1
    settled(crds, ns, "web", 3)
    after = placement(crds, ns, "web")
    assert moved["metadata"]["uid"] not in after
    replacement = get_json(crds, "pod", s["replacementPod"], "-n", ns)
    assert replacement["spec"]["nodeName"] == target
    owner = next(o for o in replacement["metadata"]["ownerReferences"] if o.get("controller"))
    assert owner["kind"] == "ReplicaSet" and owner["uid"] == s["owner"]["uid"]
    assert "controller.kubernetes.io/pod-deletion-cost" not in (replacement["metadata"].get("annotations") or {})
    assert set(before) - {moved["metadata"]["uid"]} <= set(after)  # the other replicas were not touched
    assert sorted(reasons(crds, ns, "to-target")) == ["Evicting", "Moved", "Rescheduling", "Reserving"]  # 1 s stamps
    assert watcher.least[(ns, "web")] >= 3  # capacity first: never fewer Ready pods than replicas

    a = finished(crds, ns, "anywhere")
    assert (a["phase"], a["reason"]) == ("Succeeded", "Moved"), a
    assert a["destinationNode"] not in ("", api["spec"]["nodeName"])  # kept off the node it left
    settled(crds, ns, "api", 2)
    assert watcher.least[(ns, "api")] >= 2

    d = finished(crds, ns, "direct")
    assert (d["phase"], d["reason"]) == ("Succeeded", "Moved"), d
    assert d["replacementPod"] == "db-0" and d["owner"]["kind"] == "StatefulSet" and d["evictionAttempts"] == 1
    assert get_json(crds, "pod", "db-0", "-n", ns)["metadata"]["uid"] != db["metadata"]["uid"]  # recreated
    settled(crds, ns, "db", 2)
    assert not leftovers(crds, ns)
    row = crds.kubectl("get", "mig", "to-target", "-n", ns).stdout.split("\n")[1].split()
    assert row[3:7] == ["Succeeded", source, target, "Moved"]

    # each move cost exactly one Ready pod, the evicted original: the ReplicaSet never deleted a Ready pod
    # of its own as surplus when it adopted the reservation (a replacement it may have started in the
    # meantime is removed before it is Ready: "discarded")
    time.sleep(2)  # the last watch events arrive
    deletions.__exit__(None, None, None)
    rest.close()
    gone = defaultdict(list)
    for e in deletions.pod_events(0.0):
        if e.kind in ("evicted", "deleted", "discarded"):
            gone[e.workload].append((e.kind, e.pod))
    for app, evicted in (("web", moved["metadata"]["name"]), ("api", api["metadata"]["name"])):
        assert [p for kind, p in gone[app] if kind != "discarded"] == [evicted], (app, gone[app])
        assert all(kind != "deleted" for kind, _ in gone[app]), (app, gone[app])


def test_impossible_moves_fail_and_change_nothing(crds: LocalCluster, mover: Operator, ns: str) -> None:
    apply(crds, workload("big", ns, 2, cpu="5"))  # 8-CPU nodes: one such pod per node
    apply(crds, workload("pinned", ns, 2, annotations={"augur.dev/evict": "never"}))
    apply(crds, workload("single", ns, 1))
    apply(crds, workload("guarded", ns, 2, min_available=3))  # blocks even with the reservation Ready
    apply(crds, workload("planned", ns, 2))
    apply(crds, workload("twice", ns, 2))
    for app, n in (("big", 2), ("pinned", 2), ("single", 1), ("guarded", 2), ("planned", 2), ("twice", 2)):
        settled(crds, ns, app, n)
    before = {app: placement(crds, ns, app) for app in ("big", "pinned", "single", "guarded")}
    big = pods(crds, ns, "big")
    apply(crds, migration("full", ns, big[0]["metadata"]["name"], targetNode=big[1]["spec"]["nodeName"]))
    apply(crds, migration("never", ns, pods(crds, ns, "pinned")[0]["metadata"]["name"]))
    apply(crds, migration("last", ns, pods(crds, ns, "single")[0]["metadata"]["name"]))
    apply(crds, migration("blocked", ns, pods(crds, ns, "guarded")[0]["metadata"]["name"], evictionTimeout="8s"))
    apply(crds, migration("ghost", ns, "no-such-pod"))
    twice = pods(crds, ns, "twice")[0]["metadata"]["name"]  # two Migrations of one pod, created together
    apply(crds, migration("twice-a", ns, twice) + "---" + migration("twice-b", ns, twice))
    ghost = finished(crds, ns, "ghost")
    ghost_done = time.time()

    expected = {
        "full": ("Failed", "TargetNodeFull", "Insufficient cpu"),
        "never": ("Failed", "EvictionDisabled", "augur.dev/evict"),
        "last": ("Failed", "LastAvailableReplica", "evict-last-replica"),
        "blocked": ("Failed", "DisruptionBudgetBlocked", "disruption budget guarded"),
        "ghost": ("Failed", "PodNotFound", "no-such-pod"),
    }
    seen = {name: finished(crds, ns, name) for name in expected if name != "ghost"} | {"ghost": ghost}
    for name, (phase, reason, text) in expected.items():
        s = seen[name]
        assert (s["phase"], s["reason"]) == (phase, reason), (name, s)
        assert text in s["message"], (name, s["message"])
        assert s["conditions"][0]["type"] == "Finished" and s["conditions"][0]["reason"] == reason
    assert seen["blocked"]["evictionAttempts"] >= 2
    assert seen["blocked"]["durations"]["evictingSeconds"] >= 8
    assert "DisruptionBudgetBlocked" in reasons(crds, ns, "blocked")
    assert [h["phase"] for h in seen["never"]["phaseHistory"]] == ["Failed"]
    both = {name: finished(crds, ns, name) for name in ("twice-a", "twice-b")}
    outcomes = sorted((s["phase"], s["reason"]) for s in both.values())
    # One pod, one move. The other fails AlreadyMoving when the executor sees both at once, or
    # PodNotFound when it first looks at it after the move has taken the pod away (seen in CI).
    assert outcomes[1] == ("Succeeded", "Moved"), both
    assert outcomes[0] in (("Failed", "AlreadyMoving"), ("Failed", "PodNotFound")), both
    assert not leftovers(crds, ns)
    for app, was in before.items():
        assert placement(crds, ns, app) == was, app  # same pods on the same nodes

    # a dry-run plan stays Pending and touches nothing until it is approved (within the retention period:
    # unapproved plans are deleted RETENTION_SECONDS after their creation)
    planned = placement(crds, ns, "planned")
    apply(crds, migration("plan", ns, pods(crds, ns, "planned")[0]["metadata"]["name"], approved="false"))
    awaiting = lambda: (status(crds, ns, "plan").get("conditions") or [{}])[0].get("reason") == "AwaitingApproval"  # noqa: E731
    wait_until(awaiting, 20, "the plan marked AwaitingApproval")
    time.sleep(3)  # several executor passes
    assert status(crds, ns, "plan")["phase"] == "Pending" and placement(crds, ns, "planned") == planned
    assert not get_json(crds, "pods", "-n", ns, "-l", "augur.dev/migration=plan")["items"]
    crds.kubectl("patch", "migration", "plan", "-n", ns, "--type=merge", "-p", '{"spec":{"approved":true}}')
    approved = finished(crds, ns, "plan")
    assert (approved["phase"], approved["reason"]) == ("Succeeded", "Moved"), approved

    # garbage collection: the first to finish is deleted once the retention period has passed, not before
    gone = lambda: crds.kubectl("get", "migration", "ghost", "-n", ns, check=False).returncode != 0  # noqa: E731
    wait_until(gone, RETENTION_SECONDS + 40, "the finished Migration deleted after the retention period")
    assert time.time() - ghost_done >= RETENTION_SECONDS - 2


def test_restart_mid_migration_resumes_or_rolls_back(
    crds: LocalCluster, mover: Operator, ns: str, watcher: AvailabilityWatcher
) -> None:
    """Pods of both workloads (and so their reservations) take a while to be Ready (kwok's per-pod delay):
    10 s each. "resume" has readyTimeout 2m: it is resumed after the restart. "rollback" has 3s: it is rolled
    back, the reservation removed, the pod never evicted (its reservation may become Ready while no operator
    runs, but later than the deadline, which its Ready condition's transition time shows)."""
    apply(crds, workload("resume", ns, 2, min_available=2, annotations=delay_annotations(10, 10)))
    apply(crds, workload("rollback", ns, 2, min_available=2, annotations=delay_annotations(10, 10)))
    for app in ("resume", "rollback"):
        wait_until(lambda a=app: len([p for p in pods(crds, ns, a) if _ready(p)]) == 2, 120, f"{app} pods Ready")
    watcher.watch(ns, {"resume": 2, "rollback": 2})
    before = placement(crds, ns, "rollback")
    apply(crds, migration("m-resume", ns, pods(crds, ns, "resume")[0]["metadata"]["name"], readyTimeout="2m"))
    apply(crds, migration("m-rollback", ns, pods(crds, ns, "rollback")[0]["metadata"]["name"], readyTimeout="3s"))
    reservations = lambda: get_json(crds, "pods", "-n", ns, "-l", "augur.dev/migration")["items"]  # noqa: E731
    wait_until(lambda: len(reservations()) == 2, 30, "both reservation pods created")
    assert {status(crds, ns, n)["phase"] for n in ("m-resume", "m-rollback")} == {"Reserving"}
    mover.proc._popen.send_signal(signal.SIGKILL)  # no clean shutdown
    mover.proc._popen.wait(10)
    time.sleep(5)  # m-rollback's readyTimeout passes while no operator runs
    assert status(crds, ns, "m-resume")["phase"] == "Reserving" and len(reservations()) == 2
    mover.proc.restart()

    r = finished(crds, ns, "m-rollback", 60)
    assert (r["phase"], r["reason"]) == ("RolledBack", "ReservationNotReady"), r
    assert not get_json(crds, "pods", "-n", ns, "-l", "augur.dev/migration=m-rollback")["items"]
    assert placement(crds, ns, "rollback") == before  # the pod was never evicted
    s = finished(crds, ns, "m-resume", 90)
    assert (s["phase"], s["reason"]) == ("Succeeded", "Moved"), s
    settled(crds, ns, "resume", 2)
    assert s["destinationNode"] != s["sourceNode"] and not leftovers(crds, ns)
    denied = 'forbidden: User "system:serviceaccount:augur-system:augur-operator" cannot'
    assert denied not in mover.proc.log_path.read_text()  # the shipped RBAC sufficed
    assert watcher.least[(ns, "resume")] >= 2 and watcher.least[(ns, "rollback")] >= 2


def _ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or [])
