"""Metrics: exact figures over cases made as rows — fields and materials spared, zero submission,
first-pass rates with and without the pre-check, working days against the limits (across the
National Day holiday and its adjusted working days), ratings, the channels and the online share
(网办率) — per item, department, domain and overall, with the date range and the local-date
boundaries where UTC would get them wrong."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from shuhui.approval.items import Domain, Material, ServiceItem
from shuhui.approval.metrics import metrics
from shuhui.approval.models import Case, CaseField, CaseMaterial, Rating
from shuhui.approval.schemas import MetricRow
from shuhui.core.clock import SHANGHAI
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.settings import Settings
from tests.approval.made_cases import APPROVAL_BUREAU, HEALTH, case, credit_code, item

TODAY = date(2025, 11, 1)
SINCE, UNTIL = date(2025, 9, 1), date(2025, 10, 31)


def local(*parts: int) -> datetime:
    """A moment in Qingdao, as the UTC time the database keeps."""
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


def waivable(code: str) -> Material:
    return Material(code, "营业执照", "Licence", "business-licence", True, "营业执照")


def uploaded(code: str) -> Material:
    return Material(code, "场所平面图", "Site plan", "site-plan", True, None)


A = item("QD-A", name="事项甲", domain="market", materials=(waivable("m1"),))
B = item("QD-B", name="事项乙", domain="market", materials=(waivable("m1"), uploaded("m2")))
C = item("QD-C", name="事项丙", department=HEALTH, domain="health")
D = item("QD-D", name="事项丁", department=HEALTH, domain="health", valid_from=date(2026, 1, 1))


@dataclass(frozen=True)
class Catalogue:
    items: dict[str, ServiceItem]
    domains: dict[str, Domain]


CATALOGUE = Catalogue(
    items={i.code: i for i in (A, B, C, D)},
    domains={
        "market": Domain("market", "市场准入", "Market entry"),
        "health": Domain("health", "医疗卫生", "Medical and health"),
    },
)


@pytest.fixture
def db(migrated: Settings) -> Iterator[Session]:
    engine = make_engine(migrated.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            cities(session)
            yield session
    finally:
        engine.dispose()


def field(db: Session, made: Case, name: str, fill: str, kept: bool | None) -> None:
    db.add(
        CaseField(
            case_id=made.id,
            field=name,
            value="v",
            fill=fill,
            filled_value=None if fill == "typed" else "v",
            kept=kept,
        )
    )


def material(db: Session, made: Case, name: str, *, waived: bool) -> None:
    db.add(
        CaseMaterial(
            case_id=made.id,
            material=name,
            waived=waived,
            certificate_type="营业执照" if waived else None,
            sha256=None if waived else "0" * 64,
            updated_at=local(2025, 9, 25, 10),
        )
    )


def rating(db: Session, made: Case, stars: int) -> None:
    db.add(
        Rating(
            case_id=made.id,
            department=made.department,
            stars=stars,
            comment="",
            rated_by="enterprise",
            rated_at=local(2025, 10, 11, 9),
        )
    )


def cities(db: Session) -> None:
    holder = credit_code(3)
    made = {}

    def add(name: str, service: ServiceItem, submitted: datetime | None, **columns: Any) -> Case:
        made[name] = case(db, service, applicant_id=holder, submitted_at=submitted, **columns)
        if submitted is None:
            made[name].submitted_at = None
        return made[name]

    # c1: accepted the Friday before National Day, issued the Friday after (5 working days:
    # the adjusted Sunday 28 September, 29 and 30 September, 9 and 10 October); one day after
    # the promised date, well within the statutory one; pre-checked, accepted at once; filed
    # online by the enterprise itself.
    c1 = add(
        "c1",
        A,
        local(2025, 9, 25, 10),
        state="issued",
        accepted_at=local(2025, 9, 26, 9),
        issued_at=local(2025, 10, 10, 15),
        promised_due=date(2025, 10, 9),
        statutory_due=date(2025, 10, 24),
        precheck_used=True,
        first_pass=True,
    )
    field(db, c1, "name", "identity", True)
    field(db, c1, "capital", "shared", True)
    field(db, c1, "address", "history", True)
    field(db, c1, "phone", "identity", False)  # offered, changed: typed
    material(db, c1, "m1", waived=True)
    material(db, c1, "m2", waived=False)
    rating(db, c1, 5)
    # c2: rejected after 3 working days, one of them waiting for the applicant; nothing typed or
    # uploaded (zero submission); not pre-checked, sent back for correction once; filed by an
    # agent under a mandate.
    c2 = add(
        "c2",
        A,
        local(2025, 9, 25, 11),
        state="rejected",
        accepted_at=local(2025, 9, 26, 9),
        decided_at=local(2025, 9, 30, 10),
        promised_due=date(2025, 10, 9),
        statutory_due=date(2025, 10, 24),
        paused_days=1,
        precheck_used=False,
        first_pass=False,
        agent_id="370202199003151233",
        mandate_code="WT2025090100001",
        channel="agent",
    )
    field(db, c2, "name", "identity", True)
    field(db, c2, "capital", "shared", True)
    material(db, c2, "m1", waived=True)
    rating(db, c2, 1)
    # c3: under review past its statutory date (overdue, still open); one field typed; filed
    # at a service-hall window.
    c3 = add(
        "c3",
        B,
        local(2025, 10, 9, 9),
        state="review",
        accepted_at=local(2025, 10, 10, 9),
        promised_due=date(2025, 10, 13),
        statutory_due=date(2025, 10, 15),
        precheck_used=True,
        first_pass=True,
        channel="counter",
    )
    field(db, c3, "name", "typed", None)
    # c4: issued at 00:30 on 1 November in Qingdao — still 31 October in UTC — one day after
    # its statutory date: late, and 9 working days. Sent over the enterprise direct link.
    add(
        "c4",
        C,
        local(2025, 10, 20, 8),
        state="issued",
        accepted_at=local(2025, 10, 20, 8, 30),
        issued_at=local(2025, 11, 1, 0, 30),
        promised_due=date(2025, 10, 24),
        statutory_due=date(2025, 10, 31),
        channel="link",
    )
    # Range edges in local time: 00:30 on 1 September is in, 23:30 on 31 August is not; 00:10 on
    # 1 November is after the range. A draft was never submitted. c7 was filed at a window.
    add("c7", C, local(2025, 9, 1, 0, 30), state="submitted", channel="counter")
    add("c6", A, local(2025, 8, 31, 23, 30), state="submitted")
    add("c8", C, local(2025, 11, 1, 0, 10), state="submitted")
    add("c5", A, None, state="draft")
    db.flush()


def figures(rows: list[MetricRow]) -> dict[str, dict[str, Any]]:
    return {row.key: row.model_dump(exclude={"by"}) for row in rows}


MARKET = {
    "cases": 3,
    "fields_identity": 2,
    "fields_history": 1,
    "fields_shared": 2,
    "fields_typed": 2,
    "fields_spared": 5,
    "materials_waived": 2,
    "materials_uploaded": 1,
    "items": 2,
    "zero_submission_items": 1,
    "zero_submission_cases": 1,
    "first_pass_with_precheck": 1.0,
    "first_pass_without_precheck": 0.0,
    "decided_with_precheck": 2,
    "decided_without_precheck": 1,
    "finished": 2,
    "working_days_avg": 3.5,
    "on_time_promised": 0.5,
    "on_time_statutory": 1.0,
    "overdue": 1,
    "ratings": 2,
    "stars_avg": 3.0,
    "bad_ratings": 1,
    "channel_online": 1,
    "channel_agent": 1,
    "channel_link": 0,
    "channel_counter": 1,
    "online_share": 2 / 3,  # online and agent of three: the window is offline
}
HEALTH_FIGURES = {
    "cases": 2,
    "fields_identity": 0,
    "fields_history": 0,
    "fields_shared": 0,
    "fields_typed": 0,
    "fields_spared": 0,
    "materials_waived": 0,
    "materials_uploaded": 0,
    "items": 1,  # 事项丁 is not in force yet
    "zero_submission_items": 1,
    "zero_submission_cases": 2,
    "first_pass_with_precheck": None,
    "first_pass_without_precheck": None,
    "decided_with_precheck": 0,
    "decided_without_precheck": 0,
    "finished": 1,
    "working_days_avg": 9.0,
    "on_time_promised": 0.0,
    "on_time_statutory": 0.0,
    "overdue": 1,
    "ratings": 0,
    "stars_avg": None,
    "bad_ratings": 0,
    "channel_online": 0,
    "channel_agent": 0,
    "channel_link": 1,
    "channel_counter": 1,
    "online_share": 0.5,  # the direct link is online
}


def run(db: Session, by: str, **kw: Any) -> dict[str, dict[str, Any]]:
    options: dict[str, Any] = {"since": SINCE, "until": UNTIL, "catalogue": CATALOGUE}
    options.update(kw)
    return figures(metrics(db, by=by, today=TODAY, **options))  # type: ignore[arg-type]


def test_by_domain(db: Session) -> None:
    got = run(db, "domain")
    assert got == {
        "health": {"key": "health", "name": "医疗卫生", **HEALTH_FIGURES},
        "market": {"key": "market", "name": "市场准入", **MARKET},
    }


def test_by_department_and_overall(db: Session) -> None:
    got = run(db, "department")
    assert got[APPROVAL_BUREAU] == {"key": APPROVAL_BUREAU, "name": APPROVAL_BUREAU, **MARKET}
    assert got[HEALTH] == {"key": HEALTH, "name": HEALTH, **HEALTH_FIGURES}
    (overall,) = run(db, "all").values()
    assert overall["name"] == "全部事项"
    assert {k: overall[k] for k in ("cases", "fields_spared", "materials_waived", "items")} == {
        "cases": 5,
        "fields_spared": 5,
        "materials_waived": 2,
        "items": 3,
    }
    assert overall["zero_submission_items"] == 2 and overall["zero_submission_cases"] == 3
    assert overall["finished"] == 3 and overall["overdue"] == 2
    assert overall["working_days_avg"] == pytest.approx((5 + 2 + 9) / 3)
    assert overall["on_time_promised"] == pytest.approx(1 / 3)
    assert overall["on_time_statutory"] == pytest.approx(2 / 3)
    assert overall["online_share"] == pytest.approx(3 / 5)
    assert [overall[f"channel_{c}"] for c in ("online", "agent", "link", "counter")] == [1, 1, 1, 2]


def test_by_item(db: Session) -> None:
    got = run(db, "item")
    assert sorted(got) == ["QD-A", "QD-B", "QD-C"]  # 事项丁: not in force, no cases
    a, b = got["QD-A"], got["QD-B"]
    assert (a["name"], a["cases"], a["finished"], a["working_days_avg"]) == ("事项甲", 2, 2, 3.5)
    assert (a["zero_submission_items"], b["zero_submission_items"]) == (1, 0)
    assert (b["cases"], b["fields_typed"], b["overdue"], b["finished"]) == (1, 1, 1, 0)
    assert b["working_days_avg"] is None and b["on_time_promised"] is None
    assert (a["ratings"], a["stars_avg"], a["bad_ratings"]) == (2, 3.0, 1)
    assert (a["online_share"], b["online_share"], got["QD-C"]["online_share"]) == (1.0, 0.0, 0.5)


def test_the_range_and_no_catalogue(db: Session) -> None:
    everything = run(db, "all", since=None, until=None, catalogue=None)["all"]
    assert everything["cases"] == 7  # the draft is never counted
    assert everything["items"] == 0 and everything["zero_submission_items"] == 0
    late = run(db, "domain", since=date(2025, 10, 1), until=None, catalogue=None)
    assert {k: v["cases"] for k, v in late.items()} == {"health": 2, "market": 1}
    assert late["market"]["name"] == "market"  # named by code without a catalogue
    assert run(db, "domain", since=date(2026, 1, 1), catalogue=None) == {}


def test_an_optional_field_left_empty_is_not_typed_so_the_case_needed_no_submission(
    db: Session,
) -> None:
    """A case whose values all came from the platform and whose materials were all waived is a
    zero-submission case, however many optional fields the applicant left empty."""
    before = run(db, "all")["all"]["zero_submission_cases"]
    made = case(db, A, applicant_id=credit_code(3), submitted_at=local(2025, 9, 25, 10))
    db.flush()
    field(db, made, "name", "identity", True)
    for empty in (None, ""):
        db.add(
            CaseField(
                case_id=made.id,
                field=f"note{empty!r}",
                value=empty,
                fill="typed",
                filled_value=None,
                kept=None,
            )
        )
    material(db, made, "licence", waived=True)
    db.flush()
    assert run(db, "all")["all"]["zero_submission_cases"] == before + 1
    field(db, made, "phone", "typed", None)  # now a value the applicant typed
    db.flush()
    assert run(db, "all")["all"]["zero_submission_cases"] == before
