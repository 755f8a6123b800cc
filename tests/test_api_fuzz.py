"""Schemathesis fuzzes every API operation from the OpenAPI document.

Bad input is a 4xx problem+json, never a 500: logged out, and logged in as an administrator,
whose requests get past the login and role checks to the validation behind them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from shuhui.core.http import CSRF_COOKIE, SESSION_COOKIE
from tests.fixtures import login


@pytest.fixture
def api_schema(app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def credentials_of(app: FastAPI, username: str) -> Iterator[dict[str, Any]]:
    with TestClient(app) as browser:
        token = login(browser, username)
        yield {
            "headers": {"x-csrf-token": token},
            "cookies": {
                SESSION_COOKIE: browser.cookies[SESSION_COOKIE],
                CSRF_COOKIE: browser.cookies[CSRF_COOKIE],
            },
        }


@pytest.fixture
def admin_credentials(app: FastAPI) -> Iterator[dict[str, Any]]:
    yield from credentials_of(app, "admin")


@pytest.fixture
def citizen_credentials(app: FastAPI) -> Iterator[dict[str, Any]]:
    # A citizen gets past the identity checks of the authorisation endpoints to their validation.
    yield from credentials_of(app, "citizen")


FUZZ = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def assert_problem_or_success(case: Any, response: Any) -> None:
    assert response.status_code < 500, (case.method, case.path, response.text)
    if response.status_code >= 400:
        content_type = response.headers["content-type"][0]
        assert content_type.startswith("application/problem+json"), (
            case.method,
            case.path,
            content_type,
        )
        body = response.json()
        assert body["status"] == response.status_code
        assert body["type"].startswith("/problems/")
        assert body["title"]


def fuzz_every_operation(
    api_schema: Any, credentials: dict[str, Any], prefix: str = "/api/"
) -> list[str]:
    # Schemathesis's own pytest plugin lags pytest 9, so each operation runs as a plain
    # Hypothesis search here, positive and negative (schema-violating) cases alike.
    fuzzed = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(prefix):
            continue

        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @given(case=strategy)
        @FUZZ
        def run(case: Any) -> None:
            response = case.call(headers=credentials["headers"], cookies=credentials["cookies"])
            assert_problem_or_success(case, response)

        run()
        fuzzed.append(operation.label)
    return fuzzed


def test_api_fuzzed_anonymously(api_schema: Any) -> None:
    fuzzed = fuzz_every_operation(api_schema, {"headers": {}, "cookies": {}})
    assert "POST /api/v1/admin/users" in fuzzed


def test_api_fuzzed_as_admin(api_schema: Any, admin_credentials: dict[str, Any]) -> None:
    fuzzed = fuzz_every_operation(api_schema, admin_credentials)
    assert len(fuzzed) >= 8


def test_authorisation_api_fuzzed_as_a_citizen(
    api_schema: Any, citizen_credentials: dict[str, Any]
) -> None:
    fuzzed = fuzz_every_operation(api_schema, citizen_credentials, "/api/v1/authorisations")
    assert "POST /api/v1/authorisations/mandates" in fuzzed
