"""The workbench (工作台): a logged-in person's home page.

To-do cards from every domain that has work for the person's roles, then their latest
messages, then shortcuts for their roles. The domains bring the cards: each exposes
``todos(db, user) -> list[core.workbench.Todo]`` in its ``workbench`` module, and the app
factory lists those providers (``app.state.todo_providers``) as it lists the routers, so
this page knows no domain and no domain knows the page. A provider answers with counts only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from shuhui.core.http import render
from shuhui.core.workbench import Todo
from shuhui.programs import messages
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import ROLE_TITLES, Role

TodoProvider = Callable[[Session, User], list[Todo]]
RECENT_MESSAGES = 5


@dataclass(frozen=True)
class Shortcut:
    zh: str
    en: str
    href: str


def _s(zh: str, en: str, href: str) -> Shortcut:
    return Shortcut(zh, en, href)


# Where each role goes most often; a person with several roles gets each link once.
SHORTCUTS: dict[Role, tuple[Shortcut, ...]] = {
    Role.citizen: (
        _s("我的社保", "My social insurance", "/hrss/record"),
        _s("为我推荐的政策", "Policies for me", "/hrss/offers"),
        _s("我的授权", "My authorisations", "/me/authorisations"),
        _s("新建授权", "New authorisation", "/me/authorisations/new"),
        _s("谁用了我的数据", "Who used my data", "/me/data-uses"),
    ),
    Role.enterprise: (
        _s("企业首页", "Enterprise home", "/enterprise"),
        _s("提出诉求", "Post a need", "/enterprise/needs"),
        _s("我的授权", "My authorisations", "/me/authorisations"),
        _s("新建授权", "New authorisation", "/me/authorisations/new"),
        _s("为我推荐的政策", "Policies for me", "/hrss/offers"),
        _s("数据资产登记", "Data-asset registration", "/catalog/assets"),
    ),
    Role.data_operator: (
        _s("数据资产登记", "Data-asset registration", "/catalog/assets"),
        _s("数据通道审核", "Data-channel reviews", "/channel/review"),
        _s("数据通道运行情况", "Data-channel dashboard", "/channel/dashboard"),
        _s("数据目录", "Data catalog", "/catalog"),
    ),
    Role.officer: (
        _s("政策找人", "Policy campaigns", "/hrss/campaigns"),
        _s("政策库", "Policy library", "/hrss/policies"),
        _s("数据通道审核", "Data-channel reviews", "/channel/review"),
        _s("核验授权码", "Verify an authorisation", "/verify"),
    ),
    Role.consumer: (
        _s("数据通道", "Data channel", "/channel"),
        _s("数据目录", "Data catalog", "/catalog"),
        _s("接口文档", "API docs", "/docs"),
    ),
    Role.admin: (
        _s("账户管理", "Accounts", "/admin/users"),
        _s("身份绑定审批", "Identity bindings", "/admin/bindings"),
        _s("数据目录", "Data catalog", "/catalog"),
        _s("接口文档", "API docs", "/docs"),
    ),
    Role.identity_reviewer: (_s("身份绑定审批", "Identity bindings", "/admin/bindings"),),
    Role.leader: (
        _s("领导驾驶舱", "Leaders' dashboard", "/dashboard"),
        _s("五张图", "The five maps", "/insight"),
    ),
}


def shortcuts(roles: frozenset[Role]) -> list[Shortcut]:
    seen: set[str] = set()
    out: list[Shortcut] = []
    for role in Role:  # a fixed order, whatever order the roles were granted in
        for link in SHORTCUTS[role] if role in roles else ():
            if link.href not in seen:
                seen.add(link.href)
                out.append(link)
    return out


def todos(providers: Sequence[TodoProvider], db: Session, user: User) -> list[Todo]:
    """Every provider's cards, in the providers' order; the urgent ones with work first."""
    found = [todo for provider in providers for todo in provider(db, user)]
    return sorted(found, key=lambda t: (not (t.urgent and t.count), t.count == 0))


def page(request: Request, db: Session, user: User) -> HTMLResponse:
    providers: Sequence[TodoProvider] = request.app.state.todo_providers
    recent = messages.recent(db, user, RECENT_MESSAGES)
    unread = messages.unread_count(db, user)
    request.state.unread_messages = unread
    context: dict[str, Any] = {
        "todos": todos(providers, db, user),
        "recent": recent,
        "unread": unread,
        "has_inbox": bool(messages.recipients(user)),
        "shortcuts": shortcuts(user.role_set),
        "role_titles": [ROLE_TITLES[r] for r in Role if r in user.role_set],
    }
    return render(request, "workbench.html", context)
