"""Print the markdown tables of ``docs/placement.md`` from ``bench/results/placement_quality*.json``.

    .venv/bin/python bench/placement_tables.py [placement_quality.json] [--previous-best OTHER.json ...]

``--previous-best``: other result files of the same scenarios; where one of them found a lower ``best`` (the
offline search is started from the simulated placements, so its result moves with them when it is not
exact), the row also gives augur ÷ that lower cost.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _key(r: dict[str, Any]) -> tuple[str, int, int]:
    return (r["family"], r["pods"], r["seed"])


def table(result: dict[str, Any], lowest: dict[tuple[str, int, int], float]) -> list[str]:
    lines = [
        "| family | pods | seed | nodes | augur (as deployed) | augur, no plan | augur alone | default | best | exact "
        "| augur/best (3 orders) | augur/lowest best known | no plan/best | default/best |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: |",
    ]
    for r in result["rows"]:
        orders = r["augur_vs_best_by_order"]
        same = len(set(orders)) == 1
        ratio = f"{_x(orders[0], 3)} ×{len(orders)}" if same else ", ".join(_x(x, 3) for x in orders)
        low = min(lowest.get(_key(r), r["best_cost"]), r["best_cost"])
        known = "=" if low >= r["best_cost"] - 1e-6 else f"{r['augur_cost'] / low:.3f}"
        lines.append(
            f"| {r['family']} | {r['pods']} | {r['seed']} | {r['nodes']} | {r['augur_cost']:.0f} "
            f"| {r['augur_no_plan_cost']:.0f} | {r['augur_alone_cost']:.0f} | {r['default_cost']:.0f} "
            f"| {r['best_cost']:.0f} | {'yes' if r['best_exact'] else 'no'} | {ratio} | {known} "
            f"| {_x(r['augur_no_plan_vs_best'], 2)} | {_x(r['default_vs_best_worst'], 2)} |"
        )
    return lines


def _x(ratio: float | None, digits: int) -> str:
    """A ratio to the best, or ``–`` where the best costs 0 (every pod fits on one node)."""
    return "–" if ratio is None else f"{ratio:.{digits}f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("result", nargs="?", default="placement_quality.json")
    ap.add_argument("--previous-best", nargs="*", default=[])
    args = ap.parse_args()
    result = json.loads((RESULTS / args.result).read_text())
    lowest: dict[tuple[str, int, int], float] = {}
    for other in args.previous_best:
        for r in json.loads(Path(other).read_text())["rows"]:
            lowest[_key(r)] = min(lowest.get(_key(r), r["best_cost"]), r["best_cost"])
    print("\n".join(table(result, lowest)))
    print()
    print(json.dumps(result["summary"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
