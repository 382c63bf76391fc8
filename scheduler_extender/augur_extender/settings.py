"""Settings of the extender process."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from augur.placement import ScoringConfig


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8888
    tls_cert: Path | None = None
    tls_key: Path | None = None
    log_level: str = "info"
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    kubeconfig: Path | None = None
    """Kubeconfig for the watch cache; ``None`` tries in-cluster config, then the default kubeconfig."""
    shutdown_grace_seconds: float = 10.0
    debug_endpoints: bool = True

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None and self.tls_key is not None
