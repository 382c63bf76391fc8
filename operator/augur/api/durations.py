"""Kubernetes-style duration strings (``90s``, ``2m``, ``1h30m``, ``14d``)."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w)")
_FULL = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d|w))+$")


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises ``ValueError`` with the accepted forms when it does not parse."""
    if not _FULL.match(text):
        raise ValueError(f"invalid duration {text!r}: use numbers with units ms, s, m, h, d or w, e.g. 90s or 1h30m")
    return sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
