"""Fund-risk fixtures: the app over the small synthetic city and its fund supervisor."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.fixtures import CITY, as_user

# The small city's reference date: every detector looks at the data as it stood then.
ON = CITY.as_of


@pytest.fixture
def auditor(city_app: FastAPI) -> TestClient:
    return as_user(city_app, "auditor")


@pytest.fixture
def detected(auditor: TestClient) -> TestClient:
    """The auditor, after one detection run on the city's date."""
    response = auditor.post("/api/v1/fundrisk/detections", json={"date": ON.isoformat()})
    assert response.status_code == 201, response.text
    return auditor
