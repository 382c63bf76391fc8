"""The executor loop's pass: expired Migrations deleted, the rest handed to the executor with the name of
another Migration already moving the same pod."""

from __future__ import annotations

from typing import Any

import pytest

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


@pytest.mark.parametrize(
    ("listed", "outcomes", "handled"),
    [
        pytest.param(
            [("late", 2), ("early", 1)],
            {},
            [("early", ""), ("late", "early")],
            id="created-within-one-pass-do-not-both-start",
        ),
        pytest.param(
            [("bad", 1), ("good", 2)],
            {"bad": "Failed"},
            [("bad", ""), ("good", "")],
            id="a-failed-first-does-not-block",
        ),
        pytest.param(
            [("first", 1), ("second", 2)], {"first": ""}, [("first", "")], id="an-unknown-outcome-defers-the-second"
        ),
    ],
)
def test_two_pending_migrations_of_one_pod(
    listed: list[tuple[str, int]], outcomes: dict[str, str], handled: list[tuple[str, str]]
) -> None:
    """Both Pending when listed (``listed``: name and creation second): the first created is handled first;
    the second is told it moves (AlreadyMoving) while the first goes on, runs when the first failed, and is
    deferred when the first's step gave no outcome (failed half-way)."""
    moves = FakeMoves([mig(name, "a", created=f"2026-01-01T00:00:0{second}Z") for name, second in listed])
    executor = FakeExecutor(moves)
    executor.outcomes = outcomes
    migrations.tick(executor)  # type: ignore[arg-type]
    assert executor.handled == handled


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
