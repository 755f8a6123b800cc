"""Pension certification on the workbench: the implementing department's recipients not yet
certified and overpayments to recover, a street office's home visits, and a pensioner's own
certification waiting on them. Counts only, each one indexed query."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.core.errors import Problem
from shuhui.core.workbench import Todo
from shuhui.programs.certification import views
from shuhui.programs.certification.models import Certification
from shuhui.programs.certification.routes import RULE, STREET_OFFICE
from shuhui.programs.service import Library
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role


def _department(library: Library) -> str | None:
    """The department that runs the certification (its rule's), None without the rule."""
    try:
        return library.rule(RULE).department
    except Problem:
        return None


def _own_waiting(db: Session, citizen_id: str | None) -> int:
    """1 when the person's latest certification waits on them (undetermined), else 0."""
    if not citizen_id:
        return 0
    latest = db.scalar(
        select(Certification.outcome)
        .where(Certification.citizen_id == citizen_id)
        .order_by(Certification.year.desc())
        .limit(1)
    )
    return 1 if latest == "undetermined" else 0


def _latest_year(db: Session) -> int | None:
    found = db.scalar(select(func.max(Certification.year)))
    return int(found) if found is not None else None


def todos(db: Session, user: User, *, library: Library) -> list[Todo]:
    out: list[Todo] = []
    roles = user.role_set
    if Role.citizen in roles and (waiting := _own_waiting(db, user.citizen_id)):
        out.append(
            Todo(
                "certification.mine",
                "请完成养老金资格认证",
                "Certify your pension",
                waiting,
                "/hrss/certification/mine",
                "数据暂未比对到您的生存信息，请本人签署声明完成本年度认证",
                "The data showed no sign of life this year: sign your declaration",
                urgent=True,
            )
        )
    if Role.officer not in roles:
        return out
    if (user.department or "").endswith(STREET_OFFICE):
        visits = views.count_open_visits(db, user.department)
        out.append(
            Todo(
                "certification.visits",
                "待上门的资格认证",
                "Home visits to make",
                visits,
                "/hrss/certification/visits",
                "临近认证期满仍未认证的养老金领取人，请上门核实",
                "Pensioners near the end of their window, not yet certified",
                urgent=visits > 0,
            )
        )
    elif user.department and user.department == _department(library):
        year = _latest_year(db)
        out += [
            Todo(
                "certification.undetermined",
                "待认证的养老金领取人",
                "Pensioners not yet certified",
                views.count_undetermined(db, year) if year is not None else 0,
                "/hrss/certification/lists/undetermined",
                "数据比对不到生存信息的领取人：已提醒本人，临近期满派街道上门",
                "No evidence found: told, and visited near the window's end",
            ),
            Todo(
                "certification.overpayments",
                "待追回的死亡后多发养老金",
                "Overpayments after death to recover",
                views.count_open_overpayments(db),
                "/hrss/certification/overpayments",
                "比对到死亡信息后核定的多发金额，登记追回情况",
                "Paid after a recorded death: record what is recovered",
            ),
        ]
    return out
