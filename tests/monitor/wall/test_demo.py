"""``shuhui demo``'s monitoring: alarms in three states through the services, in the ledger,
seen from the accounts' own pages; run again, nothing changes."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select

from shuhui.core.db import transaction
from shuhui.datacore.store import DataCore
from shuhui.demo import monitor
from shuhui.monitor.alarms.models import Alarm
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import DEMO_ACCOUNTS, as_user


def test_the_demo_alarms_wait_for_their_accounts(city_app: FastAPI) -> None:
    settings = city_app.state.settings
    core = DataCore.from_settings(settings)
    with transaction(city_app.state.session_factory) as db:
        done = monitor.prepare(db, settings, core, DEMO_ACCOUNTS)
    assert {p.username for p in done} == {"duty", "fire"}
    with city_app.state.session_factory() as db:
        states = dict(db.execute(select(Alarm.scenario, Alarm.state)).all())
        steps = db.scalars(
            select(LedgerEntry.action).where(LedgerEntry.action.like("monitor.alarm_%"))
        ).all()
    assert states == {"hazchem": "raised", "high_rise": "dispatched", "forest": "closed"}
    assert len(steps) == 3 + 4 + 2  # three raised; four steps closing one; two dispatching one
    with transaction(city_app.state.session_factory) as db:
        assert monitor.prepare(db, settings, core, DEMO_ACCOUNTS) == []
        assert db.scalar(select(func.count()).select_from(Alarm)) == 3
    duty = as_user(city_app, "duty")
    wall = duty.get("/api/v1/monitor/wall").json()
    assert wall["counts"]["scenarios"] == {"high_rise": 1, "forest": 0, "hazchem": 1}
    page = duty.get("/monitor")
    assert page.status_code == 200 and "可燃气体" in page.text
    inbox = as_user(city_app, "fire").get("/api/v1/monitor/inbox").json()
    assert inbox["total"] == 1 and inbox["items"][0]["state"] == "dispatched"
    closed = next(
        a for a in duty.get("/api/v1/monitor/alarms").json()["items"] if a["state"] == "closed"
    )
    timeline = duty.get(f"/api/v1/monitor/alarms/{closed['code']}").json()["timeline"]
    assert [e["action"] for e in timeline] == [
        "raise",
        "acknowledge",
        "dispatch",
        "resolve",
        "close",
    ]
