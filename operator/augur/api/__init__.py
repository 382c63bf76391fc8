"""The ``augur.dev`` API: pydantic models of every CRD, the single source of the manifests in ``crds/``."""

from augur.api.meta import API_VERSION, GROUP, VERSION, Condition, Kind
from augur.api.v1alpha1 import KINDS

__all__ = ["API_VERSION", "GROUP", "KINDS", "VERSION", "Condition", "Kind"]
