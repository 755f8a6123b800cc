"""Sample materials for trying the service hall (示例材料，仅供演示): a document of a material
kind made out for the applicant as the registers hold them, so a person can download a correct
identity card or business licence and upload it, and a "wrong" one (someone else's, made up) to
see the pre-check flag it.

The applicant's own document is filled from the data core (the population register and the
household's address, the enterprise register; for an enterprise, the identity card and the
personal documents are its legal representative's, as the materials ask for them). Those reads
are personal data: the caller records them in the ledger (``reads``). Someone else's document is
never a real person's: its values are made up (``samples.sample``), so a sample never shows a
register row to anyone but its owner.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shuhui.approval import samples
from shuhui.approval.lookups import Lookups
from shuhui.approval.precheck import KINDS
from shuhui.approval.precheck.kinds import KIND_NAMES
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.regions import qingdao_districts

# What the documents say where the registers do not: the card's ethnicity and validity, the
# licence's company type (the register holds neither).
ETHNICITY = "汉"
COMPANY_TYPE = "有限责任公司（自然人投资或控股）"


@dataclass(frozen=True)
class Read:
    """A register row read for a sample: which table, about whom (a citizen ID or credit code:
    the subject of the caller's ledger entry)."""

    table: str
    subject: str


@dataclass(frozen=True)
class Sample:
    document: samples.Document
    own: bool
    reads: list[Read] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.document.kind)


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, kind)


def _unknown(kind: str) -> Problem:
    return Problem(
        "not-found",
        detail=f"没有“{kind[:40]}”这种示例材料",
        errors=[FieldError("kind", Text("示例材料的种类不正确", "no such sample kind"))],
    )


def _not_registered(what: str) -> Problem:
    return Problem(
        "not-found",
        detail=Text(
            f"数据底座中没有您的{what}，无法按您的身份生成示例材料",
            f"the data core holds no {what} of yours, so no sample can be made out for you",
        ),
    )


def _district(code: str | None) -> str:
    for region in qingdao_districts():
        if region.code == code:
            return region.name
    return "市南区"


class _Registers:
    def __init__(self, lookups: Lookups) -> None:
        self.lookups = lookups
        self.reads: list[Read] = []

    def one(self, table: str, key: str, value: str, subject: str) -> dict[str, Any] | None:
        rows = self.lookups.rows(table, key, value)
        self.reads.append(Read(table, subject))
        return None if rows is None else rows.first()

    def person(self, citizen_id: str) -> samples.Person:
        row = self.one("residents", "citizen_id", citizen_id, citizen_id)
        if row is None:
            raise _not_registered("常住人口登记信息")
        household = (
            self.one("households", "household_id", str(row["household_id"]), citizen_id)
            if row.get("household_id")
            else None
        )
        district = _district(row.get("district_code"))
        address = str(household["address"]) if household and household.get("address") else ""
        birth = row.get("birth_date")
        return samples.Person(
            name=str(row["name"]),
            sex=str(row.get("sex") or "男"),
            ethnicity=ETHNICITY,
            birth=birth if isinstance(birth, date) else date(1990, 1, 1),
            address=address or f"山东省青岛市{district}",
            citizen_id=citizen_id,
        )

    def licence(self, credit_code: str) -> tuple[samples.BusinessLicence, str]:
        row = self.one("enterprises", "credit_code", credit_code, credit_code)
        if row is None:
            raise _not_registered("企业登记信息")
        established = row.get("established_date")
        district = _district(row.get("district_code"))
        licence = samples.BusinessLicence(
            name=str(row["name"]),
            credit_code=credit_code,
            legal_rep=str(row.get("legal_rep_name") or ""),
            type=COMPANY_TYPE,
            address=str(row.get("address") or f"山东省青岛市{district}"),
            capital_fen=int(row.get("registered_capital_fen") or 0),
            established=established if isinstance(established, date) else date(2015, 1, 1),
            authority=f"青岛市{district}市场监督管理局",
        )
        return licence, str(row.get("legal_rep_citizen_id") or "")


def _card(who: samples.Person, today: date) -> samples.IdCard:
    # A card issued six years ago, valid twenty (what an adult's card usually says).
    issued = today.replace(year=today.year - 6, day=min(today.day, 28))
    authority = f"青岛市公安局{_district(who.citizen_id[:6]).removesuffix('区')}分局"
    return samples.IdCard(
        who.name,
        who.sex,
        who.ethnicity,
        who.birth,
        who.address,
        who.citizen_id,
        authority,
        issued,
        issued.replace(year=issued.year + 20),
    )


def own_sample(
    lookups: Lookups,
    kind: str,
    *,
    applicant_kind: str,
    applicant_id: str,
    today: date,
) -> Sample:
    """A ``kind`` document made out for the applicant (a person by citizen ID, an enterprise by
    credit code) from the registers; 404 where the registers do not hold them or the kind does
    not fit (a person has no business licence)."""
    if kind not in KINDS:
        raise _unknown(kind)
    registers = _Registers(lookups)
    rng = random.Random(f"{applicant_id}:{kind}")  # noqa: S311 (sample values, not secrets)
    licence: samples.BusinessLicence | None = None
    if applicant_kind == "enterprise":
        licence, rep_id = registers.licence(applicant_id)
        if kind == "business-licence":
            return Sample(licence, True, registers.reads)
        if not rep_id:
            raise _not_registered("法定代表人信息")
        who = registers.person(rep_id)
    else:
        if kind == "business-licence":
            raise Problem(
                "not-found",
                detail=Text(
                    "个人没有营业执照；请以企业账户申请企业事项",
                    "a person holds no business licence",
                ),
            )
        who = registers.person(applicant_id)
    document: samples.Document
    if kind == "id-card":
        document = _card(who, today)
    elif kind == "diploma":
        document = samples.diploma(rng, who)
    elif kind == "medical-certificate":
        document = samples.medical(rng, who, today=today)
    elif kind == "labour-contract":
        employer = licence or samples.licence(rng, samples.person(rng), today=today)
        document = samples.contract(rng, employer, who, today=today)
    else:  # site-plan: the enterprise builds, or a made-up one for a person
        builder = licence or samples.licence(rng, who, today=today)
        document = samples.site_plan(rng, builder, today=today)
    return Sample(document, True, registers.reads)


def other_sample(kind: str, *, seed: str, today: date) -> Sample:
    """A ``kind`` document of someone else, made up (no register is read): what the pre-check
    should flag when it is uploaded for the applicant."""
    if kind not in KINDS:
        raise _unknown(kind)
    rng = random.Random(f"other:{seed}:{kind}")  # noqa: S311 (sample values, not secrets)
    return Sample(samples.sample(kind, rng, today=today), False)


def png(sample: Sample) -> bytes:
    return samples.png(samples.render(sample.document))
