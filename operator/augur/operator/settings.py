"""Operator settings, read from the environment (``AUGUR_*``) and overridable by CLI flags.

| variable | default | meaning |
| --- | --- | --- |
| ``AUGUR_RESYNC_SECONDS`` | ``30`` | how often every profile is re-checked (late targets/policies are picked up) |
| ``AUGUR_NAMESPACES`` | empty (all) | comma-separated namespaces to watch; empty watches the whole cluster |
| ``AUGUR_LIVENESS`` | ``http://0.0.0.0:8080/healthz`` | liveness/readiness endpoint served by kopf |
| ``AUGUR_LOG_FORMAT`` | ``json`` | ``json`` (structured) or ``plain`` |
| ``AUGUR_PROMETHEUS_URL`` | empty | Prometheus for measurements and demand; empty disables them (fallbacks apply) |
| ``AUGUR_FIT_WORKERS`` | half the CPUs, at least 1 | worker processes for model fits (one BLAS thread each) |
| ``AUGUR_STATE_SAVE_SECONDS`` | ``300`` | how often learned state is saved to its ConfigMap (also after each fit) |

Scaling cadence and history are per policy: ``ScalingPolicy.spec.decisionInterval`` (default ``30s``; the
operator checks every ``AUGUR_RESYNC_SECONDS``, so that is the finest cadence) and ``spec.history``
(default ``14d``; at most :data:`augur.scaling.loop.MAX_HISTORY_POINTS` steps are kept).
The operator sets ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` to 1 (unless set)
before numpy loads (:mod:`augur.operator`), so every fit uses one core.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class OperatorSettings:
    resync_seconds: float = 30.0
    namespaces: tuple[str, ...] = ()
    liveness: str = "http://0.0.0.0:8080/healthz"
    log_format: Literal["json", "plain"] = "json"
    prometheus_url: str = ""
    fit_workers: int = 0
    """0: half the CPUs, at least one."""
    state_save_seconds: float = 300.0

    @property
    def workers(self) -> int:
        return self.fit_workers or max(1, (os.cpu_count() or 2) // 2)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> OperatorSettings:
        env = dict(os.environ) if env is None else env
        resync = float(env.get("AUGUR_RESYNC_SECONDS", cls.resync_seconds))
        if resync <= 0:
            raise ValueError(f"AUGUR_RESYNC_SECONDS must be positive, got {resync}")
        fmt = env.get("AUGUR_LOG_FORMAT", cls.log_format)
        if fmt not in ("json", "plain"):
            raise ValueError(f"AUGUR_LOG_FORMAT must be json or plain, got {fmt!r}")
        workers = int(env.get("AUGUR_FIT_WORKERS", "0"))
        if workers < 0:
            raise ValueError(f"AUGUR_FIT_WORKERS must be 0 (auto) or positive, got {workers}")
        save = float(env.get("AUGUR_STATE_SAVE_SECONDS", cls.state_save_seconds))
        if save <= 0:
            raise ValueError(f"AUGUR_STATE_SAVE_SECONDS must be positive, got {save}")
        namespaces = tuple(n.strip() for n in env.get("AUGUR_NAMESPACES", "").split(",") if n.strip())
        return cls(
            resync_seconds=resync,
            namespaces=namespaces,
            liveness=env.get("AUGUR_LIVENESS", cls.liveness),
            log_format="json" if fmt == "json" else "plain",
            prometheus_url=env.get("AUGUR_PROMETHEUS_URL", "").strip(),
            fit_workers=workers,
            state_save_seconds=save,
        )


SETTINGS = OperatorSettings.from_env()
"""Settings of this process; :func:`augur.operator.runner.run` replaces them before kopf starts."""
