"""The officer's side of smart approval in Chromium, on the served demo: the demo enterprise's
application is made through the services (pre-filled, completed, uploaded, submitted), then the
approval bureau's officer ``approver`` finds it in the acceptance queue of 审批工作台, reads the
form with each field's source and the process diagram with its current step, accepts, reviews,
approves and issues; the sealed e-licence opens as a PDF and verifies at /seals/verify. The
workbench, the case page, item administration and the metrics page pass axe-core at desktop and
phone width."""

from __future__ import annotations

import re
from contextlib import closing
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from shuhui.approval import cases, service
from shuhui.approval.items import load_catalogue
from shuhui.approval.precheck import store_upload
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.service import get_user_by_username
from tests.browser.server import REPO_ROOT, SECRET_KEY, log_in
from tests.browser.test_layout import _context, check_page

ITEM = "QD-SP-0002"  # 企业变更登记: the approval bureau decides and issues the business licence
ARTIFACTS = REPO_ROOT / "test-artifacts"


def _scan(width: int) -> bytes:
    out = BytesIO()
    Image.new("RGB", (width, 240), "white").save(out, "PNG")
    return out.getvalue()


def submit_for_demo_enterprise(data_dir: Path) -> str:
    """What the demo enterprise would do in the service hall, done through the services on the
    served database: the form pre-filled, the rest typed (each field's example), each material
    no e-certificate waives uploaded, and sent."""
    settings = Settings(data_dir=data_dir, secret_key=SECRET_KEY)
    catalogue = load_catalogue(settings.city_content)
    item = catalogue.items[ITEM]
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            firm = get_user_by_username(db, "enterprise")
            assert firm is not None
            made = service.start_application(
                db, DataCore.from_settings(settings), catalogue, user=firm, item_code=ITEM
            )
            view = service.form_view(db, catalogue, made)
            values: dict[str, Any] = {}
            for f in (f for g in view.groups for f in g.fields):
                spec = item.form.field(f.name)
                if spec is not None and spec.required and f.value in (None, ""):
                    values[f.name] = spec.schema["examples"][0]
            service.save(db, catalogue, made, values, actor=firm.username)
            for n, m in enumerate(view.materials):
                if m.waived or not m.required:
                    continue
                stored = store_upload(data_dir, made.code, m.code, _scan(320 + n), f"{m.code}.png")
                cases.attach_material(
                    db,
                    made,
                    m.code,
                    file_name=stored.file_name,
                    content_type=stored.content_type,
                    size=stored.size,
                    sha256=stored.sha256,
                    stored_as=stored.stored_as,
                    precheck={"material": m.kind, "fields": {}, "issues": []},
                    precheck_ok=True,
                    actor=firm.username,
                    item=item,
                )
            service.send(db, catalogue, made, actor=firm.username)
            return made.code
    finally:
        engine.dispose()


def act(page: Page, outcome: str) -> None:
    page.locator(f"#actions button[data-outcome='{outcome}']").click()
    expect(page.locator(f"#done[data-outcome='{outcome}']")).to_be_visible()


@pytest.mark.browser
def test_the_officer_takes_a_case_from_the_queue_to_its_sealed_licence(
    browser: Browser, server_url: str, server_dir: Path, tmp_path: Path
) -> None:
    code = submit_for_demo_enterprise(server_dir)
    context = _context(browser)  # axe-core in every page it opens
    officer = context.new_page()
    log_in(officer, server_url, "approver", DEMO_PASSWORD)
    problems: list[str] = []

    # The workbench: the case waits in the acceptance queue, its time limit not yet running.
    officer.goto(f"{server_url}/approval/workbench?role=accept")
    row = officer.locator(f"#queue tr[data-case='{code}']")
    expect(row).to_contain_text("企业变更登记")
    expect(row.locator("[data-due]")).to_have_text("未受理，尚未计时")
    problems += check_page(officer, "approver-approval-workbench")
    row.get_by_role("link", name=code).click()
    expect(officer).to_have_url(re.compile(rf"/approval/desk/cases/{code}$"))

    # The process with its current step, and the form with where each value came from.
    diagram = officer.locator("#process svg")
    expect(diagram).to_have_attribute("aria-label", "当前环节：受理")
    current = diagram.locator("g.step.current")
    expect(current).to_have_attribute("data-id", "accept")
    expect(current).to_be_visible()
    name = officer.locator("#form tr[data-field='enterprise_name']")
    expect(name).to_have_attribute("data-fill", "identity")
    expect(name.locator(".fill")).to_have_text("身份自动填")
    expect(name.locator(".source")).to_contain_text("企业")
    expect(officer.locator("#form tr[data-field='change_item']")).to_have_attribute(
        "data-fill", "typed"
    )
    expect(officer.locator("#materials tr[data-material='resolution'] a")).to_contain_text("查看")
    problems += check_page(officer, "approver-approval-case")

    act(officer, "accept")
    expect(officer.locator("#case-state")).to_have_text("已受理")
    expect(officer.locator("#case-due [data-due]")).to_contain_text("工作日")
    act(officer, "pass")
    officer.locator("#actions textarea[name=reason]").fill("材料齐全，符合法定形式")
    act(officer, "approve")
    expect(officer.locator("#process svg")).to_have_attribute("aria-label", "当前环节：办结出证")
    officer.locator("#issue-button").click()
    number = officer.locator("#licence-no")
    expect(number).to_have_text(re.compile(r"^YYZZ-\d{4}-\d{6}$"))
    expect(officer.locator("#case-state")).to_have_text("已办结出证")
    ARTIFACTS.mkdir(exist_ok=True)
    officer.screenshot(path=str(ARTIFACTS / "approval-desk-issued.png"), full_page=True)

    # The licence opens, and its seal verifies at /seals/verify.
    pdf = officer.request.get(server_url + officer.locator("#licence-pdf").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    seal = officer.request.get(server_url + officer.locator("#licence-seal").get_attribute("href"))
    assert seal.status == 200
    (tmp_path / "licence.pdf").write_bytes(pdf.body())
    (tmp_path / "licence.seal.json").write_bytes(seal.body())
    officer.locator("#licence-verify").click()
    expect(officer).to_have_url(re.compile(r"/seals/verify$"))
    officer.locator("input[name=document]").set_input_files(str(tmp_path / "licence.pdf"))
    officer.locator("input[name=envelope]").set_input_files(str(tmp_path / "licence.seal.json"))
    officer.locator("main form button[type=submit]").click()
    expect(officer.locator("#verdict")).to_have_attribute("data-valid", "true")

    # Item administration and the metrics page, with the case just issued counted.
    officer.goto(f"{server_url}/approval/admin/items")
    expect(officer.locator(f"tr[data-item='{ITEM}']")).to_contain_text("营业执照")
    problems += check_page(officer, "approver-approval-items")
    officer.goto(f"{server_url}/approval/admin/items/{ITEM}")
    expect(officer.locator("#process svg")).to_be_visible()
    problems += check_page(officer, "approver-approval-item")
    officer.goto(f"{server_url}/approval/metrics?by=department")
    officer.wait_for_function(
        "() => typeof echarts === 'object' && "
        "!!echarts.getInstanceByDom(document.getElementById('chart-fields'))"
    )
    cases_cell = officer.locator(
        "#metrics-table tr[data-key='青岛市行政审批服务局'] [data-metric=cases]"
    )
    assert int(cases_cell.inner_text()) >= 1
    problems += check_page(officer, "approver-approval-metrics")
    context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_the_workbench_needs_an_officer(browser: Browser, server_url: str) -> None:
    with closing(_context(browser)) as context:
        page = context.new_page()
        log_in(page, server_url, "enterprise", DEMO_PASSWORD)
        answer = page.goto(f"{server_url}/approval/workbench")
        assert answer is not None and answer.status == 403
