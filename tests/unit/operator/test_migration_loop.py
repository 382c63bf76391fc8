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
        self.outcomes: dict[str, str] = {}
        """Phase a Pending Migration is left in when it is not told another one moves its pod."""

    def handle(self, raw: dict[str, Any], moving: str = "") -> str:
        """Like the executor: a Pending Migration starts unless another one moves its pod (then it fails)."""
        self.handled.append((raw["metadata"]["name"], moving))
        phase = str(raw["status"].get("phase") or "Pending")
        if phase == "Pending":
            return "Failed" if moving else self.outcomes.get(raw["metadata"]["name"], "Reserving")
        return phase


def mig(name: str, pod: str, phase: str = "", done: str = "", created: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    status = {"phase": phase} if phase else {}
    if done:
        status["completionTime"] = done
    meta = {"name": name, "namespace": "ns", "uid": name, "creationTimestamp": created}
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
    assert executor.handled == [("fresh", ""), ("running", ""), ("second", "running")]  # creation, then name


def test_two_migrations_of_one_pod_created_within_one_pass_do_not_both_start() -> None:
    """Both Pending when listed: the first created starts, the second is told it is moving (AlreadyMoving)."""
    moves = FakeMoves(
        [mig("late", "a", created="2026-01-01T00:00:02Z"), mig("early", "a", created="2026-01-01T00:00:01Z")]
    )
    executor = FakeExecutor(moves)
    migrations.tick(executor)  # type: ignore[arg-type]
    assert executor.handled == [("early", ""), ("late", "early")]


def test_a_failed_first_migration_does_not_block_the_second() -> None:
    moves = FakeMoves(
        [mig("bad", "a", created="2026-01-01T00:00:01Z"), mig("good", "a", created="2026-01-01T00:00:02Z")]
    )
    executor = FakeExecutor(moves)
    executor.outcomes = {"bad": "Failed"}
    migrations.tick(executor)  # type: ignore[arg-type]
    assert executor.handled == [("bad", ""), ("good", "")]


def test_an_unknown_outcome_defers_the_pods_other_migrations() -> None:
    moves = FakeMoves(
        [mig("first", "a", created="2026-01-01T00:00:01Z"), mig("second", "a", created="2026-01-01T00:00:02Z")]
    )
    executor = FakeExecutor(moves)
    executor.outcomes = {"first": ""}  # its step failed half-way
    migrations.tick(executor)  # type: ignore[arg-type]
    assert executor.handled == [("first", "")]


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
