"""The department's follow-ups of bad ratings (差评整改) on an officer's workbench: how many are
open, urgent (the applicant who rated badly waits for the department's answer). A follow-up is
the exception, not a queue every officer keeps: the card shows only while one is open (the
approval workbench's own panel says when there is none). One indexed COUNT
(``ratings.count_open_followups``); the queue's cards are ``workbench``'s."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shuhui.approval.ratings import count_open_followups
from shuhui.core.workbench import Todo
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

FOLLOWUPS = "/approval/workbench#followups"


def todos(db: Session, user: User) -> list[Todo]:
    if Role.officer not in user.role_set or not user.department:
        return []
    n = count_open_followups(db, user)
    if n == 0:
        return []
    return [
        Todo(
            "approval.followups",
            "待整改的差评",
            "Bad ratings to follow up",
            n,
            FOLLOWUPS,
            "申请人给了差评，请核实并答复",
            "An applicant rated a case badly: look into it and answer",
            urgent=True,
        )
    ]
