"""What the certification pages and API read beyond ``service``'s readers: the lists behind the
dashboard's figures (the suspended and stopped included, which are payment holds), the chart
over time, a street office's visits and the overpayments a page at a time, and the plain words
a pensioner's page says. Reads only, each a grouped or paged query over indexed columns;
every decision and write (and the ledger entry of an officer's look) is ``service``'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.core.errors import Problem
from shuhui.programs.certification.config import Cycle
from shuhui.programs.certification.models import (
    Certification,
    CycleRun,
    HomeVisit,
    Overpayment,
    PaymentHold,
)
from shuhui.programs.certification.service import Standing
from shuhui.trust.ledger import service as ledger

if TYPE_CHECKING:
    from shuhui.programs.service import Library

PAGE_MAX: Final = 200
# The lists the dashboard links to, each a filter over the year's certifications or holds.
LISTS: Final[dict[str, tuple[str, str]]] = {
    "data": ("数据比对认证", "Certified by data"),
    "self": ("本人自助认证", "Certified online by the recipient"),
    "visit": ("上门认证", "Certified by a home visit"),
    "undetermined": ("待认证", "Not yet certified"),
    "suspended": ("暂停发放", "Payment suspended"),
    "stopped": ("终止发放（已死亡）", "Payment stopped (deceased)"),
}


@dataclass(frozen=True)
class Point:
    """The chart's one month: certifications made in it, by method."""

    month: str  # YYYY-MM
    data: int
    self: int
    visit: int


def over_time(db: Session, year: int | None) -> list[Point]:
    """Certifications of ``year`` by the month they were made and how (the chart over time):
    one grouped query over the year's certified rows."""
    if year is None:
        return []
    rows = db.execute(
        select(Certification.certified_on, Certification.method, func.count())
        .where(Certification.year == year, Certification.outcome == "certified")
        .where(Certification.certified_on.is_not(None))
        .group_by(Certification.certified_on, Certification.method)
    )
    months: dict[str, dict[str, int]] = {}
    for day, method, n in rows:
        if day is None:
            continue
        bucket = months.setdefault(day.strftime("%Y-%m"), {"data": 0, "self": 0, "visit": 0})
        if method in bucket:
            bucket[method] += int(n)
    return [Point(m, v["data"], v["self"], v["visit"]) for m, v in sorted(months.items())]


def run_on(db: Session, day: date) -> CycleRun | None:
    return db.scalar(select(CycleRun).where(CycleRun.run_on == day))


def run_by_id(db: Session, run_id: int) -> CycleRun | None:
    return db.get(CycleRun, run_id)


# --- the lists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of a list: the certification, and the hold on the pension if any."""

    cert: Certification
    hold: PaymentHold | None


def listing(
    db: Session, which: str, year: int | None, *, offset: int = 0, limit: int = 50
) -> tuple[list[Row], int]:
    """The certifications behind one of the dashboard's figures (``LISTS``), by citizen ID.
    The suspended and stopped are the holds as they stand, whatever year began them."""
    if which not in LISTS:
        raise Problem("not-found", detail=f"没有名为 {which} 的名单")
    limit = max(1, min(limit, PAGE_MAX))
    if which in ("suspended", "stopped"):
        q = (
            select(Certification, PaymentHold)
            .join(PaymentHold, PaymentHold.certification_id == Certification.id)
            .where(PaymentHold.status == which)
        )
    else:
        q = select(Certification, PaymentHold).outerjoin(
            PaymentHold, PaymentHold.certification_id == Certification.id
        )
        if which == "undetermined":
            q = q.where(Certification.outcome == "undetermined")
        else:
            q = q.where(Certification.outcome == "certified", Certification.method == which)
        if year is not None:
            q = q.where(Certification.year == year)
    total = int(db.scalar(select(func.count()).select_from(q.subquery())) or 0)
    rows = db.execute(q.order_by(Certification.citizen_id).offset(offset).limit(limit)).all()
    return [Row(c, h) for c, h in rows], total


def latest(db: Session, citizen_id: str) -> Certification:
    """A recipient's latest certification; one the certification never saw is a 404."""
    found = db.scalar(
        select(Certification)
        .where(Certification.citizen_id == citizen_id)
        .order_by(Certification.year.desc())
        .limit(1)
    )
    if found is None:
        raise Problem("not-found", detail=f"没有养老保险待遇领取人 {citizen_id} 的认证记录")
    return found


# --- the street office's visits and the overpayments -------------------------------------------


def visits(
    db: Session,
    department: str | None,
    status: str | None = "open",
    *,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[HomeVisit], int]:
    """The home visits asked of ``department`` (a street office), the earliest due first."""
    if not department:
        return [], 0
    q = select(HomeVisit).where(HomeVisit.department == department)
    if status:
        q = q.where(HomeVisit.status == status)
    total = int(db.scalar(select(func.count()).select_from(q.subquery())) or 0)
    rows = db.scalars(
        q.order_by(HomeVisit.due_on, HomeVisit.id).offset(offset).limit(min(limit, PAGE_MAX))
    )
    return list(rows), total


def count_open_visits(db: Session, department: str | None) -> int:
    if not department:
        return 0
    return int(
        db.scalar(
            select(func.count())
            .select_from(HomeVisit)
            .where(HomeVisit.department == department, HomeVisit.status == "open")
        )
        or 0
    )


def overpayments(
    db: Session, status: str | None = "open", *, offset: int = 0, limit: int = 50
) -> tuple[list[Overpayment], int]:
    q = select(Overpayment)
    if status:
        q = q.where(Overpayment.status == status)
    total = int(db.scalar(select(func.count()).select_from(q.subquery())) or 0)
    rows = db.scalars(q.order_by(Overpayment.id).offset(offset).limit(min(limit, PAGE_MAX)))
    return list(rows), total


def count_open_overpayments(db: Session) -> int:
    return int(
        db.scalar(select(func.count()).select_from(Overpayment).where(Overpayment.status == "open"))
        or 0
    )


def count_undetermined(db: Session, year: int) -> int:
    """The recipients of ``year`` not yet certified (the department's to-do)."""
    return int(
        db.scalar(
            select(func.count())
            .select_from(Certification)
            .where(Certification.year == year, Certification.outcome == "undetermined")
        )
        or 0
    )


# --- in plain words ------------------------------------------------------------------------------


def source_names(cycle: Cycle, codes: list[str]) -> list[tuple[str, str]]:
    """The sources that counted, by their names (zh, en), in the cycle's order."""
    out = []
    for code in codes:
        found = cycle.source(code)
        out.append((found.name_zh, found.name_en) if found else (code, code))
    return out


def plain_words(standing: Standing, cycle: Cycle) -> tuple[str, str]:
    """What the data showed, as the pensioner's page says it (zh, en)."""
    c = standing.current
    if c is None:
        return ("您目前没有需要认证的养老保险待遇。", "You draw no pension that needs certifying.")
    names = source_names(cycle, list(c.evidence))
    if c.outcome == "certified" and c.method == "data":
        zh = "、".join(n for n, _ in names) or "生存信息"
        en = ", ".join(e for _, e in names) or "signs of life"
        return (
            f"系统在 {c.evaluated_on.isoformat()} 比对到您近期的{zh}，"
            f"已自动完成{c.year}年度认证，您无需办理任何手续。",
            f"On {c.evaluated_on.isoformat()} the data showed your {en}: your {c.year} "
            "certification is done and you need do nothing.",
        )
    if c.outcome == "certified" and c.method == "self":
        return (
            f"您已于 {_day(c.certified_on)} 签署本人声明，完成{c.year}年度认证。",
            f"You signed your declaration on {_day(c.certified_on)}: {c.year} is certified.",
        )
    if c.outcome == "certified":
        return (
            f"街道工作人员已于 {_day(c.certified_on)} 上门确认，完成{c.year}年度认证。",
            f"A street office visited you on {_day(c.certified_on)}: {c.year} is certified.",
        )
    if c.outcome == "undetermined":
        return (
            f"截至 {c.evaluated_on.isoformat()}，系统没有比对到您近期的就医、乘车等生存信息"
            "（没有比对到不代表有问题，只是数据不足）。请在认证期内本人签署声明完成认证。",
            f"As of {c.evaluated_on.isoformat()} the data showed no recent sign of life "
            "(medical visits, trips…). That is no fault of yours: certify yourself below.",
        )
    return (
        "根据死亡或火化登记，养老金已停止发放。如信息有误，请联系市人力资源和社会保障局。",
        "A death or cremation is recorded: payment has stopped. If this is wrong, contact the "
        "HR and social security bureau.",
    )


def _day(value: date | None) -> str:
    return value.isoformat() if value else "—"


@dataclass(frozen=True)
class Whom:
    """What a street office needs to find a pensioner at home."""

    name: str
    address: str


VISIT_PURPOSE: Final = "养老保险待遇资格认证上门核实（人社厅发〔2018〕54号）"


def whom_to_visit(
    db: Session, library: Library, citizen_ids: Sequence[str], *, actor: str
) -> dict[str, Whom]:
    """The name and home address of each person an open visit is for, from the population
    register (``residents`` and their ``households``). The street office reads personal data
    to do the visit: one ``certification.visit_read`` entry per person, in the request's
    transaction, so each person sees it at 谁用了我的数据."""
    wanted = sorted(set(citizen_ids))
    if not wanted:
        return {}
    with library.connection() as con:
        rows = con.execute(
            "SELECT r.citizen_id, r.name, h.address FROM residents r"
            " LEFT JOIN households h ON h.household_id = r.household_id"
            " WHERE list_contains($ids, r.citizen_id)",
            {"ids": wanted},
        ).fetchall()
    found = {str(c): Whom(str(n), str(a or "")) for c, n, a in rows}
    for citizen_id in found:
        ledger.record(
            db,
            actor,
            "certification.visit_read",
            subject=citizen_id,
            purpose=VISIT_PURPOSE,
            detail={"read": ["name", "address"]},
        )
    return found
