"""Sharding: which ``WorkloadProfile``s this replica acts on (``AUGUR_SHARD_SELECTOR``).

The selector uses the Kubernetes label-selector syntax: ``key=value`` (or ``==``), ``key!=value``, ``key``
(present), ``!key`` (absent), ``key in (a,b)``, ``key notin (a,b)``, combined with commas (all must hold).
It becomes a kopf ``labels`` filter on the profile handlers. Indexes used for conflict detection see every
profile, so two shards never both act on one target.

Each shard has its own finalizer (:func:`finalizer`). kopf puts its finalizer on every object a timer
runs for and removes it from every object it sees that no timer of its own needs; with one name for
all shards, each replica removed the finalizer the replica owning the profile had just added, and the
two patched every profile in turn (64 PATCH/s at 2 x 500 profiles, the API server at 0.6-0.9 cores).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from augur.api import GROUP

FINALIZER = f"{GROUP}/scaler"
"""The finalizer of an unsharded operator; a shard's is ``augur.dev/scaler-<10 hex digits>``."""
LEGACY_FINALIZER = "kopf.zalando.org/KopfFinalizerMarker"
"""kopf's default, which Augur used before each shard had its own."""

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"^(?P<key>{_KEY})\s+(?P<op>in|notin)\s+\((?P<values>[^)]*)\)$")
_EQ = re.compile(rf"^(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>{_VALUE})$")
_EXISTS = re.compile(rf"^(?P<neg>!?)\s*(?P<key>{_KEY})$")


def _requirements(selector: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in selector:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return [p for p in parts if p]


def _predicate(req: str) -> Callable[[str | None], bool]:
    """``value or None (absent) -> matches`` for one requirement, as Kubernetes evaluates it."""
    if m := _SET.match(req):
        values = frozenset(v.strip() for v in m["values"].split(",") if v.strip())
        if m["op"] == "in":
            return lambda v: v in values
        return lambda v: v not in values  # notin also matches objects without the key
    if m := _EQ.match(req):
        value = m["value"]
        if m["op"] == "!=":
            return lambda v: v != value  # != also matches objects without the key
        return lambda v: v == value
    if m := _EXISTS.match(req):
        return (lambda v: v is None) if m["neg"] else (lambda v: v is not None)
    syntax = "k=v, k!=v, k, !k, k in (a,b), k notin (a,b)"
    raise ValueError(f"AUGUR_SHARD_SELECTOR: cannot parse {req!r} (label-selector syntax: {syntax})")


def _key(req: str) -> str:
    m = _SET.match(req) or _EQ.match(req) or _EXISTS.match(req)
    assert m is not None
    return m["key"]


def kopf_labels(selector: str) -> dict[str, Callable[..., bool]]:
    """The kopf ``labels`` filter for ``selector`` (empty: every profile); raises ValueError naming the
    requirement it cannot parse. Requirements on one key are combined with *and*."""
    predicates: dict[str, list[Callable[[str | None], bool]]] = {}
    for req in _requirements(selector):
        predicate = _predicate(req)
        predicates.setdefault(_key(req), []).append(predicate)
    return {key: _all(preds) for key, preds in predicates.items()}


def _all(predicates: list[Callable[[str | None], bool]]) -> Callable[..., bool]:
    return lambda value, **_: all(p(value) for p in predicates)


def finalizer(selector: str) -> str:
    """The finalizer kopf puts on the profiles ``selector`` matches (its timers need one): the same for
    the same requirements in any order, different for different shards."""
    requirements = sorted(" ".join(req.split()) for req in _requirements(selector))
    if not requirements:
        return FINALIZER
    digest = hashlib.sha256(",".join(requirements).encode()).hexdigest()[:10]
    return f"{FINALIZER}-{digest}"


def stale_finalizers(finalizers: Iterable[str], own: str) -> tuple[str, ...]:
    """Augur finalizers on a profile of this shard other than ``own``: kopf's default (older releases)
    and those of shards that no longer match it. A live replica of such a shard removes its own too
    (shards do not overlap), so removing them here never fights it. ``own`` empty: every Augur finalizer
    (objects that need none, such as topologies)."""
    return tuple(
        f for f in finalizers if f != own and (f in (LEGACY_FINALIZER, FINALIZER) or f.startswith(f"{FINALIZER}-"))
    )


def carries_stale_finalizers(own: str) -> Callable[..., bool]:
    """kopf's ``when`` filter of the finalizer handlers: only a watch event of an object that carries
    stale Augur finalizers (:func:`stale_finalizers`) and is not deleted calls the handler. Without it
    every event called it and kopf logged "Handler ... succeeded" each time: 16,780 of the operator's
    30,740 log lines at 1,400 profiles (bench/operator_scale.py)."""

    def when(body: Mapping[str, Any], **kwargs: Any) -> bool:
        finalizers = (body.get("metadata") or {}).get("finalizers") or []
        return kwargs.get("type") != "DELETED" and bool(stale_finalizers(finalizers, own))

    return when
