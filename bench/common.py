"""Shared helpers of the benchmarks: machine description and result files."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from augur.blas import VARIABLES

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
TRACES = [
    *sorted((SHARED / "traces").glob("*.csv")),
    SHARED / "nab" / "data" / "realAWSCloudwatch" / "elb_request_count_8c0756.csv",
    SHARED / "nab" / "data" / "realKnownCause" / "nyc_taxi.csv",
]


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, Python, date, load (other work shared the machine) and the BLAS thread
    variables in effect (augur.blas; unset means one BLAS thread per core)."""
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory_kb = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1048576, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "load_average_at_start": list(os.getloadavg()),
        "blas_thread_variables": {variable: os.environ.get(variable) for variable in VARIABLES},
    }


def git(*args: str, where: Path = ROOT) -> str:
    """``git -C where args``' output (a benchmark names the commit it measured)."""
    return subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True, check=True).stdout.strip()


def _version_now(where: Path) -> dict[str, Any]:
    return {
        "commit": git("rev-parse", "--short", "HEAD", where=where),
        "code_modified": bool(git("status", "--porcelain", "--", "operator", "scheduler_extender", where=where)),
    }


_AT_START: dict[Path, dict[str, Any]] = {}
"""This checkout's version when the benchmark started (when it imported this module)."""
with contextlib.suppress(OSError, subprocess.CalledProcessError):  # not a git checkout: asked at the end
    _AT_START[ROOT] = _version_now(ROOT)


def code_version(where: Path = ROOT) -> dict[str, Any]:
    """The commit a run measured and whether Augur's code (``operator/``, ``scheduler_extender/``) had
    uncommitted changes: the ``commit`` and ``code_modified`` fields of a result. ``where``: the checkout
    whose code the run imported (default: this one). For this checkout the commit is the one checked out when
    the benchmark started; if another was checked out by its end, ``commit_at_end`` names it and
    ``code_modified`` is true (the run may have measured either)."""
    now = _version_now(where)
    start = _AT_START.get(where.resolve())
    if start is None:
        return now
    if start["commit"] != now["commit"]:
        return {**start, "commit_at_end": now["commit"], "code_modified": True}
    return {**start, "code_modified": start["code_modified"] or now["code_modified"]}


def ratio_to_best(cost: float, best: float) -> float | None:
    """``cost`` ÷ ``best`` to 4 decimals; ``None`` when the best is 0 (the ratio is undefined)."""
    return None if best <= 0 else round(cost / best, 4)


def write(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    return path


def read(name: str) -> dict[str, Any] | None:
    """A results file, or ``None`` when there is none yet."""
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def record(name: str, fresh: dict[str, Any], section: str, key: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Add ``entry`` as ``payload[section][key]`` of the results file ``name`` and write it back, under a lock,
    so that several processes (shards of one run) can fill the same file; ``fresh`` is the payload when the
    file does not exist yet. Returns the payload written."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (Path(tempfile.gettempdir()) / f"augur-bench-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        payload = read(name) or fresh
        payload.setdefault(section, {})[key] = entry
        write(name, payload)
    return payload


def merge_splits(
    name: str,
    parts: dict[str, str],
    pick: Callable[[str, dict[str, Any]], Any],
    keep: tuple[str, ...] = (),
) -> Path:
    """One results file ``name`` from per-split files (``parts``: split -> file name), side by side: each
    split's machine record and run time, ``complete`` when every part is, the ``keep`` keys of the first
    part, and ``sets[split] = pick(split, part)``."""
    loaded = {split: json.loads((RESULTS / file).read_text()) for split, file in parts.items()}
    first = next(iter(loaded.values()))
    payload = {
        "machine": {s: part["machine"] for s, part in loaded.items()},
        "complete": all(part.get("complete", False) for part in loaded.values()),
        **{key: first[key] for key in keep if key in first},
        "sets": {s: pick(s, part) for s, part in loaded.items()},
        "seconds": {s: part.get("seconds_so_far") for s, part in loaded.items()},
    }
    return write(name, payload)
