"""A cache fed directly with Kubernetes objects, and the app around it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from augur_extender.app import create_app
from augur_extender.cache import MemoryCache
from augur_extender.deps import ExtenderState
from augur_extender.settings import Settings

from .extender_objects import fill


@pytest.fixture
def cache() -> MemoryCache:
    c = MemoryCache()
    fill(c)
    return c


@pytest.fixture
def client(cache: MemoryCache) -> Iterator[TestClient]:
    settings = Settings()
    state = ExtenderState.build(cache, settings)
    app = create_app(settings, state)
    with TestClient(app) as c:
        # The background planner's first plan lands at some point after start-up; wait for it so that two
        # requests of one test are scored against the same plan (the planner steps aside during requests).
        deadline = time.monotonic() + 30
        while state.planner is not None and sum(state.planner.counts.values()) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        yield c
