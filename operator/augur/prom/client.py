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


class PromClient:
    def __init__(self, url: str, timeout_seconds: float = 10.0) -> None:
        self.url = url
        self._prom = PrometheusConnect(url=url, disable_ssl=True, timeout=math.ceil(timeout_seconds))

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
