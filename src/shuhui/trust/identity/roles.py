"""The roles an account can hold and their titles: no database here, so the command line can
offer them without loading SQLAlchemy (``models`` stores them)."""

from __future__ import annotations

import enum

from shuhui.core.i18n import Text


class Role(enum.StrEnum):
    citizen = "citizen"
    enterprise = "enterprise"
    officer = "officer"
    data_operator = "data_operator"
    consumer = "consumer"
    admin = "admin"
    # Approves (or rejects) binding a citizen ID or credit code to an account, which an admin
    # requests; an admin other than the requester may approve too (``identity.bindings``).
    identity_reviewer = "identity_reviewer"
    # Sees the city's figures (the five maps, the leaders' dashboard) as aggregates only.
    leader = "leader"


ROLE_TITLES: dict[Role, tuple[str, str]] = {
    Role.citizen: ("市民", "Citizen"),
    Role.enterprise: ("企业", "Enterprise"),
    Role.officer: ("部门工作人员", "Department officer"),
    Role.data_operator: ("大数据局运营人员", "Data-bureau operator"),
    Role.consumer: ("数据使用方", "Data consumer"),
    Role.admin: ("系统管理员", "Administrator"),
    Role.identity_reviewer: ("身份核验员", "Identity reviewer"),
    Role.leader: ("市领导", "City leader"),
}


def roles_needed(*roles: Role) -> Text:
    """A refusal naming the roles that would be let through, by their titles."""
    titles = [ROLE_TITLES[r] for r in sorted(roles)]
    return Text(
        "需要以下身份之一：" + "、".join(zh for zh, _ in titles),
        "Needs one of these roles: " + ", ".join(en for _, en in titles),
    )


__all__ = ["ROLE_TITLES", "Role", "roles_needed"]
