"""参保证明: a person's certificate of insured status is a sealed PDF that states their record,
verifies at /seals/verify and with ``shuhui seal verify`` offline, is theirs alone to open (and
the bureau's), and a refused request writes nothing."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from typer.testing import CliRunner

from shuhui.cli import app as cli
from shuhui.core.db import transaction
from shuhui.core.settings import get_settings
from shuhui.hrss import certificates
from shuhui.hrss.models import InsuredCertificate
from shuhui.trust.ledger.models import LedgerEntry
from shuhui.trust.seals import service as seals
from tests.fixtures import as_user
from tests.hrss.conftest import People
from tests.programs.conftest import resident

SEAL_NAME = "青岛市社会保险事业中心社会保险业务专用章"


def pdf_text(document: bytes) -> str:
    pdf = pdfium.PdfDocument(document)
    try:
        out = []
        for page in pdf:
            assert tuple(round(v) for v in page.get_size()) == (595, 842)  # A4
            textpage = page.get_textpage()
            out.append(str(textpage.get_text_range()))
            textpage.close()
            page.close()
        return "\n".join(out)
    finally:
        pdf.close()


def counts(app: FastAPI) -> tuple[int, int]:
    with transaction(app.state.session_factory) as db:
        made = db.scalar(select(func.count()).select_from(InsuredCertificate)) or 0
        issued = db.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.action == "hrss.certificate_issued")
        )
        return made, issued or 0


def test_a_person_gets_a_sealed_certificate_that_anyone_can_verify(
    city_app: FastAPI, people: People
) -> None:
    worker = resident(city_app, "worker1", people.worker)
    months = [m["month"] for m in worker.get("/api/v1/hrss/me/record").json()["months"]]
    made = worker.post(
        "/api/v1/hrss/me/certificates", json={"months_from": months[5], "months_to": months[0]}
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["number"].startswith("SBCBZM-") and body["months_to"] == months[0]

    document = worker.get(body["pdf"])
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    envelope = worker.get(body["envelope"]).json()
    verdict = seals.verify_envelope(envelope, document.content)
    assert verdict.valid and verdict.seal is not None and verdict.seal["name"] == SEAL_NAME

    text = pdf_text(document.content)
    assert "社会保险参保缴费证明" in text and people.worker in text and body["number"] in text
    with transaction(city_app.state.session_factory) as db:
        row = certificates.get(db, body["number"])
        assert row is not None
        name = row.holder_name
        stated = row.statement
    assert name and name in text
    assert len(stated["months"]) == 6  # the six months asked, each a line of the PDF
    first = stated["months"][0]["month"]
    assert f"{first[:4]}年{int(first[5:])}月" in text

    # As a person would check it: both files uploaded to /seals/verify.
    checked = as_user(city_app, "operator").post(
        "/api/v1/seals/verify",
        files={
            "document": ("cert.pdf", document.content, "application/pdf"),
            "envelope": ("cert.pdf.seal.json", json.dumps(envelope), "application/json"),
        },
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is True
    # A changed byte does not verify.
    middle = len(document.content) // 2
    tampered = (
        document.content[:middle]
        + bytes([document.content[middle] ^ 1])
        + document.content[middle + 1 :]
    )
    assert not seals.verify_envelope(envelope, tampered).valid

    # The file is the holder's: stored owner-only, listed on their page.
    stored = Path(city_app.state.settings.data_dir) / certificates.FOLDER / f"{body['number']}.pdf"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert [c["number"] for c in worker.get("/api/v1/hrss/me/certificates").json()] == [
        body["number"]
    ]
    assert counts(city_app) == (1, 1)


def test_the_page_issues_and_shows_how_to_verify(city_app: FastAPI, people: People) -> None:
    worker = resident(city_app, "worker2", people.worker)
    page = worker.post("/hrss/record/certificates", data={}, follow_redirects=False)
    assert page.status_code == 303
    shown = worker.get(page.headers["location"])
    assert shown.status_code == 200
    assert "参保证明已开具" in shown.text and "/seals/verify" in shown.text
    # By default the latest twelve months the record holds.
    with transaction(city_app.state.session_factory) as db:
        (row,) = db.scalars(select(InsuredCertificate))
        assert certificates.months_between(row.months_from, row.months_to) == 12


def test_only_the_holder_and_the_bureau_open_it(city_app: FastAPI, people: People) -> None:
    worker = resident(city_app, "worker3", people.worker)
    number = worker.post("/api/v1/hrss/me/certificates", json={}).json()["number"]
    other = resident(city_app, "worker4", people.owing)
    for path in ("", "/pdf", "/envelope"):
        assert other.get(f"/api/v1/hrss/certificates/{number}{path}").status_code == 404
        assert (
            as_user(city_app, "approver")
            .get(f"/api/v1/hrss/certificates/{number}{path}")
            .status_code
            == 404
        )
        assert (
            as_user(city_app, "officer")
            .get(f"/api/v1/hrss/certificates/{number}{path}")
            .status_code
            == 200
        )
    assert other.get(f"/hrss/certificates/{number}").status_code == 404
    with transaction(city_app.state.session_factory) as db:
        looks = list(
            db.scalars(select(LedgerEntry).where(LedgerEntry.action == "hrss.certificate_read"))
        )
    assert len(looks) == 3 and {e.subject for e in looks} == {people.worker}
    assert worker.get("/api/v1/hrss/certificates/not-a-number").status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"months_from": "2015-01", "months_to": "2024-12"}, "months_from"),  # over 60 months
        ({"months_from": "2024-06", "months_to": "2024-01"}, "months_from"),
        ({"months_to": "2099-01"}, "months_to"),  # after this month
        ({"months_from": "2024-1"}, "months_from"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_refused_request_names_the_field_and_writes_nothing(
    city_app: FastAPI, people: People, body: dict[str, object], field: str
) -> None:
    worker = resident(city_app, "worker5", people.worker)
    answer = worker.post("/api/v1/hrss/me/certificates", json=body)
    assert answer.status_code == 422, answer.text
    assert field in {e["field"].split(".")[-1] for e in answer.json()["errors"]}
    assert counts(city_app) == (0, 0)
    folder = Path(city_app.state.settings.data_dir) / certificates.FOLDER
    assert not folder.exists() or not any(folder.iterdir())


def test_an_officer_issues_at_the_counter_with_a_purpose(city_app: FastAPI, people: People) -> None:
    officer = as_user(city_app, "officer")
    made = officer.post(
        "/api/v1/hrss/certificates",
        json={"citizen_id": people.pensioner, "purpose": "本人到窗口申请开具"},
    )
    assert made.status_code == 201, made.text
    with transaction(city_app.state.session_factory) as db:
        (entry,) = db.scalars(
            select(LedgerEntry).where(LedgerEntry.action == "hrss.certificate_issued")
        )
    assert entry.subject == people.pensioner and entry.purpose == "本人到窗口申请开具"
    assert entry.actor == "officer"
    unknown = officer.post(
        "/api/v1/hrss/certificates", json={"citizen_id": people.nobody, "purpose": "核对"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["field"] == "citizen_id"
    assert counts(city_app) == (1, 1)


@pytest.fixture
def shuhui(city_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    settings = city_app.state.settings
    monkeypatch.setenv("SHUHUI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SHUHUI_DATABASE_URL", settings.sqlalchemy_url)
    monkeypatch.setenv("SHUHUI_DEFAULT_LOCALE", "zh-CN")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_the_command_line_writes_a_certificate_seal_verify_accepts(
    shuhui: CliRunner, people: People, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = shuhui.invoke(cli, ["hrss", "certificate", people.worker, "--out", str(out), "--json"])
    assert done.exit_code == 0, done.output
    shown = json.loads(done.stdout)
    pdf, seal = Path(shown["file"]), Path(shown["seal_file"])
    assert pdf.parent == out and seal.name == pdf.name + ".seal.json"

    verified = shuhui.invoke(cli, ["seal", "verify", str(pdf), str(seal)])
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.startswith("valid: " + SEAL_NAME)
    pdf.write_bytes(pdf.read_bytes() + b"\n")
    assert shuhui.invoke(cli, ["seal", "verify", str(pdf), str(seal)]).exit_code == 1

    refused = shuhui.invoke(cli, ["hrss", "certificate", "370202199003151234", "--out", str(out)])
    assert refused.exit_code == 2
    assert "公民身份号码" in refused.output or "校验" in refused.output
