"""Scoring configuration: one argument block per component plus how totals become 0..10 scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from augur.api.validation import FieldError, SpecError
from augur.placement.args import ComponentArgs, parse_dataclass
from augur.placement.components import COMPONENTS
from augur.placement.components.affinity import AffinityArgs
from augur.placement.components.colocation import ColocationArgs
from augur.placement.components.load import LoadArgs
from augur.placement.components.packing import PackingArgs
from augur.placement.components.plan import PlanArgs
from augur.placement.components.proximity import ProximityArgs
from augur.placement.components.spread import SpreadArgs

Normalization = Literal["MinMax", "Absolute"]
NORMALIZATIONS = ("MinMax", "Absolute")


@dataclass(frozen=True)
class ScoringConfig:
    load: LoadArgs = field(default_factory=LoadArgs)
    proximity: ProximityArgs = field(default_factory=ProximityArgs)
    affinity: AffinityArgs = field(default_factory=AffinityArgs)
    colocation: ColocationArgs = field(default_factory=ColocationArgs)
    spread: SpreadArgs = field(default_factory=SpreadArgs)
    packing: PackingArgs = field(default_factory=PackingArgs)
    plan: PlanArgs = field(default_factory=PlanArgs)
    normalization: Normalization = "MinMax"
    """``MinMax``: the best candidate gets 10 and the worst 0; ``Absolute``: ``round(total / 10)``."""

    def args(self, name: str) -> ComponentArgs:
        value: ComponentArgs = getattr(self, name)
        return value

    def validate(self, prefix: str = "scoring") -> list[FieldError]:
        errors: list[FieldError] = []
        for c in COMPONENTS:
            errors += self.args(c.name).validate(f"{prefix}.{c.name}")
        if self.normalization not in NORMALIZATIONS:
            errors.append(FieldError(f"{prefix}.normalization", f"must be one of {', '.join(NORMALIZATIONS)}"))
        if sum(self.args(c.name).weight for c in COMPONENTS) <= 0:
            errors.append(FieldError(prefix, "at least one component weight must be > 0"))
        return errors

    @classmethod
    def from_dict(cls, raw: Any, prefix: str = "scoring") -> ScoringConfig:
        """Parse ``{"load": {"weight": 1, ...}, ..., "normalization": "MinMax"}``; raise :class:`SpecError`
        listing every field error."""
        config, errors = parse_config(raw, prefix)
        if config is None:
            raise SpecError(errors)
        return config


def parse_config(raw: Any, prefix: str = "scoring") -> tuple[ScoringConfig | None, list[FieldError]]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return None, [FieldError(prefix, "must be a mapping")]
    known = {c.name: c for c in COMPONENTS}
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, value in raw.items():
        if key == "normalization":
            if value in NORMALIZATIONS:
                values[key] = value
            else:
                errors.append(FieldError(f"{prefix}.{key}", f"must be one of {', '.join(NORMALIZATIONS)}"))
        elif key in known:
            args, errs = parse_dataclass(known[key].args_type, value, f"{prefix}.{key}")
            errors += errs
            if args is not None:
                values[key] = args
        else:
            choices = ", ".join([*known, "normalization"])
            errors.append(FieldError(f"{prefix}.{key}", f"unknown field (known: {choices})"))
    if errors:
        return None, errors
    config = ScoringConfig(**values)
    errors = config.validate(prefix)
    return (None if errors else config), errors
