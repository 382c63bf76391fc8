"""Kubernetes adapters: the only place (with the operator) that talks to the API server."""
