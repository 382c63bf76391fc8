"""Augur: predictive scaling and network-aware placement for Kubernetes."""

__version__ = "0.1.0"
