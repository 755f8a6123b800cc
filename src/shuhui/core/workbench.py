"""What a domain puts on a person's workbench (工作台): to-dos with a count and where to do them.

Each domain with work for someone exposes ``todos(db, user) -> list[Todo]`` in its
``workbench`` module: cheap counts (one indexed ``COUNT`` each) for the roles the user holds,
and nothing for the others. The web app lists the providers as it lists the routers, and the
workbench page asks each of them; no domain knows of the others, nor of the page. The type
lives here, below every domain, so that trust's packages can return it too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Todo:
    """One card on the workbench: how many of something wait, and the page where they are done.

    ``key`` is stable (``assets.review``) for tests and page anchors; the titles are what a
    person reads. ``urgent`` marks what is overdue or about to lapse; ``count`` 0 still shows
    (so a reviewer sees the queue is empty rather than wonder whether it exists).
    """

    key: str
    zh: str
    en: str
    count: int
    href: str
    hint_zh: str = ""
    hint_en: str = ""
    urgent: bool = False
