"""A Lease in memory for unit tests of leader election (the operator's and the extender gate keeper's)."""

from __future__ import annotations

from dataclasses import replace

from augur.kube.client import KubeError
from augur.kube.lease import LeaseConflictError, LeaseRecord


class MemoryStore:
    """A Lease in a dict: creates refuse an existing Lease, updates refuse a stale resourceVersion."""

    where = "Lease test/augur"

    def __init__(self) -> None:
        self.record: LeaseRecord | None = None
        self.version = 0
        self.fail: KubeError | None = None
        self.writes: list[LeaseRecord] = []

    def get(self) -> LeaseRecord | None:
        if self.fail:
            raise self.fail
        return self.record

    def _store(self, record: LeaseRecord) -> LeaseRecord:
        self.version += 1
        self.record = replace(record, version=str(self.version))
        self.writes.append(self.record)
        return self.record

    def create(self, record: LeaseRecord) -> LeaseRecord:
        if self.record is not None:
            raise LeaseConflictError("exists")
        return self._store(record)

    def update(self, record: LeaseRecord) -> LeaseRecord:
        if self.fail:
            raise self.fail
        if self.record is None or record.version != self.record.version:
            raise LeaseConflictError("stale resourceVersion")
        return self._store(record)
