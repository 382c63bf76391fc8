"""Metric names that the shipped dashboard and alerting rules use (shared by the unit and e2e tests)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "charts" / "augur" / "dashboards" / "augur.json"
RULES = ROOT / "charts" / "augur" / "rules" / "augur-alerts.yaml"
_METRIC = re.compile(r"\b((?:augur|process)_[a-z_]+|up)\b(?=\s*[{\[(]|\s*[<>=!)]|\s*$)")
_NOT_METRICS = {"augur_profile_mode"}  # an Enum's label name, also written in selectors


def _names(expr: str) -> set[str]:
    return {m.group(1) for m in _METRIC.finditer(expr)}


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [t["expr"] for p in panels for t in p.get("targets", [])]


def rule_exprs() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [str(rule["expr"]) for group in groups for rule in group["rules"]]


def referenced(job: str | None = None) -> set[str]:
    """Metric names in the dashboard and the rules; ``job`` keeps only expressions about that job
    (``augur-operator`` or ``augur-extender``, by the selectors they use)."""
    names: set[str] = set()
    for expr in dashboard_exprs() + rule_exprs():
        found = _names(expr) - _NOT_METRICS
        if job == "augur-extender":
            found = {n for n in found if n.startswith("augur_extender_") or (n == "up" and "extender" in expr)}
        elif job == "augur-operator":
            found = {
                n
                for n in found
                if (n.startswith("augur_") and not n.startswith("augur_extender_"))
                or (
                    n in ("up", "process_cpu_seconds_total", "process_resident_memory_bytes") and "extender" not in expr
                )
            }
        names |= found
    return names


def exposed(text: str) -> set[str]:
    """Every sample name a ``/metrics`` page can produce: sample names plus the suffixes its TYPE lines imply
    (a labelled series without children shows only HELP and TYPE)."""
    names: set[str] = set()
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            names.add(name)
            names |= {name + s for s in suffixes.get(kind.strip(), ())}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names
