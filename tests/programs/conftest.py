"""Campaign fixtures: the app over a small synthetic city, officers of the implementing
departments, and users for residents the policies find."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuhui.core.db import transaction
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from tests.fixtures import add_account, as_user


def resident(app: FastAPI, username: str, citizen_id: str) -> TestClient:
    """A citizen account for a resident of the synthetic city, logged in."""
    with transaction(app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username=username,
                display_name=username,
                password=DEMO_PASSWORD,
                roles=[Role.citizen],
                citizen_id=citizen_id,
            ),
        )
    return as_user(app, username)


@dataclass
class City:
    app: FastAPI
    civil: TestClient  # 民政局: the elderly allowance
    disability: TestClient  # 残联: the disability subsidies
    hrss: TestClient  # 人社局: not the elderly allowance's department


@pytest.fixture
def city(city_app: FastAPI) -> City:
    app = city_app
    return City(app, as_user(app, "civil"), as_user(app, "disability"), as_user(app, "officer"))
