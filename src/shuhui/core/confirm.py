"""Asking before a risky act: one pattern for every page that does something in bulk or for good.

The first post of such a form changes nothing: the handler answers with a page that says, in
plain Chinese, how many and what will happen (``Ask``), and carries every field of the post
again, hidden, with ``confirm=yes``. Only that second post acts. A page handler checks
``confirmed(form)`` before it calls the service, so a forged or scripted single post is
answered with the question, never with the act. The API does not ask: a client confirms by
calling. Account actions (``trust.identity.admin_pages``) read the same way: a page that says
what follows, a button that does it, a link that cancels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from shuhui.core.http import CSRF_FIELD, render

CONFIRM_FIELD = "confirm"
CONFIRM_VALUE = "yes"

# A text as the templates' t(zh, en) takes it.
Pair = tuple[str, str]


@dataclass(frozen=True)
class Ask:
    """What the confirmation page says and where its answer goes (each text a zh-CN, English
    pair)."""

    title: Pair
    summary: Pair  # how many and what, e.g. 将向 537 位居民发送…，发送后不能撤回
    action: str  # the form's own URL: the confirmed post goes where the first one went
    cancel: str  # where 取消 leads; nothing is changed on the way
    button: Pair
    consequences: Sequence[Pair] = field(default_factory=tuple)
    count: int | None = None  # the number the summary states, for tests and assistive text


def confirmed(form: Any) -> bool:
    """Whether this post is the answer to the confirmation page (not a first or forged post)."""
    return bool(form.get(CONFIRM_FIELD) == CONFIRM_VALUE)


def carried(form: Any) -> list[tuple[str, str]]:
    """The first post's fields, to send again with the confirmation (files are not carried)."""
    skip = {CSRF_FIELD, CONFIRM_FIELD}
    return [(k, v) for k, v in form.multi_items() if k not in skip and isinstance(v, str)]


def ask_first(request: Request, ask: Ask, form: Any) -> HTMLResponse:
    """The confirmation page for ``form``'s post: it changes nothing."""
    return render(request, "confirm.html", {"ask": ask, "carried": carried(form)})
