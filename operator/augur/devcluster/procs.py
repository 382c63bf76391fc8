"""Start and stop local processes so that teardown ends exactly what was started.

Every process runs in its own session (process group). Stopping sends SIGTERM to that group, waits,
then SIGKILLs it. Processes started for tests also get ``PR_SET_PDEATHSIG`` so that they die with the
test run even when it is killed with SIGKILL; processes started for a person (``augur dev up``) do not,
and are stopped later from the recorded pid, after checking that the pid still runs the same command.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True)
class ProcessRecord:
    """What is needed to find and stop a started process later, from another Python process."""

    name: str
    pid: int
    start_ticks: int
    """Process start time from ``/proc/<pid>/stat``: guards against a recycled pid."""


def _start_ticks(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    return int(stat.rsplit(")", 1)[1].split()[19])


def is_same_process(record: ProcessRecord) -> bool:
    return record.start_ticks >= 0 and _start_ticks(record.pid) == record.start_ticks


class ManagedProcess:
    """One child process with its output in a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        die_with_parent: bool = True,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._env, self._cwd, self._die_with_parent = env, cwd, die_with_parent
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._start()

    def _start(self) -> None:
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env,
                cwd=self._cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent if self._die_with_parent else None,  # noqa: PLW1509 - started from one thread
            )
        self.record = ProcessRecord(self.name, self._popen.pid, _start_ticks(self._popen.pid))

    def restart(self, timeout: float = 10.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and start the same command again, same log file;
        callers holding this object keep a handle on the new process (the caller updates any state file)."""
        self.stop(timeout)
        self._start()

    @property
    def pid(self) -> int:
        return self._popen.pid

    def running(self) -> bool:
        return self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        """Exit status once the process has ended (negative: killed by that signal)."""
        return self._popen.poll()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        if self.running():
            stop_group(self.pid, timeout)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(timeout=1)


def stop_group(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM the process group led by ``pid``, then SIGKILL it if it has not exited within ``timeout``."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _group_alive(pid):
                return
            time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(-pgid, os.WNOHANG)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _any_live_member(pgid)


def _any_live_member(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def stop_record(record: ProcessRecord, timeout: float = 10.0) -> bool:
    """Stop a process recorded earlier; returns False when it was already gone (or the pid was reused)."""
    if not is_same_process(record):
        return False
    stop_group(record.pid, timeout)
    return True


def wait_until(check: Callable[[], bool], timeout: float, what: str, proc: ManagedProcess | None = None) -> None:
    """Poll ``check`` until it is true; fail with the process log when the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.running():
            raise RuntimeError(f"{proc.name} exited while waiting for {what}; log tail:\n{proc.log_tail()}")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    tail = f"; log tail:\n{proc.log_tail()}" if proc is not None else ""
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}{tail}")
