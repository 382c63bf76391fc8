"""The order in which one rebalancer run reads the cluster (the pure run is tested in tests/unit/migration)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from augur.api.v1alpha1.rebalancepolicy import RebalancePolicySpec
from augur.migration.limits import Readings
from augur.operator.rebalancer import Rebalancer

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class RecordingReader:
    """Answers every list empty and records what was listed, in order."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def nodes(self) -> list[dict[str, Any]]:
        self.calls.append("nodes")
        return []

    def pods(self) -> list[dict[str, Any]]:
        self.calls.append("pods")
        return []

    def custom(self, plural: str) -> list[dict[str, Any]]:
        self.calls.append(plural)
        return []

    def pod_names(self, namespace: str, selector: str) -> set[str]:
        self.calls.append("pod_names")
        return set()


def test_migrations_are_read_before_the_placement() -> None:
    """A Migration that finishes between the two reads is seen in progress (the run waits), never finished
    on a pod list from before it (which would show its pod still on the source node)."""
    reader = RecordingReader()
    rebalancer = Rebalancer(reader, None)  # type: ignore[arg-type]
    spec = RebalancePolicySpec.model_validate({"mode": "Auto", "load": {"source": "Requests"}})
    result, origin = rebalancer._run(spec, Readings(), NOW)
    assert reader.calls.index("migrations") < reader.calls.index("pods")
    assert reader.calls.index("migrations") < reader.calls.index("nodes")
    assert result.proposals == () and origin.reason == "Requests"
