"""Augur's kube-scheduler extender: ``filter`` and ``prioritize`` verbs backed by :mod:`augur.placement`."""

__all__ = ["__version__"]

__version__ = "0.1.0"
