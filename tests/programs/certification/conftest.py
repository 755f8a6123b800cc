"""Certification fixtures: the test city (``CITY``: 1,500 residents, data to 2026-10-31) in an
app's data core, and the cycle's service over it with a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.db import transaction
from shuhui.core.settings import Settings
from shuhui.programs.certification import service
from shuhui.programs.certification.cycle import CycleResult
from shuhui.programs.service import Library

FIRST: Final = date(2026, 10, 31)  # the city's as-of date: a year of evidence behind it


def at(day: date, hour: int = 4) -> datetime:
    """A moment on ``day`` in Beijing (04:00 UTC is noon there)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@dataclass
class Cert:
    app: FastAPI
    settings: Settings
    factory: sessionmaker[Session]
    library: Library

    def run(self, on: date, now: datetime | None = None) -> CycleResult:
        with transaction(self.factory) as db:
            return service.run(
                db, self.library, self.settings, on, actor="tester", now=now or at(on)
            )


@pytest.fixture
def cert(city_app: FastAPI) -> Cert:
    app = city_app
    return Cert(app, app.state.settings, app.state.session_factory, app.state.policy_library)
