"""Who is asking, as the enterprise platform's routes need it: an enterprise bound to its credit
code, an officer of a department that handles needs, the bureau that runs the platform."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

from fastapi import Depends, Request

from shuhui.core.content import DEFAULT_DIR, load_items
from shuhui.core.errors import Problem
from shuhui.trust.identity.deps import require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

NEEDS_KIND: Final = "enterprise-needs"
NEEDS_FILE: Final = Path("enterprise") / "needs.yaml"

EnterpriseUser = Annotated[User, Depends(require_role(Role.enterprise))]
OfficerUser = Annotated[User, Depends(require_role(Role.officer, Role.admin))]
AnyUser = Annotated[User, Depends(require_role(Role.enterprise, Role.officer, Role.admin))]


CITY: Final = DEFAULT_DIR / "qingdao"


def content_of(request: Request) -> Path:
    """The city's content folder, as the app was started with."""
    return Path(request.app.state.settings.city_content)


def bureau(content: Path = CITY) -> str:
    """The department that runs the platform (市工业和信息化局)."""
    item = load_items(content / NEEDS_FILE, NEEDS_KIND).by_code["bureau"]
    return str(item.attrs["department"])


def credit_code_of(user: User) -> str:
    """The enterprise the account acts for; an enterprise account not yet bound is refused."""
    if not user.credit_code:
        raise Problem("forbidden", "该账户尚未绑定统一社会信用代码，请联系管理员完成绑定")
    return user.credit_code


def is_bureau(user: User, content: Path = CITY) -> bool:
    """An admin, or an officer of the bureau that runs the platform."""
    return Role.admin in user.role_set or (
        Role.officer in user.role_set and user.department == bureau(content)
    )


def require_bureau(user: User, content: Path = CITY) -> None:
    if not is_bureau(user, content):
        raise Problem("forbidden", f"仅{bureau(content)}的工作人员可以查看")


def kinds_departments(content: Path = CITY) -> frozenset[str]:
    """The departments needs are routed to."""
    items = load_items(content / NEEDS_FILE, NEEDS_KIND)
    return frozenset(str(i.attrs["department"]) for i in items if i.code != "bureau")
