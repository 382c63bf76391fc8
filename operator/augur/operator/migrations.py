"""The Migration executor's loop, started with kopf (so only the replica that runs kopf acts: with leader
election, the leader).

Every ``AUGUR_MIGRATION_POLL_SECONDS`` the loop lists the Migrations this replica owns
(``AUGUR_SHARD_SELECTOR``, ``AUGUR_NAMESPACES``), steps each unfinished one in creation order
(:class:`augur.operator.executor.Executor`) and deletes those past the retention period
(:func:`augur.migration.timeline.expired`). A pod is moved by one Migration at a time: a Migration of a pod
that another one is moving, listed so or started earlier in the same pass, fails ``AlreadyMoving``.
One loop rather than kopf timers per object: kopf puts a finalizer on every object with a timer, which
would keep Migrations (and their namespaces) from being deleted while no operator runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import kopf

from augur.kube.client import KubeError, api_client
from augur.kube.moves import Moves
from augur.migration.timeline import expired
from augur.operator.background import every, stop_task
from augur.operator.executor import Executor
from augur.operator.settings import SETTINGS

logger = logging.getLogger("augur.operator.migrations")


def tick(executor: Executor) -> None:
    """One pass over the Migrations: step the unfinished, delete the expired."""
    try:
        items = executor.moves.migrations(SETTINGS.namespaces, SETTINGS.shard_selector)
    except KubeError as exc:
        logger.warning(f"listing Migrations failed, retrying next tick: {exc}")
        return
    now = time.time()
    moving = _moving(items)
    unsure: set[tuple[str, str]] = set()
    for raw in sorted(items, key=_created):  # the first created of two Migrations of one pod goes first
        meta = raw.get("metadata") or {}
        if expired(raw, now, SETTINGS.migration_retention_seconds):
            try:
                executor.moves.delete_migration(str(meta["namespace"]), str(meta["name"]), str(meta["uid"]))
                logger.info(f"[{meta['namespace']}/{meta['name']}] deleted after the retention period")
            except KubeError as exc:
                logger.warning(f"[{meta['namespace']}/{meta['name']}] deleting failed, retrying next tick: {exc}")
            continue
        key, name = (str(meta.get("namespace")), str((raw.get("spec") or {}).get("podName"))), str(meta.get("name"))
        if key in unsure:  # an earlier step on this pod failed half-way: the next pass knows more
            continue
        other = moving.get(key, "")
        phase = executor.handle(raw, other if other != name else "")
        if phase in ACTIVE_PHASES and not other:  # started in this pass: a later one of the same pod must wait
            moving[key] = name
        elif not phase:
            unsure.add(key)


ACTIVE_PHASES = ("Reserving", "Evicting", "Rescheduling")
"""Phases of a Migration that is moving its pod."""


def _created(raw: dict[str, Any]) -> tuple[str, str, str]:
    meta = raw.get("metadata") or {}
    return (str(meta.get("creationTimestamp") or ""), str(meta.get("namespace")), str(meta.get("name")))


def _moving(items: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(namespace, pod) → the Migration moving it (past ``Pending``, not finished)."""
    out: dict[tuple[str, str], str] = {}
    for raw in items:
        meta, spec, status = raw.get("metadata") or {}, raw.get("spec") or {}, raw.get("status") or {}
        if status.get("phase") in ACTIVE_PHASES:
            out[(str(meta.get("namespace")), str(spec.get("podName")))] = str(meta.get("name"))
    return out


@kopf.on.startup()
async def start_migration_executor(memo: kopf.Memo, **_: Any) -> None:
    api = api_client()
    executor = Executor(Moves(api), api)
    memo["migration_loop"] = asyncio.create_task(
        every(lambda: SETTINGS.migration_poll_seconds, lambda: tick(executor), logger, "migration tick")
    )


@kopf.on.cleanup()
async def stop_migration_executor(memo: kopf.Memo, **_: Any) -> None:
    await stop_task(memo, "migration_loop")
