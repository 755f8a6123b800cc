"""The administrator's ledger page (/admin/ledger): the ledger's state, signing a checkpoint,
verifying the ledger, and the latest entries in plain Chinese."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from shuhui.core.db import transaction
from shuhui.trust.identity import service as identity
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger import pages as ledger_pages
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.actions import ACTION_NAMES
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import DEMO_ENTRIES, as_user, csrf_from

HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}
CITIZEN_ID = "370202199003151233"  # the demo citizen's
BANK_CODE = "9137021460181590X0"  # the demo bank's credit code


def fact(page: str, name: str) -> str:
    found = re.search(rf'<dd id="{name}">(.*?)</dd>', page, re.S)
    assert found, f"no {name} on the page"
    return found.group(1)


def count(page: str, name: str) -> int:
    return int(fact(page, name))


def visible(page: str) -> str:
    """The page's text as people read it: no code, no attributes, no tags."""
    page = re.sub(r"<code[^>]*>.*?</code>", "", page, flags=re.S)
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", page))


def add_accounts(app: FastAPI, *names: str) -> None:
    """Accounts made through identity's service, each recorded in the ledger by it."""
    with transaction(app.state.session_factory) as db:
        for name in names:
            data = UserCreate(
                username=name,
                display_name=f"测试 {name}",
                password="long-enough-pw",
                roles=["officer"],
            )
            identity.create_user(db, data, actor="admin")


def sign(client: TestClient) -> str:
    token = csrf_from(client, "/admin/ledger")
    signed = client.post(
        "/admin/ledger/checkpoint", data={"csrf_token": token}, follow_redirects=False
    )
    assert signed.status_code == 303, signed.text
    return client.get(signed.headers["location"], headers=HTML).text


def verify(client: TestClient) -> str:
    token = csrf_from(client, "/admin/ledger")
    answer = client.post("/admin/ledger/verify", data={"csrf_token": token}, headers=HTML)
    assert answer.status_code == 200, answer.text
    return answer.text


def test_admin_sees_the_counts_of_entries_made_through_services(app: FastAPI) -> None:
    admin = as_user(app, "admin")
    page = admin.get("/admin/ledger", headers=HTML)
    assert page.status_code == 200
    before, unchecked = count(page.text, "total"), count(page.text, "unchecked")
    # A fresh instance: the demo accounts' creation and bindings (logging in records nothing).
    assert before == DEMO_ENTRIES and unchecked == before
    assert "还没有签署过检查点" in fact(page.text, "latest")
    add_accounts(app, "ledger.one", "ledger.two")
    after = admin.get("/admin/ledger", headers=HTML).text
    assert count(after, "total") == before + 2
    assert count(after, "unchecked") == unchecked + 2
    fingerprint = app.state.ledger_key.public_key.fingerprint()
    assert f'title="{fingerprint}">{fingerprint[:16]}…</code>' in fact(after, "fingerprint")
    # Newest first: the last account made heads the list, by the admin's name.
    first = re.search(r'<tr data-seq="(\d+)">(.*?)</tr>', after, re.S)
    assert first is not None and int(first.group(1)) == before + 1
    assert "创建账户" in first.group(2) and "系统管理员" in first.group(2)


def test_the_button_signs_a_checkpoint_over_every_entry(app: FastAPI) -> None:
    admin = as_user(app, "admin")
    add_accounts(app, "ledger.three")
    total = count(admin.get("/admin/ledger", headers=HTML).text, "total")
    page = sign(admin)
    assert count(page, "unchecked") == 0
    assert f"已签署检查点，覆盖前 {total} 条记录" in page
    assert f"覆盖前 {total} 条记录" in fact(page, "latest")
    assert "本平台的 SM2 密钥" in fact(page, "signer")
    with app.state.session_factory() as db:
        latest = ledger.latest_checkpoint(db)
    assert latest is not None and latest.tree_size == total
    root = latest.root_hash.hex()
    assert f'<code title="{root}">{root[:16]}…</code>' in fact(page, "root")
    # Signing records no entry (the API's signing does not either), and the workbench agrees.
    assert count(page, "total") == total
    home = admin.get("/", headers=HTML).text
    card = re.search(
        r'data-todo="ledger.unchecked">\s*<a href="([^"]+)">.*?data-count="(\d+)"', home, re.S
    )
    assert card is not None and card.groups() == ("/admin/ledger", "0")
    # Signing again with nothing new keeps the same checkpoint.
    assert f"已签署检查点，覆盖前 {total} 条记录" in sign(admin)
    with app.state.session_factory() as db:
        assert ledger.checkpoint_count(db) == 1


def test_verify_reports_an_intact_ledger_and_names_an_altered_entry(app: FastAPI) -> None:
    admin = as_user(app, "admin")
    sign(admin)
    page = verify(admin)
    total = DEMO_ENTRIES
    assert f"账本完好：{total} 条记录逐条核对无误，1 个检查点的签名和根哈希都核验通过" in page
    assert 'id="verify-altered"' not in page
    with transaction(app.state.session_factory) as db:
        db.execute(update(LedgerEntry).where(LedgerEntry.seq == 2).values(actor="someone"))
    page = verify(admin)
    assert 'id="verify-intact"' not in page
    findings = re.search(r'<ul id="findings">(.*?)</ul>', page, re.S)
    assert findings is not None
    assert "第 2 条记录：查询用的“操作者”一栏与记录内容不符" in findings.group(1)
    assert "column" not in visible(page)


def test_a_ledger_too_big_for_a_request_points_to_the_command(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_pages, "VERIFY_LIMIT", 3)
    page = verify(as_user(app, "admin"))
    assert 'id="verify-too-big"' in page and "<code>shuhui audit verify</code>" in page
    assert "网页上未作校验" in page and 'id="verify-intact"' not in page


def test_entries_name_actions_and_actors_and_mask_people(app: FastAPI) -> None:
    with transaction(app.state.session_factory) as db:
        ledger.record(db, "officer", "mandate.checked", subject=CITIZEN_ID, purpose="核查委托")
        ledger.record(db, f"consumer:{BANK_CODE}", "channel.answered", subject=CITIZEN_ID)
        ledger.record(db, "cli:root", "data.loaded", subject="table:residents", purpose="x y")
        ledger.record(db, "system", "some.future_action", purpose="counter check")
    page = as_user(app, "admin").get("/admin/ledger", headers=HTML).text
    rows = dict(re.findall(r'<tr data-seq="(\d+)">(.*?)</tr>', page, re.S))
    first = DEMO_ENTRIES
    checked, answered, loaded, future = (rows[str(first + i)] for i in range(4))
    assert "人社局 李科员" in checked and "工作人员核查委托" in checked
    assert "<code>370202********1233</code>" in checked and CITIZEN_ID not in page
    assert "青岛示范银行" in answered and "数据通道调用得到答复" in answered
    assert "服务器上的命令行操作" in loaded and "<code>table:residents</code>" in loaded
    assert "其他操作记录" in future and "系统自动处理" in future
    # Purposes: typed in Chinese, shown as typed; the code's own English ones named; any other
    # English one only as code.
    assert '<td class="purpose">核查委托</td>' in checked
    assert '<td class="purpose">窗口核验</td>' in future
    assert '<td class="purpose"><code>x y</code></td>' in loaded
    # The raw action strings are there only as code, never as a label people read.
    text = visible(page)
    for action in ("mandate.checked", "channel.answered", "data.loaded", "some.future_action"):
        assert f"<code>{action}</code>" in page
        assert action not in text
    assert not any(action in text for action in ACTION_NAMES)


def test_entries_are_paged_newest_first(app: FastAPI) -> None:
    admin = as_user(app, "admin")
    total = count(admin.get("/admin/ledger", headers=HTML).text, "total")
    second = admin.get("/admin/ledger", params={"page": 2, "size": 3}, headers=HTML).text
    seqs = [int(s) for s in re.findall(r'<tr data-seq="(\d+)">', second)]
    assert seqs == [total - 4, total - 5, total - 6]
    assert 'href="/admin/ledger?page=1&amp;size=3"' in second
    beyond = admin.get("/admin/ledger", params={"page": 1000}, headers=HTML)
    assert beyond.status_code == 200 and 'id="no-entries"' in beyond.text


@pytest.mark.parametrize(
    ("params", "field"),
    [({"size": 101}, "size"), ({"size": 0}, "size"), ({"page": 0}, "page")],
)
def test_page_bounds_are_refused_in_chinese(
    app: FastAPI, params: dict[str, int], field: str
) -> None:
    answer = as_user(app, "admin").get("/admin/ledger", params=params, headers=JSON)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert [e["field"] for e in problem["errors"]] == [field]
    assert re.search(r"[\u4e00-\u9fff]", problem["errors"][0]["reason"])


@pytest.mark.parametrize("username", ["operator", "citizen"])
def test_only_admins_reach_the_page_and_its_buttons(app: FastAPI, username: str) -> None:
    client = as_user(app, username)
    page = client.get("/admin/ledger", headers=HTML)
    assert page.status_code == 403 and "需要" in page.text
    token = csrf_from(client, "/")
    for path in ("/admin/ledger/checkpoint", "/admin/ledger/verify"):
        answer = client.post(path, data={"csrf_token": token}, headers=JSON)
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("application/problem+json")
    with app.state.session_factory() as db:
        assert ledger.latest_checkpoint(db) is None
