"""The officers' and administrators' approval pages through HTTP, as a browser posts them: who
sees what (403 for other roles, 404 for another department's case), the workbench's queues and
follow-ups, the case page with its provenance and its steps (一次性告知 with several items, a
refusal without reason refused naming the field, a step someone else took), the window's filing
(窗口受理: the department's items, a refusal beside its field, the case filed with its channel),
the item administration, and the metrics page showing metrics()' own numbers (网办率 too)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.approval import cases, desk_workbench, metrics, ratings, service
from shuhui.approval.items import Catalogue
from shuhui.approval.models import CaseField, CaseMaterial, FollowUp, Rating
from shuhui.approval.precheck import store_upload
from shuhui.approval.schemas import RatingIn
from shuhui.core.db import transaction
from shuhui.trust.identity import service as identity
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger.models import LedgerEntry
from tests.approval.made_cases import case, credit_code
from tests.fixtures import DEMO_PASSWORD, add_account, as_user

CITIZEN_ID = "370202199003151233"  # the demo citizen's


@contextmanager
def tx(app: FastAPI) -> Iterator[Session]:
    with transaction(app.state.session_factory) as db:
        yield db


def user(db: Session, name: str) -> User:
    found = identity.get_user_by_username(db, name)
    assert found is not None
    return found


def page(response: Any) -> Any:
    return html.fromstring(response.text)


def text(node: Any) -> str:
    return " ".join(node.text_content().split())


def catalogue(app: FastAPI) -> Catalogue:
    found: Catalogue = app.state.approval_catalogue
    return found


def post(client: TestClient, path: str, data: dict[str, Any] | list[tuple[str, str]]) -> Any:
    """A form post as the page sends it: the session's CSRF token in the form."""
    pairs = list(data.items()) if isinstance(data, dict) else list(data)
    body: dict[str, list[str]] = {"csrf_token": [client.headers["x-csrf-token"]]}
    for name, value in pairs:
        body.setdefault(name, []).extend(value if isinstance(value, list) else [value])
    return client.post(path, data=body, follow_redirects=False)


# --- who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "workbench", "items", "metrics_page"),
    [
        ("approver", 200, 200, 200),
        ("health", 200, 200, 200),
        ("admin", 403, 200, 200),
        ("operator", 403, 403, 200),
        ("citizen", 403, 403, 403),
        ("enterprise", 403, 403, 403),
    ],
)
def test_each_role_sees_its_pages_and_no_other(
    app: FastAPI, username: str, workbench: int, items: int, metrics_page: int
) -> None:
    client = as_user(app, username)
    assert client.get("/approval/workbench").status_code == workbench
    assert client.get("/approval/admin/items").status_code == items
    assert client.get("/approval/admin/items/QD-SP-0003").status_code == items
    assert client.get("/approval/metrics").status_code == metrics_page


def test_a_visitor_is_sent_to_log_in(app: FastAPI) -> None:
    client = TestClient(app)
    for path in ("/approval/workbench", "/approval/metrics", "/approval/admin/items"):
        answer = client.get(path, headers={"accept": "text/html"}, follow_redirects=False)
        assert answer.status_code in (303, 307) and "/login" in answer.headers["location"]


# --- item administration ------------------------------------------------------------------------


def test_the_items_page_lists_every_item_with_its_terms(app: FastAPI) -> None:
    items = catalogue(app).items
    answer = as_user(app, "admin").get("/approval/admin/items")
    doc = page(answer)
    rows = doc.xpath("//tr[@data-item]")
    assert {r.get("data-item") for r in rows} == set(items)
    assert text(doc.xpath("//*[@id='count-items']")[0]) == str(len(items))
    zero = sum(1 for i in items.values() if i.zero_submission)
    assert text(doc.xpath("//*[@id='count-zero']")[0]) == str(zero)
    food = items["QD-SP-0003"]
    row = doc.xpath("//tr[@data-item='QD-SP-0003']")[0]
    shown = text(row)
    for expected in (food.department, "5 / 20", "食品经营许可证", "营业执照", food.reference):
        assert expected in shown
    # The business licence is waived by its e-certificate, the site plan is not.
    assert row.xpath(".//li[@data-material='business-licence']//*[@data-waivable]")
    assert not row.xpath(".//li[@data-material='site-plan']//*[@data-waivable]")
    identity_n = sum(1 for f in food.form.fields if f.fill and f.fill.kind == "identity")
    shared_n = sum(1 for f in food.form.fields if f.fill and f.fill.kind == "shared")
    history_n = sum(1 for f in food.form.fields if f.history)
    assert row.xpath(".//td[@data-fills]")[0].get("data-fills") == (
        f"{identity_n}/{shared_n}/{history_n}/{len(food.form.fields)}"
    )
    # Content is data in git: the page says how to change an item, and offers no editor.
    assert "service-items.yaml" in text(doc.xpath("//*[@id='content-note']")[0])
    assert not doc.xpath("//form[@method='post']") or all(
        f.get("action") == "/logout" for f in doc.xpath("//form[@method='post']")
    )


def test_the_items_page_filters_by_domain(app: FastAPI) -> None:
    items = catalogue(app).items
    doc = page(as_user(app, "approver").get("/approval/admin/items?domain=health"))
    shown = {r.get("data-item") for r in doc.xpath("//tr[@data-item]")}
    assert shown == {c for c, i in items.items() if i.domain == "health"} and shown
    # An unknown domain is no filter, not an error.
    doc = page(as_user(app, "approver").get("/approval/admin/items?domain=%3Cscript%3E"))
    assert len(doc.xpath("//tr[@data-item]")) == len(items)


def test_an_items_form_preview_names_each_fields_source_and_bounds(app: FastAPI) -> None:
    food = catalogue(app).items["QD-SP-0003"]
    answer = as_user(app, "approver").get("/approval/admin/items/QD-SP-0003")
    assert answer.status_code == 200
    doc = page(answer)
    rows = {r.get("data-field"): r for r in doc.xpath("//tr[@data-field]")}
    assert set(rows) == {f.name for f in food.form.fields}
    name = rows["enterprise_name"]
    assert name.get("data-kind") == "identity"
    assert "身份自动填" in text(name) and "统一社会信用代码" in text(name)
    assert "最多 100 字" in text(name)
    address = rows["business_address"]
    assert address.get("data-kind") == "history" and "历史选择填" in text(address)
    # The process diagram, drawn from the BPMN file, with its steps named for screen readers.
    svg = doc.xpath("//*[@id='process']//*[local-name()='svg']")
    assert svg and "流程图" in (svg[0].get("aria-label") or "") + text(svg[0])
    assert as_user(app, "approver").get("/approval/admin/items/QD-NOPE").status_code == 404


# --- the metrics page -----------------------------------------------------------------------------


def seed_metrics(app: FastAPI) -> None:
    """Cases of two items in two domains, as the case machinery leaves them: fields filled and
    typed, materials waived and uploaded, a first pass with and without the pre-check, a rating."""
    items = catalogue(app).items
    food, other = items["QD-SP-0003"], next(i for i in items.values() if i.domain == "health")
    holder = credit_code(11)
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    with tx(app) as db:
        for n, (service, state, checked, first, channel) in enumerate(
            [
                (food, "issued", True, True, "online"),
                (food, "review", False, False, "agent"),
                (other, "rejected", True, True, "counter"),
                (food, "submitted", False, None, "link"),
            ]
        ):
            made = case(
                db,
                service,
                applicant_id=holder,
                channel=channel,
                state=state,
                submitted_at=now,
                accepted_at=now if state != "submitted" else None,
                decided_at=now if state == "rejected" else None,
                issued_at=now if state == "issued" else None,
                promised_due=date(2026, 3, 9),
                statutory_due=date(2026, 3, 30),
                precheck_used=checked,
                first_pass=first,
            )
            for i, (fill, kept) in enumerate(
                [("identity", True), ("shared", True), ("history", n % 2 == 0), ("typed", None)]
            ):
                db.add(
                    CaseField(
                        case_id=made.id,
                        field=f"f{i}",
                        value="v",
                        fill=fill,
                        filled_value=None if fill == "typed" else "v",
                        kept=kept,
                    )
                )
            db.add(CaseMaterial(case_id=made.id, material="m1", waived=True, updated_at=now))
            if n != 2:
                db.add(
                    CaseMaterial(
                        case_id=made.id,
                        material="m2",
                        waived=False,
                        sha256="0" * 64,
                        updated_at=now,
                    )
                )
            if state in ("issued", "rejected"):
                db.add(
                    Rating(
                        case_id=made.id,
                        department=made.department,
                        stars=5 - 3 * n // 2,
                        comment="",
                        rated_by="x",
                        rated_at=now,
                    )
                )


def shown_metrics(doc: Any) -> dict[str, dict[str, str]]:
    return {
        row.get("data-key"): {
            td.get("data-metric"): text(td) for td in row.xpath("./td[@data-metric]")
        }
        for row in doc.xpath("//table[@id='metrics-table']//tr[@data-key]")
    }


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


@pytest.mark.parametrize("by", ["item", "department", "domain"])
def test_the_metrics_page_shows_the_figures_of_metrics(app: FastAPI, by: str) -> None:
    seed_metrics(app)
    answer = as_user(app, "operator").get(f"/approval/metrics?by={by}&since=2026-03-01")
    assert answer.status_code == 200
    doc = page(answer)
    with tx(app) as db:
        expected = metrics.metrics(
            db,
            by=by,
            since=date(2026, 3, 1),
            catalogue=catalogue(app),  # type: ignore[arg-type]
        )
        (total,) = metrics.metrics(db, by="all", since=date(2026, 3, 1), catalogue=catalogue(app))
    shown = shown_metrics(doc)
    assert set(shown) == {r.key for r in expected}
    with_cases = [r for r in expected if r.cases]
    assert with_cases, "the seeded cases are in no group"
    for r in expected:
        cells = shown[r.key]
        assert cells["cases"] == str(r.cases)
        assert cells["fields_spared"] == str(r.fields_spared)
        assert cells["materials_waived"] == str(r.materials_waived)
        assert cells["zero_submission_items"] == f"{r.zero_submission_items} / {r.items}"
        assert cells["first_pass"] == (
            f"{pct(r.first_pass_with_precheck)} / {pct(r.first_pass_without_precheck)}"
        )
        assert cells["on_time"] == f"{pct(r.on_time_promised)} / {pct(r.on_time_statutory)}"
        assert cells["overdue"] == str(r.overdue)
        assert cells["ratings"].startswith(str(r.ratings))
        assert cells["online_share"] == pct(r.online_share)
        assert cells["channels"] == (
            f"{r.channel_online} / {r.channel_agent} / {r.channel_link} / {r.channel_counter}"
        )
    headers = [text(th) for th in doc.xpath("//table[@id='metrics-table']//th")]
    assert "网办率" in headers
    # Online, by an agent and over the link: three of four; the window's one is offline.
    assert text(doc.xpath("//*[@id='total-online-share']")[0]) == pct(total.online_share)
    assert total.online_share == 0.75
    assert text(doc.xpath("//*[@id='total-cases']")[0]) == str(total.cases) == "4"
    assert text(doc.xpath("//*[@id='total-fields-spared']")[0]) == str(total.fields_spared)
    assert text(doc.xpath("//*[@id='total-first-pass']")[0]) == pct(total.first_pass_with_precheck)
    # Each chart has its table beside it with the same numbers, for screen readers and phones.
    charts = doc.xpath("//*[@data-chart]")
    assert {c.get("id") for c in charts} == {
        "chart-fields",
        "chart-materials",
        "chart-first-pass",
        "chart-on-time",
        "chart-ratings",
    }
    identity_cells = doc.xpath("//table[@id='table-fields']/tbody/tr/td[2]")
    assert [text(td) for td in identity_cells] == [str(r.fields_identity) for r in expected]


def test_the_metrics_page_refuses_a_bad_range_naming_the_field(app: FastAPI) -> None:
    client = as_user(app, "admin")
    answer = client.get("/approval/metrics?since=2026-13-01")
    assert answer.status_code == 422
    error = page(answer).xpath("//*[@data-field='since']")
    assert error and "年-月-日" in text(error[0])
    answer = client.get("/approval/metrics?since=2026-03-02&until=2026-03-01")
    assert answer.status_code == 422
    assert page(answer).xpath("//*[@data-field='until']")


# --- follow-ups of bad ratings --------------------------------------------------------------------


def bad_rating(app: FastAPI, department_item: str = "QD-SP-0003") -> int:
    service = catalogue(app).items[department_item]
    with tx(app) as db:
        made = case(
            db,
            service,
            applicant_id=CITIZEN_ID,
            applicant_name="张小青",
            applicant_kind="person",
            created_by="citizen",
            state="rejected",
        )
        ratings.rate(db, user(db, "citizen"), made.code, RatingIn(stars=1, comment="跑了三趟"))
        found = db.scalar(select(FollowUp.id))
        assert found is not None
        return found


def test_the_department_answers_a_bad_rating_from_the_workbench(app: FastAPI) -> None:
    followup = bad_rating(app)
    approver, health = as_user(app, "approver"), as_user(app, "health")
    with tx(app) as db:
        (todo,) = desk_workbench.todos(db, user(db, "approver"))
        assert (todo.count, todo.urgent) == (1, True)
        assert desk_workbench.todos(db, user(db, "health")) == []
        assert desk_workbench.todos(db, user(db, "citizen")) == []
    doc = page(approver.get("/approval/workbench"))
    card = doc.xpath(f"//*[@data-followup='{followup}']")
    assert card and "跑了三趟" in text(card[0])
    assert not page(health.get("/approval/workbench")).xpath("//*[@data-followup]")
    # Another department's officer cannot answer it; an empty answer is refused by name.
    assert (
        post(health, f"/approval/workbench/followups/{followup}", {"reply": "好"}).status_code
        == 404
    )
    empty = post(approver, f"/approval/workbench/followups/{followup}", {"reply": "  "})
    assert empty.status_code == 422
    assert page(empty).xpath(f"//*[@data-followup='{followup}']//*[@data-field='reply']")
    done = post(
        approver, f"/approval/workbench/followups/{followup}", {"reply": "已约谈窗口人员并改进"}
    )
    assert done.status_code == 303
    doc = page(approver.get(done.headers["location"]))
    assert doc.xpath("//*[@id='replied']") and not doc.xpath("//*[@data-followup]")
    with tx(app) as db:
        closed = db.get(FollowUp, followup)
        assert closed is not None and (closed.state, closed.closed_by) == ("closed", "approver")
        assert desk_workbench.todos(db, user(db, "approver")) == []  # the card goes with it
        assert (
            db.scalar(
                select(LedgerEntry.actor).where(LedgerEntry.action == "approval.followup.replied")
            )
            == "approver"
        )
    # Answering again: already closed, said plainly.
    again = post(approver, f"/approval/workbench/followups/{followup}", {"reply": "再答"})
    assert again.status_code == 409 and page(again).xpath("//*[@id='form-error']")


# --- a submitted case, made through the services as the applicant would ---------------------

CHANGE = "QD-SP-0002"  # 企业变更登记: the approval bureau decides, issues the business licence
HYGIENE = "QD-SP-0017"  # 公共场所卫生许可: the health commission countersigns
MOVED_TO = "青岛市崂山区海尔路180号"


def png_page(seed: int = 0) -> bytes:
    """A scanned page as an applicant uploads it (a plain picture: these tests do not read it)."""
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (320 + seed, 240), "white").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def desk(city_app: FastAPI) -> FastAPI:
    """The small city's app with an enterprise account bound to a company holding a valid
    business licence (so the form fills from the register and the licence is waived)."""
    core = city_app.state.datacore
    with core.connect() as con:
        row = con.execute(
            "SELECT e.credit_code, e.name FROM enterprises e JOIN e_certificates c "
            "ON c.holder_credit_code = e.credit_code AND c.certificate_type = '营业执照' "
            "AND c.status = '有效' ORDER BY e.credit_code LIMIT 1"
        ).fetchone()
    assert row is not None
    with tx(city_app) as db:
        add_account(
            db,
            UserCreate(
                username="firm",
                display_name=str(row[1]),
                password=DEMO_PASSWORD,
                roles=[Role.enterprise],
                credit_code=str(row[0]),
            ),
        )
    return city_app


def submitted(app: FastAPI, item_code: str = CHANGE, *, issue_with: str | None = None) -> str:
    """A case of the enterprise, pre-filled, completed, its materials uploaded, submitted: the
    required fields nothing filled get their form's example, the address is changed from the
    register's, and ``issue_with`` (a material) carries a pre-check issue."""
    state = app.state
    catalogue_: Catalogue = state.approval_catalogue
    item_ = catalogue_.items[item_code]
    with tx(app) as db:
        firm = user(db, "firm")
        made = service.start_application(
            db, state.datacore, catalogue_, user=firm, item_code=item_code
        )
        view = service.form_view(db, catalogue_, made)
        values: dict[str, Any] = {}
        for f in (f for g in view.groups for f in g.fields):
            spec = item_.form.field(f.name)
            assert spec is not None
            if f.value in (None, "") and spec.required:
                values[f.name] = spec.schema["examples"][0]
        if item_.form.field("enterprise_address") is not None:
            values["enterprise_address"] = MOVED_TO
        service.save(db, catalogue_, made, values, actor="firm")
        for n, m in enumerate(view.materials):
            if m.waived or not (m.required or m.code == issue_with):
                continue
            stored = store_upload(
                state.settings.data_dir, made.code, m.code, png_page(n), f"{m.code}.png"
            )
            issues = [{"field": "印章", "reason": "未见单位印章"}] if m.code == issue_with else []
            cases.attach_material(
                db,
                made,
                m.code,
                file_name=stored.file_name,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                stored_as=stored.stored_as,
                precheck={"material": m.kind, "fields": {}, "issues": issues},
                precheck_ok=not issues,
                actor="firm",
                item=item_,
            )
        service.send(db, catalogue_, made, actor="firm")
        return made.code


def open_task(app: FastAPI, code: str) -> int:
    with tx(app) as db:
        found = cases.get_case(db, code)
        assert found is not None
        (task,) = [t for t in cases.tasks_of(db, found) if t.closed_at is None]
        return task.id


def state_of(app: FastAPI, code: str) -> str:
    with tx(app) as db:
        found = cases.get_case(db, code)
        assert found is not None
        return found.state


def step(client: TestClient, code: str, task: int, outcome: str, **more: Any) -> Any:
    return post(client, f"/approval/desk/cases/{code}/tasks/{task}", {"outcome": outcome, **more})


# --- the officer's case page -------------------------------------------------------------------


def test_the_queue_shows_the_case_and_the_case_page_its_provenance(desk: FastAPI) -> None:
    code = submitted(desk, issue_with="articles")
    approver = as_user(desk, "approver")
    queue = page(approver.get("/approval/workbench?role=accept"))
    row = queue.xpath(f"//table[@id='queue']//tr[@data-case='{code}']")
    assert row, "the submitted case is not in the acceptance queue"
    with tx(desk) as db:
        made = cases.get_case(db, code)
        assert made is not None
        credit = made.applicant_id
    assert "企业变更登记" in text(row[0]) and "未受理" in text(row[0])
    # The review queue does not hold it yet.
    review = page(approver.get("/approval/workbench?role=review"))
    assert not review.xpath(f"//tr[@data-case='{code}']")

    english = approver.get(f"/approval/desk/cases/{code}?lang=en")
    assert english.status_code == 200 and "Application form (read-only)" in english.text
    answer = approver.get(f"/approval/desk/cases/{code}?lang=zh-CN")
    assert answer.status_code == 200
    doc = page(answer)
    fields = {r.get("data-field"): r for r in doc.xpath("//section[@id='form']//tr[@data-field]")}
    name = fields["enterprise_name"]
    assert name.get("data-fill") == "identity" and name.get("data-kept") == "1"
    assert "身份自动填" in text(name) and name.xpath(".//*[contains(@class, 'source')]")
    moved = fields["enterprise_address"]
    assert moved.get("data-kept") == "0" and "已修改" in text(moved) and MOVED_TO in text(moved)
    assert fields["change_item"].get("data-fill") == "typed"
    materials = {r.get("data-material"): r for r in doc.xpath("//section[@id='materials']//tr")}
    assert "免提交" in text(materials["business-licence"])
    assert materials["articles"].get("class") == "has-issue"
    assert "未见单位印章" in text(materials["articles"])
    link = materials["resolution"].xpath(".//a[@class='material-link']")[0].get("href")
    # The process with its current step, for eyes and for screen readers.
    svg = doc.xpath("//section[@id='process']//*[local-name()='svg']")[0]
    assert svg.get("aria-label") == "当前环节：受理"
    assert "提交办件申请" in text(doc.xpath("//section[@id='timeline']")[0])
    # The acceptance step's actions: 受理 and 一次性告知 listing every field and material.
    task = doc.xpath("//section[@id='actions']//article[@data-step='accept']")[0]
    assert task.xpath(".//button[@data-outcome='accept']")
    targets = {li.get("data-target") for li in task.xpath(".//li[@data-target]")}
    item_ = catalogue(desk).items[CHANGE]
    assert targets == {f.name for f in item_.form.fields} | {
        f"materials.{m.code}" for m in item_.materials
    }

    # The uploaded file, for the department's officers only; each read is in the ledger.
    got = approver.get(link)
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert got.content.startswith(b"\x89PNG")
    assert as_user(desk, "health").get(link).status_code == 404
    with tx(desk) as db:
        looks = list(
            db.execute(
                select(LedgerEntry.actor, LedgerEntry.subject, LedgerEntry.leaf).where(
                    LedgerEntry.action.in_(("approval.case.viewed", "approval.material.read"))
                )
            )
        )
    assert {(a, s) for a, s, _ in looks} == {("approver", credit)}
    read = [json.loads(leaf)["detail"].get("material") for *_, leaf in looks]
    # Two looks at the case page (in English and in Chinese), one at the file, naming it.
    assert sorted(read, key=str) == sorted([None, None, "resolution"], key=str)


@pytest.mark.parametrize(
    ("username", "status"),
    [("health", 404), ("officer", 404), ("admin", 403), ("firm", 403), ("citizen", 403)],
)
def test_no_one_else_sees_the_officers_case_page(desk: FastAPI, username: str, status: int) -> None:
    code = submitted(desk)
    client = as_user(desk, username)
    assert client.get(f"/approval/desk/cases/{code}").status_code == status
    assert client.get(f"/approval/desk/cases/{code}/materials/resolution").status_code == status
    task = open_task(desk, code)
    assert step(client, code, task, "accept").status_code == status
    assert state_of(desk, code) == "submitted"
    assert as_user(desk, "approver").get("/approval/desk/cases/SP-NONE").status_code == 404


def test_an_officer_accepts_reviews_approves_and_issues_through_the_page(desk: FastAPI) -> None:
    code = submitted(desk)
    approver = as_user(desk, "approver")
    for outcome, state in (("accept", "accepted"), ("pass", "review"), ("approve", "approved")):
        done = step(approver, code, open_task(desk, code), outcome, reason="")
        assert done.status_code == 303, done.text
        assert state_of(desk, code) == state
        doc = page(approver.get(done.headers["location"]))
        assert doc.xpath(f"//*[@id='done'][@data-outcome='{outcome}']")
    doc = page(approver.get(f"/approval/desk/cases/{code}"))
    assert doc.xpath("//*[@id='issue-button']")
    due = doc.xpath("//*[@id='case-due']//*[@data-due]")[0].get("data-due")
    assert due in ("ok", "due_soon", "overdue")
    issued = post(approver, f"/approval/desk/cases/{code}/issue", {})
    assert issued.status_code == 303, issued.text
    assert state_of(desk, code) == "issued"
    doc = page(approver.get(issued.headers["location"]))
    number = text(doc.xpath("//*[@id='licence-no']")[0])
    assert number.startswith("YYZZ-")
    pdf = approver.get(doc.xpath("//a[@id='licence-pdf']")[0].get("href"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    envelope = approver.get(doc.xpath("//a[@id='licence-seal']")[0].get("href"))
    assert envelope.status_code == 200 and envelope.json()["document_sm3"]
    assert doc.xpath("//a[@id='licence-verify']")[0].get("href") == "/seals/verify"
    assert not doc.xpath("//section[@id='actions']//form")


def test_a_correction_request_lists_several_items_at_once(desk: FastAPI) -> None:
    code = submitted(desk)
    approver = as_user(desk, "approver")
    task = open_task(desk, code)
    ticked = ["change_after", "contact_phone", "materials.resolution"]
    # A ticked item without its reason is refused naming it; nothing ticked names the list.
    missing = step(
        approver,
        code,
        task,
        "correct",
        correct=ticked,
        **{"why.change_after": "与决议不一致", "why.contact_phone": "无法接通"},
    )
    assert missing.status_code == 422
    doc = page(missing)
    assert doc.xpath("//*[@data-field='why.materials.resolution']")
    assert not doc.xpath("//*[@data-field='why.change_after']")
    assert doc.xpath("//input[@name='correct'][@value='change_after'][@checked]")
    none = step(approver, code, task, "correct")
    assert none.status_code == 422 and page(none).xpath("//*[@data-field='corrections']")
    assert state_of(desk, code) == "submitted"

    reasons = {
        "change_after": "与决议不一致",
        "contact_phone": "无法接通",
        "materials.resolution": "缺少股东签字",
    }
    done = step(
        approver,
        code,
        task,
        "correct",
        correct=ticked,
        **{f"why.{k}": v for k, v in reasons.items()},
    )
    assert done.status_code == 303
    with tx(desk) as db:
        made = cases.get_case(db, code)
        assert made is not None and made.state == "correction"
        asked = {
            c.get("field") or f"materials.{c['material']}": c["reason"]
            for c in made.correction or []
        }
    assert asked == reasons
    doc = page(approver.get(f"/approval/desk/cases/{code}"))
    listed = text(doc.xpath("//*[@id='correction-list']")[0])
    assert "缺少股东签字" in listed and "变更后" in listed
    assert doc.xpath("//*[@data-due='paused']") and doc.xpath("//*[@id='no-task']")


def test_a_refusal_needs_its_reason_and_asks_first(desk: FastAPI) -> None:
    code = submitted(desk)
    approver = as_user(desk, "approver")
    for outcome in ("accept", "pass"):
        assert step(approver, code, open_task(desk, code), outcome).status_code == 303
    task = open_task(desk, code)
    bare = step(approver, code, task, "reject", reason="  ")
    assert bare.status_code == 422
    error = page(bare).xpath(f"//article[@data-task='{task}']//*[@data-field='reason']")
    assert error and "请说明理由" in text(error[0])
    assert state_of(desk, code) == "review"
    # With a reason: first a question, which changes nothing; then the refusal.
    asked = step(approver, code, task, "reject", reason="变更事项不属于登记范围")
    assert asked.status_code == 200 and "确认不予许可" in asked.text
    assert state_of(desk, code) == "review"
    done = step(approver, code, task, "reject", reason="变更事项不属于登记范围", confirm="yes")
    assert done.status_code == 303 and state_of(desk, code) == "rejected"
    doc = page(approver.get(f"/approval/desk/cases/{code}"))
    assert "变更事项不属于登记范围" in text(doc.xpath("//*[@id='case-facts']")[0])


def test_a_step_someone_else_took_is_said_plainly_with_the_case_as_it_stands(
    desk: FastAPI,
) -> None:
    code = submitted(desk)
    with tx(desk) as db:
        add_account(
            db,
            UserCreate(
                username="approver2",
                display_name="审批局 钱审批",
                password=DEMO_PASSWORD,
                roles=[Role.officer],
                department="青岛市行政审批服务局",
            ),
        )
    first, second = as_user(desk, "approver"), as_user(desk, "approver2")
    task = open_task(desk, code)
    # Both opened the case at the acceptance step; the first accepts.
    assert step(first, code, task, "accept").status_code == 303
    late = step(second, code, task, "accept")
    assert late.status_code == 409
    doc = page(late)
    assert "其他工作人员" in text(doc.xpath("//*[@id='taken']")[0])
    assert doc.xpath("//*[@id='case-state'][@data-state='accepted']")
    # The page now offers the step that is open: the review, not the acceptance again.
    assert doc.xpath("//article[@data-step='review']//button[@data-outcome='pass']")
    assert not doc.xpath("//article[@data-step='accept']")
    assert state_of(desk, code) == "accepted"


def test_the_countersigning_department_sees_the_case_only_at_its_step(desk: FastAPI) -> None:
    code = submitted(desk, HYGIENE)
    approver, health = as_user(desk, "approver"), as_user(desk, "health")
    assert health.get(f"/approval/desk/cases/{code}").status_code == 404
    for outcome in ("accept", "pass"):
        assert step(approver, code, open_task(desk, code), outcome).status_code == 303
    doc = page(health.get("/approval/workbench?role=countersign"))
    assert doc.xpath(f"//table[@id='queue']//tr[@data-case='{code}']")
    doc = page(health.get(f"/approval/desk/cases/{code}"))
    assert doc.xpath("//article[@data-step='countersign']//button[@data-outcome='disagree']")
    task = open_task(desk, code)
    bare = step(health, code, task, "disagree")
    assert bare.status_code == 422 and page(bare).xpath("//*[@data-field='reason']")
    assert step(health, code, task, "agree", reason="符合卫生要求").status_code == 303
    # The approval bureau sees nothing to do for the countersign, the health commission no more.
    assert state_of(desk, code) == "review"
    doc = page(health.get(f"/approval/desk/cases/{code}"))
    assert doc.xpath("//*[@id='no-task']")


# --- the queue's time limits and pages ----------------------------------------------------------


def test_the_queue_says_overdue_and_due_soon_in_words_and_pages(app: FastAPI) -> None:
    from shuhui.approval import calendar
    from shuhui.approval.models import CaseTask
    from shuhui.core.clock import local_today, utcnow

    today = local_today()
    food = catalogue(app).items["QD-SP-0003"]
    dues = {
        "overdue": today - timedelta(days=10),
        "due_soon": calendar.add_working_days(today, 1),
        "": calendar.add_working_days(today, 15),
    }
    codes: dict[str, str] = {}
    with tx(app) as db:
        for n in range(23):
            warning = list(dues)[n] if n < 3 else ""
            made = case(
                db,
                food,
                applicant_id=CITIZEN_ID,
                applicant_kind="person",
                state="review",
                accepted_at=utcnow(),
                promised_due=dues[warning],
                statutory_due=dues[warning],
            )
            db.add(
                CaseTask(
                    case_id=made.id,
                    task_id=f"t{n}",
                    step="review",
                    name="审查",
                    department=food.department,
                    role="review",
                    opened_at=utcnow(),
                )
            )
            if n < 3:
                codes[warning] = made.code
    approver = as_user(app, "approver")
    doc = page(approver.get("/approval/workbench?role=review"))
    rows = doc.xpath("//table[@id='queue']/tbody/tr[@data-case]")
    assert len(rows) == 20  # a page
    # The most pressing first, each warning in words as well as colour.
    assert rows[0].get("data-case") == codes["overdue"]
    assert "已超期" in text(rows[0]) and rows[0].xpath(".//*[@data-due='overdue']")
    assert rows[1].get("data-case") == codes["due_soon"]
    assert "即将到期" in text(rows[1]) and "剩 1 个工作日" in text(rows[1])
    assert rows[2].xpath(".//*[@data-due='ok']")
    # The citizen ID is masked in the list.
    assert CITIZEN_ID not in text(rows[0]) and "370202********1233" in text(rows[0])
    soon = {r.get("data-case") for r in doc.xpath("//*[@id='due-soon']//tr[@data-case]")}
    assert soon == {codes["overdue"], codes["due_soon"]}
    assert "共 23 件" in text(doc.xpath("//table[@id='queue']/caption")[0])
    second = page(approver.get("/approval/workbench?role=review&page=2"))
    assert len(second.xpath("//table[@id='queue']/tbody/tr[@data-case]")) == 3
    assert second.xpath("//*[@id='queue-pages']//a[@rel='prev']")
    # A page past the last shows the last; the tab counts the urgent ones.
    assert (
        len(
            page(approver.get("/approval/workbench?role=review&page=9")).xpath(
                "//table[@id='queue']/tbody/tr[@data-case]"
            )
        )
        == 3
    )
    tab = doc.xpath("//*[@id='role-tabs']/a[@data-role='review']")[0]
    assert "23" in text(tab) and "其中 2 件" in text(tab)


def test_the_pages_speak_english_when_asked(app: FastAPI) -> None:
    client = as_user(app, "approver")
    for path, heading in (
        ("/approval/workbench", "Approval workbench"),
        ("/approval/admin/items", "Service items"),
        ("/approval/admin/items/QD-SP-0003", "Food business licence"),
        ("/approval/metrics?by=domain", "Approval performance"),
    ):
        answer = client.get(f"{path}{'&' if '?' in path else '?'}lang=en")
        assert answer.status_code == 200 and heading in text(page(answer).xpath("//h1")[0])


# --- 窗口受理: filing at a service-hall window ---------------------------------------------------


def test_an_officer_files_at_the_window_through_the_page(city_app: FastAPI) -> None:
    with city_app.state.datacore.connect() as con:
        row = con.execute(
            "SELECT r.citizen_id, r.name FROM residents r JOIN e_certificates c "
            "ON c.holder_citizen_id = r.citizen_id AND c.certificate_type = '残疾人证' "
            "AND c.status = '有效' ORDER BY r.citizen_id LIMIT 1"
        ).fetchone()
    assert row is not None
    applicant, name = str(row[0]), str(row[1])
    civil = as_user(city_app, "civil")
    listed = page(civil.get("/approval/desk/counter"))
    offered = listed.xpath("//select[@id='counter-item-select']/option/@value")
    assert "QD-MZ-0001" in offered and "QD-SP-0003" not in offered  # the bureau's, not civil's
    form = page(civil.get("/approval/desk/counter?item=QD-MZ-0001"))
    assert form.xpath("//form[@id='counter-form']//input[@name='purpose']")
    # Another department's officer is not offered the item, and is refused if they post it.
    other = as_user(city_app, "approver")
    assert page(other.get("/approval/desk/counter?item=QD-MZ-0001")).xpath("//*[@id='not-offered']")
    posted = {
        "item": "QD-MZ-0001",
        "applicant": applicant,
        "identity_checked": "yes",
        "purpose": "申请人到窗口现场申请",
    }
    answer = post(other, "/approval/desk/counter", posted)
    assert answer.status_code == 403 and "青岛市民政局" in text(page(answer))
    assert as_user(city_app, "citizen").get("/approval/desk/counter").status_code == 403
    # No purpose and no identity check: each named beside its field, what was typed kept.
    answer = post(
        civil, "/approval/desk/counter", {**posted, "purpose": " ", "identity_checked": ""}
    )
    assert answer.status_code == 422
    refused = page(answer)
    assert refused.xpath("//*[@data-field='purpose']")
    assert "当面核验" in text(refused.xpath("//*[@data-field='identity_checked']")[0])
    assert refused.xpath("//input[@name='applicant']/@value") == [applicant]
    # Filed: the case page says so and names the channel.
    answer = post(civil, "/approval/desk/counter", posted)
    assert answer.status_code == 303, answer.text
    where = answer.headers["location"]
    assert where.startswith("/approval/desk/cases/") and "filed=1" in where
    shown = page(civil.get(where))
    assert shown.xpath("//*[@id='filed']")
    channel = shown.xpath("//*[@id='case-channel']")[0]
    assert channel.get("data-channel") == "counter" and text(channel) == "窗口办理"
    assert name in text(shown.xpath("//*[@id='case-facts']")[0])
