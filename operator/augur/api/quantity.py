"""Kubernetes resource quantities and a pod's effective requests, read from raw (camelCase) objects.

One reading for everyone who sizes a pod: the scheduler extender (pods it watches), the rebalancer (pods it
may move) and the operator (the pod template of a profile's scale target, written as
``status.podRequests``). The parser is a plain regular expression rather than
``kubernetes.utils.parse_quantity`` (``Decimal``), because the extender parses every pod it watches on the
scheduler's path and the pure layers do not import the Kubernetes client.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

GIB = 2.0**30

_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")
_SUFFIX = {
    "": 1.0,
    "m": 1e-3,
    "u": 1e-6,
    "n": 1e-9,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}


def quantity(value: Any) -> float:
    """A resource quantity (``"500m"``, ``"2Gi"``, ``4``) as a float; ``ValueError`` when malformed."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value)
    parsed = _PARSED.get(text)
    if parsed is None:
        parsed = _parse(text)
        if len(_PARSED) < PARSED_MEMORY:
            _PARSED[text] = parsed
    return parsed


PARSED_MEMORY = 4096
"""Distinct quantity strings remembered: a cluster's pods repeat a few sizes (the extender reads every pod
event, so each parse saved is on the scheduler's cores); past this many, new strings are parsed each time."""
_PARSED: dict[str, float] = {}


def _parse(text: str) -> float:
    m = _QUANTITY.match(text.strip())
    if not m or m.group(2) not in _SUFFIX:
        raise ValueError(f"bad quantity {text!r}")
    return float(m.group(1)) * _SUFFIX[m.group(2)]


def safe_quantity(value: Any, default: float) -> float:
    """:func:`quantity`, or ``default`` when absent or malformed."""
    try:
        return default if value is None else quantity(value)
    except ValueError:
        return default


def pod_requests(spec: Any) -> tuple[float, float]:
    """Effective cores and GiB a pod with this ``spec`` (a pod's, or a pod template's) requests, as
    kube-scheduler counts them: the app containers plus the restartable init containers (sidecars,
    ``restartPolicy: Always``), at least what each other init container needs next to the sidecars started
    before it, plus ``overhead``. Malformed quantities count as 0."""
    spec = spec if isinstance(spec, Mapping) else {}
    cpu, mem = _sum_requests(spec.get("containers") or [])
    init_cpu = init_mem = side_cpu = side_mem = 0.0
    for init in spec.get("initContainers") or []:
        icpu, imem = _sum_requests([init])
        if isinstance(init, Mapping) and init.get("restartPolicy") == "Always":
            side_cpu, side_mem = side_cpu + icpu, side_mem + imem
        else:
            init_cpu, init_mem = max(init_cpu, side_cpu + icpu), max(init_mem, side_mem + imem)
    cpu, mem = max(cpu + side_cpu, init_cpu), max(mem + side_mem, init_mem)
    overhead = spec.get("overhead") or {}
    if isinstance(overhead, Mapping):
        cpu += safe_quantity(overhead.get("cpu"), 0.0)
        mem += safe_quantity(overhead.get("memory"), 0.0) / GIB
    return cpu, mem


def _sum_requests(containers: Any) -> tuple[float, float]:
    cpu = mem = 0.0
    for c in containers if isinstance(containers, list) else []:
        resources = c.get("resources") if isinstance(c, Mapping) else None
        req = resources.get("requests") if isinstance(resources, Mapping) else None
        if isinstance(req, Mapping):
            cpu += safe_quantity(req.get("cpu"), 0.0)
            mem += safe_quantity(req.get("memory"), 0.0) / GIB
    return cpu, mem


def format_cpu(cores: float) -> str:
    """Cores as a quantity in whole millicores, rounded up (``0.2501`` → ``"251m"``)."""
    return f"{math.ceil(round(cores * 1000, 6))}m"


def format_memory(gib: float) -> str:
    """GiB as a quantity in whole kibibytes, rounded up (``0.5`` → ``"524288Ki"``)."""
    return f"{math.ceil(round(gib * 2**20, 6))}Ki"
