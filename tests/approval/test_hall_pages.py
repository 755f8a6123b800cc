"""The service hall's pages (网上办事大厅) through the test client on the small city: visitors
browse, applicants apply and see each value's source, a submission names every faulty field
beside itself and at the top and keeps what was typed, uploads are pre-checked (a non-image
refused in plain words, someone else's card flagged, one's own passed), an agent without a
mandate is refused beside the principal's ID with the refusal kept in the ledger, a case is
its parties' only, withdrawing asks first, and a finished case offers its sealed e-licence (a
read by anyone but the holder in the ledger) and one rating."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import lxml.html
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shuhui.approval import cases, hall_samples, samples
from shuhui.approval.lookups import lookups_for
from shuhui.approval.models import Case
from shuhui.core.db import transaction
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import DEMO_PASSWORD, add_account, as_user, csrf_from

ITEM = "QD-CL-0001"  # 残疾人证核发: a person's item, decided by the disabled persons' federation
FOOD = "QD-SP-0003"  # 食品经营许可: an enterprise's


# --- helpers -------------------------------------------------------------------------------------


def _residents(app: FastAPI, n: int) -> list[dict[str, Any]]:
    query = """
        SELECT citizen_id, name FROM residents WHERE citizen_id LIKE '3702%'
        ORDER BY citizen_id LIMIT ?
    """
    with app.state.datacore.connect() as con:
        rows = con.execute(query, [n]).fetchall()
    return [{"citizen_id": r[0], "name": r[1]} for r in rows]


def _account(app: FastAPI, username: str, who: dict[str, Any]) -> TestClient:
    with transaction(app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username=username,
                display_name=who["name"],
                password=DEMO_PASSWORD,
                roles=[Role.citizen],
                citizen_id=who["citizen_id"],
            ),
        )
    return as_user(app, username)


def _post(client: TestClient, path: str, data: dict[str, Any], **kw: Any) -> Any:
    return client.post(
        path,
        data={"csrf_token": client.headers["x-csrf-token"], **data},
        follow_redirects=False,
        **kw,
    )


def _apply(client: TestClient, item: str = ITEM, **data: str) -> str:
    made = _post(client, f"/approval/items/{item}/apply", data)
    assert made.status_code == 303, made.text
    found = re.fullmatch(r"/approval/cases/([A-Z0-9]+)/form", made.headers["location"])
    assert found is not None, made.headers["location"]
    return found.group(1)


def _page(text: str) -> Any:
    return lxml.html.fromstring(text)


def _one(page: Any, xpath: str) -> Any:
    found = page.xpath(xpath)
    assert len(found) == 1, f"{xpath}: {len(found)} found"
    return found[0]


def _text(node: Any) -> str:
    return " ".join(node.text_content().split())


def _count_cases(app: FastAPI) -> int:
    with transaction(app.state.session_factory) as db:
        return int(db.scalar(select(func.count()).select_from(Case)) or 0)


def _actions(app: FastAPI, subject: str) -> list[str]:
    with transaction(app.state.session_factory) as db:
        return list(db.scalars(select(LedgerEntry.action).where(LedgerEntry.subject == subject)))


# --- the hall and the guide ----------------------------------------------------------------------


def test_visitors_browse_the_hall_and_the_guides_and_applying_needs_an_applicant(
    client: TestClient, app: FastAPI
) -> None:
    hall = _page(client.get("/approval").text)
    assert len(hall.xpath("//div[@data-domain]")) == 10
    assert len(hall.xpath("//li[@data-scenario]")) == 16
    assert hall.xpath("//p[@id='login-hint']//a[@href='/login?next=/approval']")

    # Chinese, pinyin initials, a city word: each finds the food business licence.
    for query in ("食品经营", "spjy", "开饭店"):
        found = _page(client.get("/approval", params={"q": query}).text)
        assert found.xpath(f"//ul[@id='item-list']/li[@data-item='{FOOD}']"), query
    nothing = client.get("/approval", params={"q": "没有这种事项的名字"}).text
    assert 'id="no-items"' in nothing

    scenario = _page(client.get("/approval", params={"scenario": "open-restaurant"}).text)
    entry = _one(scenario, f"//li[@data-item='{FOOD}']")
    badges = entry.xpath(".//span/@data-badge")
    assert "delegable" in badges and "limit" in badges
    assert "承诺 5 个工作日" in _text(entry)
    # An instant item says so, and a zero-submission item too, somewhere in the hall.
    domains = [client.get("/approval", params={"domain": d}).text for d in ("civil", "hr")]
    assert any('data-badge="instant"' in d for d in domains)

    guide = _page(client.get(f"/approval/items/{FOOD}").text)
    assert _text(_one(guide, "//dd[@id='department']")) == "青岛市行政审批服务局"
    assert _text(_one(guide, "//dd[@id='statutory']")) == "20 个工作日"
    assert _text(_one(guide, "//dd[@id='promised']")) == "5 个工作日"
    assert _text(_one(guide, "//dd[@id='fee']")) == "不收费"
    assert "第十三条" in _text(_one(guide, "//dd[@id='reference']"))
    waived = _one(guide, "//tr[@data-material='business-licence']/td[@class='waiver']")
    assert "营业执照" in _text(waived) and "免提交" in _text(waived)
    assert _text(_one(guide, "//tr[@data-material='site-plan']/td[@class='waiver']")) == "需上传"
    assert guide.xpath("//div[@id='process-diagram']/*[local-name()='svg']")
    assert guide.xpath(f"//p[@id='apply-login']/a[@href='/login?next=/approval/items/{FOOD}']")
    assert not guide.xpath("//form[@id='apply-form']")

    html = {"accept": "text/html"}
    refused = client.post(
        f"/approval/items/{FOOD}/apply",
        data={"csrf_token": csrf_from(client)},
        headers=html,
        follow_redirects=False,
    )
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login?next=")
    assert _count_cases(app) == 0
    assert client.get("/approval/items/NO-SUCH-ITEM").status_code == 404
    mine = client.get("/approval/cases", headers=html, follow_redirects=False)
    assert mine.status_code == 303 and mine.headers["location"].startswith("/login?next=")

    officer = as_user(app, "approver")
    assert 'id="apply-not-applicant"' in officer.get(f"/approval/items/{FOOD}").text
    assert officer.get("/approval/cases").status_code == 403

    enterprise = as_user(app, "enterprise")
    page = _page(enterprise.get(f"/approval/items/{FOOD}").text)
    assert page.xpath("//form[@id='apply-form']//input[@name='principal']")


# --- the form ------------------------------------------------------------------------------------


def test_the_form_shows_each_source_and_a_submission_names_every_fault_keeping_what_was_typed(
    city_app: FastAPI,
) -> None:
    (who,) = _residents(city_app, 1)
    client = _account(city_app, "resident", who)
    code = _apply(client)
    form = _page(client.get(f"/approval/cases/{code}/form").text)

    name = _one(form, "//div[@id='field-applicant_name']")
    assert name.get("data-fill") == "identity"
    assert _one(name, ".//input").get("value") == who["name"]
    source = _text(_one(name, ".//span[@id='src-applicant_name']"))
    masked = who["citizen_id"][:6] + "*" * 8 + who["citizen_id"][14:]
    # Readable without hovering: the badge, the table, its version, the masked key, the time.
    assert "身份自动填" in source and "常住人口基础信息" in source
    assert re.search(r"第\d+版", source) and masked in source
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", source)
    assert who["citizen_id"] not in source
    assert _one(form, "//div[@id='field-disability_type_claimed']").get("data-fill") == "typed"
    summary = _one(form, "//p[@id='fill-summary']")
    filled, total = int(summary.get("data-filled")), int(summary.get("data-total"))
    assert 0 < filled < total
    assert f"已为您自动填写 {filled}/{total} 项" in _text(summary)

    # The name cleared, the sex changed, a guardian typed; no materials: refused whole.
    offered_sex = _one(form, "//select[@name='sex']/option[@selected]").get("value")
    other_sex = "男" if offered_sex == "女" else "女"
    sent = _post(
        client,
        f"/approval/cases/{code}/form",
        {"action": "submit", "applicant_name": "", "sex": other_sex, "guardian_name": "张伟"},
    )
    assert sent.status_code == 422, sent.text
    page = _page(sent.text)
    summary_fields = set(page.xpath("//div[@id='form-error']//li/@data-field"))
    assert {
        "applicant_name",
        "disability_type_claimed",
        "materials.id-card",
        "materials.assessment",
    } <= summary_fields
    # Each beside itself, linked from the summary; what was typed is still there.
    for field in ("applicant_name", "disability_type_claimed"):
        assert _text(_one(page, f"//span[@id='err-{field}']"))
        assert page.xpath(f"//div[@id='form-error']//a[@href='#field-{field}']")
    assert _one(page, "//span[@id='err-m-id-card']").get("data-field") == "materials.id-card"
    assert _one(page, "//input[@name='guardian_name']").get("value") == "张伟"
    sex = _one(page, "//div[@id='field-sex']")
    assert sex.get("data-kept") == "false" and "已修改" in _text(sex)
    assert _one(sex, ".//option[@selected]").get("value") == other_sex

    # Nothing was sent, and what was typed was saved.
    with transaction(city_app.state.session_factory) as db:
        case = cases.get_case(db, code)
        assert case is not None and case.state == "draft"
        assert case.form.get("guardian_name") == "张伟" and "applicant_name" not in case.form
    again = _page(client.get(f"/approval/cases/{code}/form").text)
    assert _one(again, "//input[@name='guardian_name']").get("value") == "张伟"


def test_uploads_are_prechecked_and_a_file_that_is_not_an_image_is_refused_in_plain_words(
    city_app: FastAPI,
) -> None:
    (who,) = _residents(city_app, 1)
    client = _account(city_app, "resident", who)
    code = _apply(client)
    path = f"/approval/cases/{code}/form"

    text = _post(
        client,
        path,
        {"action": "upload:id-card", "guardian_name": "李娜"},
        files={"file.id-card": ("card.png", b"just some text, not a picture", "image/png")},
    )
    assert text.status_code == 415
    page = _page(text.text)
    beside = _text(_one(page, "//span[@id='err-m-id-card']"))
    assert "PNG" in beside and "PDF" in beside
    assert page.xpath("//div[@id='form-error']//li[@data-field='materials.id-card']")
    assert _one(page, "//li[@id='material-id-card']").get("data-uploaded") == "false"
    assert _one(page, "//input[@name='guardian_name']").get("value") == "李娜"

    # Someone else's card (a made-up person): read, and flagged with the reasons.
    other = client.get("/approval/samples/id-card", params={"case": code, "who": "other"})
    assert other.status_code == 200 and other.headers["content-type"] == "image/png"
    wrong = _post(
        client,
        path,
        {"action": "upload:id-card"},
        files={"file.id-card": ("other.png", other.content, "image/png")},
    )
    assert wrong.status_code == 303
    assert wrong.headers["location"].endswith("#material-id-card")
    flagged = _one(
        _page(client.get(wrong.headers["location"]).text), "//li[@id='material-id-card']"
    )
    assert flagged.get("data-precheck") == "issues"
    issues = flagged.xpath(".//ul[@class='issues']/li")
    assert issues and all(_text(i).split("：", 1)[1] for i in issues)
    assert {"姓名", "公民身份号码"} & {i.get("data-issue") for i in issues}

    # One's own card, made out from the register: it passes, and what was read is shown.
    own = client.get("/approval/samples/id-card", params={"case": code})
    assert own.status_code == 200
    assert "approval.sample.rendered" in _actions(city_app, who["citizen_id"])
    right = _post(
        client,
        path,
        {"action": "upload:id-card"},
        files={"file.id-card": ("mine.png", own.content, "image/png")},
    )
    assert right.status_code == 303
    passed = _one(_page(client.get(right.headers["location"]).text), "//li[@id='material-id-card']")
    assert passed.get("data-precheck") == "ok", _text(passed)
    assert who["citizen_id"] in _text(_one(passed, ".//dl[@class='read-fields']"))

    # Samples: a kind that does not exist, and a person's business licence, are not found.
    assert client.get("/approval/samples/passport").status_code == 404
    assert client.get("/approval/samples/business-licence").status_code == 404


# --- who may --------------------------------------------------------------------------------------


def test_an_agent_without_a_mandate_is_refused_beside_the_principal_and_the_refusal_stays(
    city_app: FastAPI,
) -> None:
    principal, agent = _residents(city_app, 2)
    client = _account(city_app, "agent", agent)
    bad = _post(client, f"/approval/items/{ITEM}/apply", {"principal": "370202199001011234"})
    assert bad.status_code == 422
    assert _text(_one(_page(bad.text), "//span[@id='principal-error']"))

    refused = _post(client, f"/approval/items/{ITEM}/apply", {"principal": principal["citizen_id"]})
    assert refused.status_code == 403
    page = _page(refused.text)
    assert _one(page, "//details[@id='delegate']").get("open") is not None
    assert _text(_one(page, "//span[@id='principal-error']"))
    assert _one(page, "//input[@id='principal']").get("value") == principal["citizen_id"]
    assert _count_cases(city_app) == 0
    assert "mandate.refused" in _actions(city_app, principal["citizen_id"])


def test_a_case_is_its_parties_own_and_withdrawing_asks_first(city_app: FastAPI) -> None:
    owner, stranger = _residents(city_app, 2)
    client = _account(city_app, "resident", owner)
    other = _account(city_app, "stranger", stranger)
    code = _apply(client)
    for path in (f"/approval/cases/{code}", f"/approval/cases/{code}/form"):
        assert client.get(path).status_code == 200
        assert other.get(path).status_code == 404
    assert _post(other, f"/approval/cases/{code}/withdraw", {}).status_code == 404
    assert _post(other, f"/approval/cases/{code}/form", {"action": "save"}).status_code == 404
    assert as_user(city_app, "disability").get(f"/approval/cases/{code}").status_code == 403
    assert f'data-case="{code}"' not in other.get("/approval/cases").text

    listed = _page(client.get("/approval/cases", params={"state": "draft"}).text)
    assert _one(listed, f"//tr[@data-case='{code}']").get("data-state") == "draft"

    asked = _post(client, f"/approval/cases/{code}/withdraw", {})
    assert asked.status_code == 200 and 'id="confirm-summary"' in asked.text
    assert code in _text(_one(_page(asked.text), "//p[@id='confirm-summary']"))
    with transaction(city_app.state.session_factory) as db:
        assert (found := cases.get_case(db, code)) is not None and found.state == "draft"
    done = _post(client, f"/approval/cases/{code}/withdraw", {"confirm": "yes"})
    assert done.status_code == 303
    assert 'data-state="withdrawn"' in client.get(f"/approval/cases/{code}").text
    assert f'data-case="{code}"' not in client.get("/approval/cases?state=draft").text
    assert f'data-case="{code}"' in client.get("/approval/cases?state=withdrawn").text
    again = _post(client, f"/approval/cases/{code}/withdraw", {})
    assert again.status_code == 409


# --- a finished case ------------------------------------------------------------------------------


def _attach_without_reading(app: FastAPI, code: str, *materials: str) -> None:
    """Materials on the case as an upload leaves them, without the OCR (tested above)."""
    with transaction(app.state.session_factory) as db:
        case = cases.get_case(db, code)
        assert case is not None
        for material in materials:
            cases.attach_material(
                db,
                case,
                material,
                file_name=f"{material}.png",
                content_type="image/png",
                size=1024,
                sha256="0" * 64,
                stored_as=f"uploads/{code}/{material}.png",
                precheck=None,
                precheck_ok=None,
                actor="resident",
            )


def test_a_finished_case_offers_its_sealed_licence_and_takes_one_rating(city_app: FastAPI) -> None:
    owner, stranger = _residents(city_app, 2)
    client = _account(city_app, "resident", owner)
    code = _apply(client)
    _attach_without_reading(city_app, code, "id-card", "household-register", "assessment")
    sent = _post(
        client,
        f"/approval/cases/{code}/form",
        {"action": "submit", "disability_type_claimed": "肢体"},
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"/approval/cases/{code}?done=submitted"
    # Sent: the form reads back, no longer editable.
    sealed = _page(client.get(f"/approval/cases/{code}/form").text)
    assert not sealed.xpath("//input[@name='applicant_name'] | //button[@id='submit-button']")
    assert _text(_one(sealed, "//p[@id='f-applicant_name']")) == owner["name"]
    submitted = _page(client.get(sent.headers["location"]).text)
    assert _one(submitted, "//section[@id='case']").get("data-state") == "submitted"
    assert _text(_one(submitted, "//p[@id='current-step']"))
    assert submitted.xpath("//ol[@id='timeline']/li[contains(., '提交办件申请')]")
    assert not submitted.xpath("//form[@id='rating-form']")

    officer = as_user(city_app, "disability")
    (task,) = [t for t in officer.get("/api/v1/approval/tasks").json() if t["case"]["code"] == code]
    corrections = [
        {"field": "phone", "reason": "号码无法接通，请核实"},
        {"field": "materials.assessment", "reason": "评定表缺少医院盖章"},
    ]
    asked = officer.post(
        f"/api/v1/approval/tasks/{task['id']}",
        json={"outcome": "correct", "corrections": corrections},
    )
    assert asked.status_code == 200, asked.text

    # 一次性告知: the list at the top, each item marked where it is.
    form = _page(client.get(f"/approval/cases/{code}/form").text)
    listed = form.xpath("//ol[@id='correction-list']/li")
    assert [li.get("data-target") for li in listed] == ["phone", "materials.assessment"]
    assert "联系电话" in _text(listed[0]) and "号码无法接通" in _text(listed[0])
    assert "to-correct" in _one(form, "//div[@id='field-phone']").get("class")
    assert "医院盖章" in _text(_one(form, "//p[@id='corr-m-assessment']"))
    assert "重新提交" in _text(_one(form, "//button[@id='submit-button']"))
    again = _post(client, f"/approval/cases/{code}/form", {"action": "submit"})
    assert again.status_code == 303, again.text

    for outcome in ("accept", "pass", "approve"):
        (task,) = [
            t for t in officer.get("/api/v1/approval/tasks").json() if t["case"]["code"] == code
        ]
        done = officer.post(f"/api/v1/approval/tasks/{task['id']}", json={"outcome": outcome})
        assert done.status_code == 200, done.text
    issued = officer.post(f"/api/v1/approval/cases/{code}/issue")
    assert issued.status_code == 200, issued.text
    number = issued.json()["licence"]["certificate_no"]

    page = _page(client.get(f"/approval/cases/{code}").text)
    assert _one(page, "//section[@id='case']").get("data-state") == "issued"
    pdf_link = _one(page, "//a[@id='licence-pdf']").get("href")
    assert pdf_link == f"/approval/licences/{number}.pdf"
    assert page.xpath("//p[@id='verify-hint']//a[@href='/seals/verify']")
    pdf = client.get(pdf_link)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    envelope = client.get(f"/approval/licences/{number}.seal.json")
    assert envelope.status_code == 200 and envelope.json()["document_sm3"]
    assert "approval.licence.read" not in _actions(city_app, owner["citizen_id"])

    # The department's officer may read it (in the ledger); a stranger is told it is not there.
    assert officer.get(pdf_link).status_code == 200
    assert "approval.licence.read" in _actions(city_app, owner["citizen_id"])
    other = _account(city_app, "stranger", stranger)
    assert other.get(pdf_link).status_code == 404
    assert other.get(f"/approval/licences/{number}.seal.json").status_code == 404

    # 好差评: five radio buttons, each labelled; a rating without stars is named; one rating.
    radios = page.xpath("//form[@id='rating-form']//input[@type='radio'][@name='stars']")
    assert sorted(r.get("value") for r in radios) == ["1", "2", "3", "4", "5"]
    assert all(r.getparent().tag == "label" for r in radios)
    empty = _post(client, f"/approval/cases/{code}/rating", {"comment": "很快"})
    assert empty.status_code == 422
    missing = _page(empty.text)
    assert missing.xpath("//div[@id='form-error']//li[@data-field='stars']")
    assert _one(missing, "//textarea[@id='comment']").text == "很快"
    rated = _post(client, f"/approval/cases/{code}/rating", {"stars": "5", "comment": "很快"})
    assert rated.status_code == 303
    shown = _page(client.get(f"/approval/cases/{code}").text)
    assert _one(shown, "//p[@id='rating-given']").get("data-stars") == "5"
    assert not shown.xpath("//form[@id='rating-form']")
    assert _post(client, f"/approval/cases/{code}/rating", {"stars": "4"}).status_code == 409


def test_an_enterprise_gets_its_licence_and_its_legal_representative_s_card_as_samples(
    city_app: FastAPI,
) -> None:
    query = """
        SELECT e.credit_code, e.name, e.legal_rep_citizen_id, e.legal_rep_name
        FROM enterprises e JOIN residents r ON r.citizen_id = e.legal_rep_citizen_id
        WHERE e.status = '存续' ORDER BY e.credit_code LIMIT 1
    """
    with city_app.state.datacore.connect() as con:
        credit_code, name, rep_id, rep_name = con.execute(query).fetchone()
    lookups = lookups_for(city_app.state.datacore)
    today = date(2026, 6, 1)
    own = hall_samples.own_sample(
        lookups,
        "business-licence",
        applicant_kind="enterprise",
        applicant_id=credit_code,
        today=today,
    )
    assert isinstance(own.document, samples.BusinessLicence)
    assert (own.document.name, own.document.credit_code) == (name, credit_code)
    assert own.document.legal_rep == rep_name
    card = hall_samples.own_sample(
        lookups, "id-card", applicant_kind="enterprise", applicant_id=credit_code, today=today
    )
    assert isinstance(card.document, samples.IdCard)
    assert (card.document.name, card.document.citizen_id) == (rep_name, rep_id)
    # The legal representative's register row is personal data: its read names them.
    assert {r.subject for r in card.reads} == {credit_code, rep_id}
    other = hall_samples.other_sample("id-card", seed=credit_code, today=today)
    assert isinstance(other.document, samples.IdCard) and not other.reads
    assert other.document.citizen_id not in (rep_id, credit_code)

    with transaction(city_app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username="firm",
                display_name=name,
                password=DEMO_PASSWORD,
                roles=[Role.enterprise],
                credit_code=credit_code,
            ),
        )
    firm = as_user(city_app, "firm")
    picture = firm.get("/approval/samples/business-licence")
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    assert "filename*=UTF-8''" in picture.headers["content-disposition"]
    assert "approval.sample.rendered" in _actions(city_app, credit_code)
