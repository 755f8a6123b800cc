"""The purpose rule where people write a purpose: a person authorising a consumer of the data
channel picks one of its approved purposes (any other is refused, by the page and the API), and
a consumer applying again picks an approved purpose or proposes a new one for review."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from httpx2 import Response

from shuhui.core.clock import local_today
from tests.channel.conftest import BANK, INSURER, PURPOSE, Channel
from tests.channel.test_gateway import check
from tests.fixtures import csrf_from

HTML = {"accept": "text/html"}


def cert_use_form(client: TestClient, **overrides: str | list[str]) -> dict[str, str | list[str]]:
    today = local_today()
    return {
        "csrf_token": csrf_from(client, "/me/authorisations/new?kind=cert_use"),
        "kind": "cert_use",
        "as": "person",
        "grantee_kind": "enterprise",
        "grantee_id": "",
        "grantee_name": "",
        "scope": ["就诊记录"],
        "purpose": "",
        "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=30)).isoformat(),
        **overrides,
    }


def submit(client: TestClient, form: dict[str, str | list[str]]) -> Response:
    return client.post("/me/authorisations/new", data=form, headers=HTML, follow_redirects=False)


def test_a_person_picks_the_consumers_approved_purpose_word_for_word(channel: Channel) -> None:
    ch = channel
    page = ch.patient.get("/me/authorisations/new?kind=cert_use").text
    assert 'id="purpose-rule"' in page and "一字不差" in page
    choice = f"{INSURER}|{PURPOSE}"
    assert f'<input type="radio" name="approved" value="{choice}" checked>' in page
    assert "青岛示范人寿保险股份有限公司" in page and "就诊记录" in page

    # Picked from the list: the institution and the purpose are the approved ones, whatever
    # was typed in the other-institution fields.
    made = submit(ch.patient, cert_use_form(ch.patient, approved=choice, purpose="随便写的"))
    assert made.status_code == 303, made.text
    code = made.headers["location"].rsplit("/", 1)[-1]
    shown = ch.patient.get(f"/api/v1/authorisations/{code}").json()
    assert shown["purpose"] == PURPOSE and shown["grantee"]["id"] == INSURER
    signed = ch.patient.post(
        f"/api/v1/authorisations/{code}/sign", json={"password": "Shuhui@2026"}
    )
    assert signed.json()["status"] == "active"
    assert check(ch).status_code == 200  # so the consumer's call is answered


def test_another_purpose_for_a_channel_consumer_is_refused_naming_the_field(
    channel: Channel,
) -> None:
    ch = channel
    typed = cert_use_form(
        ch.patient,
        approved="other",
        grantee_id=INSURER,
        grantee_name="青岛示范人寿",
        purpose="人身保险核保",  # close, but not the approved wording
    )
    refused = submit(ch.patient, typed)
    assert refused.status_code == 422
    assert "用途：须与青岛示范人寿保险股份有限公司获批的用途一字不差" in refused.text
    assert f"“{PURPOSE}”" in refused.text and 'aria-invalid="true"' in refused.text
    # A forged choice that is not an approved purpose is refused too.
    forged = submit(ch.patient, cert_use_form(ch.patient, approved=f"{INSURER}|营销推广"))
    assert forged.status_code == 422 and "所选用途已不在获批用途之中" in forged.text
    # The API holds the same rule, as problem+json naming the field.
    api = ch.patient.post(
        "/api/v1/authorisations/cert-uses",
        json={
            "relying_party": {"kind": "enterprise", "id": INSURER, "name": "青岛示范人寿"},
            "certificate_types": ["就诊记录"],
            "purpose": "营销推广",
            "valid_to": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        },
    )
    assert api.status_code == 422
    assert api.headers["content-type"].startswith("application/problem+json")
    body = api.json()
    assert body["errors"][0]["field"] == "purpose" and "一字不差" in body["errors"][0]["reason"]
    assert ch.patient.get("/api/v1/authorisations").json() == []


def test_an_institution_outside_the_channel_takes_a_stated_purpose(channel: Channel) -> None:
    ch = channel
    typed = cert_use_form(
        ch.patient,
        approved="other",
        grantee_id=BANK,  # not a consumer of the channel here
        grantee_name="青岛示范银行",
        purpose="开户核验",
    )
    made = submit(ch.patient, typed)
    assert made.status_code == 303, made.text


def test_a_consumer_applies_again_under_its_approved_purpose_or_proposes_one(
    channel: Channel,
) -> None:
    ch = channel
    console = ch.insurer.get("/channel", headers=HTML).text
    assert 'id="purpose-rule"' in console and "一字不差" in console
    assert f'<input type="radio" name="purpose_choice" value="{PURPOSE}" checked>' in console
    form = {
        "products": ["underwriting-health-check"],
        "legal_basis": "《个人信息保护法》第十三条",
        "usage": "industry",
        "days": "180",
    }
    post = ch.insurer.post
    forged = post(
        "/channel/applications",
        data={**form, "purpose_choice": "营销推广", "purpose": ""},
        headers=HTML,
        follow_redirects=False,
    )
    assert forged.status_code == 422
    assert 'data-field="purpose">所选用途不是本机构已获批准的用途' in forged.text
    kept = post(
        "/channel/applications",
        data={**form, "purpose_choice": PURPOSE, "purpose": "别的文字"},
        headers=HTML,
        follow_redirects=False,
    )
    assert kept.status_code == 303
    new = post(
        "/channel/applications",
        data={**form, "purpose_choice": "new", "purpose": "团体健康保险核保"},
        headers=HTML,
        follow_redirects=False,
    )
    assert new.status_code == 303
    purposes = [a["purpose"] for a in ch.insurer.get("/api/v1/channel/applications").json()]
    assert purposes.count(PURPOSE) == 2 and "团体健康保险核保" in purposes
    assert "别的文字" not in purposes


def test_the_key_page_and_the_api_docs_state_the_rule(channel: Channel) -> None:
    ch = channel
    issued = ch.insurer.post(
        "/channel/keys", data={"grants": [ch.grant], "label": "第二套", "days": "30"}, headers=HTML
    )
    assert issued.status_code == 201
    assert re.search(rf'<code class="approved-purpose">{PURPOSE}</code>', issued.text)
    assert f'"purpose": "{PURPOSE}"' in issued.text.replace("&#34;", '"')
    spec = ch.insurer.get("/openapi.json").json()
    text = spec["paths"]["/api/v1/channel/products/underwriting-health-check"]["post"][
        "description"
    ]
    assert "word for word" in text and "一字不差" in text
