"""The local cluster's state file: read back as written, and ``augur dev down`` removes it."""

from __future__ import annotations

from pathlib import Path

from augur.devcluster.state import read_state, save_state, stop_from_state


def test_the_state_file_reads_back_and_stopping_from_it_removes_it(tmp_path: Path) -> None:
    assert read_state(tmp_path) is None
    assert stop_from_state(tmp_path) == []  # nothing started here: nothing to stop
    save_state(tmp_path, {"server": "https://127.0.0.1:6443", "processes": []})
    assert read_state(tmp_path) == {"server": "https://127.0.0.1:6443", "processes": []}
    assert stop_from_state(tmp_path) == []
    assert read_state(tmp_path) is None
