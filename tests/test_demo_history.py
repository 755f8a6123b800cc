"""The demo's past (shuhui.demo.assets, .channel, .fundrisk): registrations accepted and valued,
a consumer's months of calls billed, alerts taken through their steps — each through the
domains' services with their ledger entries, so the maps and the leaders' dashboard have
figures; run again, nothing changes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import func, select

from shuhui.assets.models import AssetRegistration
from shuhui.channel.models import Call, IssuedStatement
from shuhui.core.clock import as_utc, utcnow
from shuhui.core.db import transaction
from shuhui.datacore.store import DataCore
from shuhui.demo import assets as demo_assets
from shuhui.demo import channel as demo_channel
from shuhui.demo import fundrisk as demo_fundrisk
from shuhui.programs.fundrisk.models import Alert
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import DEMO_ACCOUNTS


def _actions(app: FastAPI, prefix: str) -> Counter[str]:
    with app.state.session_factory() as db:
        return Counter(
            db.scalars(select(LedgerEntry.action).where(LedgerEntry.action.startswith(prefix)))
        )


def test_the_registry_has_assets_registered_valued_and_one_waiting(
    synced_city_app: FastAPI,
) -> None:
    city_app = synced_city_app  # the registry's assets are catalogued datasets
    settings = city_app.state.settings
    with transaction(city_app.state.session_factory) as db:
        done = demo_assets.prepare(db, settings, DEMO_ACCOUNTS)
    assert [(p.username, p.changed) for p in done] == [("operator2", True)]
    with city_app.state.session_factory() as db:
        rows = list(db.scalars(select(AssetRegistration).order_by(AssetRegistration.code)))
    assert [r.status for r in rows] == ["registered"] * 3 + ["submitted"]
    assert all(r.applicant == "operator" for r in rows)
    assert [r.reviewer for r in rows[:3]] == ["operator2"] * 3
    assert all(r.certificate_no and r.certificate for r in rows[:3])
    assert [r.valuation is not None for r in rows] == [True, True, False, False]
    # Accepted in different months of the past, so the map's monthly chart has a history.
    now = as_utc(utcnow())
    assert all(as_utc(r.submitted_at) < now for r in rows)
    actions = _actions(city_app, "asset.")
    assert actions["asset.applied"] == 4 and actions["asset.valued"] == 2

    with transaction(city_app.state.session_factory) as db:
        assert demo_assets.prepare(db, settings, DEMO_ACCOUNTS) == []
    assert _actions(city_app, "asset.") == actions


def test_a_consumer_has_months_of_calls_and_its_past_months_billed(city_app: FastAPI) -> None:
    settings = city_app.state.settings
    core = DataCore.from_settings(settings)
    with transaction(city_app.state.session_factory) as db:
        done = demo_channel.prepare(db, settings, core, DEMO_ACCOUNTS)
    assert [p.username for p in done] == ["research"]
    now = as_utc(utcnow())
    with city_app.state.session_factory() as db:
        calls = list(db.scalars(select(Call)))
        statements = list(db.scalars(select(IssuedStatement)))
    answered = [c for c in calls if c.status == 200]
    assert len(answered) >= 8 and answered[0].product == demo_channel.PRODUCT
    assert len(answered) == len(calls)  # within the privacy budget its grant allows
    assert {c.usage for c in calls} == {"industry"}
    assert all(now - timedelta(days=demo_channel.HISTORY_DAYS) < as_utc(c.at) < now for c in calls)
    # Every month that is over and had calls is billed once, sealed; this month is not.
    called_months = {c.month for c in answered}
    this_month = now.date().replace(day=1)
    assert {s.month for s in statements} == called_months - {this_month}
    assert all(s.total_fen > 0 for s in statements)
    assert f"已调用 {len(answered)} 次" in done[0].waiting

    with transaction(city_app.state.session_factory) as db:
        assert demo_channel.prepare(db, settings, core, DEMO_ACCOUNTS) == []
    with city_app.state.session_factory() as db:
        assert db.scalar(select(func.count()).select_from(Call)) == len(calls)


def test_the_supervisor_has_confirmed_recovered_and_dismissed_alerts(city_app: FastAPI) -> None:
    settings = city_app.state.settings
    core = DataCore.from_settings(settings)
    with transaction(city_app.state.session_factory) as db:
        done = demo_fundrisk.prepare(db, settings, core, DEMO_ACCOUNTS)
    assert [p.username for p in done] == ["auditor"]
    with city_app.state.session_factory() as db:
        alerts = list(db.scalars(select(Alert)))
    states = Counter(a.state for a in alerts)
    assert states["confirmed"] + states["recovering"] + states["recovered"] > 0
    assert states["dismissed"] > 0 and states["new"] > 0
    # The walk-through's rule is left to the person: all of its alerts are new.
    assert {a.state for a in alerts if a.rule == demo_fundrisk.LEFT_NEW} <= {"new"}
    # Never more recovered than owed, and every step in the ledger.
    assert all(a.amount_fen is None or a.recovered_fen <= a.amount_fen for a in alerts)
    steps = _actions(city_app, "fundrisk.")
    assert steps["fundrisk.checked"] == sum(a.state != "new" for a in alerts)
    assert f"{states['new']} 个待核查" in done[0].waiting
