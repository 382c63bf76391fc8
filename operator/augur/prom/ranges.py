"""Range queries for demand history, through prometheus-api-client, with failures classified.

Reasons (``PromError.reason``, used as the ``MetricsAvailable`` condition reason):

* ``PrometheusUnavailable``: connection refused, timeout, or a 5xx answer (Prometheus down or overloaded);
* ``QueryInvalid``: Prometheus rejected the PromQL (HTTP 400 ``bad_data``: a parse error, or an
  expression that is no instant vector such as ``x[5m]``);
* ``QueryFailed``: the query parsed but its execution failed (HTTP 422, e.g. too many samples).

Prometheus answers at most 11,000 points per series and query, so long histories are read in chunks of
:data:`MAX_POINTS` steps.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from augur.forecast.demand import RawSeries
from augur.prom.client import DEFAULT_CONNECTIONS, PromClient, PromError, connect

MAX_POINTS = 10_000
_STATUS = re.compile(r"HTTP Status Code (\d+)")


def classify(exc: Exception, query: str, url: str) -> PromError:
    """The :class:`PromError` for an exception raised by prometheus-api-client or requests."""
    if isinstance(exc, requests.Timeout):
        return PromError("PrometheusUnavailable", f"Prometheus at {url} timed out answering {query!r}")
    if isinstance(exc, requests.RequestException):
        return PromError("PrometheusUnavailable", f"cannot reach Prometheus at {url}: {exc}")
    text = str(exc)
    match = _STATUS.search(text)
    code = int(match.group(1)) if match else 0
    detail = _error_detail(text)
    if code == 400:
        return PromError("QueryInvalid", f"Prometheus rejected the query {query!r}: {detail}")
    if code == 422:
        return PromError("QueryFailed", f"Prometheus could not execute {query!r}: {detail}")
    return PromError("PrometheusUnavailable", f"Prometheus at {url} answered {code or 'an error'}: {detail}")


def _error_detail(text: str) -> str:
    """The ``error`` field of Prometheus' JSON answer when the exception carries it."""
    start = text.find("{")
    end = text.rfind("}")
    if 0 <= start < end:
        raw = text[start : end + 1].replace("\\'", "'")
        try:
            body = json.loads(raw.encode().decode("unicode_escape"))
            return str(body.get("error") or raw)
        except (ValueError, UnicodeDecodeError):
            return raw
    return text


def _step_text(step: float) -> str:
    return f"{step:g}s"


class RangeReader:
    """Reads ``[start, end]`` at ``step`` seconds; every failure becomes :class:`PromError`."""

    def __init__(self, prom: PrometheusConnect, url: str) -> None:
        self._prom = prom
        self.url = url

    @classmethod
    def of(cls, client: PromClient) -> RangeReader:
        """A reader sharing ``client``'s connection (and its timeout)."""
        return cls(client.connection, client.url)

    @classmethod
    def connect(
        cls, url: str, timeout_seconds: float = 10.0, retries: int = 1, connections: int = DEFAULT_CONNECTIONS
    ) -> RangeReader:
        """A reader with its own connection that retries a failed request ``retries`` times after
        0.2 s (prometheus-api-client's default retries three times over about 7 s): an outage is
        reported, and the fallback applied, within one cadence. ``connections``: see
        :func:`~augur.prom.client.connect`."""
        retry = Retry(total=retries, backoff_factor=0.2, status_forcelist=(502, 503, 504), allowed_methods=None)
        return cls(connect(url, timeout_seconds, retry, connections), url)

    def query_range(self, query: str, start: float, end: float, step: float) -> list[RawSeries]:
        """The series of ``query`` on the grid ``start + k * step <= end`` (chunked)."""
        merged: dict[str, RawSeries] = {}
        chunk = MAX_POINTS * step
        lo = start
        while lo <= end:
            hi = min(end, lo + (MAX_POINTS - 1) * step)
            for series in self._one(query, lo, hi, step):
                key = json.dumps(series.labels, sort_keys=True)
                old = merged.get(key)
                merged[key] = (
                    series
                    if old is None
                    else RawSeries(series.labels, old.timestamps + series.timestamps, old.values + series.values)
                )
            lo += chunk
        return list(merged.values())

    def check(self, query: str, at: float, step: float) -> list[RawSeries]:
        """Evaluate ``query`` as a range query over one step: rejects bad PromQL (``QueryInvalid``)
        before any history is read, and shows how many series it returns."""
        return self._one(query, at - step, at, step)

    def _one(self, query: str, start: float, end: float, step: float) -> list[RawSeries]:
        try:
            raw = self._prom.custom_query_range(
                query,
                start_time=datetime.fromtimestamp(start, UTC),
                end_time=datetime.fromtimestamp(end, UTC),
                step=_step_text(step),
            )
        except (PrometheusApiClientException, requests.RequestException) as exc:
            raise classify(exc, query, self.url) from exc
        return parse_matrix(raw, query)


def parse_matrix(raw: Sequence[dict[str, object]] | None, query: str) -> list[RawSeries]:
    """Prometheus' ``matrix`` result as :class:`RawSeries` (values kept as sent, NaN included)."""
    out: list[RawSeries] = []
    for item in raw or []:
        try:
            labels = {str(k): str(v) for k, v in dict(item.get("metric") or {}).items()}  # type: ignore[call-overload]
            points = list(item["values"])  # type: ignore[call-overload]
            timestamps = tuple(float(p[0]) for p in points)
            values = tuple(_value(p[1]) for p in points)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise PromError("BadResponse", f"unexpected series in the answer to {query!r}: {item!r}") from exc
        out.append(RawSeries(labels, timestamps, values))
    return out


def _value(text: object) -> float:
    return float(str(text))  # "NaN", "+Inf" and "-Inf" parse; validation drops them


def aligned(at: float, step: float) -> float:
    """The grid point at or before ``at`` (grids are multiples of ``step`` since the epoch)."""
    return math.floor(at / step) * step
