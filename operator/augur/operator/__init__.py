"""The kopf operator: thin handlers that parse specs, call pure code, act through adapters and report."""

import os

# One BLAS thread per process (the operator and each fit worker): the models do small linear algebra
# that OpenBLAS slows down when it spreads it over busy cores. Set before numpy is first imported; an
# explicit environment setting wins. Fit workers inherit it.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
