"""The channel a case came through (办理渠道) and the online share (网办率): on the small city, each
way a case is made records its channel — the applicant's own draft and one-request application
(online), an agent's under a mandate (agent), the enterprise direct link's (link, named by the
caller), an officer's at a service-hall window (counter); the window's filing refuses another
department's officer, an officer filing for themself, a purpose not given and an identity not
checked, writing nothing, and records its own ledger entry about the applicant; the metrics'
share over a known mix; and the migration's backfill of the cases made before it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.approval import cases, counter, metrics, prefill, service
from shuhui.approval.items import Catalogue, Domain, ServiceItem
from shuhui.approval.models import Case, CaseEvent
from shuhui.approval.schemas import CounterFilingIn
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.errors import Problem
from shuhui.core.forms import validate
from shuhui.core.migrate import alembic_config, upgrade
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.identity.service import get_user_by_username
from shuhui.trust.ledger.models import LedgerEntry
from tests.approval.made_cases import case as made_case
from tests.approval.made_cases import credit_code, item
from tests.approval.test_prefill import mandate
from tests.fixtures import DEMO_PASSWORD, add_account

pytestmark = pytest.mark.both_backends

SUBSIDY = "QD-MZ-0001"  # 残疾人两项补贴申领: 青岛市民政局 accepts it; the 残疾人证 is waived
CIVIL = "civil"  # the demo officer of 青岛市民政局
PURPOSE = "申请人到民政服务窗口现场申请，当面核验身份证"


@contextmanager
def tx(app: FastAPI) -> Iterator[Session]:
    with transaction(app.state.session_factory) as db:
        yield db


def user(db: Session, username: str) -> User:
    found = get_user_by_username(db, username)
    assert found is not None, username
    return found


def people(core: DataCore) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two residents holding a valid 残疾人证 (so the subsidy's one material is waived)."""
    rows = core.sql(
        "SELECT r.citizen_id, r.name FROM residents r JOIN e_certificates c "
        "ON c.holder_citizen_id = r.citizen_id AND c.certificate_type = '残疾人证' "
        "AND c.status = '有效' GROUP BY r.citizen_id, r.name ORDER BY r.citizen_id LIMIT 2"
    ).to_pylist()
    assert len(rows) == 2, "the small city has too few holders of a 残疾人证"
    return dict(rows[0]), dict(rows[1])


def account(app: FastAPI, username: str, who: dict[str, Any], **more: Any) -> None:
    with tx(app) as db:
        add_account(
            db,
            UserCreate(
                username=username,
                display_name=who["name"],
                password=DEMO_PASSWORD,
                roles=more.pop("roles", [Role.citizen]),
                citizen_id=who["citizen_id"],
                **more,
            ),
        )


def missing(db: Session, core: DataCore, item_: ServiceItem, applicant: User) -> dict[str, Any]:
    """The required fields the registers leave empty for ``applicant``, with their examples
    (read without writing anything)."""
    read = prefill.read_form(db, core, item_, user=applicant)
    return {
        f.name: f.schema["examples"][0]
        for f in item_.form.fields
        if f.required and read.fields[f.name].value in (None, "")
    }


def filing(applicant: str, values: dict[str, Any], **changes: Any) -> CounterFilingIn:
    given: dict[str, Any] = {
        "item": SUBSIDY,
        "applicant": applicant,
        "identity_checked": True,
        "purpose": PURPOSE,
        "values": values,
    }
    given.update(changes)
    return validate(CounterFilingIn, given)


def count(app: FastAPI, model: Any, *where: Any) -> int:
    with tx(app) as db:
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_each_way_a_case_is_made_records_its_channel(city_app: FastAPI) -> None:
    state = city_app.state
    core: DataCore = state.datacore
    catalogue: Catalogue = state.approval_catalogue
    subsidy = catalogue.items[SUBSIDY]
    holder, other = people(core)
    account(city_app, "holder", holder)
    account(city_app, "other", other)
    made: dict[str, str] = {}
    with tx(city_app) as db:
        values = missing(db, core, subsidy, user(db, "holder"))
        # The applicant themself: a draft, and an application in one request.
        draft = service.start_application(
            db, core, catalogue, user=user(db, "holder"), item_code=SUBSIDY
        )
        made["draft"] = draft.code
        whole = service.submit_whole(
            db, core, catalogue, user=user(db, "holder"), item_code=SUBSIDY, values=values
        )
        made["whole"] = whole.code
        # The enterprise direct link (or any caller above approval) names its channel.
        linked = service.submit_whole(
            db,
            core,
            catalogue,
            user=user(db, "holder"),
            item_code=SUBSIDY,
            values=values,
            channel="link",
        )
        made["link"] = linked.code
        filled = prefill.prefill(db, core, subsidy, user=user(db, "other"))
        other_values = missing(db, core, subsidy, user(db, "other"))
        filed = service.file_prefilled(
            db, subsidy, filled, other_values, actor="other", channel="link"
        )
        made["file_prefilled"] = filed.code
    # An agent under the holder's signed mandate.
    mandate(city_app, holder, other, [SUBSIDY])
    with tx(city_app) as db:
        agent_case = service.submit_whole(
            db,
            core,
            catalogue,
            user=user(db, "other"),
            item_code=SUBSIDY,
            values=values,
            applicant_id=holder["citizen_id"],
        )
        made["agent"] = agent_case.code
    # An officer of the accepting department at the window, for the holder present.
    with tx(city_app) as db:
        at_window = counter.file_at_counter(
            db,
            core,
            catalogue,
            officer=user(db, CIVIL),
            given=filing(holder["citizen_id"], values),
            content_dir=state.settings.city_content,
        )
        made["counter"] = at_window.code

    with tx(city_app) as db:
        got = {way: cases.get_case(db, code) for way, code in made.items()}
        channels = {way: c.channel for way, c in got.items() if c is not None}
        assert channels == {
            "draft": "online",
            "whole": "online",
            "link": "link",
            "file_prefilled": "link",
            "agent": "agent",
            "counter": "counter",
        }
        window = got["counter"]
        assert window is not None and window.state == "submitted"
        assert (window.applicant_id, window.created_by) == (holder["citizen_id"], CIVIL)
        assert window.agent_id is None and window.applicant_name == holder["name"]
        agent_case_ = got["agent"]
        assert agent_case_ is not None and agent_case_.agent_id == other["citizen_id"]
        assert cases.case_out(window).channel_zh == "窗口办理"
        # The created step says the channel too.
        created = db.scalar(
            select(CaseEvent).where(CaseEvent.case_id == window.id, CaseEvent.action == "created")
        )
        assert created is not None and created.detail is not None
        assert created.detail["channel"] == "counter"
        steps = list(
            db.scalars(
                select(CaseEvent.action)
                .where(CaseEvent.case_id == window.id)
                .order_by(CaseEvent.id)
            )
        )
        # Saved only where the officer typed something the registers did not fill.
        assert steps[0] == "created" and steps[-2:] == ["submitted", "filed_at_counter"]

    # The window's own entry: about the applicant, by the officer, with the stated purpose.
    with tx(city_app) as db:
        (entry,) = db.scalars(
            select(LedgerEntry).where(LedgerEntry.action == "approval.case.filed_at_counter")
        )
        assert (entry.subject, entry.actor, entry.purpose) == (holder["citizen_id"], CIVIL, PURPOSE)
        read = db.scalars(
            select(LedgerEntry).where(
                LedgerEntry.action == "approval.form.prefilled",
                LedgerEntry.subject == holder["citizen_id"],
                LedgerEntry.actor == CIVIL,
            )
        ).all()
        assert len(read) == 1
    # The officer who filed it is not its party: not in their cases, not theirs to withdraw.
    with tx(city_app) as db:
        civil = user(db, CIVIL)
        assert made["counter"] not in {c.code for c in cases.cases_of(db, civil)}
        window = cases.get_case(db, made["counter"])
        assert window is not None and not cases.is_party(civil, window)


def test_the_window_refuses_who_may_not_file_and_what_is_not_said_writing_nothing(
    city_app: FastAPI,
) -> None:
    state = city_app.state
    core: DataCore = state.datacore
    catalogue: Catalogue = state.approval_catalogue
    holder, other = people(core)
    # An officer of the civil affairs bureau who is, themself, the second resident.
    account(city_app, "clerk", other, roles=[Role.officer], department="青岛市民政局")
    content = state.settings.city_content

    def refused(officer: str, given: CounterFilingIn) -> Problem:
        with pytest.raises(Problem) as caught, tx(city_app) as db:
            counter.file_at_counter(
                db, core, catalogue, officer=user(db, officer), given=given, content_dir=content
            )
        return caught.value

    values: dict[str, Any] = {}  # each refusal comes before the form is looked at
    # The approval bureau does not accept the subsidy; a citizen is no officer at all.
    for who in ("approver", "officer", "citizen"):
        problem = refused(who, filing(holder["citizen_id"], values))
        assert problem.http_status == 403, who
        assert [e.field for e in problem.errors] == ["item"]
        assert "青岛市民政局" in str(problem.errors[0].reason)
    # Not for themself.
    own = refused("clerk", filing(other["citizen_id"], values))
    assert own.http_status == 403 and [e.field for e in own.errors] == ["applicant"]
    assert "本人" in str(own.errors[0].reason)
    # An item that does not exist.
    unknown = refused(CIVIL, filing(holder["citizen_id"], values, item="QD-NO-0000"))
    assert unknown.http_status == 404 and unknown.errors[0].field == "item"
    # A wrong check character: refused before anything is read.
    wrong = "1" if holder["citizen_id"][-1] != "1" else "2"
    bad_id = refused(CIVIL, filing(holder["citizen_id"][:17] + wrong, values))
    assert bad_id.http_status == 422 and bad_id.errors[0].field == "applicant"
    # The purpose must be said, and the identity checked in person (the schema's refusals, in
    # Chinese, naming the field).
    for purpose in ("", "  ", "办"):
        with pytest.raises(Problem) as caught:
            filing(holder["citizen_id"], values, purpose=purpose)
        assert [e.field for e in caught.value.errors] == ["purpose"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(caught.value.errors[0].reason))
    with pytest.raises(Problem) as caught:
        filing(holder["citizen_id"], values, identity_checked=False)
    assert [e.field for e in caught.value.errors] == ["identity_checked"]
    assert "当面核验" in str(caught.value.errors[0].reason)
    assert count(city_app, Case) == 0
    assert count(city_app, LedgerEntry, LedgerEntry.action.like("approval.%")) == 0


def test_a_form_the_window_leaves_faulty_is_refused_naming_every_field_and_the_read_kept(
    city_app: FastAPI,
) -> None:
    state = city_app.state
    core: DataCore = state.datacore
    catalogue: Catalogue = state.approval_catalogue
    holder, _ = people(core)
    with pytest.raises(Problem) as caught, tx(city_app) as db:
        try:
            counter.file_at_counter(
                db,
                core,
                catalogue,
                officer=user(db, CIVIL),
                given=filing(holder["citizen_id"], {"sex": "未知"}),
                content_dir=state.settings.city_content,
            )
        finally:
            db.commit()  # as the route does: the read of the applicant's data stays recorded
    assert caught.value.slug == "validation"
    assert "sex" in {e.field for e in caught.value.errors}
    assert count(city_app, Case) == 0
    assert count(city_app, LedgerEntry, LedgerEntry.action == "approval.form.prefilled") == 1


# --- the online share ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Items:
    """A catalogue of the test's own items (``metrics.CatalogueView``)."""

    items: dict[str, ServiceItem]
    domains: dict[str, Domain]


def test_the_online_share_counts_online_agent_and_link_over_all_cases(migrated: Settings) -> None:
    """Per item, over the cases submitted in the range: 网办率 = (online + agent + link) / all."""
    first, second, quiet = item("QD-X-1"), item("QD-X-2"), item("QD-X-3")
    catalogue_ = Items({i.code: i for i in (first, second, quiet)}, {})
    holder = credit_code(5)
    at = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    engine = make_engine(migrated.database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            mix = [
                (first, ["online", "online", "agent", "link", "counter"]),
                (second, ["counter", "counter", "online"]),
            ]
            for service_item, channels in mix:
                for channel in channels:
                    made_case(
                        db, service_item, applicant_id=holder, submitted_at=at, channel=channel
                    )
            # Not counted: a draft, and a case submitted before the range.
            draft = made_case(db, first, applicant_id=holder, submitted_at=at, channel="counter")
            draft.submitted_at = None
            made_case(
                db,
                first,
                applicant_id=holder,
                submitted_at=datetime(2026, 1, 5, tzinfo=UTC),
                channel="counter",
            )
            db.flush()
            rows = {
                r.key: r
                for r in metrics.metrics(
                    db,
                    by="item",
                    since=date(2026, 3, 1),
                    catalogue=catalogue_,
                    today=date(2026, 3, 10),
                )
            }
            (overall,) = metrics.metrics(db, by="all", since=date(2026, 3, 1))
    finally:
        engine.dispose()
    one, two, none = rows["QD-X-1"], rows["QD-X-2"], rows["QD-X-3"]
    assert (one.channel_online, one.channel_agent, one.channel_link, one.channel_counter) == (
        2,
        1,
        1,
        1,
    )
    assert one.cases == 5 and one.online_share == pytest.approx(4 / 5)
    assert (two.channel_online, two.channel_counter, two.cases) == (1, 2, 3)
    assert two.online_share == pytest.approx(1 / 3)
    assert none.cases == 0 and none.online_share is None  # nothing to share
    assert overall.cases == 8 and overall.online_share == pytest.approx(5 / 8)
    assert overall.channel_counter == 3


# --- the migration -------------------------------------------------------------------------------


def test_the_migration_backfills_agent_where_an_agent_filed_else_online(settings: Settings) -> None:
    url = settings.sqlalchemy_url
    before = ScriptDirectory.from_config(alembic_config(url)).get_revision("0034").down_revision
    assert isinstance(before, str)
    upgrade(url, before)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for code, agent in (("OLD-1", None), ("OLD-2", "370202199003151233")):
                conn.execute(
                    sa.text(
                        "INSERT INTO approval_cases (code, item_code, item_name, department, "
                        "domain, applicant_kind, applicant_id, applicant_name, created_by, "
                        "agent_id, state, version, process, form, correction_count, "
                        "precheck_used, paused_days, created_at) VALUES (:code, 'QD-X-1', '事项', "
                        "'部门', 'market', 'person', '370202199001011234', '张三', 'someone', "
                        ":agent, 'submitted', 1, 'approval-standard', '{}', 0, FALSE, 0, "
                        "'2026-03-02 02:00:00+00:00')"
                    ),
                    {"code": code, "agent": agent},
                )
        upgrade(url, "0034")
        with engine.connect() as conn:
            got = dict(conn.execute(sa.text("SELECT code, channel FROM approval_cases")).all())
    finally:
        engine.dispose()
    assert got == {"OLD-1": "online", "OLD-2": "agent"}
