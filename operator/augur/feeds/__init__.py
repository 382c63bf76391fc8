"""Adapters that read external feeds from sources other than Prometheus (HTTP JSON endpoints)."""
