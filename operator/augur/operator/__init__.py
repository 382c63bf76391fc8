"""The kopf operator: thin handlers that parse specs, call pure code, act through adapters and report."""
