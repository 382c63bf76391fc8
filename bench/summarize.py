"""Print the markdown tables of ``docs/forecasting.md`` from ``bench/results/backtest.json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _f(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _interval(c: dict[str, Any]) -> str:
    low, high = c["interval90"]
    return f"{_f(c['value'])} [{_f(low)}, {'∞' if high is None else _f(high)}]"


def _mark(v: bool | None) -> str:
    return "n/a" if v is None else ("met" if v else "**missed**")


def _counts(c: dict[str, int] | None) -> str:
    return "-" if c is None else f"{c['met']} / {c['missed']} / {c['not_applicable']}"


def _matched(g: dict[str, Any]) -> str:
    """hpa_matched's under-provisioned steps at Augur's replica-hours, with the run spending at least as
    much in brackets (results before 2026-12-02 have only that run)."""
    if "hpa_matched_spending_at_least_under_steps" not in g:
        return str(g["hpa_matched_under_steps"])
    return f"{g['hpa_matched_under_steps']:.1f} ({g['hpa_matched_spending_at_least_under_steps']})"


def table(name: str, traces: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        f"#### {name}",
        "",
        "| series | step | evaluated | under-prov. steps augur / hpa_matched at augur's replica-h (run spending ≥) "
        "/ hpa | augur ÷ hpa_matched under-prov. "
        "[90%] | augur ÷ hpa under-prov. [90%] | augur ÷ hpa replica-h | oracle_floor ÷ hpa replica-h | "
        "hpa_matched u | rMAE | below hpa_matched | ≤0.5× at ≤1.05× | rMAE ≤ 0.8 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for series, t in traces.items():
        if "targets" not in t:
            lines.append(f"| {series} | skipped: {t.get('skipped')} |")
            continue
        g, c = t["targets"], t["comparisons"]
        lines.append(
            f"| {t['path']} | {t['interval_seconds']:g}s | {t['evaluated_steps']} | "
            f"{g['augur_under_steps']} / {_matched(g)} / {g['hpa_under_steps']} | "
            f"{_interval(c['augur/hpa_matched']['under_provisioned'])} | "
            f"{_interval(c['augur/hpa']['under_provisioned'])} | "
            f"{_f(g['augur_over_hpa_replica_hours'])} | {_f(g['oracle_floor_over_hpa_replica_hours'])} | "
            f"{_f(t['hpa_matched']['target_utilization'], 3)} | {_f(g['rmae'])} | {_mark(g['below_hpa_matched'])} | "
            f"{_mark(g['halving_met'])} | {_mark(g['rmae_met'])} |"
        )
    return lines


def main(path: Path = RESULTS / "backtest.json") -> None:
    data = json.loads(path.read_text())
    for name, block in data["sets"].items():
        print("\n".join(table(name, block["traces"])))
        print()
        print(json.dumps(block["summary"], indent=1))
        print()


def spread(paths: list[Path]) -> str:
    """Markdown: each set's targets in runs of ``backtest_bench.py`` made at different warm-ups (one file each)."""
    header = (
        "| set | warm-up | below hpa_matched (met / missed / n/a) | ≤ 0.5× at ≤ 1.05× (met / missed / n/a) | "
        "rMAE ≤ 0.8 | under-prov. steps augur / hpa_matched / hpa | median augur ÷ hpa replica-h | median rMAE | "
        "below hpa_matched, run spending ≥ augur |"
    )
    lines = [header, "| --- " * 9 + "|"]
    runs = [json.loads(path.read_text()) for path in paths]
    for name in runs[0]["sets"]:
        for run in runs:
            m = run["sets"][name]["summary"]
            b, h, r = m["below_hpa_matched"], m["halving_where_floor_allows"], m["rmae_at_most_0.8"]
            steps = (m["augur_under_steps_total"], m["hpa_matched_under_steps_total"], m["hpa_under_steps_total"])
            cells = [
                name,
                f"{run['protocol']['warmup_fraction']:g}",
                f"{b['met']} / {b['missed']} / {b['not_applicable']}",
                f"{h['met']} / {h['missed']} / {h['not_applicable']}",
                f"{r['met']} of {m['series']}",
                " / ".join(f"{n:g}" for n in steps),
                f"{m['median_augur_over_hpa_replica_hours']:.3f}",
                f"{m['median_rmae']:.3f}",
                _counts(m.get("below_hpa_matched_spending_at_least")),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--spread"]:
        print(spread([RESULTS / name for name in sys.argv[2:]]))
    else:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "backtest.json")
