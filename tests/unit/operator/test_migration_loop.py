"""The executor loop's pass: expired Migrations deleted, the rest handed to the executor with the name of
another Migration already moving the same pod."""

from __future__ import annotations

from typing import Any

from augur.operator import migrations


class FakeMoves:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.deleted: list[str] = []

    def migrations(self, namespaces: tuple[str, ...], selector: str) -> list[dict[str, Any]]:
        return self.items

    def delete_migration(self, namespace: str, name: str, uid: str) -> None:
        self.deleted.append(name)


class FakeExecutor:
    def __init__(self, moves: FakeMoves) -> None:
        self.moves = moves
        self.handled: list[tuple[str, str]] = []

    def handle(self, raw: dict[str, Any], moving: str = "") -> None:
        self.handled.append((raw["metadata"]["name"], moving))


def mig(name: str, pod: str, phase: str = "", done: str = "") -> dict[str, Any]:
    status = {"phase": phase} if phase else {}
    if done:
        status["completionTime"] = done
    meta = {"name": name, "namespace": "ns", "uid": name, "creationTimestamp": "2026-01-01T00:00:00Z"}
    return {"metadata": meta, "spec": {"podName": pod}, "status": status}


def test_a_pass_collects_and_steps() -> None:
    moves = FakeMoves(
        [
            mig("old", "a", "Succeeded", "2000-01-01T00:00:00Z"),
            mig("running", "b", "Evicting"),
            mig("second", "b"),
            mig("fresh", "c"),
        ]
    )
    executor = FakeExecutor(moves)
    migrations.tick(executor)  # type: ignore[arg-type]
    assert moves.deleted == ["old"]
    assert executor.handled == [("running", ""), ("second", "running"), ("fresh", "")]


def test_plans_already_marked_are_not_read_again() -> None:
    from augur.operator.executor import _waiting_for_approval

    plan = mig("plan", "p")
    plan["spec"]["approved"] = False
    plan["metadata"]["generation"] = 1
    assert not _waiting_for_approval(plan)  # status not written yet
    plan["status"] = {"conditions": [{"type": "Finished", "reason": "AwaitingApproval", "observedGeneration": 1}]}
    assert _waiting_for_approval(plan)
    plan["metadata"]["generation"] = 2  # approved since? re-read
    assert not _waiting_for_approval(plan)
