"""What people do with their social-insurance record: read it, and get a certificate of it.

Who may. A person reads their own record (the account's bound citizen ID) and asks for their
own 参保证明; reading it is their own business and writes no ledger entry, as reading one's own
messages does not. An officer of a department the document names as a reader (``readers`` in
``hrss/documents.yaml``) reads anyone's record and issues their certificate at the counter,
always with a purpose: each such read is an ``hrss.record_viewed`` entry, each certificate an
``hrss.certificate_issued`` entry and an officer's look at one an ``hrss.certificate_read``
entry, so the person sees them under 谁用了我的数据. Anyone else
gets a 404 for another person's certificate and a 403 for the record: the refusal does not
say whether the person exists.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from shuhui.approval.lookups import Lookups
from shuhui.core.clock import local_today
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.hrss import certificates, records
from shuhui.hrss.models import InsuredCertificate
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger import service as ledger


def own_citizen_id(user: User) -> str:
    """The citizen ID the account acts as, or a clear refusal."""
    if Role.citizen not in user.role_set or not user.citizen_id:
        raise Problem(
            "forbidden",
            detail=Text(
                "本账户未绑定公民身份号码，无法查询个人社保记录",
                "this account has no citizen ID bound to it",
            ),
        )
    return user.citizen_id


def check_officer(user: User, city_content: Path | None) -> certificates.DocumentKind:
    """The officer may read others' records: a department the city's content names."""
    kind = certificates.document_kind(local_today(), city_content)
    if Role.officer not in user.role_set or user.department not in kind.readers:
        raise Problem(
            "forbidden",
            detail=Text(
                "只有人社部门的工作人员可以查询他人的社保记录",
                "only HR & social-security officers read other people's records",
            ),
        )
    return kind


def _month(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return certificates.month_start(text)
    except ValueError:
        raise Problem(
            "validation", errors=[FieldError(field, Text("应写成“年-月”", "YYYY-MM"))]
        ) from None


def period_of(months_from: str | None, months_to: str | None) -> tuple[date | None, date | None]:
    start, end = _month(months_from, "months_from"), _month(months_to, "months_to")
    if start is not None and end is not None and start > end:
        raise Problem(
            "validation",
            errors=[
                FieldError("months_from", Text("起始月份不能晚于截止月份", "starts after it ends"))
            ],
        )
    return start, end


def my_record(
    lookups: Lookups, user: User, months_from: str | None = None, months_to: str | None = None
) -> records.Record:
    start, end = period_of(months_from, months_to)
    return records.read_record(lookups, own_citizen_id(user), start=start, end=end)


def officer_record(
    db: Session,
    lookups: Lookups,
    user: User,
    citizen_id: str,
    *,
    purpose: str,
    months_from: str | None = None,
    months_to: str | None = None,
    city_content: Path | None = None,
) -> records.Record:
    check_officer(user, city_content)
    start, end = period_of(months_from, months_to)
    record = records.read_record(lookups, citizen_id, start=start, end=end)
    ledger.record(
        db,
        user.username,
        "hrss.record_viewed",
        subject=citizen_id,
        purpose=purpose,
        detail={
            "department": user.department or "",
            "found": record.known,
            "versions": {s.table: s.version for s in record.sources},
        },
    )
    return record


def issue_own_certificate(
    db: Session,
    data_dir: Path,
    lookups: Lookups,
    user: User,
    *,
    months_from: str | None,
    months_to: str | None,
    city_content: Path | None = None,
) -> InsuredCertificate:
    citizen_id = own_citizen_id(user)
    start, end = period_of(months_from, months_to)
    return certificates.issue(
        db,
        data_dir,
        lookups,
        citizen_id=citizen_id,
        months_from=start,
        months_to=end,
        requested_by=user.username,
        city_content=city_content,
    )


def issue_certificate_for(
    db: Session,
    data_dir: Path,
    lookups: Lookups,
    user: User,
    *,
    citizen_id: str,
    purpose: str,
    months_from: str | None,
    months_to: str | None,
    city_content: Path | None = None,
) -> InsuredCertificate:
    """An officer issues the person's certificate (at the counter, the person present)."""
    check_officer(user, city_content)
    start, end = period_of(months_from, months_to)
    made = certificates.issue(
        db,
        data_dir,
        lookups,
        citizen_id=citizen_id,
        months_from=start,
        months_to=end,
        requested_by=user.username,
        purpose=purpose,
        city_content=city_content,
    )
    return made


def certificate_for(
    db: Session, user: User, number: str, city_content: Path | None = None
) -> InsuredCertificate:
    """A certificate its holder or a reader officer may open (the officer's look is an
    ``hrss.certificate_read`` entry); a 404 for anyone else, as for a number never issued."""
    found = certificates.get(db, number)
    if found is not None:
        if Role.citizen in user.role_set and user.citizen_id == found.citizen_id:
            return found
        if Role.officer in user.role_set:
            kind = certificates.document_kind(local_today(), city_content)
            if user.department in kind.readers:
                ledger.record(
                    db,
                    user.username,
                    "hrss.certificate_read",
                    subject=found.citizen_id,
                    purpose="officer opened a certificate of insured status",
                    detail={"number": found.number, "department": user.department or ""},
                )
                return found
    raise Problem(
        "not-found",
        detail=Text(f"证明 {number} 不存在", f"no certificate {number}"),
    )


def my_certificates(db: Session, user: User) -> list[InsuredCertificate]:
    return certificates.of_person(db, own_citizen_id(user))
