"""What goes in and out of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shuhui.core.ids import InvalidIdentifier, parse_citizen_id, parse_credit_code
from shuhui.trust.identity.models import Role, User

Username = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[a-z][a-z0-9_.-]*$")]
Password = Annotated[str, Field(min_length=8, max_length=256)]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: Username
    display_name: Annotated[str, Field(min_length=1, max_length=128)]
    password: Password
    roles: Annotated[list[Role], Field(min_length=1)]
    citizen_id: str | None = None
    credit_code: str | None = None
    department: Annotated[str | None, Field(max_length=128)] = None

    @field_validator("citizen_id")
    @classmethod
    def _citizen_id(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            return parse_citizen_id(value).number
        except InvalidIdentifier as exc:
            raise ValueError(exc.reason) from None

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            return parse_credit_code(value).code
        except InvalidIdentifier as exc:
            raise ValueError(exc.reason) from None


class RolesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: Annotated[list[Role], Field(min_length=1)]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    roles: list[Role]
    citizen_id: str | None
    credit_code: str | None
    department: str | None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class Viewer(BaseModel):
    """Who is looking at a page, as the layout shows them."""

    model_config = ConfigDict(frozen=True)

    id: int
    username: str
    display_name: str
    roles: frozenset[Role]

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(
            id=user.id, username=user.username, display_name=user.display_name, roles=user.role_set
        )
