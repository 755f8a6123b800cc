"""事后自动反馈: when an HR & social-security case ends, its result is pushed to the applicant —
a message in their 站内消息 (and the SMS gateway) saying how it ended, with a button to the case.

Approval calls :func:`case_finished` in the transaction that ends the case
(``approval.journal.on_case_finished``), so the message exists exactly if the ending does. A
case that is part of a one-thing bundle is told by the bundle's one notice instead
(``bundle_cases``), never twice; a case withdrawn by its applicant is not told back to them.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.approval.journal import on_case_finished
from shuhui.hrss.models import BundlePart
from shuhui.programs import messages
from shuhui.trust.ledger import service as ledger

DOMAIN: Final = "hr"  # the approval domain of HR & social-security items
ENDINGS: Final = {
    "issued": "已办结",
    "rejected": "未予办理",
}


def case_finished(db: Session, case: Any) -> None:
    if case.domain != DOMAIN or case.state not in ENDINGS:
        return
    if db.scalar(select(BundlePart.id).where(BundlePart.case_code == case.code)) is not None:
        return  # the bundle's one notice tells it
    ending = ENDINGS[case.state]
    body = f"您申请的“{case.item_name}”（办件编号 {case.code}）{ending}。"
    if case.state == "rejected" and case.decision_reason:
        body += f"理由：{case.decision_reason}。"
    if case.licence_no:
        body += f"电子证照 {case.licence_no} 已签发，可在办件页面下载。"
    messages.send(
        db,
        case.applicant_id,
        f"您的“{case.item_name}”{ending}",
        body,
        link=(f"/approval/cases/{case.code}", "查看办件"),
    )
    ledger.record(
        db,
        "system:hrss",
        "hrss.result_sent",
        subject=case.applicant_id,
        purpose=f"{case.item_name}办结告知",
        detail={"case": case.code, "state": case.state},
    )


def listen() -> None:
    """Registers :func:`case_finished` with approval (the app factory calls it)."""
    on_case_finished("hrss.feedback", case_finished)
