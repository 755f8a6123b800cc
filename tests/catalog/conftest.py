"""Catalog fixtures: the catalogued app (``catalogued``, in ``tests/fixtures.py``: the data
assets use it too) with generated metadata on top, for search at some scale."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from shuhui.catalog import generate
from shuhui.core.db import transaction


@pytest.fixture
def scaled(catalogued: FastAPI) -> FastAPI:
    """The catalogued app plus 2,000 generated datasets in 300 classes."""
    with transaction(catalogued.state.session_factory) as db:
        generate.generate_catalog(
            db, catalogued.state.city_catalog, classes=300, datasets=2_000, seed=1
        )
    return catalogued
