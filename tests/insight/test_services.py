"""The services map (政务服务一张图): each indicator, read through the insight engine, equals a
count made by hand over the operational database (and, for the items online, over the content):
items online, the online share, fields and materials spared, cases finished by their promised
date, good ratings, reminders sent and taken up; with a month or a district asked, Qingdao's
local dates where UTC would get them wrong, and a figure about people withheld below k.

Cases, ratings, reminders and filings are made as rows (as ``tests/approval/test_metrics.py``
does), their applicants real residents and an enterprise of the small city, so each lands in the
district the registers name; one test runs a real reminder and a real filing through the
services."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from shuhui.approval.models import Case, CaseField, CaseMaterial, Rating
from shuhui.core.clock import SHANGHAI
from shuhui.core.db import transaction
from shuhui.core.display import mask_citizen_id
from shuhui.core.errors import Problem
from shuhui.core.suppression import K_MIN
from shuhui.datacore.store import DataCore
from shuhui.hrss import reminders
from shuhui.hrss.models import BundleCase, Reminder
from shuhui.insight import engine, service
from shuhui.insight.engine import Figure, Scope
from tests.approval.made_cases import case, item
from tests.hrss.test_bundles import file_retirement
from tests.hrss.test_reminders import a_day_with_someone, library_of
from tests.programs.conftest import resident

TODAY = date(2025, 11, 3)  # a Monday
HRSS = "青岛市人力资源和社会保障局"
HEALTH = "青岛市卫生健康委员会"
ONLINE = ("online", "agent", "link")
OCTOBER = Scope(start=date(2025, 10, 1), end=date(2025, 10, 1))
PERSON_HR = item("QD-T-HR", department=HRSS, holder="person", issues=None)
PERSON_HEALTH = item("QD-T-HE", department=HEALTH, holder="person", issues=None)
FIRM_HR = item("QD-T-EN", department=HRSS, holder="enterprise", issues=None)


def local(*parts: int) -> datetime:
    """A moment in Qingdao, as the UTC time the database keeps."""
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


def month_range(month: date) -> tuple[datetime, datetime]:
    """A local month's first and next month's first moments."""
    after = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return local(month.year, month.month, 1), local(after.year, after.month, 1)


@dataclass(frozen=True)
class City:
    """Applicants of the small city, with the districts the registers give them."""

    districts: dict[str, str]  # applicant → district code
    a: str  # a resident
    b: str  # a resident of another district
    firm: str  # an enterprise
    others: list[str]  # more residents, for the reminders

    def of(self, district: str) -> list[str]:
        return [who for who, d in self.districts.items() if d == district]


def applicants(app: FastAPI) -> City:
    """Residents of two districts and an enterprise of the small city, with more residents."""
    core = DataCore.from_settings(app.state.settings)
    people = core.sql(
        "SELECT citizen_id, district_code FROM residents WHERE district_code IS NOT NULL "
        "ORDER BY citizen_id LIMIT 60"
    ).to_pylist()
    firms = core.sql(
        "SELECT credit_code, district_code FROM enterprises WHERE district_code IS NOT NULL "
        "ORDER BY credit_code LIMIT 1"
    ).to_pylist()
    a = people[0]
    b = next(p for p in people if p["district_code"] != a["district_code"])
    districts = {str(p["citizen_id"]): str(p["district_code"]) for p in people}
    districts[str(firms[0]["credit_code"])] = str(firms[0]["district_code"])
    rest = [str(p["citizen_id"]) for p in people if p not in (a, b)]
    return City(
        districts, str(a["citizen_id"]), str(b["citizen_id"]), firms[0]["credit_code"], rest
    )


@pytest.fixture
def city(city_app: FastAPI) -> City:
    return applicants(city_app)


def read(app: FastAPI, code: str, scope: Scope | None = None) -> Figure:
    """The figure as pages show it, computed afresh (rows made here write no ledger entry)."""
    engine.forget()
    settings = app.state.settings
    with transaction(app.state.session_factory) as db:
        found = service.Reader(settings, db, TODAY).outcome(
            service.indicator(settings, code), scope or Scope()
        )
    assert found.problem is None, found.problem
    assert found.figure is not None
    return found.figure


def scalar(app: FastAPI, query: Any) -> int:
    with transaction(app.state.session_factory) as db:
        return int(db.scalar(query) or 0)


# --- the cases ----------------------------------------------------------------------------------


def field(
    db: Session, made: Case, name: str, fill: str, kept: bool | None, value: Any = "v"
) -> None:
    db.add(
        CaseField(
            case_id=made.id,
            field=name,
            value=value,
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
            certificate_type="居民身份证" if waived else None,
            sha256=None if waived else "0" * 64,
            updated_at=local(2025, 9, 25, 10),
        )
    )


def rating(db: Session, made: Case, stars: int, at: datetime) -> None:
    db.add(
        Rating(
            case_id=made.id,
            department=made.department,
            stars=stars,
            comment="",
            rated_by="someone",
            rated_at=at,
        )
    )


def make_cases(app: FastAPI, city: City) -> None:
    with transaction(app.state.session_factory) as db:

        def add(service_item: Any, who: str, submitted: datetime | None, **columns: Any) -> Case:
            kind = "enterprise" if service_item is FIRM_HR else "person"
            made = case(
                db,
                service_item,
                applicant_id=who,
                applicant_kind=kind,
                applicant_name="申请人",
                submitted_at=submitted,
                **columns,
            )
            if submitted is None:
                made.submitted_at = None
            return made

        # Online, issued two days before its promised date; two fields kept, one typed; one
        # material waived, one uploaded; rated 5 stars.
        c1 = add(
            PERSON_HR,
            city.a,
            local(2025, 9, 10, 10),
            state="issued",
            channel="online",
            accepted_at=local(2025, 9, 10, 11),
            promised_due=date(2025, 9, 17),
            issued_at=local(2025, 9, 15, 16),
        )
        field(db, c1, "name", "identity", True)
        field(db, c1, "employer", "shared", True)
        field(db, c1, "phone", "typed", None)
        material(db, c1, "id", waived=True)
        material(db, c1, "photo", waived=False)
        rating(db, c1, 5, local(2025, 10, 11, 9))
        # At the window, rejected after its promised date; the offer changed (typed), an
        # optional field left empty (neither); rated 2 stars (bad).
        c2 = add(
            PERSON_HEALTH,
            city.b,
            local(2025, 10, 9, 9),
            state="rejected",
            channel="counter",
            accepted_at=local(2025, 10, 9, 10),
            promised_due=date(2025, 10, 15),
            decided_at=local(2025, 10, 20, 10),
        )
        field(db, c2, "address", "history", False)
        field(db, c2, "note", "typed", None, value="")
        material(db, c2, "id", waived=True)
        rating(db, c2, 2, local(2025, 10, 21, 9))
        # Over the enterprise direct link; accepted, due tomorrow: due soon.
        c3 = add(
            FIRM_HR,
            city.firm,
            local(2025, 10, 12, 9),
            state="accepted",
            channel="link",
            accepted_at=local(2025, 10, 13, 9),
            promised_due=date(2025, 11, 4),
        )
        field(db, c3, "name", "identity", True)
        # By an agent; under review past its promised date: overdue.
        c4 = add(
            PERSON_HEALTH,
            city.a,
            local(2025, 10, 20, 9),
            state="review",
            channel="agent",
            accepted_at=local(2025, 10, 20, 10),
            promised_due=date(2025, 10, 31),
        )
        material(db, c4, "id", waived=False)
        # Waiting for a correction: open, its clock stopped.
        add(
            PERSON_HR,
            city.b,
            local(2025, 10, 22, 9),
            state="correction",
            channel="online",
            accepted_at=local(2025, 10, 22, 10),
            promised_due=date(2025, 10, 30),
        )
        # A draft (never filed) and a case withdrawn.
        add(PERSON_HR, city.a, None, state="draft", channel="online")
        add(PERSON_HR, city.b, local(2025, 9, 1, 9), state="withdrawn", channel="counter")
        # Issued at 00:30 on 1 November in Qingdao (31 October in UTC), the day after its
        # promised date: late, and finished in November; rated at 07:00 on 1 November in
        # Qingdao (still 31 October in UTC): a November rating.
        c8 = add(
            PERSON_HR,
            city.a,
            local(2025, 10, 2, 9),
            state="issued",
            channel="online",
            accepted_at=local(2025, 10, 2, 10),
            promised_due=date(2025, 10, 31),
            issued_at=local(2025, 11, 1, 0, 30),
        )
        rating(db, c8, 4, local(2025, 11, 1, 7))


def share(app: FastAPI, part: Any, whole: Any) -> float:
    n = scalar(app, whole)
    assert n > 0
    return scalar(app, part) / n * 100


def test_items_online_are_the_catalogue_in_force_per_department(city_app: FastAPI) -> None:
    path = Path(city_app.state.settings.city_content) / "service-items.yaml"
    per: Counter[str] = Counter()
    for raw in yaml.safe_load(path.read_text(encoding="utf-8"))["items"]:
        ends = raw.get("valid_to")
        if raw["valid_from"] <= TODAY and (ends is None or ends >= TODAY):
            per[raw["department"]] += 1
    shown = read(city_app, "items-online")
    assert shown.value == sum(per.values()) > 0
    assert {c.key: c.value for c in shown.by_group} == dict(per)
    assert shown.start is None and shown.by_district == ()  # a stock, for the whole city


def test_online_share_counts_online_agent_and_link_over_all_filed(
    city_app: FastAPI, city: City
) -> None:
    make_cases(city_app, city)
    filed = Case.submitted_at.is_not(None)
    online = Case.channel.in_(ONLINE)
    count = select(func.count()).select_from(Case)
    everything = read(city_app, "online-share")
    assert everything.value == pytest.approx(
        share(city_app, count.where(filed, online), count.where(filed))
    )
    assert everything.end == date(2025, 10, 1)  # the latest month filed
    first, after = month_range(date(2025, 10, 1))
    in_october = and_(filed, Case.submitted_at >= first, Case.submitted_at < after)
    october = read(city_app, "online-share", OCTOBER)
    assert october.value == pytest.approx(
        share(city_app, count.where(in_october, online), count.where(in_october))
    )
    # Four of five filed in October came online; September's two were half online.
    assert october.value == pytest.approx(80.0)
    assert october.previous == pytest.approx(50.0)
    mine = Case.applicant_id.in_(city.of(city.districts[city.b]))
    in_b = read(city_app, "online-share", Scope(district=city.districts[city.b]))
    assert in_b.value == pytest.approx(
        share(city_app, count.where(filed, online, mine), count.where(filed, mine))
    )
    by_department = {c.key: c.value for c in everything.by_group}
    health = Case.department == HEALTH
    assert by_department[HEALTH] == pytest.approx(
        share(city_app, count.where(filed, online, health), count.where(filed, health))
    )


def test_fields_and_materials_spared_are_kept_offers_and_waived_materials(
    city_app: FastAPI, city: City
) -> None:
    make_cases(city_app, city)
    filed = Case.submitted_at.is_not(None)
    with transaction(city_app.state.session_factory) as db:
        given = db.execute(
            select(CaseField.fill, CaseField.kept, CaseField.value)
            .join(Case, Case.id == CaseField.case_id)
            .where(filed)
        ).all()
    spared = sum(1 for fill, kept, _ in given if fill != "typed" and kept is True)
    typed = sum(
        1
        for fill, kept, value in given
        if kept is False or (fill == "typed" and value not in (None, ""))
    )
    assert (spared, typed) == (3, 2)  # the empty optional field counts in neither
    assert read(city_app, "fields-spared").value == pytest.approx(spared / (spared + typed) * 100)

    materials = (
        select(func.count())
        .select_from(CaseMaterial)
        .join(Case, Case.id == CaseMaterial.case_id)
        .where(filed)
    )
    waived = scalar(city_app, materials.where(CaseMaterial.waived.is_(True)))
    uploaded = scalar(
        city_app, materials.where(CaseMaterial.waived.is_(False), CaseMaterial.sha256.is_not(None))
    )
    assert (waived, uploaded) == (2, 2)
    assert read(city_app, "materials-spared").value == pytest.approx(50.0)
    first, after = month_range(date(2025, 10, 1))
    october = materials.where(Case.submitted_at >= first, Case.submitted_at < after)
    w = scalar(city_app, october.where(CaseMaterial.waived.is_(True)))
    n = scalar(city_app, october)
    assert read(city_app, "materials-spared", OCTOBER).value == pytest.approx(w / n * 100)


def test_finished_in_time_is_by_the_local_month_finished(city_app: FastAPI, city: City) -> None:
    make_cases(city_app, city)
    with transaction(city_app.state.session_factory) as db:
        done = [
            (c.issued_at or c.decided_at, c.promised_due, c.applicant_id)
            for c in db.scalars(select(Case).where(Case.state.in_(("issued", "rejected"))))
        ]

    def by_hand(month: date | None = None, who: list[str] | None = None) -> float:
        ended = [
            (at.astimezone(SHANGHAI).date(), due)
            for at, due, applicant in done
            if at is not None and (who is None or applicant in who)
        ]
        if month is not None:
            ended = [(day, due) for day, due in ended if day.replace(day=1) == month]
        return sum(1 for day, due in ended if due is not None and day <= due) / len(ended) * 100

    whole = read(city_app, "finished-in-time")
    assert whole.end == date(2025, 11, 1)  # issued at 00:30 on 1 November, Qingdao's time
    assert whole.value == pytest.approx(by_hand()) and by_hand() == pytest.approx(100 / 3)
    assert read(city_app, "finished-in-time", OCTOBER).value == pytest.approx(
        by_hand(date(2025, 10, 1))
    )
    assert by_hand(date(2025, 10, 1)) == 0.0  # October's one case finished late
    district = city.districts[city.a]
    assert read(city_app, "finished-in-time", Scope(district=district)).value == pytest.approx(
        by_hand(who=city.of(district))
    )


def test_good_ratings_are_three_stars_and_more_by_the_local_month_rated(
    city_app: FastAPI, city: City
) -> None:
    make_cases(city_app, city)
    ratings = select(func.count()).select_from(Rating)
    good = ratings.where(Rating.stars >= 3)
    assert read(city_app, "good-ratings").value == pytest.approx(share(city_app, good, ratings))
    first, after = month_range(date(2025, 10, 1))
    october = and_(Rating.rated_at >= first, Rating.rated_at < after)
    shown = read(city_app, "good-ratings", OCTOBER)
    assert shown.value == pytest.approx(
        share(city_app, good.where(october), ratings.where(october))
    )
    assert shown.value == pytest.approx(50.0)  # 5 and 2 stars; the 4 is November's in Qingdao
    health = {c.key: c.value for c in shown.by_group}[HEALTH]
    assert health == 0.0


# --- the reminders --------------------------------------------------------------------------


def make_reminders(app: FastAPI, city: City) -> None:
    """25 reminded in October (13 then file the bundle, one filed it before the reminder, one of
    a kind no longer in the content), 3 in September."""
    people = city.others[:28]

    def remind(db: Session, who: str, at: datetime, kind: str = "retirement") -> None:
        db.add(
            Reminder(
                reminder=kind,
                recipient=who,
                due=date(2026, 1, 1),
                rule=f"reminder-{kind}",
                evaluated_on=at.date(),
                message_id=0,
                sent_at=at,
            )
        )

    def filing(db: Session, n: int, who: str, at: datetime) -> None:
        db.add(
            BundleCase(
                code=f"YJS-20251001-{n:06d}",
                bundle="retirement",
                bundle_name="退休一件事",
                applicant_id=who,
                created_by="someone",
                form={},
                filed_at=at,
            )
        )

    with transaction(app.state.session_factory) as db:
        for n, who in enumerate(people[:24]):
            remind(db, who, local(2025, 10, 5, 10))
            if n < 13:
                filing(db, n, who, local(2025, 10, 8, 10))
        filing(db, 99, people[20], local(2025, 10, 1, 10))  # before the reminder
        remind(db, people[0], local(2025, 10, 6, 10), kind="gone")
        for who in people[24:27]:
            remind(db, who, local(2025, 9, 15, 10))


def taken_up() -> Any:
    return exists().where(
        BundleCase.applicant_id == Reminder.recipient,
        BundleCase.bundle == "retirement",
        BundleCase.filed_at >= Reminder.sent_at,
    )


def test_reminders_sent_and_taken_up_by_month(city_app: FastAPI, city: City) -> None:
    make_reminders(city_app, city)
    first, after = month_range(date(2025, 10, 1))
    count = select(func.count()).select_from(Reminder)
    october = and_(Reminder.sent_at >= first, Reminder.sent_at < after)
    sent = read(city_app, "reminders-sent", OCTOBER)
    assert sent.value == scalar(city_app, count.where(october)) == 25
    assert read(city_app, "reminders-sent").value == scalar(city_app, count) == 28

    known = Reminder.reminder == "retirement"
    taken = scalar(city_app, count.where(october, known, taken_up()))
    reminded = scalar(city_app, count.where(october, known))
    assert (taken, reminded) == (13, 24)
    shown = read(city_app, "reminders-taken-up", OCTOBER)
    assert not shown.withheld
    assert shown.value == pytest.approx(taken / reminded * 100)
    # September's three: fewer than k people, withheld (not shown as 0).
    september = read(city_app, "reminders-taken-up", Scope(date(2025, 9, 1), date(2025, 9, 1)))
    assert september.value is None and september.withheld


def test_a_district_of_few_reminded_people_is_withheld(city_app: FastAPI, city: City) -> None:
    make_reminders(city_app, city)
    per_district = Counter(city.districts[who] for who in city.others[:24])
    for district, n in per_district.items():
        shown = read(city_app, "reminders-sent", Scope(OCTOBER.start, OCTOBER.end, district))
        people = city.of(district)
        by_hand = scalar(
            city_app,
            select(func.count())
            .select_from(Reminder)
            .where(
                Reminder.recipient.in_(people),
                Reminder.sent_at >= month_range(date(2025, 10, 1))[0],
                Reminder.sent_at < month_range(date(2025, 10, 1))[1],
            ),
        )
        assert by_hand >= n
        if by_hand < K_MIN:
            assert shown.value is None and shown.withheld
        else:
            assert shown.value == by_hand


def test_the_list_of_those_not_taken_up_is_the_bureaus_and_masked(
    city_app: FastAPI, city: City
) -> None:
    make_reminders(city_app, city)
    settings = city_app.state.settings
    ind = service.indicator(settings, "reminders-taken-up")
    engine.forget()
    with transaction(city_app.state.session_factory) as db:
        reader = service.Reader(settings, db, TODAY)
        with pytest.raises(Problem):
            service.listing(
                reader, ind, OCTOBER, actor="user:x", department=HEALTH, is_officer=True
            )
        found = service.listing(
            reader, ind, OCTOBER, actor="user:officer", department=HRSS, is_officer=True
        )
    assert found.personal and found.total == 24 - 13
    shown = {r["recipient"] for r in found.rows}
    assert shown == {mask_citizen_id(who) for who in city.others[13:24]}
    assert all("*" in r["recipient"] for r in found.rows)


def test_a_real_reminder_and_a_real_filing_are_taken_up(city_app: FastAPI) -> None:
    """Through the services: the rule reminds people, one files the bundle from the message's
    button; the kept facts say so (the figure itself, of fewer than k, is withheld)."""
    day, found = a_day_with_someone(city_app)
    with transaction(city_app.state.session_factory) as db:
        ran = reminders.run(
            db, library_of(city_app), reminders.kind_of("retirement"), day, actor="officer"
        )
    file_retirement(city_app, resident(city_app, "reminded", found[0]))

    engine.forget()
    settings = city_app.state.settings
    with transaction(city_app.state.session_factory) as db:
        reader = service.Reader(settings, db, date.today())
        kept = reader.computed(service.indicator(settings, "reminders-taken-up")).facts
    assert sum(f.value for f in kept) == 1
    assert sum(f.base or 0 for f in kept) == ran.sent == len(found)
