"""Every entry point runs numpy with one BLAS thread (augur.blas), unless the environment says otherwise.

Each check runs in a fresh interpreter, as the operator and the extender start: the variables only take
effect if they are set before numpy loads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from augur.blas import VARIABLES

ROOT = Path(__file__).resolve().parents[2]

ENTRY_POINTS = ("augur.cli", "augur.operator", "augur_extender")


def fresh(script: str, **preset: str) -> str:
    """``script``'s output in a fresh interpreter whose environment has none of the BLAS variables but ``preset``."""
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env |= preset
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in ("operator", "scheduler_extender"))
    out = subprocess.run(
        [sys.executable, "-c", script], check=False, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("package", ENTRY_POINTS)
def test_entry_point_sets_one_thread_before_numpy_loads(package: str) -> None:
    script = (
        f"import os, sys\nimport {package}\nprint('numpy' in sys.modules, [os.environ.get(v) for v in {VARIABLES!r}])\n"
    )
    assert fresh(script) == "False ['1', '1', '1']"


@pytest.mark.parametrize("package", ENTRY_POINTS)
def test_a_variable_already_set_wins(package: str) -> None:
    script = f"import os\nimport {package}\nprint(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])\n"
    assert fresh(script, OPENBLAS_NUM_THREADS="3") == "3 1"


def test_numpy_runs_one_blas_thread_in_the_extender() -> None:
    """What OpenBLAS itself reports (threadpoolctl reads it from the loaded library)."""
    pytest.importorskip("threadpoolctl", reason="threadpoolctl (installed with statsforecast) reads the BLAS threads")
    script = (
        "import augur_extender\n"
        "import numpy\n"
        "from threadpoolctl import threadpool_info\n"
        "print(sorted({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}))\n"
    )
    assert fresh(script) == "[1]"
