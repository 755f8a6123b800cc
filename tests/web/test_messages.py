"""The message centre (站内消息): a campaign's offers reach their recipients' inboxes; each
person reads only their own, opening one marks it read, "全部标为已读" marks the rest, and the
header counts the unread. Through the API and the pages, with data made through the services."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuhui.core.db import transaction
from shuhui.programs import messages
from shuhui.programs.models import OutboxMessage
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user, csrf_from
from tests.programs.conftest import resident

ELDERLY = "elderly-allowance"
HTML = {"accept": "text/html"}
BADGE = re.compile(r'id="nav-messages"[^>]*>[^<]*(?:<span class="badge"[^>]*>(\d+|99\+)</span>)?')


@dataclass
class Inbox:
    app: FastAPI
    first: TestClient  # three offers: three messages
    second: TestClient  # one offer
    first_id: str
    second_id: str

    @property
    def first_user(self) -> messages.Addressee:
        return Addressee(self.first_id)


@dataclass
class Addressee:
    citizen_id: str | None
    credit_code: str | None = None


def offer(civil: TestClient, subjects: list[str]) -> None:
    """One campaign of the elderly allowance, its candidates among ``subjects`` confirmed."""
    made = civil.post("/api/v1/programs/campaigns", json={"rule": ELDERLY})
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    found = civil.get(f"/api/v1/programs/campaigns/{code}/candidates?status=pending&limit=500")
    ids = [c["id"] for c in found.json()["items"] if c["subject"] in subjects]
    assert len(ids) == len(subjects)
    confirmed = civil.post(f"/api/v1/programs/campaigns/{code}/confirm", json={"ids": ids})
    assert confirmed.status_code == 200 and confirmed.json()["confirmed"] == len(ids)


@pytest.fixture
def inbox(city_app: FastAPI) -> Inbox:
    civil = as_user(city_app, "civil")
    made = civil.post("/api/v1/programs/campaigns", json={"rule": ELDERLY})
    code = made.json()["code"]
    items = civil.get(f"/api/v1/programs/campaigns/{code}/candidates?status=pending&limit=3")
    first_id, second_id = (c["subject"] for c in items.json()["items"][:2])
    confirmed = civil.post(f"/api/v1/programs/campaigns/{code}/confirm", json={})
    assert confirmed.status_code == 200
    offer(civil, [first_id])
    offer(civil, [first_id])
    return Inbox(
        city_app,
        resident(city_app, "elder-one", first_id),
        resident(city_app, "elder-two", second_id),
        first_id,
        second_id,
    )


def listing(client: TestClient, **params: Any) -> Any:
    got = client.get("/api/v1/messages", params=params)
    assert got.status_code == 200, got.text
    return got.json()


def badge(client: TestClient, path: str = "/account") -> str | None:
    page = client.get(path, headers=HTML)
    assert page.status_code == 200, page.text
    found = BADGE.search(page.text)
    assert found is not None, "the header links to the messages"
    return found.group(1)


def test_each_recipient_gets_their_portal_messages_newest_first(inbox: Inbox) -> None:
    mine = listing(inbox.first)
    assert mine["total"] == 3 and mine["unread"] == 3
    ids = [m["id"] for m in mine["items"]]
    assert ids == sorted(ids, reverse=True)
    assert all(m["title"].startswith("您可享受") and not m["read"] for m in mine["items"])
    # The SMS copies stay the gateway's: only the portal's are in the inbox.
    with transaction(inbox.app.state.session_factory) as db:
        channels = db.scalars(
            select(OutboxMessage.channel).where(OutboxMessage.recipient == inbox.first_id)
        ).all()
    assert sorted(channels) == ["portal"] * 3 + ["sms"] * 3
    theirs = listing(inbox.second)
    assert theirs["total"] == 1 and {m["id"] for m in theirs["items"]}.isdisjoint(ids)
    # An account with no citizen ID or credit code has an empty inbox, not an error.
    assert listing(as_user(inbox.app, "officer"))["total"] == 0


def test_paging_is_bounded_and_refused_in_chinese(inbox: Inbox) -> None:
    whole = [m["id"] for m in listing(inbox.first)["items"]]
    pages = [listing(inbox.first, offset=n, limit=1)["items"] for n in range(4)]
    assert [p[0]["id"] for p in pages[:3]] == whole and pages[3] == []
    assert listing(inbox.first, offset=1, limit=2)["limit"] == 2
    for params, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": "1.5"}, "offset"),
        ({"offset": 10**7}, "offset"),
        ({"offset": "²"}, "offset"),
    ):
        refused = inbox.first.get("/api/v1/messages", params=params)
        assert refused.status_code == 422, params
        assert refused.headers["content-type"].startswith("application/problem+json")
        body = refused.json()
        assert body["title"] == "输入校验失败" and body["errors"][0]["field"] == field
        assert re.search(r"[\u4e00-\u9fff]", body["errors"][0]["reason"]), body
    page = inbox.first.get("/messages?page=0", headers=HTML)
    assert page.status_code == 422 and "页码须在 1 到" in page.text


def ledger_size(app: FastAPI) -> int:
    with transaction(app.state.session_factory) as db:
        return len(db.scalars(select(LedgerEntry.seq)).all())


def test_opening_marks_read_and_only_the_recipient_can(inbox: Inbox) -> None:
    before = ledger_size(inbox.app)
    newest = listing(inbox.first)["items"][0]
    theirs = listing(inbox.second)["items"][0]
    # Another's message, an unknown one and a non-number are the same "not found".
    for client, target in ((inbox.second, newest["id"]), (inbox.first, theirs["id"])):
        assert client.post(f"/api/v1/messages/{target}/read").status_code == 404
        assert client.get(f"/messages/{target}", headers=HTML).status_code == 404
    assert inbox.first.post("/api/v1/messages/999999/read").status_code == 404
    for odd in ("abc", "²", "1" * 20):
        assert inbox.first.post(f"/api/v1/messages/{odd}/read").status_code == 404
    officer = as_user(inbox.app, "officer")
    assert officer.post(f"/api/v1/messages/{newest['id']}/read").status_code == 404
    assert listing(inbox.first)["unread"] == 3 and listing(inbox.second)["unread"] == 1

    page = inbox.first.get(f"/messages/{newest['id']}", headers=HTML)
    assert page.status_code == 200 and newest["title"] in page.text
    assert newest["body"] in page.text
    # The page that marked it read already counts it so in the header.
    shown = BADGE.search(page.text)
    assert shown is not None and shown.group(1) == "2"
    after = listing(inbox.first)
    assert after["unread"] == 2
    assert [m["read"] for m in after["items"]] == [True, False, False]
    first_read = after["items"][0]["read_at"]
    again = inbox.first.post(f"/api/v1/messages/{newest['id']}/read")
    assert again.status_code == 200 and again.json()["read_at"] == first_read
    marked = inbox.first.post(f"/api/v1/messages/{after['items'][1]['id']}/read")
    assert marked.json()["read"] is True and listing(inbox.first)["unread"] == 1
    # The person's own bookkeeping of their inbox: no ledger entry (programs.messages says why).
    assert ledger_size(inbox.app) == before
    with transaction(inbox.app.state.session_factory) as db:
        assert messages.unread_count(db, inbox.first_user) == 1


def test_mark_all_read_and_the_header_badge(inbox: Inbox) -> None:
    assert badge(inbox.first) == "3"
    assert badge(inbox.second) == "1"
    page = inbox.first.get("/account", headers=HTML).text
    assert 'aria-label="站内消息：3 条未读消息"' in page
    listed = inbox.first.get("/messages", headers=HTML)
    assert listed.status_code == 200
    assert listed.text.count('class="unread"') == 3 and "全部标为已读" in listed.text

    token = csrf_from(inbox.first, "/messages")
    done = inbox.first.post(
        "/messages/read-all", data={"csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/messages?done=all-read"
    assert badge(inbox.first) is None  # no badge once nothing is unread
    assert listing(inbox.first)["unread"] == 0
    # Only one's own: the other recipient's stay unread.
    assert badge(inbox.second) == "1"
    via_api = inbox.second.post("/api/v1/messages/read-all")
    assert via_api.status_code == 200 and via_api.json() == {"marked": 1, "unread": 0}
    assert inbox.second.post("/api/v1/messages/read-all").json()["marked"] == 0


def test_messages_need_a_login(client: TestClient) -> None:
    visitor = client
    assert visitor.get("/api/v1/messages").status_code == 401
    page = visitor.get("/messages", headers=HTML, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")


def test_a_staff_account_has_no_inbox_to_show(inbox: Inbox) -> None:
    """Messages reach people and enterprises by their ID numbers; an officer's pages show no
    message link, panel or shortcut, while a resident's show all three."""
    officer = as_user(inbox.app, "civil").get("/", headers=HTML).text
    assert "工作台" in officer
    assert 'id="nav-messages"' not in officer and 'id="recent-messages"' not in officer
    assert 'href="/messages"' not in officer
    resident_page = inbox.first.get("/", headers=HTML).text
    assert 'id="nav-messages"' in resident_page and 'id="recent-messages"' in resident_page
