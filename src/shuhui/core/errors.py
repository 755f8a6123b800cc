"""Errors as RFC 9457 problem details.

Every error a client sees has a stable ``type`` (a path under ``/problems/`` that the web app
documents), a Chinese ``title``, the HTTP ``status``, and, where one input is at fault, the
``field`` with its ``reason``. Services raise :class:`Problem`; the web layer renders it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_BASE = "/problems/"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str  # zh-CN: the interface speaks Chinese first
    title_en: str
    description: str  # English, for the documentation page

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.slug


def _types(*items: ProblemType) -> dict[str, ProblemType]:
    return {item.slug: item for item in items}


PROBLEM_TYPES = _types(
    ProblemType(
        "validation",
        422,
        "输入校验失败",
        "Invalid input",
        "A field of the request is missing or malformed; `errors` lists each field and why.",
    ),
    ProblemType(
        "malformed-request",
        400,
        "请求格式错误",
        "Malformed request",
        "The request body could not be parsed at all (for example invalid JSON, JSON nested "
        "deeper than 64 levels, or text that is not UTF-8).",
    ),
    ProblemType(
        "unauthenticated",
        401,
        "请先登录",
        "Login required",
        "The resource needs a logged-in account.",
    ),
    ProblemType(
        "invalid-credentials",
        401,
        "用户名或密码错误",
        "Wrong username or password",
        "The username does not exist, the password does not match, or the account is disabled.",
    ),
    ProblemType(
        "login-throttled",
        429,
        "登录尝试过于频繁，请稍后再试",
        "Too many login attempts",
        "Several wrong passwords came for this account name or from this address: the next "
        "attempt must wait (`Retry-After`, `retry_after` in seconds, `until`). After many, the "
        "address is paused for 15 minutes (`wait`: `locked`). Not counted as a failure.",
    ),
    ProblemType(
        "account-locked",
        423,
        "账户已临时锁定",
        "Account temporarily locked",
        "Too many wrong passwords for this account name: it is locked for 15 minutes "
        "(`Retry-After`, `retry_after`, `until`); the lockout is recorded in the audit ledger. "
        "An admin's password reset ends it.",
    ),
    ProblemType(
        "password-change-required",
        403,
        "请先修改密码",
        "Password change required",
        "An admin reset this account's password: until a new one is set "
        "(`POST /api/v1/me/password`), nothing else is allowed.",
    ),
    ProblemType(
        "forbidden",
        403,
        "无权访问",
        "Forbidden",
        "The account is logged in but lacks the role the resource needs.",
    ),
    ProblemType(
        "csrf",
        403,
        "表单已失效，请刷新页面后重试",
        "Form expired (CSRF check failed)",
        "A state-changing request came without a valid CSRF token.",
    ),
    ProblemType(
        "authorisation-refused",
        403,
        "授权不允许此操作",
        "Not authorised by the principal",
        "No signed, active authorisation (委托授权 or 用证授权) allows this act now; `reason` says "
        "why (revoked, expired, outside the scope, uses exhausted, ...), `chain` and `at_fault` "
        "name the authorisations concerned. The refusal is recorded in the audit ledger.",
    ),
    ProblemType(
        "mandate-refused",
        403,
        "没有代为办理的有效委托",
        "No mandate to act for the applicant",
        "Applying for someone else needs the applicant's signed mandate (委托授权) covering the "
        "service item and the act (apply); the item must be delegable. `detail` says why it was "
        "refused; `chain` and `at_fault` name the mandates concerned. The refusal is recorded "
        "in the audit ledger, where the applicant sees it.",
    ),
    ProblemType(
        "privacy-budget-spent",
        403,
        "隐私预算已用完",
        "Privacy budget spent",
        "The consumer has spent the privacy budget (ε) its grant allows on this noised data "
        "product for the current version of its tables: a new query would disclose more than "
        "the grant allows. Queries already answered are still answered, identically and at no "
        "cost; a new version of the tables starts a new budget. `privacy_budget` gives the "
        "total and what is left. The refusal is metered and recorded in the audit ledger.",
    ),
    ProblemType("not-found", 404, "未找到", "Not found", "No resource at this address."),
    ProblemType(
        "rate-limited",
        429,
        "调用过于频繁或配额已用完",
        "Too many requests",
        "The API key's rate limit (per minute) or monthly quota is used up; `Retry-After` says "
        "when to try again and the `X-RateLimit-*` headers show the limit. The refusal is "
        "metered and recorded in the audit ledger.",
    ),
    ProblemType(
        "method-not-allowed",
        405,
        "不支持的请求方法",
        "Method not allowed",
        "The resource exists but does not accept this HTTP method.",
    ),
    ProblemType(
        "conflict",
        409,
        "与现有数据冲突",
        "Conflict",
        "The request conflicts with existing state, for example a duplicate username.",
    ),
    ProblemType(
        "content-too-large",
        413,
        "请求内容过大",
        "Request body too large",
        "The request body is larger than this endpoint accepts (1 MiB unless the endpoint "
        "takes uploads; `detail` says the limit). It is refused before it is read, and the "
        "connection is closed.",
    ),
    ProblemType(
        "unsupported-media-type",
        415,
        "不支持的内容类型",
        "Unsupported media type",
        "The request body is not in a format this endpoint accepts.",
    ),
    ProblemType("http-error", 400, "请求错误", "Request error", "A generic client error."),
    ProblemType(
        "not-ready",
        503,
        "服务尚未就绪",
        "Not ready",
        "A dependency (database, migrations, data directory) is not ready.",
    ),
    ProblemType(
        "internal",
        500,
        "服务器内部错误",
        "Internal error",
        "An unexpected failure; the request id in the response finds it in the logs.",
    ),
)

_BY_STATUS = {
    400: "malformed-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "validation",
    429: "rate-limited",
    503: "not-ready",
}


def type_for_status(status: int) -> ProblemType:
    return PROBLEM_TYPES[_BY_STATUS.get(status, "http-error" if status < 500 else "internal")]


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


@dataclass
class Problem(Exception):
    """A failure a client caused or must know about; services raise it, the web renders it."""

    slug: str
    detail: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    status: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.slug not in PROBLEM_TYPES:
            raise KeyError(f"unknown problem type {self.slug!r}")
        super().__init__(self.detail or self.slug)

    @property
    def type(self) -> ProblemType:
        return PROBLEM_TYPES[self.slug]

    @property
    def http_status(self) -> int:
        return self.status or self.type.status

    def body(self, *, instance: str | None = None, request_id: str | None = None) -> dict[str, Any]:
        return problem_body(
            self.type,
            status=self.http_status,
            detail=self.detail,
            errors=self.errors,
            instance=instance,
            request_id=request_id,
            extra=self.extra,
        )


def invalid(field_name: str, reason: str, detail: str | None = None) -> Problem:
    """The usual case: one input is wrong, and we say which and why."""
    return Problem("validation", detail=detail or reason, errors=[FieldError(field_name, reason)])


def problem_body(
    ptype: ProblemType,
    *,
    title: str | None = None,
    status: int | None = None,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    instance: str | None = None,
    request_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": ptype.uri,
        "title": title or ptype.title,
        "status": status or ptype.status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
        # The first field at fault, at the top level, for clients that show one message.
        body["field"] = errors[0].field
        body["reason"] = errors[0].reason
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    return body
