"""The rendered RBAC grants exactly what the code uses: no wildcards, no verb without a code path that
needs it, and no code path without its grant.

``OPERATOR_USES`` and ``EXTENDER_USES`` are the table of record (docs/install.md's "Permissions" lists
it too): every (API group, resource, verb) the chart may grant, with the file that needs it and a piece
of that file's code that proves it. A grant missing from the table, or evidence no longer found in its
file, fails the test.
"""

from __future__ import annotations

from typing import Any

import pytest

from augur.devcluster.chart import documents, template

from .cases import CASES, REPO

Grant = tuple[str, str, str]  # (apiGroup, resource, verb)

OPERATOR = "operator/augur/operator"
KUBE = "operator/augur/kube"
KOPF_WATCH = (f"{OPERATOR}/handlers.py", '@kopf.on.resume(GROUP, VERSION, "workloadprofiles"')
KOPF_TOPOLOGY = (f"{OPERATOR}/handlers.py", '@kopf.on.resume(GROUP, VERSION, "networktopologies")')
KOPF_ANNOTATIONS = (f"{OPERATOR}/handlers.py", "kopf.AnnotationsProgressStorage(prefix=GROUP)")
SCALE_READ = (f"{KUBE}/resources.py", "scale = scale_sub.get(name=name, namespace=namespace)")
SCALE_WRITE = (f"{KUBE}/workload.py", "server_side_apply(")
READY_READ = (f"{KUBE}/workload.py", "self._resources.dynamic.get(resource, name=name, namespace=namespace)")
REBALANCE_LIST = (f"{OPERATOR}/rebalancer.py", 'self.reader.custom("rebalancepolicies")')
REBALANCE_STATUS = (f"{KUBE}/cluster.py", '"rebalancepolicies", name, body, field_manager=FIELD_MANAGER')
EXTENDER_WATCH = ("scheduler_extender/augur_extender/watch.py", '"nodes": core.list_node')

OPERATOR_USES: dict[Grant, tuple[str, str]] = {
    ("augur.dev", "workloadprofiles", "list"): KOPF_WATCH,
    ("augur.dev", "workloadprofiles", "watch"): KOPF_WATCH,
    ("augur.dev", "workloadprofiles", "get"): KOPF_WATCH,
    ("augur.dev", "workloadprofiles", "patch"): KOPF_ANNOTATIONS,
    ("augur.dev", "workloadprofiles/status", "patch"): (f"{KUBE}/status.py", "patch_namespaced_custom_object_status"),
    ("augur.dev", "networktopologies", "list"): KOPF_TOPOLOGY,
    ("augur.dev", "networktopologies", "watch"): KOPF_TOPOLOGY,
    ("augur.dev", "networktopologies", "get"): KOPF_TOPOLOGY,
    ("augur.dev", "networktopologies", "patch"): KOPF_ANNOTATIONS,
    ("augur.dev", "networktopologies/status", "patch"): (f"{KUBE}/status.py", "patch_cluster_custom_object_status"),
    ("augur.dev", "scalingpolicies", "get"): (f"{KUBE}/resources.py", '"scalingpolicies", name)'),
    ("autoscaling", "horizontalpodautoscalers", "list"): (f"{OPERATOR}/indexes.py", '"horizontalpodautoscalers")'),
    ("autoscaling", "horizontalpodautoscalers", "watch"): (f"{OPERATOR}/indexes.py", '"horizontalpodautoscalers")'),
    ("keda.sh", "scaledobjects", "list"): (f"{OPERATOR}/indexes.py", '@kopf.index("keda.sh"'),
    ("keda.sh", "scaledobjects", "watch"): (f"{OPERATOR}/indexes.py", '@kopf.index("keda.sh"'),
    ("", "pods", "list"): (f"{KUBE}/pods.py", "core.list_namespaced_pod("),
    ("", "nodes", "list"): (f"{KUBE}/resources.py", "list_node()"),
    # rebalancer
    ("augur.dev", "rebalancepolicies", "list"): REBALANCE_LIST,
    ("augur.dev", "rebalancepolicies/status", "patch"): REBALANCE_STATUS,
    ("augur.dev", "migrations", "create"): (f"{KUBE}/cluster.py", "create_namespaced_custom_object("),
    # migration executor (operator.migrations.enabled)
    ("augur.dev", "migrations", "get"): (f"{KUBE}/moves.py", "self._custom.get_namespaced_custom_object"),
    ("augur.dev", "migrations", "list"): (f"{KUBE}/moves.py", "self._custom.list_cluster_custom_object"),
    ("augur.dev", "migrations", "delete"): (f"{KUBE}/moves.py", "delete_namespaced_custom_object("),
    ("augur.dev", "migrations/status", "patch"): (f"{OPERATOR}/executor.py", 'apply_status(self.api, "Migration"'),
    ("", "pods", "get"): (f"{KUBE}/moves.py", "self._core.read_namespaced_pod"),
    ("", "pods", "create"): (f"{KUBE}/moves.py", "self._core.create_namespaced_pod("),
    ("", "pods", "patch"): (f"{KUBE}/pods.py", "core.patch_namespaced_pod("),  # plan gate backstop; moves.py too
    ("", "pods", "delete"): (f"{KUBE}/moves.py", "self._core.delete_namespaced_pod("),
    ("", "pods/eviction", "create"): (f"{KUBE}/eviction.py", "core.create_namespaced_pod_eviction("),
    ("apps", "replicasets", "get"): (f"{KUBE}/moves.py", "self._apps.read_namespaced_replica_set"),
    ("scheduling.k8s.io", "priorityclasses", "create"): (f"{KUBE}/moves.py", "create_priority_class("),
    ("", "nodes", "get"): (f"{KUBE}/moves.py", "self._core.read_node"),
    ("", "configmaps", "get"): (f"{KUBE}/statestore.py", "read_namespaced_config_map("),
    ("", "configmaps", "patch"): (f"{KUBE}/statestore.py", "patch_namespaced_config_map("),
    ("", "configmaps", "create"): (f"{KUBE}/statestore.py", "patch_namespaced_config_map("),  # apply creates
    ("apiextensions.k8s.io", "customresourcedefinitions", "list"): (f"{OPERATOR}/runner.py", "kopf.operator("),
    ("apiextensions.k8s.io", "customresourcedefinitions", "watch"): (f"{OPERATOR}/runner.py", "kopf.operator("),
    ("", "events", "create"): (f"{KUBE}/events.py", "core.create_namespaced_event("),
    ("coordination.k8s.io", "leases", "create"): (f"{KUBE}/lease.py", "create_namespaced_lease("),
    ("coordination.k8s.io", "leases", "get"): (f"{KUBE}/lease.py", "read_namespaced_lease("),
    ("coordination.k8s.io", "leases", "update"): (f"{KUBE}/lease.py", "replace_namespaced_lease("),
    # scale targets (rbac.scaleTargets; the values of the rendered cases)
    **{
        (group, res, "get"): READY_READ
        for group, res in (("apps", "deployments"), ("apps", "statefulsets"), ("example.com", "workers"))
    },
    **{
        (group, f"{res}/scale", verb): SCALE_READ if verb == "get" else SCALE_WRITE
        for group, res in (
            ("apps", "deployments"),
            ("apps", "statefulsets"),
            ("apps", "replicasets"),
            ("example.com", "workers"),
        )
        for verb in ("get", "patch")
    },
}
EXTENDER_WATCH_PROFILES = ("scheduler_extender/augur_extender/watch.py", '"workloadprofiles": lambda **kw')
EXTENDER_WATCH_TOPOLOGIES = ("scheduler_extender/augur_extender/watch.py", '"networktopologies": lambda **kw')
EXTENDER_USES: dict[Grant, tuple[str, str]] = {
    # the extender's list-and-watch cache
    **{("", "nodes", v): EXTENDER_WATCH for v in ("list", "watch")},
    **{
        ("", "pods", v): ("scheduler_extender/augur_extender/watch.py", '"pods": core.list_pod_for_all_namespaces')
        for v in ("list", "watch")
    },
    **{("augur.dev", "workloadprofiles", v): EXTENDER_WATCH_PROFILES for v in ("list", "watch")},
    **{("augur.dev", "networktopologies", v): EXTENDER_WATCH_TOPOLOGIES for v in ("list", "watch")},
    # its writes: the gate keeper removes the plan gate ...
    ("", "pods", "patch"): ("scheduler_extender/augur_extender/gatekeeper.py", "self._core.patch_namespaced_pod("),
    # ... and, with several replicas, holds its Lease (the operator's store, augur.kube.lease)
    ("coordination.k8s.io", "leases", "create"): (f"{KUBE}/lease.py", "create_namespaced_lease("),
    ("coordination.k8s.io", "leases", "get"): (f"{KUBE}/lease.py", "read_namespaced_lease("),
    ("coordination.k8s.io", "leases", "update"): (f"{KUBE}/lease.py", "replace_namespaced_lease("),
}
USES = {"operator": OPERATOR_USES, "extender": EXTENDER_USES}
ALL_EVIDENCE = {(component, *g): e for component, uses in USES.items() for g, e in uses.items()}


def _component(role: str) -> str:
    return "extender" if role.endswith(("-extender", "-extender-gate-keeper")) else "operator"


def _grants(objs: list[dict[str, Any]]) -> dict[str, set[Grant]]:
    by_role: dict[str, set[Grant]] = {}
    for obj in objs:
        if obj["kind"] not in ("ClusterRole", "Role"):
            continue
        grants = by_role.setdefault(f"{obj['kind']}/{obj['metadata']['name']}", set())
        for rule in obj.get("rules") or []:
            for group in rule.get("apiGroups", []):
                for res in rule.get("resources", []):
                    for verb in rule["verbs"]:
                        grants.add((group, res, verb))
    return by_role


def _render(helm_bin: str, name: str) -> list[dict[str, Any]]:
    case = next(c for c in CASES if c.name == name)
    return documents(template(helm_bin, case.values, case.sets, release=case.release, namespace=case.namespace))


@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_no_wildcards_and_no_unused_verbs(helm_bin: str, case: str) -> None:
    for role, grants in _grants(_render(helm_bin, case)).items():
        wild = sorted(g for g in grants if any("*" in part for part in g))
        assert not wild, f"{role} grants wildcards: {wild}"
        unused = sorted(g for g in grants if g not in USES[_component(role)])
        assert not unused, (
            f"{role} grants what no code path uses (add the code path to USES or drop the rule): {unused}"
        )


@pytest.mark.parametrize(
    ("grant", "evidence"), sorted(ALL_EVIDENCE.items()), ids=[":".join(g) for g in sorted(ALL_EVIDENCE)]
)
def test_each_grant_is_needed_by_code_that_exists(grant: tuple[str, ...], evidence: tuple[str, str]) -> None:
    path, snippet = evidence
    assert snippet in (REPO / path).read_text(), (
        f"{grant}: {path} no longer contains {snippet!r}; is the grant still needed?"
    )


def test_defaults_grant_what_the_code_needs(helm_bin: str) -> None:
    """The other way round: everything the code uses is granted by the default values."""
    roles = _grants(_render(helm_bin, "default"))
    operator = roles["ClusterRole/augur-operator"] | roles["Role/augur-operator-leader-election"]
    extender = roles["ClusterRole/augur-extender"] | roles["Role/augur-extender-gate-keeper"]
    # Not granted by default: kinds outside rbac.scaleTargets' default (deployments, statefulsets).
    optional = {g for g in OPERATOR_USES if g[0] == "example.com" or g[1] == "replicasets/scale"}
    assert operator == set(OPERATOR_USES) - optional
    assert extender == set(EXTENDER_USES)


def test_leases_are_limited_by_name(helm_bin: str) -> None:
    roles = {o["metadata"]["name"]: o for o in _render(helm_bin, "default") if o["kind"] == "Role"}
    expected = {
        "augur-operator-leader-election": "augur-operator",
        "augur-extender-gate-keeper": "augur-extender-gate-keeper",
    }
    assert set(roles) == set(expected)
    for name, lease in expected.items():
        named = [r for r in roles[name]["rules"] if set(r["verbs"]) & {"get", "update"}]
        assert named and all(r.get("resourceNames") == [lease] for r in named), name
        assert roles[name]["metadata"]["namespace"] == "augur-system"
    args = next(
        o
        for o in _render(helm_bin, "default")
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "augur-extender"
    )
    assert (
        "--gate-lease=augur-system/augur-extender-gate-keeper"
        in args["spec"]["template"]["spec"]["containers"][0]["args"]
    )
