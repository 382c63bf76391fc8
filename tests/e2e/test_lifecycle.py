"""The local control plane ends exactly the processes it started and leaves no listener behind:
after `augur dev down`, and when the Python process that started it is killed outright."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from augur.devcluster.procs import ProcessRecord, is_same_process, wait_until


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _assert_all_gone(state: dict) -> None:
    records = [ProcessRecord(**p) for p in state["processes"]]
    assert {r.name for r in records} >= {
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
        "prometheus",
    }
    wait_until(lambda: not any(is_same_process(r) for r in records), 30, "every started process to exit")
    open_ports = [name for name, port in state["ports"].items() if _listening(port)]
    assert open_ports == [], f"still listening: {open_ports}"


def test_dev_up_and_down_from_separate_processes(tmp_path: Path) -> None:
    directory = tmp_path / "dev"
    up = subprocess.run(
        [sys.executable, "-m", "augur", "dev", "up", "--dir", str(directory)],
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
    )
    assert up.returncode == 0, up.stderr
    assert f"export KUBECONFIG={directory / 'admin.kubeconfig'}" in up.stdout
    state = json.loads((directory / "state.json").read_text())
    assert all(is_same_process(ProcessRecord(**p)) for p in state["processes"])  # outlived `augur dev up`
    assert _listening(state["ports"]["apiserver"])
    again = subprocess.run(
        [sys.executable, "-m", "augur", "dev", "up", "--dir", str(directory)],
        capture_output=True,
        check=False,
        text=True,
    )
    assert again.returncode == 1 and "already running" in again.stdout
    down = subprocess.run(
        [sys.executable, "-m", "augur", "dev", "down", "--dir", str(directory)],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert down.returncode == 0 and "kube-apiserver" in down.stdout
    _assert_all_gone(state)
    assert not (directory / "state.json").exists()


def test_processes_die_with_a_killed_test_run(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from augur.devcluster.cluster import ClusterConfig, LocalCluster
        c = LocalCluster.create(Path({str(tmp_path / "killed")!r}), ClusterConfig(nodes=()))
        c.start()
        print("started", flush=True)
        time.sleep(600)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
        state = json.loads((tmp_path / "killed" / "state.json").read_text())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        time.sleep(0.5)
        _assert_all_gone(state)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
