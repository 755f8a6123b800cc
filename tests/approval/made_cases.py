"""Cases, items and applicants made directly as rows, for the tests of e-licences, ratings and
metrics: those read cases as the case machinery leaves them, whichever way they got there."""

from __future__ import annotations

import random
from datetime import date, datetime
from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from shuhui.approval.items import Form, Material, ServiceItem
from shuhui.approval.models import Case
from shuhui.core.clock import utcnow
from shuhui.core.ids import generate_citizen_ids, generate_credit_codes

APPROVAL_BUREAU = "青岛市行政审批服务局"
HEALTH = "青岛市卫生健康委员会"
_codes = count(1)


def credit_code(seed: int) -> str:
    return generate_credit_codes(random.Random(seed), 1)[0]


def citizen_id(seed: int) -> str:
    return generate_citizen_ids(
        random.Random(seed), 1, born_from=date(1970, 1, 1), born_to=date(2000, 1, 1)
    )[0]


def item(
    code: str = "QD-SP-TEST-1",
    *,
    name: str = "企业设立登记",
    department: str = APPROVAL_BUREAU,
    domain: str = "market",
    holder: str = "enterprise",
    issues: str | None = "营业执照",
    materials: tuple[Material, ...] = (),
    valid_from: date = date(2023, 1, 1),
) -> ServiceItem:
    return ServiceItem(
        code=code,
        name_zh=name,
        name_en="Test item",
        department=department,
        holder="enterprise" if holder == "enterprise" else "person",
        delegable=True,
        domain=domain,
        scenario=None,
        conditions=(),
        materials=materials,
        form=Form(schema={"type": "object", "properties": {}}, fields=()),
        statutory_days=20,
        promised_days=5,
        fee_fen=0,
        process="approval-standard",
        countersign=None,
        issues=issues,
        reference="测试",
        valid_from=valid_from,
    )


def case(
    db: Session,
    service: ServiceItem,
    *,
    applicant_id: str,
    applicant_name: str = "青岛示范餐饮管理有限公司",
    applicant_kind: str = "enterprise",
    state: str = "approved",
    created_by: str = "enterprise",
    submitted_at: datetime | None = None,
    form: dict[str, Any] | None = None,
    **columns: Any,
) -> Case:
    now = utcnow()
    row = Case(
        code=f"T{next(_codes):08d}",
        item_code=service.code,
        item_name=service.name_zh,
        department=service.department,
        domain=service.domain,
        scenario=service.scenario,
        applicant_kind=applicant_kind,
        applicant_id=applicant_id,
        applicant_name=applicant_name,
        created_by=created_by,
        state=state,
        version=1,
        process=service.process,
        form=form or {},
        created_at=submitted_at or now,
        submitted_at=submitted_at or now,
        **columns,
    )
    db.add(row)
    db.flush()
    return row
