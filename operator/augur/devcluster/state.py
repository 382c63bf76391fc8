"""The cluster's state file, ``state.json`` in its directory: where it serves (kubeconfig, API server,
Prometheus), its ports and the record of every process it started. :class:`LocalCluster
<augur.devcluster.cluster.LocalCluster>` writes it whenever its processes change and removes it when it
stops; another process reads it (``augur dev status``) or stops the cluster from it (``augur dev down``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from augur.devcluster.procs import ProcessRecord, stop_record


def state_path(directory: Path) -> Path:
    return directory / "state.json"


def save_state(directory: Path, state: dict[str, Any]) -> None:
    state_path(directory).write_text(json.dumps(state, indent=2))


def remove_state(directory: Path) -> None:
    state_path(directory).unlink(missing_ok=True)


def read_state(directory: Path) -> dict[str, Any] | None:
    path = state_path(directory)
    return json.loads(path.read_text()) if path.is_file() else None


def stop_from_state(directory: Path) -> list[str]:
    """Stop a cluster started by another process (``augur dev down``); returns the names stopped."""
    state = read_state(directory)
    if state is None:
        return []
    stopped = []
    for raw in reversed(state["processes"]):
        record = ProcessRecord(**raw)
        if stop_record(record):
            stopped.append(record.name)
    remove_state(directory)
    return stopped
