"""Pure helpers for ``metav1.Condition``-style status conditions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

Status = Literal["True", "False", "Unknown"]


@dataclass(frozen=True)
class ConditionUpdate:
    """A condition to set; ``lastTransitionTime`` is filled in by :func:`merge_condition`."""

    type: str
    status: Status
    reason: str
    message: str = ""


def now_rfc3339() -> str:
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_condition(
    existing: list[dict[str, Any]], update: ConditionUpdate, generation: int | None, now: str | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Return the new conditions list and whether the condition's status changed.

    ``lastTransitionTime`` moves only when the status changes, as the Kubernetes API conventions ask.
    """
    now = now or now_rfc3339()
    previous = next((c for c in existing if c.get("type") == update.type), None)
    changed = previous is None or previous.get("status") != update.status
    entry: dict[str, Any] = {
        "type": update.type,
        "status": update.status,
        "reason": update.reason,
        "message": update.message,
        "lastTransitionTime": now if changed or previous is None else previous.get("lastTransitionTime", now),
    }
    if generation is not None:
        entry["observedGeneration"] = generation
    others = [c for c in existing if c.get("type") != update.type]
    return [*others, entry], changed


def find_condition(conditions: list[dict[str, Any]], type_: str) -> dict[str, Any] | None:
    return next((c for c in conditions if c.get("type") == type_), None)
