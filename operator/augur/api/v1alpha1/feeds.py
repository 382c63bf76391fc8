"""External feeds of a ``WorkloadProfile``: extra series that may explain its demand, read from Prometheus or
an HTTP JSON endpoint (``spec.externalFeeds``; fetched by :mod:`augur.feeds.http`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from augur.api.durations import parse_duration
from augur.api.meta import ApiModel, LabelName, PromQL

FeedUrl = Annotated[str, StringConstraints(min_length=8, max_length=2048, pattern=r"^https?://[^\s]+$")]
FeedTimeout = Annotated[str, StringConstraints(max_length=16, pattern=r"^([0-9]+(ms|s|m))+$")]
MAX_FEED_TIMEOUT_SECONDS = 60.0
MAX_FEED_BYTES = 16 * 1024 * 1024


class HttpFeed(ApiModel):
    """An HTTP JSON endpoint serving a feed. Augur sends ``GET <url>`` with the query parameters
    ``start``, ``end`` and ``step`` (Unix seconds) added, and expects ``200`` with the body
    ``{"values": [[<unix seconds>, <value>], ...]}`` (a value may be a number or a numeric string)."""

    url: FeedUrl
    """``http://`` or ``https://`` URL of the endpoint."""
    timeout: FeedTimeout = "5s"
    """Deadline for the whole request (connect and body), at most ``60s``; units ``ms``, ``s``, ``m``."""
    max_bytes: Annotated[int, Field(ge=1, le=MAX_FEED_BYTES)] = 1024 * 1024
    """Largest body accepted (at most 16 MiB); a larger answer is refused with ``FeedTooLarge``."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.timeout) || (duration(self.timeout) > duration('0s')"
                    " && duration(self.timeout) <= duration('60s'))",
                    "message": "timeout must be more than 0s and at most 60s",
                    "fieldPath": ".timeout",
                },
            ]
        }
    )

    @field_validator("timeout")
    @classmethod
    def _check_timeout(cls, value: str) -> str:
        # Mirrors the CEL rule so a stale CRD cannot let a bad timeout through unnoticed.
        if not 0 < parse_duration(value) <= MAX_FEED_TIMEOUT_SECONDS:
            raise ValueError("timeout must be more than 0s and at most 60s")
        return value


class ExternalFeed(ApiModel):
    """An extra series that may explain demand (a price, the weather, a marketing calendar), read from
    Prometheus (``query``) or an HTTP JSON endpoint (``http``): exactly one of the two."""

    name: LabelName
    """Name of the feed, unique within the profile."""
    query: PromQL | None = None
    """PromQL returning one series aligned with the demand."""
    http: HttpFeed | None = None
    """HTTP JSON endpoint returning the feed's samples."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": "has(self.query) != has(self.http)", "message": "set exactly one of query or http"},
            ]
        }
    )

    @model_validator(mode="after")
    def _check_source(self) -> ExternalFeed:
        # Mirrors the CEL rule so a stale CRD cannot let a bad feed through unnoticed.
        if (self.query is None) == (self.http is None):
            raise ValueError("set exactly one of query or http")
        return self
