"""Run the operator in this process (``augur operator run``).

Without leader election kopf runs at once (one replica). With ``AUGUR_LEADER_ELECTION=true`` the process
first stands by, answering liveness itself, until it holds the Lease (:mod:`augur.operator.leader`); then
it starts kopf and keeps renewing. When the Lease is lost it stops acting at once (the write path asks
:data:`~augur.operator.leader.LEADERSHIP` before every ``/scale`` write), stops kopf through its stop flag
and exits with status 1 so Kubernetes restarts it as a standby. SIGTERM releases the Lease.

Why not kopf's own peering: it is meant to pause deployed operators while a developer runs one locally.
Replicas with the same priority (two replicas of one Deployment) both keep running with a warning, there
is no per-object lock and no fencing of writes, it needs extra CRDs and its default lifetime is 60 s. A
Lease with resourceVersion-guarded updates is the Kubernetes-native pattern (client-go, controller-runtime).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib
import logging
import logging.handlers
import os
import queue
import re
import signal
from urllib.parse import urlsplit

import kopf
from aiohttp import web

from augur.kube.leader import identity
from augur.operator import memory, metrics
from augur.operator import settings as settings_module
from augur.operator.leader import LEADERSHIP, Elector, LeaderElectionError, acquire, hold
from augur.operator.settings import OperatorSettings

logger = logging.getLogger("augur.operator.runner")

STOP_GRACE_SECONDS = 5.0
"""How long kopf may take to stop after the Lease is lost before the process exits regardless."""


def run(settings: OperatorSettings) -> int:
    """Run until stopped; returns the exit status (1 after losing the Lease, 2 when it cannot be used)."""
    settings_module.SETTINGS = settings
    memory.limit_arenas(settings.malloc_arenas)  # before kopf's and the handlers' threads exist
    memory.fix_mmap_threshold(settings.malloc_mmap_threshold)
    memory.trim_every(settings.trim_seconds)
    kopf.configure(
        verbose=False,
        log_format=kopf.LogFormat.JSON if settings.log_format == "json" else kopf.LogFormat.PLAIN,
        log_prefix=True,
    )
    logging.getLogger("kubernetes").setLevel(logging.WARNING)
    log_off_the_loop()
    importlib.import_module("augur.operator.handlers")  # registers the handlers with the settings above
    if settings.migrations:
        importlib.import_module("augur.operator.migrations")  # the Migration executor (AUGUR_MIGRATIONS)
    if settings.rebalancer:
        importlib.import_module("augur.operator.rebalancer")  # the rebalancer (AUGUR_REBALANCER)
    metrics.serve(settings.metrics)
    if not settings.leader_election:
        metrics.LEADER.set(1)
        asyncio.run(_operator(settings))
        return 0
    return asyncio.run(_run_elected(settings))


TICK_SUCCEEDED = re.compile(r"^Timer '[\w.]+_resync' succeeded\.$")
"""kopf's line for every successful resync tick (33 lines/s at 1,000 profiles); failures are logged."""


_LISTENERS: list[logging.handlers.QueueListener] = []


class QuietTicks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.INFO and TICK_SUCCEEDED.match(str(record.msg)))


def log_off_the_loop() -> logging.handlers.QueueListener:
    """Route the root logger's handlers (kopf's, after ``kopf.configure``) through a queue and a thread
    of their own, so that writing a log line never blocks kopf's event loop (a slow stderr stalled every
    timer: at 500 profiles the loop spent a quarter of its time writing logs or waiting for the handler
    lock the worker threads held), and drop the per-tick success line of the resync timers."""
    root = logging.getLogger()
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, *root.handlers, respect_handler_level=True)
    handler = logging.handlers.QueueHandler(records)
    handler.addFilter(QuietTicks())
    root.handlers[:] = [handler]
    listener.start()
    _LISTENERS.append(listener)
    return listener


@atexit.register
def flush_logs() -> None:
    """Write every queued line and stop the logging threads (at exit, and before ``os._exit``)."""
    while _LISTENERS:
        _LISTENERS.pop().stop()


async def _operator(settings: OperatorSettings, stop_flag: asyncio.Event | None = None) -> None:
    await kopf.operator(
        standalone=True,  # no kopf peering: the Lease decides who acts
        clusterwide=not settings.namespaces,
        namespaces=list(settings.namespaces),
        liveness_endpoint=settings.liveness,
        stop_flag=stop_flag,
    )


async def _run_elected(settings: OperatorSettings) -> int:
    from augur.kube.client import api_client
    from augur.kube.lease import KubeLeaseStore

    store = KubeLeaseStore(api_client(), settings.lease_namespace, settings.lease_name)
    elector = Elector(
        store,
        identity(),
        settings.lease_timing,
        hint="is the Role of deploy/rbac.yaml bound and the namespace present? AUGUR_LEASE_NAMESPACE, or "
        "AUGUR_LEADER_ELECTION=false",
    )
    LEADERSHIP.elector = elector
    metrics.LEADER.set(0)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    logger.info(f"leader election: {elector.identity} waits for {store.where}")
    health = await _standby_health(settings.liveness, elector)
    try:
        leading = await acquire(elector, stopping)
    except LeaderElectionError as exc:
        logger.error(str(exc))
        return 2
    finally:
        await health.cleanup()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)  # kopf installs its own
    if not leading:
        return 0
    logger.info(f"leader election: {elector.identity} leads through {store.where}; starting")
    metrics.LEADER.set(1)
    return await _lead(settings, elector)


async def _lead(settings: OperatorSettings, elector: Elector) -> int:
    stop_flag = asyncio.Event()
    operator = asyncio.create_task(_operator(settings, stop_flag))
    renewing = asyncio.create_task(hold(elector))
    done, _ = await asyncio.wait({operator, renewing}, return_when=asyncio.FIRST_COMPLETED)
    if renewing in done:
        metrics.LEADER.set(0)
        logger.error(f"leader election: lost leadership ({renewing.result()}); stopping and exiting with status 1")
        stop_flag.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(operator, STOP_GRACE_SECONDS)
        flush_logs()  # the lines queued so far are written first (os._exit skips atexit)
        logging.shutdown()
        os._exit(1)  # do not wait for handler threads: a standby may already act
    renewing.cancel()
    released = await asyncio.to_thread(elector.release)
    metrics.LEADER.set(0)
    logger.info(f"leader election: stopped; Lease {'released' if released else 'left to expire'}")
    operator.result()
    return 0


async def _standby_health(liveness: str, elector: Elector) -> web.AppRunner:
    """Answer the liveness endpoint while standing by (kopf serves it once this replica leads)."""
    url = urlsplit(liveness)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"standby": True, "identity": elector.identity, "leader": elector.holder})

    app = web.Application()
    app.router.add_get(url.path or "/", healthz)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, url.hostname or "0.0.0.0", url.port or 80, reuse_address=True).start()
    return runner
