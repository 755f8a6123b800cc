"""Catalog fixtures: an app whose catalog registers a small synthetic city, and one with
generated metadata on top for search at some scale."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from shuhui.catalog import generate, service
from shuhui.core.db import transaction


@pytest.fixture
def catalogued(synced_city_app: FastAPI) -> FastAPI:
    """The app, its data core holding a small city, every table registered in the catalog."""
    app = synced_city_app
    with transaction(app.state.session_factory) as db:
        service.related_by_keywords(db)
    return app


@pytest.fixture
def scaled(catalogued: FastAPI) -> FastAPI:
    """The catalogued app plus 2,000 generated datasets in 300 classes."""
    with transaction(catalogued.state.session_factory) as db:
        generate.generate_catalog(
            db, catalogued.state.city_catalog, classes=300, datasets=2_000, seed=1
        )
    return catalogued
