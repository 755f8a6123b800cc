"""The roles an account can hold and their titles: no database here, so the command line can
offer them without loading SQLAlchemy (``models`` stores them)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    citizen = "citizen"
    enterprise = "enterprise"
    officer = "officer"
    data_operator = "data_operator"
    consumer = "consumer"
    admin = "admin"


ROLE_TITLES: dict[Role, tuple[str, str]] = {
    Role.citizen: ("市民", "Citizen"),
    Role.enterprise: ("企业", "Enterprise"),
    Role.officer: ("部门工作人员", "Department officer"),
    Role.data_operator: ("大数据局运营人员", "Data-bureau operator"),
    Role.consumer: ("数据使用方", "Data consumer"),
    Role.admin: ("系统管理员", "Administrator"),
}

__all__ = ["ROLE_TITLES", "Role"]
