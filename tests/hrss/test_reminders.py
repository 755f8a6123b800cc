"""Proactive reminders (事前主动提醒): the rule finds who reaches retirement age soon, each gets
one message with a button that opens 退休一件事, once per due date however often it runs;
only the bureau runs it, and never for a day to come."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from shuhui.core.clock import local_today
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.datacore.store import DataCore
from shuhui.hrss import reminders
from shuhui.hrss.models import Reminder
from shuhui.programs import service as programs
from shuhui.rules import service as rules_service
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user
from tests.programs.conftest import resident


def library_of(app: FastAPI) -> programs.Library:
    return programs.Library(app.state.settings, DataCore.from_settings(app.state.settings))


def a_day_with_someone(app: FastAPI) -> tuple[date, list[str]]:
    """The latest first-of-month, up to three years back, on which the rule finds someone in
    the small city (the people it finds that day)."""
    library = library_of(app)
    rule = library.rule("reminder-retirement")
    day = local_today().replace(day=1)
    with library.connection() as con:
        for _ in range(36):
            found = rules_service.candidates(con, rule, day, outcomes=("eligible",))
            if found:
                return day, [e.key for e in found]
            day = (day - timedelta(days=1)).replace(day=1)
    raise AssertionError("nobody reaches retirement age in three years of the small city")


def count(app: FastAPI, model: Any, *where: Any) -> int:
    with transaction(app.state.session_factory) as db:
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_each_person_found_is_reminded_once_with_a_button_to_the_bundle(
    city_app: FastAPI,
) -> None:
    day, people = a_day_with_someone(city_app)
    kind = reminders.kind_of("retirement")
    with transaction(city_app.state.session_factory) as db:
        first = reminders.run(db, library_of(city_app), kind, day, actor="officer")
    assert first.found == first.sent == len(people) and first.already == 0
    with transaction(city_app.state.session_factory) as db:
        again = reminders.run(db, library_of(city_app), kind, day, actor="officer")
    assert again.sent == 0 and again.already == len(people)
    assert count(city_app, Reminder) == len(people)
    assert count(city_app, LedgerEntry, LedgerEntry.action == "hrss.reminded") == len(people)

    person = resident(city_app, "soon", people[0])
    inbox = person.get("/api/v1/messages").json()
    (message,) = inbox["items"]
    assert message["link"] == "/hrss/bundles/retirement"
    assert "法定退休年龄" in message["title"]
    page = person.get(f"/messages/{message['id']}")
    assert 'href="/hrss/bundles/retirement"' in page.text and "办理退休一件事" in page.text


def test_a_day_to_come_is_refused_and_nothing_is_sent(city_app: FastAPI) -> None:
    kind = reminders.kind_of("retirement")
    with (
        pytest.raises(Problem) as refused,
        transaction(city_app.state.session_factory) as db,
    ):
        reminders.run(
            db, library_of(city_app), kind, local_today() + timedelta(days=1), actor="officer"
        )
    assert refused.value.errors[0].field == "date"
    assert count(city_app, Reminder) == 0


def test_only_the_bureau_runs_it_through_the_api(city_app: FastAPI) -> None:
    day, people = a_day_with_someone(city_app)
    path = "/api/v1/hrss/reminders/retirement/runs"
    assert as_user(city_app, "approver").post(path, json={}).status_code == 403
    assert as_user(city_app, "citizen").post(path, json={}).status_code == 403
    assert count(city_app, Reminder) == 0
    officer = as_user(city_app, "officer")
    assert officer.post(path, json={"evaluated_on": "2999-01-01"}).status_code == 422
    assert officer.post("/api/v1/hrss/reminders/nope/runs", json={}).status_code == 404
    done = officer.post(path, json={"evaluated_on": day.isoformat()})
    assert done.status_code == 201, done.text
    assert done.json()["sent"] == len(people)
