"""Parse and validate component arguments from plain (camelCase) dicts, reporting every error at once."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Protocol, TypeVar

from pydantic.alias_generators import to_camel

from augur.api.validation import FieldError


class ComponentArgs(Protocol):
    """What every component's arguments offer."""

    @property
    def weight(self) -> float: ...

    def validate(self, prefix: str) -> list[FieldError]: ...


A = TypeVar("A")


def parse_dataclass(cls: type[A], raw: Any, prefix: str) -> tuple[A | None, list[FieldError]]:
    """Build ``cls`` from ``raw`` (camelCase or snake_case keys of numbers and booleans).

    Returns the instance (``None`` when a field could not be read) and every error found, including
    those of the instance's own ``validate(prefix)``.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return None, [FieldError(prefix, "must be a mapping")]
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    by_key = {to_camel(name): name for name in fields} | {name: name for name in fields}
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, value in raw.items():
        name = by_key.get(str(key))
        if name is None:
            errors.append(FieldError(f"{prefix}.{key}", f"unknown field (known: {', '.join(sorted(by_key))})"))
            continue
        default = fields[name].default
        ok, converted = _convert(value, default)
        if ok:
            values[name] = converted
        else:
            errors.append(FieldError(f"{prefix}.{to_camel(name)}", f"must be {_kind(default)}, got {value!r}"))
    bad = {e.path for e in errors}
    instance = cls(**values)
    errors += [e for e in instance.validate(prefix) if e.path not in bad]  # type: ignore[attr-defined]
    return (None if errors else instance), errors


def _convert(value: Any, default: Any) -> tuple[bool, Any]:
    if isinstance(default, bool):
        return isinstance(value, bool), value
    if isinstance(default, int | float):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        return ok, float(value) if ok and isinstance(default, float) else value
    if isinstance(default, str):
        return isinstance(value, str), value
    return True, value


def _kind(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int | float):
        return "a number"
    return "a string" if isinstance(default, str) else "valid"


def check_range(prefix: str, name: str, value: float, low: float, high: float = math.inf) -> list[FieldError]:
    """One error when ``value`` is outside ``[low, high]``."""
    if low <= value <= high:
        return []
    bound = f">= {low}" if math.isinf(high) else f"within {low}..{high}"
    return [FieldError(f"{prefix}.{name}", f"must be {bound}, got {value}")]
