"""The kopf operator: thin handlers that parse specs, call pure code, act through adapters and report."""

from augur.blas import one_thread

# One BLAS thread per process (the operator and each fit worker): the models do small linear algebra
# that OpenBLAS slows down when it spreads it over busy cores. Before numpy is first imported; an
# explicit environment setting wins. Fit workers inherit it.
one_thread()
