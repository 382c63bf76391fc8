"""Pod moves (pure: no I/O). Which pods may move (:mod:`.movability`, also used by the rebalancer), the
executor's state machine (:mod:`.machine`; what it reads and returns, and the outcome reasons, in
:mod:`.decision`), its reservation pods (:mod:`.reservation`) and times (:mod:`.timeline`); the
rebalancer's candidate selection (:mod:`.rebalance` and the modules it uses). The operator
(:mod:`augur.operator.executor`, :mod:`augur.operator.rebalancer`) calls these functions."""
