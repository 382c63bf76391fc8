"""A ``coordination.k8s.io/v1`` Lease as the store of leader election.

Writes are guarded by ``metadata.resourceVersion``: of two replicas updating the same version, the API
server accepts one and answers 409 Conflict to the other (:class:`LeaseConflictError`). Bodies are sent and
read as raw JSON so ``acquireTime``/``renewTime`` keep the ``MicroTime`` format the API server expects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict, cast

import urllib3
from kubernetes import client

from augur.api.meta import parse_time
from augur.kube.client import FIELD_MANAGER, ApiStatus, KubeError

REQUEST_TIMEOUT = (3.0, 5.0)
"""Connect and read timeout of every Lease call, so a hung API server cannot outlast the renew deadline."""


@dataclass(frozen=True)
class LeaseRecord:
    """What a Lease says about its holder."""

    holder: str
    """``spec.holderIdentity``; empty when released."""
    duration_seconds: int
    acquire_time: datetime | None
    renew_time: datetime | None
    transitions: int = 0
    version: str = ""
    """``metadata.resourceVersion`` this record was read at (empty before it exists)."""


class LeaseConflictError(Exception):
    """Another writer changed (or created) the Lease first."""


class _LeaseSpec(TypedDict, total=False):
    holderIdentity: str
    leaseDurationSeconds: int
    acquireTime: str
    renewTime: str
    leaseTransitions: int


def _micro(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_from_body(body: dict[str, Any]) -> LeaseRecord:
    spec = cast(_LeaseSpec, body.get("spec") or {})
    return LeaseRecord(
        holder=str(spec.get("holderIdentity") or ""),
        duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
        acquire_time=parse_time(spec.get("acquireTime")),
        renew_time=parse_time(spec.get("renewTime")),
        transitions=int(spec.get("leaseTransitions") or 0),
        version=str((body.get("metadata") or {}).get("resourceVersion") or ""),
    )


def body_from_record(name: str, namespace: str, record: LeaseRecord) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "holderIdentity": record.holder,
        "leaseDurationSeconds": record.duration_seconds,
        "acquireTime": _micro(record.acquire_time),
        "renewTime": _micro(record.renew_time),
        "leaseTransitions": record.transitions,
    }
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "augur"}}
    if record.version:
        metadata["resourceVersion"] = record.version
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": {k: v for k, v in spec.items() if v is not None},
    }


class KubeLeaseStore:
    """One named Lease, read and written through one API client."""

    def __init__(self, api: client.ApiClient, namespace: str, name: str) -> None:
        self._coordination: Any = client.CoordinationV1Api(api)  # raw JSON in and out (see module doc)
        self.namespace, self.name = namespace, name

    @property
    def where(self) -> str:
        return f"Lease {self.namespace}/{self.name}"

    def get(self) -> LeaseRecord | None:
        try:
            response = self._coordination.read_namespaced_lease(
                self.name, self.namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT
            )
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise KubeError(f"reading {self.where}", ApiStatus.from_exception(exc)) from exc
        except (OSError, urllib3.exceptions.HTTPError) as exc:  # connection errors and timeouts
            raise KubeError(f"reading {self.where}", ApiStatus(0, "ConnectionError", str(exc))) from exc
        return record_from_body(json.loads(response.data))

    def create(self, record: LeaseRecord) -> LeaseRecord:
        body = body_from_record(self.name, self.namespace, record)
        return self._write(
            "creating",
            lambda: self._coordination.create_namespaced_lease(
                self.namespace,
                body,
                field_manager=FIELD_MANAGER,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            ),
        )

    def update(self, record: LeaseRecord) -> LeaseRecord:
        """Replace the Lease; refused with :class:`LeaseConflictError` unless ``record.version`` is current."""
        body = body_from_record(self.name, self.namespace, record)
        return self._write(
            "updating",
            lambda: self._coordination.replace_namespaced_lease(
                self.name,
                self.namespace,
                body,
                field_manager=FIELD_MANAGER,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            ),
        )

    def _write(self, what: str, call: Any) -> LeaseRecord:
        try:
            response = call()
        except client.ApiException as exc:
            if exc.status == 409:
                raise LeaseConflictError(f"{what} {self.where}: changed by another writer") from exc
            raise KubeError(f"{what} {self.where}", ApiStatus.from_exception(exc)) from exc
        except (OSError, urllib3.exceptions.HTTPError) as exc:
            raise KubeError(f"{what} {self.where}", ApiStatus(0, "ConnectionError", str(exc))) from exc
        return record_from_body(json.loads(response.data))
