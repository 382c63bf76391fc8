"""Instant and range queries against Prometheus.

Every failure (unreachable server, bad PromQL, non-numeric values) becomes :class:`PromError` with the
query and the reason, so callers can report it in a condition and fall back as documented, instead of
acting on missing data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector."""

    labels: dict[str, str]
    value: float


class PromError(Exception):
    """A query could not be answered; ``reason`` is a CamelCase condition reason."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


DEFAULT_CONNECTIONS = 10
"""requests' default pool per host; a request beyond it opens a connection and drops it afterwards."""


def connect(
    url: str, timeout_seconds: float, retry: Retry | None = None, connections: int = DEFAULT_CONNECTIONS
) -> PrometheusConnect:
    """A prometheus-api-client connection whose pool keeps ``connections`` connections (one per thread
    that queries at the same time); ``retry`` None: prometheus-api-client's default retries. It mounts
    its own adapter with requests' default pool, so that adapter is replaced by one with the same
    retries and the larger pool. TLS certificates are not verified (``disable_ssl``), as before."""
    session = requests.Session()
    session.verify = False
    prom = PrometheusConnect(
        url=url, disable_ssl=True, timeout=math.ceil(timeout_seconds), retry=retry, session=session
    )
    mounted = session.get_adapter(url)
    retries = mounted.max_retries if isinstance(mounted, HTTPAdapter) else (retry or 0)
    session.mount(url, HTTPAdapter(max_retries=retries, pool_maxsize=max(1, connections)))
    return prom


class PromClient:
    def __init__(self, url: str, timeout_seconds: float = 10.0, connections: int = DEFAULT_CONNECTIONS) -> None:
        self.url = url
        self._prom = connect(url, timeout_seconds, connections=connections)

    @property
    def connection(self) -> PrometheusConnect:
        """The underlying prometheus-api-client connection (range reads use it too)."""
        return self._prom

    def instant(self, query: str) -> list[Sample]:
        """Evaluate ``query`` now; NaN and infinite values are dropped (they carry no measurement)."""
        try:
            raw = self._prom.custom_query(query)
        except PrometheusApiClientException as exc:
            raise PromError("QueryFailed", f"Prometheus rejected {query!r}: {exc}") from exc
        except requests.RequestException as exc:
            raise PromError("PrometheusUnavailable", f"cannot reach Prometheus at {self.url}: {exc}") from exc
        samples = []
        for item in raw or []:
            try:
                value = float(item["value"][1])
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                raise PromError("BadResponse", f"unexpected sample in the answer to {query!r}: {item!r}") from exc
            if math.isfinite(value):
                samples.append(Sample(dict(item.get("metric", {})), value))
        return samples
