"""The ``augur`` command line."""

from augur.blas import one_thread

# One BLAS thread in every ``augur`` command (augur.blas): the forecasting models' and the planner's linear
# algebra is small, and OpenBLAS's spinning threads slow it down on busy cores. Before numpy is imported.
one_thread()
