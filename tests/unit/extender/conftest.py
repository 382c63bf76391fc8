"""A cache fed directly with Kubernetes objects, and the app around it."""

from __future__ import annotations

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
    app = create_app(settings, ExtenderState.build(cache, settings))
    with TestClient(app) as c:
        yield c
