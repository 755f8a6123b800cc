"""A record and a certificate as the API gives them and the pages show them: plain dicts of
JSON values (money in fen, months as YYYY-MM), made once for both."""

from __future__ import annotations

from typing import Any

from shuhui.core.display import mask_citizen_id
from shuhui.hrss import records
from shuhui.hrss.bundle_cases import STATE_NAMES, Status, UnionField
from shuhui.hrss.bundles import Bundle
from shuhui.hrss.models import InsuredCertificate
from shuhui.standard.tables import TABLES

TABLE_TITLES: dict[str, str] = {spec.name: spec.title for spec in TABLES}


def _month(value: Any) -> str | None:
    return value.isoformat()[:7] if value is not None else None


def record_out(record: records.Record, *, masked: bool = False) -> dict[str, Any]:
    return {
        "citizen_id": mask_citizen_id(record.citizen_id) if masked else record.citizen_id,
        "name": record.name,
        "found": record.known,
        "insured": record.insured,
        "enrolments": [
            {
                "insurance_type": e.insurance_type,
                "scheme": e.scheme,
                "status": e.status,
                "start_date": e.start_date.isoformat(),
                "credit_code": e.credit_code,
                "unit_name": e.unit_name,
            }
            for e in record.enrolments
        ],
        "summary": [
            {
                "insurance_type": s.insurance_type,
                "months_paid": s.months_paid,
                "months_owed": s.months_owed,
                "first_month": _month(s.first_month),
                "last_month": _month(s.last_month),
                "paid_fen": s.paid_fen,
            }
            for s in record.summary
        ],
        "months": [
            {
                "month": _month(line.month),
                "credit_code": line.credit_code,
                "unit_name": line.unit_name,
                "base_fen": line.base_fen,
                "due_fen": line.due_fen,
                "paid_fen": line.paid_fen,
                "in_arrears": line.in_arrears,
            }
            for line in record.months
        ],
        "payments": [
            {
                "kind": p.kind,
                "month": _month(p.month),
                "pay_date": p.pay_date.isoformat(),
                "amount_fen": p.amount_fen,
            }
            for p in record.payments
        ],
        "sources": [
            {"table": s.table, "title": TABLE_TITLES.get(s.table, s.table), "version": s.version}
            for s in record.sources
        ],
    }


def certificate_out(c: InsuredCertificate) -> dict[str, Any]:
    return {
        "number": c.number,
        "holder_name": c.holder_name,
        "citizen_id": mask_citizen_id(c.citizen_id),
        "months_from": _month(c.months_from),
        "months_to": _month(c.months_to),
        "issuer": c.issuer,
        "issued_on": c.issued_on.isoformat(),
        "seal_code": c.seal_code,
        "sha256": c.sha256,
        "pdf": f"/api/v1/hrss/certificates/{c.number}/pdf",
        "envelope": f"/api/v1/hrss/certificates/{c.number}/envelope",
        "page": f"/hrss/certificates/{c.number}",
    }


def bundle_out(b: Bundle) -> dict[str, Any]:
    return {
        "code": b.code,
        "name": b.name_zh,
        "name_en": b.name_en,
        "holder": b.holder,
        "items": [{"code": i.code, "name": i.name_zh, "department": i.department} for i in b.items],
        "fields": len(b.fields),
        "fields_asked_separately": sum(len(i.form.fields) for i in b.items),
        "reference": b.reference,
    }


def union_out(fields: list[UnionField]) -> list[dict[str, Any]]:
    return [
        {
            "name": f.name,
            "title": f.title_zh,
            "title_en": f.title_en,
            "schema": f.schema,
            "required": f.required,
            "value": f.value,
            "source": f.source,
            "source_title": TABLE_TITLES.get(f.source, f.source) if f.source else None,
            "items": list(f.items),
        }
        for f in fields
    ]


def status_out(s: Status) -> dict[str, Any]:
    c = s.bundle_case
    return {
        "code": c.code,
        "bundle": c.bundle,
        "name": c.bundle_name,
        "overall": s.overall,
        "overall_name": OVERALL_NAMES[s.overall][0],
        "filed_at": c.filed_at.isoformat(),
        "finished_at": c.finished_at.isoformat() if c.finished_at else None,
        "notified": c.notified_at is not None,
        "parts": [
            {
                "item": p.item_code,
                "name": p.item_name,
                "department": p.department,
                "case": p.case_code,
                "state": p.state,
                "state_name": STATE_NAMES.get(p.state, (p.state, p.state))[0],
                "refusal": p.refusal,
            }
            for p in s.parts
        ],
    }


OVERALL_NAMES: dict[str, tuple[str, str]] = {
    "in_progress": ("办理中", "In progress"),
    "done": ("已全部办结", "All done"),
    "partly_refused": ("部分事项未能提交", "Some items not filed"),
}
