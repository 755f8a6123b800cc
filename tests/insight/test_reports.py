"""The monthly reports on a schedule: each map's report for last month made once, kept whole,
in the ledger, listed and downloaded; a lock left by a dead process is taken over, one held
by a live process is respected."""

from __future__ import annotations

import json
import os
import time
from datetime import date

from fastapi import FastAPI
from sqlalchemy import select

from shuhui.core.db import transaction
from shuhui.insight import service, tasks
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user

TODAY = date(2026, 11, 15)
OCTOBER = date(2026, 10, 1)


def test_last_month_s_reports_are_made_once_and_listed(city_app: FastAPI) -> None:
    settings, factory = city_app.state.settings, city_app.state.session_factory
    maps = list(service.maps(settings))
    assert tasks.due(settings, TODAY) == [(code, OCTOBER) for code in maps]
    # Another process is making the decisions map's report right now: it is left to it.
    busy = tasks.path_of(settings, "decisions", OCTOBER).with_suffix(".lock")
    busy.parent.mkdir(parents=True, exist_ok=True)
    busy.write_text("12345")
    # A dead process's lock on the risk map, older than an hour: taken over.
    dead = tasks.path_of(settings, "risk", OCTOBER).with_suffix(".lock")
    dead.write_text("1")
    old = time.time() - 2 * tasks.STALE_LOCK
    os.utime(dead, (old, old))
    made = tasks.make_due(settings, factory, TODAY)
    assert sorted(r.map for r in made) == sorted(c for c in maps if c != "decisions")
    assert all(r.path.read_bytes()[:5] == b"%PDF-" for r in made)
    assert not dead.exists() and busy.exists()
    assert tasks.due(settings, TODAY) == [("decisions", OCTOBER)]
    assert not list(tasks.folder(settings).rglob("*.part"))
    busy.unlink()
    assert [r.map for r in tasks.make_due(settings, factory, TODAY)] == ["decisions"]
    assert tasks.make_due(settings, factory, TODAY) == []  # nothing twice
    with transaction(factory) as db:
        entries = db.scalars(
            select(LedgerEntry).where(LedgerEntry.action == "insight.report_made")
        ).all()
    assert sorted(json.loads(bytes(e.leaf))["detail"]["map"] for e in entries) == sorted(maps)
    assert {e.actor for e in entries} == {tasks.ACTOR}

    leader = as_user(city_app, "leader")
    listed = leader.get("/api/v1/insight/reports").json()["reports"]
    assert {(r["map"], r["month"]) for r in listed} == {(c, "2026-10") for c in maps}
    pdf = leader.get("/api/v1/insight/reports/2026-10/plan")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    missing = leader.get("/api/v1/insight/reports/2026-09/plan")
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "month"
    page = leader.get("/insight/maps/plan")
    assert "历次月度分析报告" in page.text and "/api/v1/insight/reports/2026-10/plan" in page.text
    assert as_user(city_app, "citizen").get("/api/v1/insight/reports").status_code == 403
