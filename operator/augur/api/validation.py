"""Validate raw objects against the API models and report every field error at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class FieldError:
    """One problem with one field, with a path in the object's own (camelCase) terms."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(ValueError):
    """A spec failed validation; carries every field error."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


def _path(prefix: str, loc: tuple[int | str, ...]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".")


def field_errors(exc: ValidationError, prefix: str = "spec") -> list[FieldError]:
    return [FieldError(_path(prefix, tuple(e["loc"])), e["msg"]) for e in exc.errors(include_url=False)]


def parse(model: type[M], raw: Any, prefix: str = "spec") -> M:
    """Validate ``raw`` (a camelCase dict from the API server) as ``model``; raise :class:`SpecError`."""
    if not isinstance(raw, dict):
        raise SpecError([FieldError(prefix, "must be an object")])
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(field_errors(exc, prefix)) from exc
