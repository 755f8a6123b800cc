"""Two browsers over video (社保视联办), in Chromium with its fake camera and microphone: the
citizen asks for help from 退休一件事's form, the bureau's agent takes it from the queue, the
media flow peer to peer, the agent sees the form as the citizen types and proposes a value the
citizen accepts into the form; the agent ends it with its outcome."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from shuhui.trust.identity.demo import DEMO_PASSWORD
from tests.browser.server import log_in

PLAYING = "(id) => { const v = document.getElementById(id); return v && v.videoWidth > 0; }"


def new_page(browser: Browser) -> Page:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    return context.new_page()


@pytest.mark.browser
def test_two_browsers_talk_and_the_agents_value_reaches_the_form(
    browser: Browser, server_url: str
) -> None:
    person = new_page(browser)
    log_in(person, server_url, "retiree", DEMO_PASSWORD)
    person.goto(f"{server_url}/hrss/bundles/retirement")
    person.locator("#help-button").click()
    expect(person.locator("#help-panel")).to_be_visible()
    code = person.locator("#help-panel").get_attribute("data-code")
    assert code and re.fullmatch(r"SLB-\d{8}-\d{4,}", code)

    agent = new_page(browser)
    log_in(agent, server_url, "officer", DEMO_PASSWORD)
    agent.goto(f"{server_url}/hrss/help")
    agent.locator(f"tr[data-code='{code}'] button[type=submit]").click()
    expect(agent).to_have_url(re.compile(rf"/hrss/help/{code}$"))

    # Media both ways, peer to peer.
    agent.wait_for_function(PLAYING, arg="help-remote")
    person.wait_for_function(PLAYING, arg="help-remote")
    expect(agent.locator("#help-agent")).to_have_attribute("data-state", "connected")

    # The agent sees what the citizen types.
    person.locator("#bundle-form [name=phone]").fill("13912345678")
    expect(agent.locator("#help-form-view tr[data-field='phone'] .value")).to_have_text(
        "13912345678"
    )
    # The agent proposes; the citizen accepts; the value is in the citizen's form.
    agent.locator("#help-field").select_option("bank_name")
    agent.locator("#help-value").fill("中国工商银行青岛分行")
    agent.locator("#help-propose button[type=submit]").click()
    proposal = person.locator("#help-proposals li[data-field='bank_name']")
    expect(proposal).to_contain_text("中国工商银行青岛分行")
    proposal.get_by_role("button", name="采纳").click()
    expect(person.locator("#bundle-form [name=bank_name]")).to_have_value("中国工商银行青岛分行")
    expect(agent.locator("#help-form-view tr[data-field='bank_name']")).to_have_attribute(
        "data-accepted", "true"
    )

    agent.locator("#help-end input[name=outcome]").fill("已协助填写退休一件事")
    agent.locator("#help-end button[type=submit]").click()
    expect(agent).to_have_url(re.compile(r"/hrss/help$"))
    expect(person.locator("#help-panel")).to_have_attribute("data-state", "ended")
    # Closed, so that no page keeps a signalling connection open to the server: a server
    # stopping waits for its open connections (ten seconds of the run's end).
    person.context.close()
    agent.context.close()
