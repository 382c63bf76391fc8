"""hack/constraints.txt pins every Python dependency that pyproject.toml names, inside pyproject.toml's
ranges (hack/pin-deps.sh writes it; hack/setup.sh installs with it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def pins() -> dict[str, Version]:
    lines = (ROOT / "hack" / "constraints.txt").read_text().splitlines()
    out = {}
    for line in lines:
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep, f"not an exact pin: {line!r}"
            out[canonicalize_name(name)] = Version(version)
    return out


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    named = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    return [Requirement(r) for r in named if canonicalize_name(Requirement(r).name) != "augur"]


def test_every_dependency_is_pinned_inside_its_range() -> None:
    pinned = pins()
    reqs = requirements()
    assert len(reqs) > 10
    for req in reqs:
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} is not in hack/constraints.txt: run hack/pin-deps.sh"
        assert req.specifier.contains(pinned[name], prereleases=True), (
            f"hack/constraints.txt pins {req.name}=={pinned[name]}, outside {req} (pyproject.toml): "
            "run hack/pin-deps.sh"
        )


def test_pins_are_unique() -> None:
    names = [line.partition("==")[0] for line in (ROOT / "hack" / "constraints.txt").read_text().splitlines()]
    names = [canonicalize_name(n) for n in names if n and not n.startswith("#")]
    assert len(names) == len(set(names))
