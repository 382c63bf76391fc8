"""LocalCluster.wait_established asks kubectl again while a new CRD has no status.conditions yet."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace

import pytest

from augur.devcluster.cluster import LocalCluster

NO_CONDITIONS = "error: .status.conditions accessor error: <nil> is of the type <nil>, expected []interface{}"


def fake(answers: list[tuple[int, str]]) -> SimpleNamespace:
    calls: list[tuple[str, ...]] = []

    def kubectl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert check is False
        calls.append(args)
        code, err = answers[min(len(calls), len(answers)) - 1]
        return subprocess.CompletedProcess(["kubectl", *args], code, "", err)

    return SimpleNamespace(kubectl=kubectl, calls=calls)


def test_a_crd_without_conditions_yet_is_asked_again_until_established() -> None:
    cluster = fake([(1, NO_CONDITIONS), (1, NO_CONDITIONS), (0, "")])
    LocalCluster.wait_established(cluster, "crd/a.example.com", "crd/b.example.com")  # type: ignore[arg-type]
    assert len(cluster.calls) == 3
    assert cluster.calls[0] == (
        "wait",
        "--for=condition=Established",
        "--timeout=10s",
        "crd/a.example.com",
        "crd/b.example.com",
    )


def test_timeout_carries_kubectls_last_answer() -> None:
    cluster = fake([(1, NO_CONDITIONS)])
    with pytest.raises(TimeoutError, match=r"crd/a\.example\.com Established.*accessor error"):
        LocalCluster.wait_established(cluster, "crd/a.example.com", timeout=0.5)  # type: ignore[arg-type]
