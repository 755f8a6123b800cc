"""E-licences: an approved case's certificate is a sealed PDF that verifies at /seals/verify as a
person would upload it, is stored owner-only, and is written to the data core's e_certificates
keeping every earlier row; a failed or interrupted write is made up by sync_licences, never
twice."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.approval import licences, tasks
from shuhui.approval.models import Licence
from shuhui.core.clock import local_today
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.datacore.store import DataCore
from shuhui.trust.ledger.models import LedgerEntry
from shuhui.trust.seals import service as seals
from tests.approval.made_cases import APPROVAL_BUREAU, case, citizen_id, credit_code, item
from tests.fixtures import csrf_from

HOLDER = credit_code(1801)
HOLDER_NAME = "青岛海之味餐饮管理有限公司"
SEAL_NAME = "青岛市行政审批服务局行政审批专用章"


def core_of(app: FastAPI) -> DataCore:
    return DataCore.from_settings(app.state.settings)


def data_dir(app: FastAPI) -> Path:
    return Path(app.state.settings.data_dir)


def certificates(core: DataCore) -> set[tuple[Any, ...]]:
    return {tuple(row.values()) for row in core.sql("SELECT * FROM e_certificates").to_pylist()}


def issue(app: FastAPI, db: Session, holder: str = HOLDER, **options: Any) -> Licence:
    service = item()
    made = case(db, service, applicant_id=holder, applicant_name=HOLDER_NAME)
    return licences.issue_licence(
        db,
        data_dir(app),
        options.pop("core", core_of(app)),
        case=made,
        item=service,
        officer="approver",
        **options,
    )


def pdf_text(document: bytes) -> str:
    pdf = pdfium.PdfDocument(document)
    try:
        assert len(pdf) == 1
        page = pdf[0]
        width, height = page.get_size()
        assert (round(width), round(height)) == (595, 842)  # A4 in points
        textpage = page.get_textpage()
        text = str(textpage.get_text_range())
        textpage.close()
        page.close()
        return text
    finally:
        pdf.close()


def test_a_licence_is_issued_sealed_stored_and_written_to_the_data_core(
    city_app: FastAPI,
) -> None:
    core = core_of(city_app)
    before = certificates(core)
    version_before = core.table("e_certificates").version
    with transaction(city_app.state.session_factory) as db:
        licence = issue(city_app, db)
        number = licence.certificate_no
        # Nothing reaches the data core before the licence is committed, not even when a
        # savepoint is released after the issue.
        with db.begin_nested():
            pass
        assert licence.datacore_version is None and certificates(core) == before
    today = local_today()
    assert number == f"YYZZ-{today.year}-000001"
    with transaction(city_app.state.session_factory) as db:
        written = licences.get_licence(db, number)
        assert written is not None
        assert written.datacore_version == version_before + 1
    assert core.table("e_certificates").version == version_before + 1

    # The PDF: what the certificate prints, stored owner-only and returned after its hash check.
    path = licences.licence_path(data_dir(city_app), number)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with transaction(city_app.state.session_factory) as db:
        document = licences.licence_pdf(db, data_dir(city_app), number)
    assert document == path.read_bytes() and document.startswith(b"%PDF-")
    text = pdf_text(document)
    for shown in (
        "营业执照",
        f"编号：{number}",
        "名称",
        HOLDER_NAME,
        "统一社会信用代码",
        HOLDER,
        "企业设立登记",
        APPROVAL_BUREAU,
        f"{today.year}年{today.month}月{today.day}日",
        "QDXZSP-DZZZ-0001",  # the seal's code, under the seal
    ):
        assert shown in text, shown

    # The data core: every earlier row kept, the certificate added, found by its holder.
    after = certificates(core)
    assert before < after and len(after - before) == 1
    found = core.sql(
        "SELECT certificate_type, certificate_no, holder_type, holder_credit_code, holder_name,"
        f" issuer, issue_date, status FROM e_certificates WHERE holder_credit_code = '{HOLDER}'"
    ).to_pylist()
    assert found == [
        {
            "certificate_type": "营业执照",
            "certificate_no": number,
            "holder_type": "企业",
            "holder_credit_code": HOLDER,
            "holder_name": HOLDER_NAME,
            "issuer": APPROVAL_BUREAU,
            "issue_date": today,
            "status": "有效",
        }
    ]

    # The ledger: the seal made and used, the licence issued, the table's version loaded.
    with transaction(city_app.state.session_factory) as db:
        actions = [
            (e.action, e.subject)
            for e in db.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))
            if e.action.startswith(("seal.", "approval.", "data.loaded"))
        ]
    assert actions == [
        ("seal.created", "QDXZSP-DZZZ-0001"),
        ("seal.used", "QDXZSP-DZZZ-0001"),
        ("approval.licence.issued", HOLDER),
        ("data.loaded", "table:e_certificates"),
        ("approval.licence.published", HOLDER),
    ]


def test_a_persons_licence_prints_name_and_citizen_id(city_app: FastAPI) -> None:
    person = citizen_id(7)
    service = item("QD-SP-TEST-2", name="残疾人证办理", holder="person", issues="残疾人证")
    with transaction(city_app.state.session_factory) as db:
        made = case(
            db,
            service,
            applicant_id=person,
            applicant_name="张晓梅",
            applicant_kind="person",
            created_by="citizen",
        )
        licence = licences.issue_licence(
            db, data_dir(city_app), core_of(city_app), case=made, item=service, officer="approver"
        )
        number = licence.certificate_no
        document = licences.licence_pdf(db, data_dir(city_app), number)
    assert number.startswith("CJRZ-")
    text = pdf_text(document)
    assert "姓名" in text and "张晓梅" in text and "公民身份号码" in text and person in text
    row = (
        core_of(city_app)
        .sql(
            "SELECT holder_type, holder_citizen_id, holder_credit_code FROM e_certificates"
            f" WHERE certificate_no = '{number}'"
        )
        .to_pylist()
    )
    assert row == [{"holder_type": "个人", "holder_citizen_id": person, "holder_credit_code": None}]


def test_the_licence_verifies_at_seals_verify_and_a_tampered_one_does_not(
    city_app: FastAPI,
) -> None:
    with transaction(city_app.state.session_factory) as db:
        licence = issue(city_app, db)
        number, envelope = licence.certificate_no, licence.envelope
        document = licences.licence_pdf(db, data_dir(city_app), number)
    seal_file = json.dumps(envelope, ensure_ascii=False).encode()

    # As a person checks it on the verification page: the PDF and its envelope as two files.
    person = TestClient(city_app)
    token = csrf_from(person, "/seals/verify")

    def on_the_page(pdf: bytes) -> str:
        response = person.post(
            "/seals/verify",
            data={"csrf_token": token},
            files={
                "document": (f"{number}.pdf", pdf, "application/pdf"),
                "envelope": (f"{number}.seal.json", seal_file, "application/json"),
            },
        )
        assert response.status_code == 200, response.text
        return response.text

    # As a program checks it through the API, without an account.
    def by_the_api(pdf: bytes) -> Any:
        response = TestClient(city_app).post(
            "/api/v1/seals/verify",
            json={"document_base64": base64.b64encode(pdf).decode(), "envelope": envelope},
        )
        assert response.status_code == 200, response.text
        return response.json()

    page = on_the_page(document)
    assert "验证通过" in page and SEAL_NAME in page
    verdict = by_the_api(document)
    assert verdict["valid"] is True, verdict
    assert verdict["seal"]["name"] == SEAL_NAME
    assert verdict["seal"]["department"] == APPROVAL_BUREAU
    assert verdict["signer"] == "approver"

    # One byte of the certificate changed (in the page's compressed text, mid-file).
    middle = len(document) // 2
    tampered = document[:middle] + bytes([document[middle] ^ 1]) + document[middle + 1 :]
    page = on_the_page(tampered)
    assert "验证失败" in page and "文件与签章时的内容不一致" in page
    refused = by_the_api(tampered)
    assert refused["valid"] is False and refused["reason"] == seals.R_DOCUMENT


def test_licence_pdf_refuses_a_changed_or_missing_file(city_app: FastAPI) -> None:
    with transaction(city_app.state.session_factory) as db:
        number = issue(city_app, db).certificate_no
    path = licences.licence_path(data_dir(city_app), number)
    path.write_bytes(path.read_bytes() + b"%")
    with transaction(city_app.state.session_factory) as db:
        with pytest.raises(Problem) as changed:
            licences.licence_pdf(db, data_dir(city_app), number)
        assert changed.value.slug == "internal" and "不一致" in str(changed.value.detail)
        path.unlink()
        with pytest.raises(Problem) as missing:
            licences.licence_pdf(db, data_dir(city_app), number)
        assert "缺失" in str(missing.value.detail)
        with pytest.raises(Problem) as unknown:
            licences.licence_pdf(db, data_dir(city_app), "YYZZ-2020-000001")
        assert unknown.value.slug == "not-found"


def test_only_an_approved_case_of_a_known_type_gets_one_licence(city_app: FastAPI) -> None:
    core = core_of(city_app)
    before = certificates(core)
    with transaction(city_app.state.session_factory) as db:
        service = item()
        review = case(db, service, applicant_id=HOLDER, state="review")
        with pytest.raises(Problem) as not_approved:
            licences.issue_licence(
                db, data_dir(city_app), core, case=review, item=service, officer="approver"
            )
        assert not_approved.value.slug == "conflict"
        unknown = item("QD-SP-TEST-3", issues="食品经营许可证（未入标准）")
        approved = case(db, unknown, applicant_id=HOLDER)
        with pytest.raises(Problem) as not_standard:
            licences.issue_licence(
                db, data_dir(city_app), core, case=approved, item=unknown, officer="approver"
            )
        assert "数据标准" in str(not_standard.value.detail)
        none = item("QD-SP-TEST-4", issues=None)
        with pytest.raises(Problem):
            licences.issue_licence(
                db,
                data_dir(city_app),
                core,
                case=case(db, none, applicant_id=HOLDER),
                item=none,
                officer="approver",
            )
        first = licences.issue_licence(
            db,
            data_dir(city_app),
            core,
            case=(c := case(db, service, applicant_id=HOLDER)),
            item=service,
            officer="approver",
        )
        with pytest.raises(Problem) as twice:
            licences.issue_licence(
                db, data_dir(city_app), core, case=c, item=service, officer="approver"
            )
        assert twice.value.slug == "conflict"
        second = issue(city_app, db, holder=credit_code(1802))
        assert second.certificate_no[-6:] == "000002" and first.certificate_no[-6:] == "000001"
        assert db.scalar(select(Licence).where(Licence.case_id == review.id)) is None
    assert len(certificates(core) - before) == 2


def test_a_failed_data_core_write_keeps_the_licence_for_sync_licences(
    city_app: FastAPI, tmp_path: Path
) -> None:
    core = core_of(city_app)
    before = certificates(core)
    # A data core whose catalog cannot be read: the write fails for real.
    broken_root = tmp_path / "broken"
    broken_root.mkdir()
    (broken_root / "catalog.json").write_text("{ not json")
    broken = DataCore(broken_root, tmp_path / "broken-truth")
    with transaction(city_app.state.session_factory) as db:
        licence = issue(city_app, db, core=broken)
        number = licence.certificate_no
        assert licence.datacore_version is None
    assert certificates(core) == before
    with transaction(city_app.state.session_factory) as db:
        assert licences.get_licence(db, number) is not None  # the licence stands

    with transaction(city_app.state.session_factory) as db:
        done = tasks.sync_licences(db, core)
    assert done.written == [number] and done.found == [] and len(done.versions) == 1
    after = certificates(core)
    assert before < after and len(after - before) == 1
    with transaction(city_app.state.session_factory) as db:
        assert licences.get_licence(db, number).datacore_version == done.versions[0]  # type: ignore[union-attr]
        # Run again: nothing is pending, nothing is written.
        again = tasks.sync_licences(db, core)
    assert again == tasks.LicenceSync() and certificates(core) == after


def test_a_sync_interrupted_after_the_data_core_write_adds_no_duplicate(
    city_app: FastAPI,
) -> None:
    core = core_of(city_app)
    with transaction(city_app.state.session_factory) as db:
        pending = [
            issue(city_app, db, holder=credit_code(1900 + i), publish="later") for i in range(3)
        ]
        numbers = [lic.certificate_no for lic in pending]
        assert all(lic.datacore_version is None for lic in pending)
    before = certificates(core)

    # The sync writes the data core, then its transaction never commits (the process died).
    class Died(Exception):
        pass

    with pytest.raises(Died), transaction(city_app.state.session_factory) as db:
        tasks.sync_licences(db, core)
        raise Died
    written = certificates(core)
    assert len(written - before) == 3
    version = core.table("e_certificates").version
    with transaction(city_app.state.session_factory) as db:
        assert all(licences.get_licence(db, n).datacore_version is None for n in numbers)  # type: ignore[union-attr]
        done = tasks.sync_licences(db, core)
    assert sorted(done.found) == sorted(numbers) and done.written == [] and done.versions == []
    assert certificates(core) == written and core.table("e_certificates").version == version
    rows = core.sql(
        "SELECT certificate_no, count(*) AS n FROM e_certificates"
        " WHERE certificate_type = '营业执照' AND certificate_no LIKE 'YYZZ-%'"
        " GROUP BY certificate_no ORDER BY certificate_no"
    ).to_pylist()
    assert rows == [{"certificate_no": n, "n": 1} for n in sorted(numbers)]


def test_a_rolled_back_issue_leaves_nothing_in_the_data_core(city_app: FastAPI) -> None:
    core = core_of(city_app)
    before = certificates(core)

    class Failed(Exception):
        pass

    # Issued, then the request fails: the licence is gone, and so must its certificate be. The
    # number is free again, and the seal made on the way (rolled back too) is made again.
    with pytest.raises(Failed), transaction(city_app.state.session_factory) as db:
        gone = issue(city_app, db, holder=credit_code(2001)).certificate_no
        raise Failed
    assert certificates(core) == before
    with transaction(city_app.state.session_factory) as db:
        kept = issue(city_app, db, holder=credit_code(2002)).certificate_no
    assert kept == gone
    with transaction(city_app.state.session_factory) as db:
        licence = licences.get_licence(db, kept)
        assert licence is not None
        document = licences.licence_pdf(db, data_dir(city_app), kept)
        assert seals.verify_envelope(licence.envelope, document, db=db).valid
    rows = core.sql(
        "SELECT holder_credit_code FROM e_certificates"
        f" WHERE certificate_type = '营业执照' AND certificate_no = '{kept}'"
    ).to_pylist()
    assert rows == [{"holder_credit_code": credit_code(2002)}]
    assert len(certificates(core) - before) == 1


def test_a_seal_whose_first_use_rolled_back_is_registered_with_its_key(app: FastAPI) -> None:
    """The seal's key file is written as its creation ends; when the transaction then rolls
    back, the file stays without its seal. The next first use registers the seal with that key
    instead of refusing the code for good."""

    class Failed(Exception):
        pass

    key_file = seals.key_path(data_dir(app), "QDXZSP-DZZZ-0001")
    with pytest.raises(Failed), transaction(app.state.session_factory) as db:
        seals.ensure_seal(
            db,
            data_dir(app),
            code="QDXZSP-DZZZ-0001",
            name=SEAL_NAME,
            department=APPROVAL_BUREAU,
            actor="approver",
        )
        raise Failed
    orphan = key_file.read_bytes()
    with transaction(app.state.session_factory) as db:
        assert seals.get_seal(db, "QDXZSP-DZZZ-0001") is None
        seals.ensure_seal(
            db,
            data_dir(app),
            code="QDXZSP-DZZZ-0001",
            name=SEAL_NAME,
            department=APPROVAL_BUREAU,
            actor="approver",
        )
        envelope = seals.sign_document(db, data_dir(app), "QDXZSP-DZZZ-0001", b"x", signer="t")
        assert seals.verify_envelope(envelope, b"x", db=db).valid
        created = db.scalars(select(LedgerEntry).where(LedgerEntry.action == "seal.created")).all()
        assert len(created) == 1
    assert key_file.read_bytes() == orphan  # the same key, not replaced


def test_the_seal_of_a_department_not_configured_is_derived_and_stable() -> None:
    seal = licences.licence_seal("青岛市某某局", local_today())
    assert seal.name == "青岛市某某局行政审批专用章"
    assert seals.CODE_PATTERN.match(seal.code)
    assert licences.licence_seal("青岛市某某局", local_today()) == seal
    configured = licences.licence_seal(APPROVAL_BUREAU, local_today())
    assert configured.code == "QDXZSP-DZZZ-0001" and configured.name == SEAL_NAME


def test_number_prefixes_are_the_types_pinyin_initials() -> None:
    assert licences.number_prefix("营业执照") == "YYZZ"
    assert licences.number_prefix("食品经营许可证") == "SPJYXKZ"
    assert licences.number_prefix("残疾人证") == "CJRZ"
    assert licences.number_prefix("123") == "DZZZ"
