"""Service items, pre-filled forms and steps for the case tests. The items are built from the
shared dataclasses (the city's own items are content another module reads): a food business
licence applied for by an enterprise (standard process, issuing an e-certificate), the same
with the health commission countersigning, and an instant item for a person. The steps run each
in a transaction of its own, as the requests of the applicant and the officers would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.approval import cases
from shuhui.approval.items import Fill, Form, FormField, Material, ServiceItem
from shuhui.approval.models import Case, CaseTask
from shuhui.approval.provenance import FilledField, Prefill, Provenance, WaivedMaterial
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.trust.identity import service as identity_service
from shuhui.trust.identity.models import User
from shuhui.trust.ledger.models import LedgerEntry

BUREAU = "青岛市行政审批服务局"
HEALTH = "青岛市卫生健康委员会"
ENTERPRISE = "91370202MA3C4D5E6T"  # the demo account "enterprise"
ENTERPRISE_NAME = "青岛海湾示范科技有限公司"
CITIZEN = "370202199003151233"  # the demo account "citizen"
LEGAL_REP_ID = "370212193805117155"
READ_AT = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)

FOOD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "enterprise_name",
        "credit_code",
        "legal_rep_name",
        "legal_rep_id_number",
        "shop_name",
        "site_area",
        "business_kind",
    ],
    "properties": {
        "enterprise_name": {"type": "string", "title": "企业名称", "maxLength": 100},
        "credit_code": {
            "type": "string",
            "title": "统一社会信用代码",
            "pattern": "^[0-9A-HJ-NPQRTUWXY]{18}$",
            "format": "credit-code",
        },
        "legal_rep_name": {"type": "string", "title": "法定代表人", "maxLength": 30},
        "legal_rep_id_number": {
            "type": "string",
            "title": "法定代表人身份证号",
            "pattern": "^[0-9]{17}[0-9X]$",
        },
        "shop_name": {"type": "string", "title": "门店名称", "minLength": 1, "maxLength": 60},
        "site_area": {"type": "number", "title": "经营场所面积", "minimum": 1, "maximum": 100000},
        "business_kind": {
            "type": "string",
            "title": "经营项目",
            "enum": ["预包装食品销售", "热食类食品制售", "冷食类食品制售"],
        },
        "opening_date": {"type": "string", "title": "计划开业日期", "format": "date"},
    },
}


def _fields(schema: dict[str, Any], fills: dict[str, Fill]) -> tuple[FormField, ...]:
    required = set(schema["required"])
    return tuple(
        FormField(
            name=name,
            title_zh=prop["title"],
            title_en=name.replace("_", " "),
            schema=prop,
            required=name in required,
            fill=fills.get(name),
        )
        for name, prop in schema["properties"].items()
    )


FOOD_FILLS = {
    "enterprise_name": Fill("identity", "enterprises", "name", "credit_code"),
    "credit_code": Fill("identity", "enterprises", "credit_code", "credit_code"),
    "legal_rep_name": Fill("identity", "enterprises", "legal_rep_name", "credit_code"),
    "legal_rep_id_number": Fill("identity", "enterprises", "legal_rep_id", "credit_code"),
}

FOOD = ServiceItem(
    code="QD-SP-0003",
    name_zh="食品经营许可",
    name_en="Food business licence",
    department=BUREAU,
    holder="enterprise",
    delegable=True,
    domain="market",
    scenario="open-restaurant",
    conditions=("已取得营业执照",),
    materials=(
        Material(
            "business-licence", "营业执照", "Business licence", "business-licence", True, "营业执照"
        ),
        Material(
            "legal-rep-id",
            "法定代表人身份证",
            "ID card of the legal representative",
            "id-card",
            True,
            None,
        ),
        Material("site-plan", "经营场所平面图", "Site plan", "site-plan", True, None),
        Material("lease", "租赁合同", "Lease", None, False, None),
    ),
    form=Form(FOOD_SCHEMA, _fields(FOOD_SCHEMA, FOOD_FILLS)),
    statutory_days=20,
    promised_days=5,
    fee_fen=0,
    process="approval-standard",
    countersign=None,
    issues="食品经营许可证",
    reference="《食品经营许可和备案管理办法》第十三条",
    valid_from=date(2023, 12, 1),
)

# The same licence where the health commission countersigns (a hospital canteen, say).
CANTEEN = replace(
    FOOD,
    code="QD-SP-0103",
    name_zh="食品经营许可（医疗机构食堂）",
    process="approval-countersign",
    countersign=HEALTH,
)

PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "citizen_id", "phone"],
    "properties": {
        "name": {"type": "string", "title": "姓名", "maxLength": 30},
        "citizen_id": {"type": "string", "title": "公民身份号码", "format": "citizen-id"},
        "phone": {"type": "string", "title": "联系电话", "pattern": "^1[3-9][0-9]{9}$"},
    },
}

# 即办件: decided at the counter, issuing nothing the platform seals.
INSTANT = ServiceItem(
    code="QD-SP-0201",
    name_zh="个体工商户联络员备案",
    name_en="Sole trader contact registration",
    department=BUREAU,
    holder="person",
    delegable=True,
    domain="market",
    scenario=None,
    conditions=(),
    materials=(Material("id-card", "身份证", "ID card", "id-card", True, "居民身份证"),),
    form=Form(
        PERSON_SCHEMA,
        _fields(
            PERSON_SCHEMA,
            {
                "name": Fill("identity", "residents", "person_name", "citizen_id"),
                "citizen_id": Fill("identity", "residents", "citizen_id", "citizen_id"),
            },
        ),
    ),
    statutory_days=0,
    promised_days=0,
    fee_fen=0,
    process="approval-instant",
    countersign=None,
    issues=None,
    reference="《市场主体登记管理条例实施细则》第七十二条",
    valid_from=date(2022, 3, 1),
)


def _identity(name: str, value: Any, table: str, key: str) -> FilledField:
    return FilledField(name, value, Provenance("identity", READ_AT, table, 3, key))


def food_prefill(item: ServiceItem = FOOD, **changes: Any) -> Prefill:
    """What the platform offers the demo enterprise: its register entries, the business
    licence waived by its e-certificate, the shop's name left for it to type."""
    fields = {
        "enterprise_name": _identity("enterprise_name", ENTERPRISE_NAME, "enterprises", ENTERPRISE),
        "credit_code": _identity("credit_code", ENTERPRISE, "enterprises", ENTERPRISE),
        "legal_rep_name": _identity("legal_rep_name", "李代办", "enterprises", ENTERPRISE),
        "legal_rep_id_number": _identity(
            "legal_rep_id_number", LEGAL_REP_ID, "enterprises", ENTERPRISE
        ),
        "shop_name": FilledField("shop_name", None, None),
    }
    base = Prefill(
        item_code=item.code,
        applicant_kind="enterprise",
        applicant_id=ENTERPRISE,
        applicant_name=ENTERPRISE_NAME,
        fields=fields,
        waived={
            "business-licence": WaivedMaterial(
                "business-licence", "营业执照", "QD-BL-2024-000123", ENTERPRISE
            )
        },
        versions={"enterprises": 3, "e_certificates": 2},
    )
    return replace(base, **changes)


def person_prefill() -> Prefill:
    return Prefill(
        item_code=INSTANT.code,
        applicant_kind="person",
        applicant_id=CITIZEN,
        applicant_name="张小青",
        fields={
            "name": _identity("name", "张小青", "residents", CITIZEN),
            "citizen_id": _identity("citizen_id", CITIZEN, "residents", CITIZEN),
        },
        waived={"id-card": WaivedMaterial("id-card", "居民身份证", "QD-ID-000001", CITIZEN)},
    )


# What the applicant types to complete the food licence's form.
FOOD_TYPED = {"shop_name": "海湾小馆", "site_area": 85.5, "business_kind": "热食类食品制售"}


def upload(name: str) -> dict[str, Any]:
    """The keyword arguments of attach_material for an uploaded file."""
    return {
        "file_name": f"{name}.pdf",
        "content_type": "application/pdf",
        "size": 1024,
        "sha256": "ab" * 32,
        "stored_as": f"uploads/{name}.pdf",
        "precheck": {"material": name, "fields": {}, "issues": []},
        "precheck_ok": True,
    }


# --- steps as requests would take them ------------------------------------------------------

# Monday 28 September 2026, 10:00 in Qingdao: the National Day week follows.
T0 = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)


@contextmanager
def tx(app: FastAPI) -> Iterator[Session]:
    with transaction(app.state.session_factory) as db:
        yield db


def refused(app: FastAPI, act: Callable[[Session], Any]) -> Problem:
    """``act`` in a transaction of its own, which must raise a Problem (and so roll back)."""
    with pytest.raises(Problem) as caught, tx(app) as db:
        act(db)
    return caught.value


def user(db: Session, username: str) -> User:
    found = identity_service.get_user_by_username(db, username)
    assert found is not None, username
    return found


def case_of(db: Session, code: str) -> Case:
    found = cases.get_case(db, code)
    assert found is not None
    return found


def open_tasks(db: Session, code: str) -> list[CaseTask]:
    return [t for t in cases.tasks_of(db, case_of(db, code)) if t.closed_at is None]


def the_task(db: Session, code: str) -> CaseTask:
    (task,) = open_tasks(db, code)
    return task


def actions(db: Session, subject: str) -> list[str]:
    return list(
        db.scalars(
            select(LedgerEntry.action)
            .where(LedgerEntry.subject == subject, LedgerEntry.action.like("approval.%"))
            .order_by(LedgerEntry.seq)
        )
    )


def decide(
    app: FastAPI, code: str, officer: str, outcome: str, now: datetime = T0, **kw: Any
) -> Case:
    with tx(app) as db:
        return cases.complete_task(
            db, the_task(db, code).id, officer=user(db, officer), outcome=outcome, now=now, **kw
        )


def food_case(app: FastAPI, *, item: Any = FOOD, now: datetime = T0, **kw: Any) -> str:
    """A food licence application filled in, its materials uploaded, submitted."""
    with tx(app) as db:
        case = cases.create_draft(
            db, item=item, prefill=food_prefill(item), actor="enterprise", now=now
        )
        cases.save_form(db, case, FOOD_TYPED, actor="enterprise", now=now)
        for material in ("legal-rep-id", "site-plan"):
            cases.attach_material(
                db, case, material, actor="enterprise", item=item, now=now, **upload(material)
            )
        cases.submit(db, case, item, actor="enterprise", now=now, **kw)
        return case.code
