"""A ``/metrics`` page as the benchmarks read it: parsed by prometheus_client's text parser, then summed,
differenced and read as histograms.

A :data:`Scrape` maps ``(sample name, labels)`` to the value, labels as a sorted tuple of pairs, so that
two scrapes of the same process can be subtracted sample by sample.
"""

from __future__ import annotations

import math

from prometheus_client.parser import text_string_to_metric_families

Labels = tuple[tuple[str, str], ...]
Scrape = dict[tuple[str, Labels], float]


def parse(text: str) -> Scrape:
    """Every sample of a Prometheus text exposition page."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): float(sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(scrape: Scrape, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels`` (0 when there are none)."""
    wanted = set(labels.items())
    return sum(value for (n, have), value in scrape.items() if n == name and wanted <= set(have))


def increase(before: Scrape, after: Scrape, name: str, **labels: str) -> float:
    """How much the samples called ``name`` (with ``labels``) grew between two scrapes."""
    return total(after, name, **labels) - total(before, name, **labels)


def by_label(before: Scrape, after: Scrape, name: str, label: str) -> dict[str, int]:
    """The increase of ``name`` between two scrapes per value of ``label`` (values that did not grow left out)."""
    out: dict[str, int] = {}
    for (n, have), value in after.items():
        found = dict(have).get(label)
        if n == name and found is not None:
            delta = int(value - before.get((n, have), 0.0))
            if delta:
                out[found] = out.get(found, 0) + delta
    return out


def histogram_quantile(before: Scrape, after: Scrape, name: str, q: float) -> float | None:
    """Quantile ``q`` of the observations of histogram ``name`` between two scrapes, summed over its other
    labels and linear within buckets (as PromQL's ``histogram_quantile`` does); ``None`` without any."""
    counts: dict[float, float] = {}
    for (n, have), value in after.items():
        le = dict(have).get("le")
        if n == f"{name}_bucket" and le is not None:
            counts[float(le)] = counts.get(float(le), 0.0) + value - before.get((n, have), 0.0)
    buckets = sorted(counts.items())
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank, lower, prev = q * buckets[-1][1], 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if math.isinf(upper):
                return lower
            return lower + (upper - lower) * (rank - prev) / max(count - prev, 1e-9)
        lower, prev = upper, count
    return lower
