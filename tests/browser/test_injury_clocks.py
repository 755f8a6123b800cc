"""End-to-end in Chromium (the work-injury issue's "done when": a case shows its clocks on the
officer's page and warns before a deadline): the demo citizen applies for 工伤认定 (QD-RS-0003)
over the API, as the hall's pages do; the HR & social-security bureau's officer finds it on
工伤认定时限 with its filing limit and no decision clock yet, accepts it at the approval desk
and sees 60 days left; the case is then moved 55 days into the past (in the served database):
5 days remain, the row warns and the workbench counts it; the officer marks the facts clear and
the decision date moves to 15 days from acceptance, long past: the row says how many days
overdue."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.core.clock import local_today
from shuhui.core.display import local_date
from shuhui.hrss import injury
from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import demo_identity, log_in
from tests.browser.test_approval_desk import _scan, act
from tests.browser.test_layout import _context, check_page

RULES = injury.clocks()
OFFICER = "officer"  # 人社局 李科员: the department that decides QD-RS-0003
INJURY_CARD = "li[data-todo='hrss.injury'] .todo-count"
# The mark's form as a page showed it while the application was accepted, sent now.
STALE_MARK = """([action, token]) => {
  const form = Object.assign(document.createElement("form"), {method: "post", action});
  form.append(Object.assign(document.createElement("input"),
                            {type: "hidden", name: "csrf_token", value: token}));
  document.body.append(form);
  form.submit();
}"""


def csrf_token(page: Page) -> str:
    return str(
        page.evaluate("() => JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    )


def file_application(page: Page, server_url: str, accident: date, employer: str) -> str:
    """What the hall's form does for the applicant: start the case (the form pre-filled), type
    what only they know, upload the three materials, submit. Returns the case code."""
    headers = {"x-csrf-token": csrf_token(page)}
    api = f"{server_url}/api/v1/approval/cases"
    started = page.request.post(api, data={"item": RULES.items[0]}, headers=headers)
    assert started.status == 201, started.text()
    code = str(started.json()["code"])
    values = {
        "employer_credit_code": employer,
        "hired_date": (accident - timedelta(days=400)).isoformat(),
        "injury_date": accident.isoformat(),
        "injury_place": "青岛市市北区示范路1号车间",
        "injury_kind": "工作时间和工作场所内因工作原因受到事故伤害",
        "diagnosis": "右手食指末节骨折",
        "applicant_relation": "本人",
    }
    saved = page.request.put(f"{api}/{code}/form", data={"values": values}, headers=headers)
    assert saved.ok, saved.text()
    for n, material in enumerate(m for m in saved.json()["materials"] if not m["waived"]):
        scan = {
            "name": f"{material['code']}.png",
            "mimeType": "image/png",
            "buffer": _scan(320 + n),
        }
        up = page.request.post(
            f"{api}/{code}/materials/{material['code']}",
            multipart={"file": scan},
            headers=headers,
        )
        assert up.ok, up.text()
    sent = page.request.post(f"{api}/{code}/submit", headers=headers)
    assert sent.ok and sent.json()["state"] == "submitted", sent.text()
    return code


def days_earlier(data_dir: Path, code: str, days: int) -> None:
    """Time passes: the case was made, submitted and accepted ``days`` earlier than it was (in
    the served database; the clocks are computed from these, never stored)."""
    columns = ("created_at", "submitted_at", "accepted_at")
    with closing(sqlite3.connect(data_dir / "shuhui.db", timeout=30)) as db, db:
        stored = db.execute(
            f"SELECT {', '.join(columns)} FROM approval_cases WHERE code = ?", (code,)
        ).fetchone()
        moved = [
            (datetime.fromisoformat(v) - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S.%f")
            for v in stored
        ]
        db.execute(
            f"UPDATE approval_cases SET {', '.join(f'{c} = ?' for c in columns)} WHERE code = ?",
            (*moved, code),
        )


def cells(page: Page, code: str) -> dict[str, str]:
    row = page.locator(f"#case-{code}")
    expect(row).to_have_count(1)
    headings = page.locator("#applications thead th").all_inner_texts()
    texts = row.locator("td").all_inner_texts()
    return {h.strip(): t.strip() for h, t in zip(headings, texts, strict=True)}


def due_soon(page: Page, server_url: str) -> int:
    page.goto(f"{server_url}/")
    return int(page.locator(INJURY_CARD).get_attribute("data-count") or "-1")


@pytest.mark.browser
def test_an_application_shows_its_clocks_and_warns_before_the_decision_is_due(
    browser: Browser, server_url: str, server_dir: Path
) -> None:
    today = local_today()
    # The accident 80 days ago; the application is made today, and later moved to 55 days ago.
    accident = today - timedelta(days=80)
    if (accident.month, accident.day) == (2, 29):  # a year on is 28 February: not this test's
        accident -= timedelta(days=1)
    name, _, _ = demo_identity(server_dir, "citizen")
    _, _, employer = demo_identity(server_dir, "enterprise")
    assert employer is not None
    context = _context(browser)  # axe-core in every page it opens
    citizen = context.new_page()
    log_in(citizen, server_url, "citizen", DEMO_PASSWORD)
    code = file_application(citizen, server_url, accident, employer)
    citizen.close()

    desk = _context(browser)
    officer = desk.new_page()
    log_in(officer, server_url, OFFICER, DEMO_PASSWORD)
    before = due_soon(officer, server_url)
    officer.goto(f"{server_url}/hrss/injury")
    expect(officer.locator("h1")).to_have_text("工伤认定时限")
    row = officer.locator(f"#case-{code}")
    # Filed by the worker within a year of the accident, in time; not accepted yet.
    waiting = cells(officer, code)
    assert waiting["申请人"] == f"{name}（本人）"
    assert waiting["事故日期"] == local_date(accident)
    assert waiting["申请时限"] == local_date(accident.replace(year=accident.year + 1))
    assert waiting["受理日期"] == "待受理"
    assert (waiting["决定期限"], waiting["剩余天数"]) == ("—", "—")
    expect(row.locator(".late")).to_have_count(0)
    expect(row.get_by_role("button")).to_have_count(0)  # nothing to mark before acceptance
    # A mark sent before acceptance (from a page left open elsewhere) is refused in Chinese.
    officer.evaluate(STALE_MARK, [f"/hrss/injury/{code}/clear", csrf_token(officer)])
    expect(officer.locator("#form-error")).to_have_text(
        "申请受理后、作出决定前才能标记：办件：当前状态不能标记"
    )
    expect(row.locator("td").nth(4)).to_have_text("待受理")

    # The officer opens the case from the row and accepts it at the approval desk.
    row.get_by_role("link", name=code).click()
    act(officer, "accept")
    officer.goto(f"{server_url}/hrss/injury")
    accepted = cells(officer, code)
    assert accepted["受理日期"] == local_date(today)
    assert accepted["决定期限"] == local_date(today + timedelta(days=RULES.decision_days))
    assert accepted["剩余天数"] == str(RULES.decision_days)
    expect(row).not_to_have_attribute("data-warning", "true")
    expect(row.locator(".warn")).to_have_count(0)
    assert due_soon(officer, server_url) == before

    # Had it been filed and accepted 55 days ago: 5 days left, a warning on the page and a count
    # on the workbench.
    elapsed = RULES.decision_days - 5
    days_earlier(server_dir, code, elapsed)
    assert due_soon(officer, server_url) == before + 1
    todo = officer.locator("li[data-todo='hrss.injury']")
    expect(todo).to_have_class(re.compile(r"\burgent\b"))
    todo.get_by_role("link").click()
    expect(row).to_have_attribute("data-warning", "true")
    assert RULES.warn_days >= 5  # what the content says, as this test reads it
    warning = row.locator(".warn")
    expect(warning).to_be_visible()
    expect(warning).to_have_text("即将到期：5 天")
    warned = cells(officer, code)
    assert warned["受理日期"] == local_date(today - timedelta(days=elapsed))
    assert warned["决定期限"] == local_date(today + timedelta(days=5))
    assert warned["申请时限"] == waiting["申请时限"]  # filed 25 days after the accident: in time
    problems = check_page(officer, "officer-hrss-injury")

    # The facts are clear: to be decided within 15 days of acceptance, which is long past.
    row.get_by_role("button", name="事实清楚（15日内决定）").click()
    expect(officer).to_have_url(f"{server_url}/hrss/injury#case-{code}")
    due = today - timedelta(days=elapsed) + timedelta(days=RULES.clear_decision_days)
    marked = cells(officer, code)
    assert marked["决定期限"].split() == [local_date(due), "事实清楚，15日内"]
    overdue = (today - due).days
    expect(row).to_have_attribute("data-overdue", "true")
    expect(row.locator(".overdue")).to_have_text(f"已超期 {overdue} 天")
    expect(row.get_by_role("button")).to_have_count(0)  # marked once
    assert due_soon(officer, server_url) == before + 1
    assert not problems, "\n".join(problems)
    context.close()
    desk.close()
