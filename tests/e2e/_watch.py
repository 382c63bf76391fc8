"""The availability watcher of the migration and rebalancer e2e tests: it samples, every 0.25 s, the Ready,
Running, non-terminating pods of each watched workload (``app`` label) against the floor the test gives
(the PodDisruptionBudget's ``minAvailable``), and remembers the fewest it saw."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from kubernetes import client

Key = tuple[str, str]
"""(namespace, app)"""


@dataclass
class AvailabilityWatcher:
    api: client.CoreV1Api
    floors: dict[Key, int] = field(default_factory=dict)
    least: dict[Key, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    samples: int = 0
    errors: int = 0
    started: float = field(default_factory=time.monotonic)
    last: float = 0.0
    longest_gap: float = 0.0
    """Longest time without a successful sample while something was watched."""
    ever: bool = False
    """Whether anything was ever watched (a module-scoped watcher may serve tests that watch nothing)."""
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def watch(self, ns: str, floors: dict[str, int]) -> None:
        """Watch ``app → minAvailable`` of ``ns`` from now on (the test calls it once all are Ready)."""
        if not self.floors:
            self.last = time.monotonic()
        self.ever = True
        self.floors.update({(ns, app): n for app, n in floors.items()})

    def forget(self, ns: str) -> None:
        self.floors = {k: v for k, v in self.floors.items() if k[0] != ns}

    def start(self) -> AvailabilityWatcher:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(5)

    def run(self) -> None:
        while not self.stop.wait(0.25):
            for ns in sorted({ns for ns, _ in self.floors}):
                try:
                    items = self.api.list_namespaced_pod(ns, _request_timeout=5).items
                except Exception:  # an API hiccup on a loaded machine: sample again
                    self.errors += 1
                    continue
                self.sample(ns, items)

    def sample(self, ns: str, items: list[client.V1Pod]) -> None:
        now = time.monotonic()
        self.longest_gap = max(self.longest_gap, now - (self.last or self.started))
        self.last = now
        ready: dict[str, int] = defaultdict(int)
        for pod in items:
            up = any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
            if up and pod.metadata.deletion_timestamp is None and pod.status.phase == "Running":
                ready[(pod.metadata.labels or {}).get("app", "")] += 1
        for (wns, app), floor in list(self.floors.items()):
            if wns != ns:
                continue
            self.least[(ns, app)] = min(self.least.get((ns, app), ready[app]), ready[app])
            if ready[app] < floor:
                self.violations.append(f"{ns}/{app}: {ready[app]} Ready < minAvailable {floor}")
        self.samples += 1

    def watched_throughout(self, max_gap: float = 10.0) -> str:
        """Why the watcher cannot vouch for the whole test ("" when it can): too few samples or a gap."""
        if not self.ever:
            return ""
        gap = max(self.longest_gap, time.monotonic() - (self.last or self.started)) if self.floors else self.longest_gap
        if self.samples < 3 or gap > max_gap:
            return f"{self.samples} samples, longest gap {gap:.1f} s, {self.errors} failed reads"
        return ""
