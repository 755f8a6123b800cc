"""One enterprise, one file (一企一档): the enterprise as the city's data knows it, in one view.

Assembled on request from the data core through the approval domain's key indexes (each part a
keyed read that names its table and version): the registration, staff and insured headcount
month by month (``monthly``), tax and electricity by month, e-certificates, the platforms that
enabled it; and from the platform's own services: the policies offered to it and granted, its
approval cases, the alarms at its monitored sites. The enterprise reads its own file freely; an
officer states a purpose and each look is a ledger entry about the enterprise (which it sees
under 谁用了我的数据). The CLI gives the same file as JSON for an operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from shuhui.approval import service as approval_service
from shuhui.approval.journal import state_name
from shuhui.approval.lookups import Lookups, Rows
from shuhui.core.display import mask_citizen_id
from shuhui.core.errors import Problem
from shuhui.enterprise import monthly
from shuhui.enterprise.platforms import PlatformCatalogue
from shuhui.enterprise.schemas import ProfileLookIn
from shuhui.monitor.alarms import service as alarm_service
from shuhui.programs import recipients
from shuhui.standard import TABLES
from shuhui.trust.identity.models import User
from shuhui.trust.ledger import service as ledger

TAX: Final = "enterprise_tax"
ELECTRICITY: Final = "enterprise_electricity"
ENABLEMENTS: Final = "platform_enablements"
SPELLS: Final = "employment_spells"
SITES: Final = "infrastructure_assets"  # its monitored plants: sensors whose site it is
MONTHS: Final = 24
# The keyed reads a profile makes, prepared when the app starts.
KEYED: Final = (
    ("enterprises", ("credit_code",)),
    (TAX, ("credit_code",)),
    (ELECTRICITY, ("credit_code",)),
    (ENABLEMENTS, ("credit_code",)),
    ("e_certificates", ("holder_citizen_id", "holder_credit_code")),
    (monthly.NAME, ("credit_code",)),
    (SITES, ("site_credit_code",)),
)
# As the programs domain words a candidate's state (programs.models.CANDIDATE_STATES), for the
# states an offered candidate can be in.
OFFER_STATUS: Final = {
    "offered": "已推送待回应",
    "applied": "已补充申请待审核",
    "declined": "已谢绝",
    "granted": "已享受",
    "rejected": "不予确认",
}


# What people read a source as: the data standard's title of each table, and the derived one's.
TITLES: Final = {spec.name: spec.title for spec in TABLES} | {
    monthly.NAME: "职工与参保人数（按月汇总）"
}


@dataclass(frozen=True)
class Source:
    table: str
    version: int

    @property
    def title(self) -> str:
        return TITLES.get(self.table, self.table)

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "title": self.title, "version": self.version}


@dataclass
class Profile:
    credit_code: str
    name: str
    registration: dict[str, Any]
    headcounts: list[dict[str, Any]] = field(default_factory=list)
    tax: list[dict[str, Any]] = field(default_factory=list)
    credit_grade: str | None = None
    electricity: list[dict[str, Any]] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    enablements: list[dict[str, Any]] = field(default_factory=list)
    offers: list[dict[str, Any]] = field(default_factory=list)
    grants: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    alarms: list[dict[str, Any]] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)  # its monitored plants (监测对象编号)
    sources: list[Source] = field(default_factory=list)

    @property
    def staff(self) -> int | None:
        return int(self.headcounts[-1]["staff"]) if self.headcounts else None

    @property
    def insured(self) -> int | None:
        last = self.headcounts[-1]["insured"] if self.headcounts else None
        return None if last is None else int(last)

    def as_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, datetime | date):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [plain(v) for v in value]
            return value

        shown: dict[str, Any] = plain(
            {
                "credit_code": self.credit_code,
                "name": self.name,
                "registration": self.registration,
                "staff": self.staff,
                "insured": self.insured,
                "headcounts": self.headcounts,
                "tax": self.tax,
                "credit_grade": self.credit_grade,
                "electricity": self.electricity,
                "certificates": self.certificates,
                "enablements": self.enablements,
                "offers": self.offers,
                "grants": self.grants,
                "cases": self.cases,
                "sites": self.sites,
                "alarms": self.alarms,
                "sources": [s.as_dict() for s in self.sources],
            }
        )
        return shown


def _read(rows: Rows | None, into: list[Source]) -> tuple[dict[str, Any], ...]:
    if rows is None:
        return ()
    if rows.rows:
        into.append(Source(rows.table, rows.version))
    return rows.rows


def _recent(rows: tuple[dict[str, Any], ...], months: int = MONTHS) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: r["month"])[-months:]


def registration_of(lookups: Lookups, credit_code: str) -> dict[str, Any] | None:
    """The enterprise's register row, or None when the data core does not hold it."""
    rows = lookups.enterprise(credit_code)
    return rows.first() if rows is not None else None


def read(
    db: Session,
    lookups: Lookups,
    credit_code: str,
    catalogue: PlatformCatalogue | None = None,
) -> Profile:
    """The file of one enterprise; 404 when the data core has no such enterprise."""
    monthly.register(lookups)
    sources: list[Source] = []
    found = _read(lookups.enterprise(credit_code), sources)
    if not found:
        raise Problem("not-found", "数据底座中没有这家企业的登记信息")
    reg = found[0]
    registration = {
        "name": reg["name"],
        "status": reg["status"],
        "industry_code": reg["industry_code"],
        "industry_name": reg["industry_name"],
        "size_class": reg["size_class"],
        "registered_capital_fen": reg["registered_capital_fen"],
        "established_date": reg["established_date"],
        "deregistered_date": reg.get("deregistered_date"),
        "district_code": reg["district_code"],
        "address": reg["address"],
        "legal_rep_name": reg["legal_rep_name"],
        "legal_rep_citizen_id": mask_citizen_id(str(reg["legal_rep_citizen_id"] or "")),
    }
    profile = Profile(credit_code, str(reg["name"]), registration, sources=sources)
    profile.headcounts = [
        {
            "month": r["month"],
            "staff": int(r["staff"]),
            "insured": None if r["insured"] is None else int(r["insured"]),
            "owed_fen": max(0, int(r["due_fen"]) - int(r["paid_fen"])),
        }
        for r in _recent(_read(lookups.rows(monthly.NAME, "credit_code", credit_code), sources))
    ]
    tax = _recent(_read(lookups.rows(TAX, "credit_code", credit_code), sources))
    profile.tax = [{"month": r["month"], "tax_fen": int(r["tax_fen"])} for r in tax]
    profile.credit_grade = str(tax[-1]["credit_grade"]) if tax else None
    profile.electricity = [
        {"month": r["month"], "kwh": int(r["electricity_kwh"]), "fee_fen": int(r["fee_fen"])}
        for r in _recent(_read(lookups.rows(ELECTRICITY, "credit_code", credit_code), sources))
    ]
    profile.certificates = [
        {
            "type": r["certificate_type"],
            "number": r["certificate_no"],
            "issuer": r["issuer"],
            "issued_on": r["issue_date"],
            "status": r["status"],
        }
        for r in _read(lookups.certificates(credit_code), sources)
    ]
    for r in sorted(
        _read(lookups.rows(ENABLEMENTS, "credit_code", credit_code), sources),
        key=lambda r: r["enabled_date"],
    ):
        platform = catalogue.platform(str(r["platform_code"])) if catalogue else None
        solution = catalogue.solution(str(r["solution_code"])) if catalogue else None
        profile.enablements.append(
            {
                "platform_code": r["platform_code"],
                "platform": platform.name_zh if platform else r["platform_code"],
                "solution_code": r["solution_code"],
                "solution": solution.name_zh if solution else r["solution_code"],
                "capabilities": list(solution.capabilities) if solution else [],
                "enabled_date": r["enabled_date"],
            }
        )
    sites = sorted(
        {
            str(r["site_id"])
            for r in _read(lookups.rows(SITES, "site_credit_code", credit_code), sources)
        }
    )
    profile.sites = sites
    _platform_facts(db, profile)
    return profile


def _platform_facts(db: Session, profile: Profile) -> None:
    """What the platform's own services hold about the enterprise."""
    code = profile.credit_code
    for offer in recipients.offers_for(db, [code])[:20]:
        profile.offers.append(
            {
                "policy": offer.campaign.name,
                "outcome": offer.outcome,
                "status": OFFER_STATUS.get(offer.status, offer.status),
                "amount_fen": offer.amount,
                "offered_at": offer.offered_at,
            }
        )
    for grant in recipients.grants_for(db, [code])[:20]:
        profile.grants.append(
            {
                "code": grant.code,
                "rule": grant.rule,
                "amount_fen": grant.amount,
                "granted_at": grant.granted_at,
            }
        )
    for case in approval_service.cases_of_applicant(db, code):
        profile.cases.append(
            {
                "code": case.code,
                "item": case.item_name,
                "department": case.department,
                "state": state_name(case.state),
                "submitted_at": case.submitted_at,
            }
        )
    profile.alarms = alarm_service.at_sites(db, profile.sites)


def for_enterprise(
    db: Session, lookups: Lookups, credit_code: str, catalogue: PlatformCatalogue | None = None
) -> Profile:
    """The enterprise's own file: no ledger entry, as with one's own record."""
    return read(db, lookups, credit_code, catalogue)


def look(
    db: Session,
    lookups: Lookups,
    *,
    actor: str,
    credit_code: str,
    purpose: str,
    department: str = "",
    catalogue: PlatformCatalogue | None = None,
) -> Profile:
    """Someone other than the enterprise opening its file (an officer, an operator at the
    command line), with a purpose, as a ledger entry about the enterprise."""
    profile = read(db, lookups, credit_code, catalogue)
    ledger.record(
        db,
        actor=actor,
        action="enterprise.profile_viewed",
        subject=credit_code,
        purpose=purpose,
        detail={
            "department": department,
            "tables": [f"{s.table}@{s.version}" for s in profile.sources],
        },
    )
    return profile


def for_officer(
    db: Session,
    lookups: Lookups,
    user: User,
    given: ProfileLookIn,
    catalogue: PlatformCatalogue | None = None,
) -> Profile:
    """An officer's look, with its purpose."""
    return look(
        db,
        lookups,
        actor=f"user:{user.username}",
        credit_code=given.credit_code,
        purpose=given.purpose,
        department=user.department or "",
        catalogue=catalogue,
    )
