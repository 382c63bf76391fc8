"""Phrases for settings that fail a bound, shared by the forecasting settings' ``__post_init__`` checks."""

from __future__ import annotations

from collections.abc import Iterable


def too_small(values: Iterable[tuple[str, float, float]]) -> list[str]:
    """``"<name> must be at least <least> (got <value>)"`` for every ``(name, value, least)`` below its bound."""
    return [f"{name} must be at least {least} (got {value})" for name, value, least in values if value < least]


def outside(name: str, value: float, low: float, high: float, open_high: bool = False) -> list[str]:
    """``"<name> must lie in [low, high]"`` (or ``[low, high)``) when ``value`` does not."""
    inside = low <= value < high if open_high else low <= value <= high
    return [] if inside else [f"{name} must lie in [{low:g}, {high:g}{')' if open_high else ']'} (got {value})"]
