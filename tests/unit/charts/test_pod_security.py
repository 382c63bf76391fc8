"""Every pod the chart renders meets Pod Security "restricted" (the e2e install has the API server's
admission check the same on a namespace that enforces it)."""

from __future__ import annotations

from typing import Any

import pytest

from augur.devcluster.chart import documents, template

from .cases import CASES, Case


def _pods(helm_bin: str, case: Case) -> list[tuple[str, dict[str, Any]]]:
    objs = documents(
        template(
            helm_bin,
            case.values,
            case.sets,
            release=case.release,
            namespace=case.namespace,
            api_versions=case.api_versions,
        )
    )
    return [
        (o["metadata"]["name"], o["spec"]["template"]["spec"])
        for o in objs
        if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")
    ]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_pod_is_restricted(helm_bin: str, case: Case) -> None:
    pods = _pods(helm_bin, case)
    assert pods
    for name, spec in pods:
        pod_sc = spec.get("securityContext") or {}
        assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")), name
        assert pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        for c in spec["containers"] + spec.get("initContainers", []):
            sc = c.get("securityContext") or {}
            assert sc.get("allowPrivilegeEscalation") is False, (name, c["name"])
            assert sc.get("readOnlyRootFilesystem") is True, (name, c["name"])
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], (name, c["name"])
            assert not sc.get("capabilities", {}).get("add"), (name, c["name"])
            assert (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")) is True, (name, c["name"])
            assert not sc.get("privileged"), (name, c["name"])
            assert not any(p.get("hostPort") for p in c.get("ports", [])), (name, c["name"])
        assert not any("hostPath" in v for v in spec.get("volumes", [])), name
