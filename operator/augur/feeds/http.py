"""Read an external feed from an HTTP JSON endpoint (``spec.feeds[].http``).

``GET <url>`` with ``start``, ``end`` and ``step`` (Unix seconds) added to the query string; the answer
must be ``200`` with ``{"values": [[<unix seconds>, <value>], ...]}``, a value being a number or a
numeric string (Prometheus-like pairs). The samples come back as one :class:`RawSeries`, which the
operator aligns to the demand grid with the same :func:`augur.forecast.demand.validate_range` as a
PromQL feed. Errors are :class:`FeedError` with a CamelCase reason for the ``FeedsUsed`` condition:

* ``FeedUnavailable``: connection error, timeout (the whole request is bounded by ``timeout``), or a
  status other than 200;
* ``FeedTooLarge``: the body passes ``maxBytes`` (the read stops there);
* ``FeedInvalid``: the body is not JSON or not in the format above.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from augur.api.durations import parse_duration
from augur.api.v1alpha1.feeds import HttpFeed
from augur.forecast.demand import RawSeries

MAX_SAMPLES_SHOWN = 3


class FeedError(Exception):
    """A feed cannot be read; ``reason`` is the CamelCase condition reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class HttpFeeds:
    """Reads HTTP JSON feeds; ``transport`` is for tests (``httpx.MockTransport``)."""

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        self.transport = transport

    def read(self, feed: HttpFeed, start: float, end: float, step: float) -> list[RawSeries]:
        timeout = parse_duration(feed.timeout)
        params = {"start": _num(start), "end": _num(end), "step": _num(step)}
        body = self._fetch(feed, timeout, params)
        return [parse(body, feed.url)]

    def _fetch(self, feed: HttpFeed, timeout: float, params: dict[str, str]) -> bytes:
        deadline = time.monotonic() + timeout
        try:
            with (
                httpx.Client(timeout=timeout, transport=self.transport, follow_redirects=False) as client,
                client.stream("GET", httpx.URL(feed.url).copy_merge_params(params)) as response,
            ):
                if response.status_code != 200:
                    raise FeedError("FeedUnavailable", f"{feed.url} answered HTTP {response.status_code}")
                return _body(feed, response, deadline)
        except httpx.TimeoutException as exc:
            raise FeedError("FeedUnavailable", f"{feed.url} did not answer within {feed.timeout}") from exc
        except httpx.HTTPError as exc:
            raise FeedError("FeedUnavailable", f"{feed.url} could not be read: {exc}") from exc


def _body(feed: HttpFeed, response: httpx.Response, deadline: float) -> bytes:
    """The body, read in chunks; stops past ``maxBytes`` or the deadline."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > feed.max_bytes:
            raise FeedError("FeedTooLarge", f"{feed.url} sent more than maxBytes={feed.max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FeedError("FeedUnavailable", f"{feed.url} did not answer within {feed.timeout}")
        chunks.append(chunk)
    return b"".join(chunks)


def parse(body: bytes, url: str = "the feed") -> RawSeries:
    """The samples in ``body``; raises :class:`FeedError` ``FeedInvalid`` when it is not the wire format."""
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError("FeedInvalid", f"{url} did not answer JSON: {exc}") from exc
    values = data.get("values") if isinstance(data, dict) else None
    if not isinstance(values, list):
        raise FeedError("FeedInvalid", f'{url} answered without a "values" list; expected {{"values": [[t, v], ...]}}')
    timestamps, samples = [], []
    for pair in values:
        try:
            if not isinstance(pair, list) or len(pair) != 2 or isinstance(pair[0], bool | str):
                raise TypeError
            ts, value = float(pair[0]), float(pair[1])
        except (TypeError, ValueError) as exc:
            shown = json.dumps(pair)[:80]
            raise FeedError("FeedInvalid", f"{url} sent {shown}; each value must be [unix seconds, number]") from exc
        timestamps.append(ts)
        samples.append(value)
    return RawSeries({}, tuple(timestamps), tuple(samples))


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")
