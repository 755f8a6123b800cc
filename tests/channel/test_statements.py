"""Monthly statements issued: sealed by the data bureau once a month is over, kept as issued
(the price list may change later, calls may arrive late), verifiable with OpenSSL, all or
nothing, through the API and the pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from shuhui.channel import billing
from shuhui.channel.city import BillingSeal
from shuhui.channel.common import month_of
from shuhui.channel.models import Call, IssuedStatement
from shuhui.channel.products import Tier
from shuhui.core.clock import local_today, utcnow
from shuhui.core.db import transaction
from shuhui.trust.ledger.models import LedgerEntry
from shuhui.trust.seals import service as seals
from tests.channel.conftest import Channel
from tests.channel.test_gateway import check, consent
from tests.fixtures import as_user, csrf_from

pytestmark = pytest.mark.both_backends


def last_month() -> date:
    return (month_of(utcnow()) - timedelta(days=1)).replace(day=1)


def move_calls_to(ch: Channel, month: date) -> int:
    """Time passes: this month's calls become the given month's (made on its 15th)."""
    with transaction(ch.app.state.session_factory) as db:
        this = month_of(utcnow())
        moved = db.scalar(select(func.count()).select_from(Call).where(Call.month == this))
        db.execute(
            update(Call)
            .where(Call.month == this)
            .values(month=month, at=datetime(month.year, month.month, 15, 4, tzinfo=UTC))
        )
        return int(moved or 0)


def billing_seal(ch: Channel) -> BillingSeal:
    """The billing seal the city's content names, in force today."""
    city = ch.app.state.city_channel
    seal: BillingSeal = city.billing_seal(local_today())
    return seal


def issue(ch: Channel, month: str) -> Any:
    return ch.bureau.post(f"/api/v1/channel/statements/{month}/issue")


def calls_and_move(ch: Channel, answered: int, refused: int = 0) -> date:
    for _ in range(answered):
        assert check(ch).status_code == 200
    for _ in range(refused):
        assert check(ch, purpose="营销推广").status_code == 403
    month = last_month()
    assert move_calls_to(ch, month) == answered + refused
    return month


def test_a_month_that_is_over_is_issued_sealed_and_kept(channel: Channel, tmp_path: Path) -> None:
    ch = channel
    consent(ch)
    month = calls_and_move(ch, answered=3, refused=1)
    m = month.strftime("%Y-%m")
    before = ch.insurer.get(f"/api/v1/channel/statements/{m}").json()
    assert before["issued"] is None and before["total_fen"] == 600
    assert ch.insurer.get(f"/api/v1/channel/statements/{m}/sealed").status_code == 404

    done = issue(ch, m)
    assert done.status_code == 200, done.text
    (row,) = done.json()["issued"]
    assert row["total_fen"] == 600 and done.json()["already_issued"] == 0
    bill = ch.insurer.get(f"/api/v1/channel/statements/{m}").json()
    assert bill["issued"]["code"] == row["code"] and bill["issued"]["issued_by"] == "operator"
    assert {k: bill[k] for k in ("lines", "total_fen", "refused_calls")} == {
        k: before[k] for k in ("lines", "total_fen", "refused_calls")
    }

    # The sealed document is the statement, and the seal verifies — ours and OpenSSL's.
    sealed = ch.insurer.get(f"/api/v1/channel/statements/{m}/sealed").json()
    document = json.loads(sealed["document"])
    assert document["code"] == row["code"] and document["total_fen"] == 600
    assert document["consumer"] == "91370200MA3R7B9K1L" and document["month"] == m
    assert document["format"] == billing.STATEMENT_FORMAT
    envelope = sealed["seal"]
    assert envelope["seal"]["code"] == billing_seal(ch).code
    verified = ch.insurer.post(
        "/api/v1/seals/verify",
        files={
            "document": ("statement.json", sealed["document"].encode()),
            "envelope": ("statement.seal.json", json.dumps(envelope).encode()),
        },
    ).json()
    assert verified["valid"] is True, verified
    (tmp_path / "pub.pem").write_text(envelope["seal"]["public_key_pem"])
    (tmp_path / "msg").write_bytes(seals.signed_bytes(envelope))
    (tmp_path / "sig").write_bytes(base64.b64decode(envelope["signature"]))
    (tmp_path / "doc").write_bytes(sealed["document"].encode())
    command = [
        "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin",
        "-in", "msg", "-sigfile", "sig", "-digest", "sm3",
        "-pkeyopt", "distid:1234567812345678",
    ]  # fmt: skip
    ok = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert "Signature Verified Successfully" in ok.stdout, ok.stdout + ok.stderr
    sm3 = subprocess.run(
        ["openssl", "dgst", "-sm3", "-r", "doc"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert sm3.stdout.split()[0] == envelope["document_sm3"]

    # Later changes do not touch it: a late call, a new price list.
    assert check(ch).status_code == 200
    assert move_calls_to(ch, month) == 1
    assert check(ch).status_code == 200  # this month's, not issued
    by_code = ch.app.state.city_channel.products.by_code
    priced = by_code["underwriting-health-check"]
    by_code[priced.code] = replace(priced, tiers=(Tier(None, 1),))
    try:
        after = ch.insurer.get(f"/api/v1/channel/statements/{m}").json()
        this = month_of(utcnow()).strftime("%Y-%m")
        unissued = ch.insurer.get(f"/api/v1/channel/statements/{this}").json()
    finally:
        by_code[priced.code] = priced
    assert after["total_fen"] == 600 and after["lines"][0]["calls"] == 3
    assert unissued["issued"] is None and unissued["total_fen"] == 1  # the new price
    again = issue(ch, m).json()
    assert again["issued"] == [] and again["already_issued"] == 1

    # Every statement issued is in the ledger, with the document's SM3.
    with transaction(ch.app.state.session_factory) as db:
        entries = db.scalars(
            select(LedgerEntry).where(LedgerEntry.action == "channel.statement_issued")
        ).all()
    (entry,) = entries
    assert entry.subject == "91370200MA3R7B9K1L" and entry.grant == row["code"]
    assert json.loads(entry.leaf)["detail"]["document_sm3"] == envelope["document_sm3"]


def test_a_month_not_over_or_malformed_is_refused_naming_the_month(channel: Channel) -> None:
    ch = channel
    this = month_of(utcnow()).strftime("%Y-%m")
    for month, reason in [(this, "这个月还没结束"), ("2026-13", "应写成“年-月”")]:
        refused = issue(ch, month)
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("application/problem+json")
        (error,) = refused.json()["errors"]
        assert error["field"] == "month" and reason in error["reason"]
    # Only the data bureau issues statements.
    assert ch.insurer.post(f"/api/v1/channel/statements/{this}/issue").status_code == 403


def test_a_seal_that_cannot_be_used_issues_nothing(channel: Channel) -> None:
    ch = channel
    consent(ch)
    month = calls_and_move(ch, answered=2).strftime("%Y-%m")
    # The billing seal exists (issued for another month first), then the admin revokes it.
    with transaction(ch.app.state.session_factory) as db:
        billing.billing_seal(
            db, Path(ch.app.state.settings.data_dir), billing_seal(ch), actor="test"
        )
    admin = as_user(ch.app, "admin")
    revoked = admin.post(f"/api/v1/seals/{billing_seal(ch).code}/revoke")
    assert revoked.status_code == 200, revoked.text
    refused = issue(ch, month)
    assert refused.status_code == 409, refused.text
    assert refused.json()["errors"][0]["field"] == "seal"
    with transaction(ch.app.state.session_factory) as db:
        assert db.scalar(select(func.count()).select_from(IssuedStatement)) == 0
        assert (
            db.scalar(
                select(func.count())
                .select_from(LedgerEntry)
                .where(LedgerEntry.action == "channel.statement_issued")
            )
            == 0
        )
    bill = ch.insurer.get(f"/api/v1/channel/statements/{month}").json()
    assert bill["issued"] is None and bill["total_fen"] == 400


def test_the_bureau_issues_from_the_dashboard_and_the_insurer_sees_it(channel: Channel) -> None:
    ch = channel
    consent(ch)
    month = calls_and_move(ch, answered=2).strftime("%Y-%m")
    page = ch.bureau.get("/channel/dashboard")
    assert page.status_code == 200
    assert f'name="month" value="{month}"' in page.text  # last month by default
    assert "该月尚未出具对账单" in page.text
    console = ch.insurer.get(f"/channel?month={month}").text
    assert 'id="statement-open"' in console and 'id="statement-issued"' not in console

    token = csrf_from(ch.bureau)
    # Sealed statements cannot be taken back: the first post asks, saying how many, and issues
    # nothing.
    asked = ch.bureau.post(
        "/channel/dashboard/statements",
        data={"month": month, "csrf_token": token},
        follow_redirects=False,
    )
    assert asked.status_code == 200 and 'data-count="1"' in asked.text
    assert f"将为 1 家机构出具 {month} 的对账单，加盖结算专用章后不能更改或撤回。" in asked.text
    assert "该月尚未出具对账单" in ch.bureau.get(f"/channel/dashboard?month={month}").text
    posted = ch.bureau.post(
        "/channel/dashboard/statements",
        data={"month": month, "confirm": "yes", "csrf_token": token},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    shown = ch.bureau.get(posted.headers["location"]).text
    assert re.search(r'id="billing-done">本次出具 1 份对账单', shown)
    code = re.search(r'<tr data-code="(ZD-[0-9A-F-]+)"><td>', shown)
    assert code is not None
    assert "青岛示范人寿保险股份有限公司" in shown and ">4.00<" in shown

    console = ch.insurer.get(f"/channel?month={month}").text
    assert f'id="statement-issued" data-code="{code.group(1)}"' in console
    assert billing_seal(ch).name in console
    assert re.search(r'id="statement-total">4.00<', console)

    # A month not over, from the page: the form says why, nothing issued.
    this = month_of(utcnow()).strftime("%Y-%m")
    bad = ch.bureau.post("/channel/dashboard/statements", data={"month": this, "csrf_token": token})
    assert bad.status_code == 422 and "这个月还没结束" in bad.text
    assert f'value="{this}"' in bad.text
