"""The source folders are never packages: `operator/` would shadow the standard library's `operator`."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import augur

REPO = Path(__file__).resolve().parents[2]


def test_source_folders_are_not_packages() -> None:
    for folder in ("operator", "scheduler_extender"):
        assert not (REPO / folder / "__init__.py").exists(), f"{folder}/ must stay a plain source folder"


def test_stdlib_operator_is_not_shadowed() -> None:
    stdlib_operator = importlib.import_module("operator")
    assert hasattr(stdlib_operator, "itemgetter")
    assert "site-packages" not in (inspect.getfile(stdlib_operator) or "")
    assert Path(augur.__file__).parent == REPO / "operator" / "augur"
