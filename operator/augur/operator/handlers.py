"""kopf handlers for ``WorkloadProfile``: parse → reconcile (pure) → apply status and post Events."""

from __future__ import annotations

import logging
from typing import Any

import kopf
from kubernetes import client

from augur.api import GROUP, VERSION
from augur.kube.client import KubeError, api_client
from augur.kube.resources import Resources
from augur.kube.status import apply_status
from augur.operator.reconcile import reconcile_profile
from augur.operator.settings import SETTINGS

PROFILES = kopf.Resource(GROUP, VERSION, "workloadprofiles")


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = 300
    memo["api"] = api_client()
    memo["resources"] = Resources(memo["api"])


@kopf.on.probe(id="apiserver")
def apiserver_probe(memo: kopf.Memo, **_: Any) -> str:
    version = client.VersionApi(memo["api"]).get_code()
    return str(version.git_version)


def _reconcile(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger) -> None:
    raw = dict(body)
    outcome = reconcile_profile(raw, memo["resources"])
    meta = body.metadata
    try:
        apply_status(memo["api"], "WorkloadProfile", "workloadprofiles", meta.namespace, str(meta.name), outcome.status)
    except KubeError as exc:
        if exc.status.transient:
            raise kopf.TemporaryError(str(exc), delay=5) from exc
        if exc.status.code == 404:
            return  # deleted meanwhile
        raise kopf.PermanentError(str(exc)) from exc
    details = {"ready": outcome.ready, "conditions": outcome.status.get("conditions")}
    if outcome.event is None:
        logger.debug("reconciled, nothing changed", extra=details)
        return
    kopf.event(body, type=outcome.event.type, reason=outcome.event.reason, message=outcome.event.message)
    logger.info(f"Ready is now {outcome.event.reason}: {outcome.event.message}", extra=details)


@kopf.on.resume(GROUP, VERSION, "workloadprofiles")
@kopf.on.create(GROUP, VERSION, "workloadprofiles")
@kopf.on.update(GROUP, VERSION, "workloadprofiles", field="spec")
def profile_changed(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    _reconcile(body, memo, logger)


@kopf.timer(GROUP, VERSION, "workloadprofiles", interval=SETTINGS.resync_seconds, initial_delay=SETTINGS.resync_seconds)
def profile_resync(body: kopf.Body, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """Periodic re-check: a target or policy created after the profile is picked up here."""
    _reconcile(body, memo, logger)
