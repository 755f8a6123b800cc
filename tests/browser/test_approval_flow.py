"""Smart approval end to end in Chromium, as people use it (issue 18's "done when"): the demo
citizen finds 残疾人证核发 in the service hall, applies, finds most of the form filled with
each value's source, uploads someone else's identity card and sees it flagged before
submitting, uploads their own card and the hospital's assessment, chooses what only they know,
and submits; the disabled persons' federation's officer takes the case from the queue, accepts,
reviews, approves and issues the sealed e-licence, which verifies at /seals/verify; back in the
hall, the citizen applies for 残疾人两项补贴 and the certificate just issued is waived (免提交):
the once-only loop closed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import REPO_ROOT, log_in
from tests.browser.test_layout import _context

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

FIRST = "QD-CL-0001"  # 残疾人证核发: issues 残疾人证
NEXT = "QD-MZ-0001"  # 残疾人两项补贴申领: needs 残疾人证, which an e-certificate waives
ARTIFACTS = REPO_ROOT / "test-artifacts"


def _upload(page: Page, server_url: str, material: str, kind: str, sample: str) -> None:
    """A sample document downloaded from the form's own link, then uploaded and pre-checked."""
    link = page.locator(f"a[href^='/approval/samples/{kind}'][data-sample='{sample}']").first
    href = link.get_attribute("href")
    assert href is not None
    picture = page.request.get(server_url + href)
    assert picture.ok and picture.headers["content-type"] == "image/png"
    page.locator(f"#file-{material}").set_input_files(
        {"name": f"{material}-{sample}.png", "mimeType": "image/png", "buffer": picture.body()}
    )
    page.locator(f"#material-{material} button[data-upload='{material}']").click()
    expect(page).to_have_url(re.compile(rf"#material-{material}$"))


def _apply(page: Page, server_url: str, item: str, words: str) -> str:
    page.goto(f"{server_url}/approval")
    page.locator("input[name=q]").fill(words)
    page.locator("input[name=q]").press("Enter")
    page.locator(f"li[data-item='{item}'] h3 a").first.click()
    page.locator("#apply-button").click()
    expect(page).to_have_url(re.compile(r"/approval/cases/SP[0-9A-Z-]+/form$"))
    return page.locator("#case-code").inner_text().strip()


def _act(page: Page, outcome: str) -> None:
    page.locator(f"#actions button[data-outcome='{outcome}']").click()
    expect(page.locator(f"#done[data-outcome='{outcome}']")).to_be_visible()


@pytest.mark.browser
def test_apply_precheck_approve_issue_verify_and_the_next_application_waives_it(
    browser: Browser, server_url: str, tmp_path: Path
) -> None:
    context = _context(browser)
    citizen = context.new_page()
    log_in(citizen, server_url, "citizen", DEMO_PASSWORD)
    code = _apply(citizen, server_url, FIRST, "残疾证")

    # Most of the form is filled, each value saying where it came from.
    form = citizen.locator("#fill-summary")
    filled, total = (
        int(form.get_attribute("data-filled") or 0),
        int(form.get_attribute("data-total") or 0),
    )
    assert total > 0 and filled * 2 > total, (filled, total)
    name = citizen.locator("#field-applicant_name")
    expect(name).to_have_attribute("data-fill", "identity")
    expect(name).to_contain_text("身份自动填")
    expect(name).to_contain_text("常住人口")

    # Someone else's card is flagged before submitting; the citizen's own passes.
    _upload(citizen, server_url, "id-card", "id-card", "other")
    expect(citizen.locator("#material-id-card")).to_have_attribute("data-precheck", "issues")
    _upload(citizen, server_url, "id-card", "id-card", "own")
    expect(citizen.locator("#material-id-card")).to_have_attribute("data-precheck", "ok")
    _upload(citizen, server_url, "assessment", "medical-certificate", "own")
    expect(citizen.locator("#material-assessment")).to_have_attribute("data-precheck", "ok")
    card = citizen.request.get(
        server_url + f"/approval/samples/id-card?case={code}"
    ).body()  # the household register's page: any clear scan is taken as it is
    citizen.locator("#file-household-register").set_input_files(
        {"name": "hukou.png", "mimeType": "image/png", "buffer": card}
    )
    citizen.locator("#f-disability_type_claimed").select_option("肢体")
    citizen.locator("#submit-button").click()
    expect(citizen).to_have_url(re.compile(rf"/approval/cases/{code}\?done=submitted$"))
    expect(citizen.locator("#case")).to_have_attribute("data-state", "submitted")

    # The federation's officer: from the queue to the sealed licence.
    desk = _context(browser)  # the officer's own browser: a login of their own
    officer = desk.new_page()
    log_in(officer, server_url, "disability", DEMO_PASSWORD)
    officer.goto(f"{server_url}/approval/workbench?role=accept")
    officer.locator(f"#queue tr[data-case='{code}']").get_by_role("link", name=code).click()
    expect(officer.locator("#process svg")).to_have_attribute("aria-label", "当前环节：受理")
    expect(officer.locator("#form tr[data-field='applicant_name']")).to_have_attribute(
        "data-fill", "identity"
    )
    _act(officer, "accept")
    _act(officer, "pass")
    _act(officer, "approve")
    officer.locator("#issue-button").click()
    expect(officer.locator("#case-state")).to_have_text("已办结出证")
    number = officer.locator("#licence-no").inner_text().strip()
    ARTIFACTS.mkdir(exist_ok=True)
    officer.screenshot(path=str(ARTIFACTS / "approval-flow-issued.png"), full_page=True)

    # The citizen's licence verifies at /seals/verify, as anyone would check it.
    citizen.goto(f"{server_url}/approval/cases/{code}")
    expect(citizen.locator("#licence-no")).to_have_text(number)
    pdf = citizen.request.get(
        server_url + (citizen.locator("#licence-pdf").get_attribute("href") or "")
    )
    seal = citizen.request.get(
        server_url + (citizen.locator("#licence-seal").get_attribute("href") or "")
    )
    assert pdf.ok and pdf.body().startswith(b"%PDF") and seal.ok
    (tmp_path / "licence.pdf").write_bytes(pdf.body())
    (tmp_path / "licence.seal.json").write_bytes(seal.body())
    citizen.goto(f"{server_url}/seals/verify")
    citizen.locator("input[name=document]").set_input_files(str(tmp_path / "licence.pdf"))
    citizen.locator("input[name=envelope]").set_input_files(str(tmp_path / "licence.seal.json"))
    citizen.locator("main form button[type=submit]").click()
    expect(citizen.locator("#verdict")).to_have_attribute("data-valid", "true")

    # The next application needs no certificate: the one just issued is waived.
    _apply(citizen, server_url, NEXT, "残疾人两项补贴")
    waived = citizen.locator("#material-disability-card")
    expect(waived).to_have_attribute("data-waived", "true")
    expect(waived).to_contain_text(number)
    citizen.screenshot(path=str(ARTIFACTS / "approval-flow-waived.png"), full_page=True)
    desk.close()
    context.close()
