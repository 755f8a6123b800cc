"""The AI pre-check of uploaded materials (材料智能预审): an upload is checked for what it is
(``uploads``), read with offline OCR (``ocr``: rapidocr, PDF pages through pdfium), its fields
extracted by their printed labels (``extract``, on ``layout``'s rows; values read by
``values``), and checked (``checks``): the right kind of document, every field there, identifier
check characters, dates, the form's values and, given the data core, the registers.

``precheck(content, material_kind, form=…, datacore=…)`` does it all and returns a
``PrecheckResult`` whose ``as_json()`` is what ``shuhui approval precheck FILE --material TYPE
--json`` prints and what the API will return: ``{"material", "fields": {name: value},
"issues": [{"field", "reason"}]}``. The field names per kind are in ``kinds``.

A pre-check with the data core reads personal data (the population register by citizen ID):
``PrecheckResult.lookups`` says which rows were read, for the caller to record in the ledger in
its transaction (this package has no database session).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from shuhui.approval.precheck.checks import Issue, Lookup
from shuhui.approval.precheck.kinds import FIELDS, KIND_NAMES, KINDS
from shuhui.approval.precheck.uploads import (
    MAX_BYTES,
    StoredUpload,
    check_upload,
    display_name,
    store_upload,
)
from shuhui.core.errors import FieldError, Problem

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shuhui.approval.precheck.ocr import OcrLine
    from shuhui.datacore.store import DataCore

__all__ = [
    "FIELDS",
    "KINDS",
    "KIND_NAMES",
    "MAX_BYTES",
    "Issue",
    "Lookup",
    "PrecheckResult",
    "StoredUpload",
    "check_upload",
    "precheck",
    "precheck_lines",
    "record_lookups",
    "store_upload",
]

# The ledger action of a register read made by a pre-check (shown at 谁用了我的数据).
PRECHECK_ACTION = "approval.material.prechecked"


@dataclass(frozen=True)
class PrecheckResult:
    material: str
    fields: dict[str, str]
    issues: tuple[Issue, ...]
    content_type: str
    # The kind the upload looks like (None: like none of them).
    looks_like: str | None = None
    lookups: tuple[Lookup, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.issues

    def as_json(self) -> dict[str, Any]:
        return {
            "material": self.material,
            "fields": dict(self.fields),
            "issues": [issue.as_json() for issue in self.issues],
        }


def check_kind(material_kind: str) -> None:
    if material_kind not in KINDS:
        raise Problem(
            "validation",
            f"不认识的材料类型“{material_kind}”。",
            errors=[FieldError("material", f"材料类型应为以下之一：{'、'.join(KINDS)}")],
        )


def precheck(
    content: bytes,
    material_kind: str,
    *,
    form: Mapping[str, Any] | None = None,
    datacore: DataCore | None = None,
    file_name: str = "upload",
    today: date | None = None,
) -> PrecheckResult:
    """Reads an upload as a ``material_kind`` document and checks it. Raises ``Problem`` for a
    kind it does not know (422) and for an upload it will not read (413, 415, see
    ``check_upload``); everything about the document itself is an issue in the result.

    ``form`` holds the values the document must agree with, by document field name (姓名,
    公民身份号码…) or by the usual form property names (``checks.FORM_KEYS``)."""
    from shuhui.approval.precheck import ocr

    check_kind(material_kind)
    content_type = check_upload(content, file_name)
    try:
        lines = ocr.read(content, content_type)
    except ocr.Unreadable as exc:
        raise Problem(
            "unsupported-media-type",
            f"文件“{display_name(file_name)}”无法解码（文件可能已损坏或不完整）。",
            errors=[FieldError("file", "文件已损坏或不完整")],
        ) from exc
    return precheck_lines(
        lines, material_kind, form=form, datacore=datacore, today=today, content_type=content_type
    )


def precheck_lines(
    lines: Sequence[OcrLine],
    material_kind: str,
    *,
    form: Mapping[str, Any] | None = None,
    datacore: DataCore | None = None,
    today: date | None = None,
    content_type: str = "image/png",
) -> PrecheckResult:
    """The pre-check of a page already read: fields extracted from its OCR lines and checked
    (what :func:`precheck` does after reading; tests and benchmarks read a page once)."""
    from shuhui.approval.precheck import checks, extract
    from shuhui.core.clock import local_today

    check_kind(material_kind)
    reading = extract.extract(material_kind, lines)
    issues, lookups = checks.check(
        reading, form=form, datacore=datacore, today=today or local_today()
    )
    return PrecheckResult(
        material=material_kind,
        fields=reading.fields,
        issues=tuple(issues),
        content_type=content_type,
        looks_like=reading.looks_like,
        lookups=tuple(lookups),
    )


def record_lookups(
    db: Session,
    result: PrecheckResult,
    *,
    actor: str,
    case_code: str | None = None,
    file_name: str | None = None,
) -> None:
    """One ledger entry per register row the pre-check read, about the person or enterprise
    read, in the caller's transaction (a pre-check without the data core reads none)."""
    from shuhui.trust.ledger.service import record

    for lookup in result.lookups:
        record(
            db,
            actor,
            "approval.material.prechecked",
            subject=lookup.key,
            purpose=f"材料预审：核对{KIND_NAMES[result.material]}与登记信息",
            detail={
                "material": result.material,
                "table": lookup.table,
                "case": case_code,
                "file": file_name,
            },
        )
