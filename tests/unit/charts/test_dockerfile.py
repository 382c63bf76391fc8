"""The Dockerfile follows the rules a linter (hadolint, not packaged for Debian 12) would enforce and what
the chart's pod security needs: multi-stage, exec-form ENTRYPOINT, numeric non-root USER, no ADD, no
``latest``, pip without cache, only the sources in the build context. hack/image.sh builds and smoke-tests
it with buildah."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LINES = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
INSTRUCTIONS = [line for line in LINES if line and not line.startswith("#")]


def _all(keyword: str) -> list[str]:
    return [line for line in INSTRUCTIONS if line.upper().startswith(keyword + " ")]


def test_multi_stage_from_a_pinnable_base_never_latest() -> None:
    froms = _all("FROM")
    assert len(froms) >= 2, "build and runtime stages"
    assert any(" AS " in f.upper() for f in froms)
    base = next(line for line in _all("ARG") if line.startswith("ARG BASE="))
    assert not base.endswith(":latest") and ":" in base


def test_runs_as_numeric_non_root_user_with_an_exec_form_entrypoint() -> None:
    user = _all("USER")[-1].split()[1]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or int(gid) != 0)
    entrypoint = _all("ENTRYPOINT")[-1]
    assert re.fullmatch(r'ENTRYPOINT \["[^"]+"(, "[^"]+")*\]', entrypoint), entrypoint
    assert _all("CMD")[-1] == 'CMD ["operator", "run"]'


def test_no_add_no_sudo_and_pip_keeps_no_cache() -> None:
    assert not _all("ADD")
    text = "\n".join(INSTRUCTIONS)
    assert "sudo" not in text and "curl" not in text
    assert "PIP_NO_CACHE_DIR=1" in text


def test_build_context_holds_only_the_sources() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = {part.rstrip("/") for line in _all("COPY") if "--from" not in line for part in line.split()[1:-1]}
    assert copied <= allowed, f"COPY of files the .dockerignore excludes: {copied - allowed}"
