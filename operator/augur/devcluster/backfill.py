"""Backfilling history into the local Prometheus with ``promtool`` (``facts.md`` §6).

Samples are written as OpenMetrics text (``# TYPE name gauge``, ``name{labels} value unix_seconds``,
``# EOF``), turned into TSDB blocks with ``promtool tsdb create-blocks-from openmetrics FILE DIR`` in a
staging directory, and moved into the Prometheus data directory.

**When Prometheus sees new blocks.** A running Prometheus (2.42, Debian) picks up blocks placed in its
data directory at its next block reload, which its TSDB runs about once a minute; a restart loads them
at once. Head data (everything scraped so far, in the WAL) survives the restart. :func:`backfill`
therefore moves the blocks in and restarts Prometheus when it is running (``restart=True``, about
1-2 s without answers), or just moves them in when Prometheus has not started yet.

**Retention.** Blocks older than the retention are deleted at the next reload. The local cluster runs
with ``--storage.tsdb.retention.time`` = :data:`augur.devcluster.prometheus.RETENTION`; samples older
than that are refused here with a clear error instead of silently vanishing.
"""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from augur.devcluster import prometheus

if TYPE_CHECKING:
    from augur.devcluster.cluster import LocalCluster

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
RETENTION_MARGIN_SECONDS = 3600.0
"""Samples must be at least this much younger than the retention limit."""


@dataclass(frozen=True)
class Series:
    """One series to backfill: its labels and samples (unix seconds, value); non-finite values are gaps."""

    labels: Mapping[str, str]
    timestamps: Sequence[float]
    values: Sequence[float]

    def __post_init__(self) -> None:
        if len(self.timestamps) != len(self.values):
            raise ValueError(f"{len(self.timestamps)} timestamps but {len(self.values)} values")
        for name in self.labels:
            if not LABEL_NAME.match(name) or name.startswith("__"):
                raise ValueError(f"invalid label name {name!r}")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _label_text(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "}"


def openmetrics_lines(name: str, series: Iterable[Series], help_text: str | None = None) -> Iterable[str]:
    """OpenMetrics text of one gauge family: each series' samples in time order, then ``# EOF``."""
    if not METRIC_NAME.match(name):
        raise ValueError(f"invalid metric name {name!r}")
    if help_text:
        yield f"# HELP {name} {_escape(help_text)}"
    yield f"# TYPE {name} gauge"
    for s in series:
        prefix = name + _label_text(s.labels)
        pairs = sorted(zip(s.timestamps, s.values, strict=True))
        for (t, _), (t_next, _) in itertools.pairwise(pairs):
            if t_next == t:
                raise ValueError(f"{prefix}: two samples at {t}")
        for t, v in pairs:
            if math.isfinite(v):
                yield f"{prefix} {float(v)!r} {t:.3f}"
    yield "# EOF"


def write_openmetrics(path: Path, name: str, series: Iterable[Series], help_text: str | None = None) -> Path:
    """Write :func:`openmetrics_lines` to ``path`` (newline-terminated, as promtool expects)."""
    with path.open("w") as out:
        for line in openmetrics_lines(name, series, help_text):
            out.write(line + "\n")
    return path


def check_retention(series: Sequence[Series], now: float | None = None) -> None:
    """Refuse samples that Prometheus would delete at once because they are older than the retention."""
    oldest = min((min(s.timestamps) for s in series if len(s.timestamps)), default=None)
    if oldest is None:
        return
    limit = (now if now is not None else time.time()) - prometheus.RETENTION_SECONDS + RETENTION_MARGIN_SECONDS
    if oldest < limit:
        days = ((now or time.time()) - oldest) / 86400
        raise ValueError(
            f"oldest sample is {days:.1f} days old, beyond the local Prometheus retention "
            f"({prometheus.RETENTION}); its blocks would be deleted at the next reload"
        )


def create_blocks(openmetrics: Path, data_dir: Path) -> list[Path]:
    """Run ``promtool tsdb create-blocks-from openmetrics`` into a staging directory, then move the new
    blocks into ``data_dir``; returns the block directories."""
    _, promtool = prometheus.binaries()
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_dir.parent, prefix="backfill-") as staging:
        result = subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", str(openmetrics), staging],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"promtool create-blocks-from failed: {(result.stderr or result.stdout).strip()}")
        blocks = []
        for block in sorted(Path(staging).iterdir()):
            if (block / "meta.json").is_file():
                target = data_dir / block.name
                block.rename(target)  # same file system: atomic, so Prometheus never sees half a block
                blocks.append(target)
    return blocks


def backfill(
    cluster: LocalCluster,
    name: str,
    series: Sequence[Series],
    *,
    help_text: str | None = None,
    restart: bool = True,
) -> list[Path]:
    """Backfill ``series`` of gauge ``name`` into the cluster's Prometheus.

    With ``restart`` (the default) a running Prometheus is restarted so the history is queryable when
    this returns; otherwise it appears within about a minute (the TSDB's block reload).
    """
    check_retention(series)
    work = cluster.prometheus_dir / "backfill"
    work.mkdir(parents=True, exist_ok=True)
    source = write_openmetrics(work / f"{name}-{time.time_ns()}.om", name, series, help_text)
    try:
        blocks = create_blocks(source, cluster.prometheus_data_dir)
    finally:
        source.unlink(missing_ok=True)
    if restart and cluster.prometheus_running():
        cluster.restart_prometheus()
    return blocks
