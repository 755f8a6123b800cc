"""The HR & social-security services' fixtures: the app over the small synthetic city and
people of that city with the records the tests need."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI

from shuhui.datacore.store import DataCore


@dataclass(frozen=True)
class People:
    worker: str  # insured, with months paid at a unit
    owing: str  # a month owed (the employer in arrears)
    pensioner: str  # pension payments on record
    nobody: str  # a valid citizen ID the data core does not hold


def _one(core: DataCore, sql: str) -> str:
    rows = core.sql(sql).to_pylist()
    assert rows, sql
    return str(next(iter(rows[0].values())))


@pytest.fixture
def people(city_app: FastAPI) -> People:
    core = DataCore.from_settings(city_app.state.settings)
    return People(
        worker=_one(
            core,
            "SELECT c.citizen_id FROM insurance_contributions c JOIN insurance_enrolments e "
            "USING (citizen_id) WHERE c.paid_fen = c.amount_fen GROUP BY c.citizen_id "
            "HAVING count(DISTINCT c.month) >= 12 AND min(c.paid_fen) > 0 "
            "ORDER BY c.citizen_id LIMIT 1",
        ),
        owing=_one(
            core,
            "SELECT citizen_id FROM insurance_contributions WHERE paid_fen < amount_fen "
            "ORDER BY citizen_id LIMIT 1",
        ),
        pensioner=_one(core, "SELECT citizen_id FROM pension_payments ORDER BY citizen_id LIMIT 1"),
        # A made-up ID with a right check character (the demo citizen's), not in the city.
        nobody="370202199003151233",
    )
