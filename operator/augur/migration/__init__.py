"""Pod moves (pure: no I/O): which pods may move (:mod:`.movability`) and the executor's state machine
(:mod:`.machine`). The operator's executor (:mod:`augur.operator.migrations`) and the rebalancer call
the same functions."""
