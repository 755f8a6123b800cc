"""What goes in and out of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shuhui.core.ids import InvalidIdentifier, parse_citizen_id, parse_credit_code
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

Username = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[a-z][a-z0-9_.-]*$")]

# What a password must be, as the pages state it. Length matters most; two kinds of character
# and a ban on the commonest choices stop the guesses tried first; the username is the next.
PASSWORD_MIN = 8
PASSWORD_RULES = (
    f"至少 {PASSWORD_MIN} 个字符；至少包含字母、数字、符号中的两类；不能包含用户名；"
    "不能是常见的弱密码（如 12345678、password1）；修改时不能与原密码相同",
    f"at least {PASSWORD_MIN} characters; at least two of letters, digits and symbols; must not "
    "contain the username; not a common weak password (such as 12345678, password1); when "
    "changing, not the same as the old one",
)
WEAK_PASSWORDS = frozenset(
    {
        "12345678", "123456789", "1234567890", "87654321", "11111111", "88888888", "00000000",
        "password", "password1", "password123", "passw0rd", "p@ssw0rd", "p@ssword", "qwerty123",
        "qwertyuiop", "1qaz2wsx", "1q2w3e4r", "abc12345", "abcd1234", "a1234567", "aa123456",
        "admin123", "admin@123", "admin1234", "root1234", "iloveyou", "woaini1314", "5201314520",
        "zxcvbnm123", "asdf1234", "qq123456", "test1234",
    }
)  # fmt: skip


def password_strength(password: str) -> str:
    """The password as given, or a ``ValueError`` saying in Chinese which rule it breaks."""
    if len(password) < PASSWORD_MIN:
        raise ValueError(f"密码至少 {PASSWORD_MIN} 个字符")
    kinds = (
        any(c.isalpha() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    if sum(kinds) < 2:
        raise ValueError("密码至少包含字母、数字、符号中的两类")
    if password.lower() in WEAK_PASSWORDS:
        raise ValueError("这是常见的弱密码，容易被猜中，请换一个")
    return password


def refuse_username_in(password: str, username: str) -> None:
    if username and username.lower() in password.lower():
        raise ValueError("密码不能包含用户名")


# The length is in the OpenAPI document too; the validator says it in the pages' words.
Password = Annotated[
    str,
    Field(max_length=256, json_schema_extra={"minLength": PASSWORD_MIN}),
    AfterValidator(password_strength),
]


def _citizen_id(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return parse_citizen_id(value).number
    except InvalidIdentifier as exc:
        raise ValueError(exc.reason) from None


def _credit_code(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return parse_credit_code(value).code
    except InvalidIdentifier as exc:
        raise ValueError(exc.reason) from None


CitizenId = Annotated[str | None, Field(max_length=64), AfterValidator(_citizen_id)]
CreditCode = Annotated[str | None, Field(max_length=64), AfterValidator(_credit_code)]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: Username
    display_name: Annotated[str, Field(min_length=1, max_length=128)]
    password: Password
    roles: Annotated[list[Role], Field(min_length=1)]
    # Not bound at creation: a request another admin or identity reviewer approves.
    citizen_id: CitizenId = None
    credit_code: CreditCode = None
    department: Annotated[str | None, Field(max_length=128)] = None

    @field_validator("password")
    @classmethod
    def _password_not_username(cls, value: str, info: ValidationInfo) -> str:
        # A field validator sees the fields before it (the username), and its refusal names
        # the password field, which a model validator's would not.
        refuse_username_in(value, str(info.data.get("username", "")))
        return value


class BindingIn(BaseModel):
    """A request to bind a citizen ID and/or a credit code to an existing account."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    citizen_id: CitizenId = None
    credit_code: CreditCode = None


class BindingDecision(BaseModel):
    """A second person's decision on a binding request; a rejection says why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["approve", "reject"]
    # Checked when left out too: a rejection without a reason is refused.
    reason: Annotated[str, Field(max_length=500, validate_default=True)] = ""

    @field_validator("reason")
    @classmethod
    def _reason_for_a_rejection(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("decision") == "reject" and not value:
            raise ValueError("驳回时请写明原因")
        return value


class BindingOut(BaseModel):
    id: int
    username: str
    citizen_id: str | None
    credit_code: str | None
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None


class RolesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: Annotated[list[Role], Field(min_length=1)]


class UserUpdate(BaseModel):
    """What an admin may change in an account's details; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    display_name: Annotated[str | None, Field(min_length=1, max_length=128)] = None
    # An empty department clears it.
    department: Annotated[str | None, Field(max_length=128)] = None


class ActiveUpdate(BaseModel):
    """Disable an account (it cannot log in; its sessions end) or enable it again."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    active: Annotated[bool, Field(strict=True)]
    reason: Annotated[str, Field(max_length=500)] = ""


class PasswordChange(BaseModel):
    """A person choosing a new password: the old one proves it is them."""

    model_config = ConfigDict(extra="forbid")

    old_password: Annotated[str, Field(min_length=1, max_length=256)]
    new_password: Password
    # The page asks twice; an API client may leave it out.
    new_password_again: Annotated[str | None, Field(max_length=256)] = None

    @field_validator("new_password")
    @classmethod
    def _not_the_old_one(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("old_password"):
            raise ValueError("新密码不能与原密码相同")
        return value

    @field_validator("new_password_again")
    @classmethod
    def _the_same_twice(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Compared only when the new password itself passed (else it is not in ``data``).
        new = info.data.get("new_password")
        if value is not None and new is not None and value != new:
            raise ValueError("两次输入的新密码不一致")
        return value


class PasswordReset(BaseModel):
    """An admin resetting someone's password: a temporary one the person must replace."""

    model_config = ConfigDict(extra="forbid")

    # Left out, the platform makes one (shown once); given, it must meet the rules.
    temporary_password: Password | None = None


class PasswordResetOut(BaseModel):
    username: str
    temporary_password: str
    must_change_password: bool


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
    must_change_password: bool
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None = None
    # False while the password is one someone else chose: signing is refused until it is theirs.
    password_by_holder: bool = False
    # A citizen ID or credit code waiting for a second person's approval (not yet bound).
    pending_binding: BindingOut | None = None


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
    must_change_password: bool = False
    # Whom messages to this account are addressed to (the header counts the unread); never shown.
    citizen_id: str | None = None
    credit_code: str | None = None
    # An officer's department: the navigation offers what that department runs.
    department: str | None = None

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            roles=user.role_set,
            must_change_password=user.must_change_password,
            citizen_id=user.citizen_id,
            credit_code=user.credit_code,
            department=user.department,
        )
