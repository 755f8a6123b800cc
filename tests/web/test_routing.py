"""Routers passed over by path (``web.routing``): every route answers as it did before."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from shuhui.core.settings import Settings
from shuhui.web import app as web_app
from shuhui.web.routing import quick_reject
from tests.fixtures import make_settings


def _paths(routes: list[Any]) -> list[tuple[str, str]]:
    """Every method and path of the routes, included routers' too, each parameter a value."""
    found: list[tuple[str, str]] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found += _paths(inner.routes)
        elif isinstance(route, APIRoute):
            path = re.sub(r"\{[^}]+\}", "1", route.path)
            found += [(method, path) for method in sorted(route.methods)]
    return found


def test_each_route_answers_as_without_passing_routers_over(
    migrated: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = web_app.create_app(migrated)
    monkeypatch.setattr(web_app, "quick_reject", lambda app: 0)
    plain = web_app.create_app(make_settings(tmp_path / "plain", migrated.database_url))
    assert fast.openapi() == plain.openapi()
    # Most routers are passed over by path (the static files and the docs are not routers).
    assert quick_reject(plain) >= 30
    plain_again = web_app.create_app(make_settings(tmp_path / "again", migrated.database_url))
    paths = _paths(plain_again.router.routes)
    assert len(paths) > 300
    with (
        TestClient(fast, raise_server_exceptions=False) as a,
        TestClient(plain_again, raise_server_exceptions=False) as b,
    ):
        for method, path in [*paths, ("GET", "/no/such/page"), ("GET", "/catalog/")]:
            got = a.request(method, path, follow_redirects=False)
            expected = b.request(method, path, follow_redirects=False)
            assert got.status_code == expected.status_code, (method, path)
            assert got.headers.get("location") == expected.headers.get("location"), path
