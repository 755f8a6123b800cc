"""shuhui.demo: the demo accounts become members of the (small) city with their flows started:
the citizen a resident with an offer waiting, the enterprise a live enterprise with its offer,
the bank a consumer with a grant; run again, nothing changes; rebinding keeps whom they are when
the city is the same."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select

from shuhui.channel import grants as channel_grants
from shuhui.channel import onboarding
from shuhui.core.db import transaction
from shuhui.datacore.store import DataCore
from shuhui.demo.city import prepare
from shuhui.hrss import reminders
from shuhui.programs import recipients
from shuhui.programs import service as programs
from shuhui.trust.identity.service import get_user_by_username
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import DEMO_ACCOUNTS

YAML_CITIZEN_ID = "370202199003151233"
YAML_ENTERPRISE_CODE = "91370202MA3C4D5E6T"


def _prepare(app: FastAPI, *, rebind: bool = False) -> dict[str, bool]:
    settings = app.state.settings
    with transaction(app.state.session_factory) as db:
        done = prepare(
            db,
            settings,
            DataCore.from_settings(settings),
            DEMO_ACCOUNTS,
            actor="test",
            rebind=rebind,
        )
    return {p.username: p.changed for p in done}


def _entries(app: FastAPI) -> int:
    with app.state.session_factory() as db:
        return int(db.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


def test_the_demo_people_become_members_of_the_city_with_their_flows_started(
    city_app: FastAPI,
) -> None:
    consumers = ("bank", "institute")
    prepared = _prepare(city_app)
    # The retiree is bound only on a day the small city has someone reaching retirement age
    # within three months (the demo's city of 20,000 always has): then they have the reminder.
    reminded = prepared.pop("retiree")
    assert prepared == {"citizen": True, "enterprise": True} | dict.fromkeys(consumers, True)
    with city_app.state.session_factory() as db:
        retiree = get_user_by_username(db, "retiree")
        assert retiree is not None and retiree.citizen_id is not None
        assert bool(reminders.of_person(db, retiree.citizen_id)) == reminded
    core = DataCore.from_settings(city_app.state.settings)
    con = core.connect()
    with city_app.state.session_factory() as db:
        citizen = get_user_by_username(db, "citizen")
        enterprise = get_user_by_username(db, "enterprise")
        assert citizen is not None and enterprise is not None
        assert citizen.citizen_id not in (None, YAML_CITIZEN_ID)
        # She is a resident of the city, under her own name.
        (name,) = con.execute(
            "SELECT name FROM residents WHERE citizen_id = ?", [citizen.citizen_id]
        ).fetchone() or (None,)
        assert citizen.display_name == name
        # The enterprise is a live one, acting through its registered legal representative.
        row = con.execute(
            "SELECT name, legal_rep_citizen_id, status FROM enterprises WHERE credit_code = ?",
            [enterprise.credit_code],
        ).fetchone()
        assert enterprise.credit_code != YAML_ENTERPRISE_CODE and row is not None
        assert (enterprise.display_name, enterprise.citizen_id, row[2]) == (row[0], row[1], "存续")

        # Each has exactly one offer waiting, confirmed by the department's demo officer.
        for subject, policy in (
            (citizen.citizen_id, "start-up-subsidy"),
            (enterprise.credit_code, "job-stabilisation-refund"),
        ):
            (offer,) = recipients.offers_for(db, [str(subject)])
            assert (offer.campaign.rule, offer.status) == (policy, "offered")
            assert (offer.reviewed_by, offer.campaign.created_by) == ("officer", "officer")
            # The campaign's other candidates are the officer's to confirm.
            assert programs.funnel(db, offer.campaign)["status_pending"] >= 1

        # The bank holds an active grant of its product.
        bank = onboarding.consumer_by_code(db, "9137021460181590X0")
        assert bank is not None and bank.type == "bank"
        (grant,) = channel_grants.grants(db, bank.id)
        assert channel_grants.application_products(grant) == ["enterprise-credit-check"]
        assert grant.status == "active"
        # The research institute holds the district statistics, for public governance, with
        # the purpose the content names: its console shows the privacy budget.
        institute = onboarding.consumer_by_code(db, "12370200MB0Q7T8C4F")
        assert institute is not None and institute.type == "research"
        (grant,) = channel_grants.grants(db, institute.id)
        assert channel_grants.application_products(grant) == ["district-statistics"]
        assert (grant.status, grant.usage, grant.purpose) == (
            "active",
            "public_governance",
            "人口老龄化与社会保障政策研究",
        )
    con.close()

    # Run again: nothing changes, not even the ledger.
    before = _entries(city_app)
    unchanged = {"citizen": False, "enterprise": False, "retiree": False} | dict.fromkeys(
        consumers, False
    )
    assert _prepare(city_app) == unchanged
    assert _entries(city_app) == before
    # Rebinding on the same city chooses the same members, who have their offers already.
    assert _prepare(city_app, rebind=True) == unchanged
    assert _entries(city_app) == before


def test_an_empty_data_core_prepares_nothing(app: FastAPI) -> None:
    assert _prepare(app) == {}
    with app.state.session_factory() as db:
        citizen = get_user_by_username(db, "citizen")
        assert citizen is not None and citizen.citizen_id == YAML_CITIZEN_ID
