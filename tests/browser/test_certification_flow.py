"""Pension certification end to end in Chromium (issue 19's "done when"): a pensioner the data
shows no sign of life for is told, never stopped — only suspended once the window and the
notice have lapsed — and is resumed with back pay after certifying themself, all through the
pages. The demo ran a cycle weeks back (its notices dated then); the 人社局 officer runs
today's from the dashboard (asked first, a progress indicator while it runs), the pensioner's
pension is suspended, the pensioner signs the declaration after giving the password again, and
the back pay shows on 我的养老金资格认证 and on the officer's view of the evidence. The street
office records a home visit. Every page passes axe-core at desktop and phone width."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.core.clock import local_today
from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import demo_identity, log_in
from tests.browser.test_layout import _context, check_page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _status(page: Page) -> tuple[str, str]:
    box = page.locator("#status")
    return box.get_attribute("data-outcome") or "", box.get_attribute("data-payment") or ""


@pytest.mark.browser
def test_no_evidence_means_suspended_never_stopped_and_resumed_with_back_pay(
    browser: Browser, server_url: str, server_dir: Path
) -> None:
    _, citizen_id, _ = demo_identity(server_dir, "pensioner")
    assert citizen_id is not None
    problems: list[str] = []

    # The pensioner: told, not yet certified, paid as normal, a button to certify.
    home = _context(browser)
    pensioner = home.new_page()
    log_in(pensioner, server_url, "pensioner", DEMO_PASSWORD)
    expect(pensioner.locator("[data-todo='certification.mine']")).to_have_count(1)
    pensioner.goto(f"{server_url}/hrss/certification/mine")
    assert _status(pensioner) == ("undetermined", "normal")
    expect(pensioner.locator("#plain")).to_contain_text("没有比对到")
    expect(pensioner.locator("#certify-button")).to_be_visible()
    problems += check_page(pensioner, "certification-pensioner-mine")
    pensioner.goto(f"{server_url}/messages")
    expect(pensioner.locator("main")).to_contain_text("资格认证")

    # The officer: the demo's cycle on the dashboard, then today's run, asked first.
    desk = _context(browser)
    officer = desk.new_page()
    log_in(officer, server_url, "officer", DEMO_PASSWORD)
    officer.goto(f"{server_url}/hrss/certification")
    expect(officer.locator("#run-table tbody tr[data-run]")).to_have_count(1)
    expect(officer.locator("#cert-chart svg")).to_be_visible()
    problems += check_page(officer, "certification-dashboard")
    today = local_today().isoformat()
    officer.locator("#run-form input[name=date]").fill(today)
    officer.locator("#run-button").click()
    expect(officer.locator("#confirm-summary")).to_contain_text(today)
    problems += check_page(officer, "certification-run-confirm")
    officer.locator("#confirm-yes").click()
    expect(officer.locator("#ran")).to_have_attribute("data-date", today)
    expect(officer.locator("#ran")).to_have_attribute("data-again", "false")
    expect(officer.locator(f"#run-table tr[data-run='{today}']")).to_have_count(1)
    assert int(officer.locator("#count-suspended").inner_text()) >= 1

    # Running it again changes nothing, and says so.
    officer.locator("#run-form input[name=date]").fill(today)
    officer.locator("#run-button").click()
    officer.locator("#confirm-yes").click()
    expect(officer.locator("#ran")).to_have_attribute("data-again", "true")
    expect(officer.locator("#run-table tbody tr[data-run]")).to_have_count(2)

    # Suspended, never stopped: the officer's view of the evidence says so.
    officer.goto(f"{server_url}/hrss/certification/recipients/{citizen_id}")
    expect(officer.locator("#recipient")).to_have_attribute("data-payment", "suspended")
    expect(officer.locator("#recipient")).to_have_attribute("data-outcome", "undetermined")
    expect(officer.locator("#evidence tr[data-input]").first).to_be_visible()
    problems += check_page(officer, "certification-recipient")

    # The pensioner certifies themself: asked first, the password again, signed.
    pensioner.goto(f"{server_url}/hrss/certification/mine")
    assert _status(pensioner) == ("undetermined", "suspended")
    expect(pensioner.locator("#suspended-note")).to_be_visible()
    pensioner.locator("#certify-button").click()
    expect(pensioner).to_have_url(re.compile(r"/hrss/certification/mine/declare$"))
    expect(pensioner.locator("#declaration")).to_contain_text("本人郑重声明")
    problems += check_page(pensioner, "certification-declare")
    pensioner.locator("#declare-form input[name=password]").fill("not-my-password")
    pensioner.locator("#sign-button").click()
    expect(pensioner.locator("#declare-form [data-field='password']")).to_be_visible()
    pensioner.locator("#declare-form input[name=password]").fill(DEMO_PASSWORD)
    pensioner.locator("#sign-button").click()
    expect(pensioner).to_have_url(re.compile(r"/hrss/certification/mine\?done=1"))
    assert _status(pensioner) == ("certified", "normal")
    expect(pensioner.locator("#status")).to_have_attribute("data-method", "self")
    expect(pensioner.locator("#done")).to_contain_text("补发")
    back = pensioner.locator("#back-pay td.back-pay").first.inner_text()
    assert float(back.replace(",", "")) > 0, back
    problems += check_page(pensioner, "certification-pensioner-done")

    # The officer sees the pension resumed and the back pay.
    officer.goto(f"{server_url}/hrss/certification/recipients/{citizen_id}")
    expect(officer.locator("#recipient")).to_have_attribute("data-payment", "normal")
    expect(officer.locator("#signed")).to_be_visible()
    expect(officer.locator("#payment-table tr[data-resumed]")).to_have_count(1)
    officer.goto(f"{server_url}/hrss/certification/overpayments?status=all")
    problems += check_page(officer, "certification-overpayments")
    officer.goto(f"{server_url}/hrss/certification/lists/suspended")
    problems += check_page(officer, "certification-list")

    # The street office: a visit recorded from its page.
    street_context = _context(browser)
    street = street_context.new_page()
    log_in(street, server_url, "street", DEMO_PASSWORD)
    street.goto(f"{server_url}/hrss/certification/visits")
    problems += check_page(street, "certification-visits")
    first = street.locator("section[id^='visit-'][data-status='open']").first
    visit_id = (first.get_attribute("id") or "").removeprefix("visit-")
    first.locator("input[name=outcome][value=certified]").check()
    first.locator("input[name=note]").fill("见到本人，身体健康")
    first.locator("button[type=submit]").click()
    done = street.locator(f"#visit-{visit_id}")
    expect(done).to_have_attribute("data-status", "done")
    expect(done).to_have_attribute("data-outcome", "certified")

    assert problems == [], "\n".join(problems)
    for context in (home, desk, street_context):
        context.close()
