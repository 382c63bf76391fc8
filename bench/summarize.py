"""Print the markdown tables of ``docs/forecasting.md`` from ``bench/results/*.json``."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    print("| trace | capacity | policy | under-prov. | unserved | replica-h | util | events | rMAE |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for path in sorted(RESULTS.glob("backtest*.json")):
        for name, t in json.loads(path.read_text())["traces"].items():
            for policy, m in t["policies"].items():
                rmae = t["forecast"].get(policy, {}).get("rmae")
                print(
                    f"| {name} | {t['capacity']:.4g} | {policy} | {m['under_provisioned_fraction']:.4f} | "
                    f"{m['unserved_fraction']:.5f} | {m['replica_hours']:.0f} | {m['mean_utilization']:.3f} | "
                    f"{m['scale_events']} | {'-' if rmae is None else f'{rmae:.3f}'} |"
                )
    print()
    print("| trace | augur/hpa under-prov. | augur/hpa replica-h | target met | learner cost / best fixed (q) |")
    print("| --- | --- | --- | --- | --- |")
    for path in sorted(RESULTS.glob("backtest*.json")):
        for name, t in json.loads(path.read_text())["traces"].items():
            v, lf = t["augur_vs_hpa"], t.get("learner_vs_best_fixed_quantile") or {}
            up = "n/a (hpa 0)" if v["under_provisioned_ratio"] is None else f"{v['under_provisioned_ratio']:.3f}"
            ratio = lf.get("learner_over_best_fixed")
            learn = "-" if ratio is None else f"{ratio:.3f} (q={lf['best_fixed_quantile']})"
            print(f"| {name} | {up} | {v['replica_hours_ratio']:.3f} | {v['target_met']} | {learn} |")


if __name__ == "__main__":
    main()
