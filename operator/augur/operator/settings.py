"""Operator settings, read from the environment (``AUGUR_*``) and overridable by CLI flags.

| variable | default | meaning |
| --- | --- | --- |
| ``AUGUR_RESYNC_SECONDS`` | ``30`` | how often every profile is re-checked (late targets/policies are picked up) |
| ``AUGUR_NAMESPACES`` | empty (all) | comma-separated namespaces to watch; empty watches the whole cluster |
| ``AUGUR_LIVENESS`` | ``http://0.0.0.0:8080/healthz`` | liveness/readiness endpoint served by kopf |
| ``AUGUR_LOG_FORMAT`` | ``json`` | ``json`` (structured) or ``plain`` |
| ``AUGUR_PROMETHEUS_URL`` | empty | Prometheus for measurements and demand; empty disables them (fallbacks apply) |
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

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> OperatorSettings:
        env = dict(os.environ) if env is None else env
        resync = float(env.get("AUGUR_RESYNC_SECONDS", cls.resync_seconds))
        if resync <= 0:
            raise ValueError(f"AUGUR_RESYNC_SECONDS must be positive, got {resync}")
        fmt = env.get("AUGUR_LOG_FORMAT", cls.log_format)
        if fmt not in ("json", "plain"):
            raise ValueError(f"AUGUR_LOG_FORMAT must be json or plain, got {fmt!r}")
        namespaces = tuple(n.strip() for n in env.get("AUGUR_NAMESPACES", "").split(",") if n.strip())
        return cls(
            resync_seconds=resync,
            namespaces=namespaces,
            liveness=env.get("AUGUR_LIVENESS", cls.liveness),
            log_format="json" if fmt == "json" else "plain",
            prometheus_url=env.get("AUGUR_PROMETHEUS_URL", "").strip(),
        )


SETTINGS = OperatorSettings.from_env()
"""Settings of this process; :func:`augur.operator.runner.run` replaces them before kopf starts."""
