"""Augur's kube-scheduler extender: ``filter`` and ``prioritize`` verbs backed by :mod:`augur.placement`."""

from augur.blas import one_thread

# One BLAS thread (augur.blas): the planner's matrix products are small, and OpenBLAS's second thread
# spun on another core for no shorter plan (twice the planner's CPU). Before numpy is first imported
# (``python -m augur_extender`` imports this package first); an explicit environment setting wins.
one_thread()

__all__ = ["__version__"]

__version__ = "0.1.0"
