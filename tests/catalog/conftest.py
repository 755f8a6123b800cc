"""Catalog fixtures: an app whose catalog registers a small synthetic city, and one with
generated metadata on top for search at some scale."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from shuhui.catalog import generate, service
from shuhui.core.db import transaction
from shuhui.synth import CityConfig
from shuhui.synth.cli import build_city

CITY = CityConfig(residents=1_500, seed=7, chunk=1_500)


@pytest.fixture
def catalogued(app: FastAPI) -> FastAPI:
    """The app, its data core holding a small city, every table registered in the catalog."""
    core = app.state.datacore
    build_city(core, CITY, show_progress=False)
    with transaction(app.state.session_factory) as db:
        service.sync_datacore(db, core, app.state.city_catalog, actor="test", assess_quality=False)
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
