"""What the benchmarks read about processes and the machine from ``/proc``: CPU seconds, memory, process trees.

One home for what ``operator_scale``, ``scheduler_throughput`` and ``extender_latency`` each read
before; Linux only, like the local control plane they measure.
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
"""Clock ticks per second of the times in ``/proc/<pid>/stat`` and ``/proc/stat``."""


def _stat_fields(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` after the command name (which may hold spaces and parentheses); ``None`` when
    the process is gone. Field ``k`` of proc(5) is ``[k - 3]`` here."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (all its threads); 0 when it is gone."""
    fields = _stat_fields(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / TICKS


def cpu_seconds_with_children(pid: int) -> float:
    """User + system CPU time of a process and its live descendants (:func:`tree`), each with its reaped
    children (a server whose workers come and go is charged for all of them); 0 when it is gone."""
    total = 0.0
    for p in tree(pid):
        fields = _stat_fields(p)
        if fields is not None:
            total += sum(int(f) for f in fields[11:15]) / TICKS
    return total


def tree(pid: int) -> list[int]:
    """``pid`` and its live descendants, found from every process's parent in ``/proc`` (so it does not
    need the kernel's ``children`` files)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _status_mib(path: str, key: str) -> float:
    """The ``key:`` line (in KiB) of a /proc status-like file, in MiB; 0 when the process is gone."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_mib(pid: int) -> float:
    """Resident set size of one process, in MiB."""
    return _status_mib(f"/proc/{pid}/status", "VmRSS")


def pss_mib(pid: int) -> float:
    """Proportional set size: each shared page divided among the processes that map it, so the sum over
    a process tree counts the libraries a child shares with its parent once (as a memory cgroup charges
    them), where the sum of RSS counts them once per process."""
    return _status_mib(f"/proc/{pid}/smaps_rollup", "Pss")


def machine_cpu() -> dict[str, float]:
    """The machine's CPU seconds so far (all cores, from /proc/stat): ``busy`` (user, nice, system, irq,
    softirq) and ``steal`` (time the hypervisor gave this VM's virtual CPUs to others: the same code runs
    slower when it is high, which is one reason rounds differ)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return {"busy_cpu": (user + nice + system + irq + softirq) / TICKS, "steal": steal / TICKS}
