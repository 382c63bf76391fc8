"""Chart tests run the real ``helm`` CLI (built from the Go module proxy by build-tools.sh)."""

from __future__ import annotations

import pytest

from augur.devcluster.tools import ensure_tools


@pytest.fixture(scope="session")
def helm_bin() -> str:
    return str(ensure_tools(quiet=True).helm)
