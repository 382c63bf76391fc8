"""Prometheus adapter: PromQL queries through prometheus-api-client, with errors that say what failed."""

from augur.prom.client import PromClient, PromError, Sample

__all__ = ["PromClient", "PromError", "Sample"]
