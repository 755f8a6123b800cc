"""The officers' and administrators' approval pages through HTTP, as a browser posts them: who
sees what (403 for other roles, 404 for another department's case), the workbench's queues and
follow-ups, the case page with its provenance and its steps (一次性告知 with several items, a
refusal without reason refused naming the field, a step someone else took), the item
administration, and the metrics page showing metrics()' own numbers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.approval import desk_workbench, metrics, ratings
from shuhui.approval.items import Catalogue
from shuhui.approval.models import CaseField, CaseMaterial, FollowUp, Rating
from shuhui.approval.schemas import RatingIn
from shuhui.core.db import transaction
from shuhui.trust.identity import service as identity
from shuhui.trust.identity.models import User
from shuhui.trust.ledger.models import LedgerEntry
from tests.approval.made_cases import case, credit_code
from tests.fixtures import as_user

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
        body.setdefault(name, []).append(value)
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
        for n, (service, state, checked, first) in enumerate(
            [
                (food, "issued", True, True),
                (food, "review", False, False),
                (other, "rejected", True, True),
                (food, "submitted", False, None),
            ]
        ):
            made = case(
                db,
                service,
                applicant_id=holder,
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
            db.add(
                CaseMaterial(
                    case_id=made.id, material="m1", waived=True, updated_at=now
                )
            )
            if n != 2:
                db.add(
                    CaseMaterial(
                        case_id=made.id, material="m2", waived=False, sha256="0" * 64, updated_at=now
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
            db, by=by, since=date(2026, 3, 1), catalogue=catalogue(app)  # type: ignore[arg-type]
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
    assert text(doc.xpath("//*[@id='total-cases']")[0]) == str(total.cases) == "4"
    assert text(doc.xpath("//*[@id='total-fields-spared']")[0]) == str(total.fields_spared)
    assert text(doc.xpath("//*[@id='total-first-pass']")[0]) == pct(total.first_pass_with_precheck)
    # Each chart has its table beside it with the same numbers, for screen readers and phones.
    charts = doc.xpath("//*[@data-chart]")
    assert {c.get("id") for c in charts} == {
        "chart-fields", "chart-materials", "chart-first-pass", "chart-on-time", "chart-ratings"
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
        assert desk_workbench.todos(db, user(db, "health"))[0].count == 0
        assert desk_workbench.todos(db, user(db, "citizen")) == []
    doc = page(approver.get("/approval/workbench"))
    card = doc.xpath(f"//*[@data-followup='{followup}']")
    assert card and "跑了三趟" in text(card[0])
    assert not page(health.get("/approval/workbench")).xpath("//*[@data-followup]")
    # Another department's officer cannot answer it; an empty answer is refused by name.
    assert post(health, f"/approval/workbench/followups/{followup}", {"reply": "好"}).status_code == 404
    empty = post(approver, f"/approval/workbench/followups/{followup}", {"reply": "  "})
    assert empty.status_code == 422
    assert page(empty).xpath(f"//*[@data-followup='{followup}']//*[@data-field='reply']")
    done = post(approver, f"/approval/workbench/followups/{followup}", {"reply": "已约谈窗口人员并改进"})
    assert done.status_code == 303
    doc = page(approver.get(done.headers["location"]))
    assert doc.xpath("//*[@id='replied']") and not doc.xpath("//*[@data-followup]")
    with tx(app) as db:
        closed = db.get(FollowUp, followup)
        assert closed is not None and (closed.state, closed.closed_by) == ("closed", "approver")
        assert db.scalar(
            select(LedgerEntry.actor).where(LedgerEntry.action == "approval.followup.replied")
        ) == "approver"
    # Answering again: already closed, said plainly.
    again = post(approver, f"/approval/workbench/followups/{followup}", {"reply": "再答"})
    assert again.status_code == 409 and page(again).xpath("//*[@id='form-error']")
