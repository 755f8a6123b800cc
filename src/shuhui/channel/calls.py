"""A gateway call's data: why a call may be refused (:class:`Refusal`, with the Chinese reasons
shown and metered), the key's :class:`Limits`, what a call comes to (:class:`Outcome`), and the
call as the gateway carries it from its read phase to its write phase (:class:`CallState`,
:class:`Verdict`, :class:`Pending`). The gateway (:mod:`shuhui.channel.gateway`) decides and
records calls; :mod:`shuhui.channel.limits` counts them against the key's rate limit and quota.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from shuhui.channel import privacy
from shuhui.channel.common import ANSWERED
from shuhui.channel.engine import Answer
from shuhui.channel.models import ApiKey, Grant
from shuhui.channel.products import Product
from shuhui.core.errors import Problem
from shuhui.trust.authorisations import service as authorisations


class Refusal(StrEnum):
    """Why a call was refused: a stable code, metered, charted and in the ledger."""

    KEY_MISSING = "key-missing"
    KEY_UNKNOWN = "key-unknown"
    KEY_REVOKED = "key-revoked"
    KEY_EXPIRED = "key-expired"
    RATE_LIMITED = "rate-limited"
    QUOTA_EXHAUSTED = "quota-exhausted"
    PRODUCT_UNKNOWN = "product-unknown"
    PRODUCT_NOT_GRANTED = "product-not-granted"
    PURPOSE_MISMATCH = "purpose-mismatch"
    GRANT_INACTIVE = "grant-inactive"
    NOT_A_MEMBER = "not-a-member"
    INVALID_PARAMS = "invalid-params"
    CONSENT_REFUSED = "consent-refused"
    DATASET_NOT_OPEN = "dataset-not-open"
    PRODUCT_UNAVAILABLE = "product-unavailable"
    PRIVACY_BUDGET_SPENT = "privacy-budget-spent"
    PRODUCT_WITHDRAWN = "product-withdrawn"  # a hosted product its provider withdrew


# Refusals that count against the key's rate limit and quota: every call made with a valid key.
# A call's purpose holds something besides white space: one character class that Python's and
# JSON Schema's (ECMA-262) regular expressions read alike, so the OpenAPI document says exactly
# what the gateway takes (each engine's \s plus the characters only the other counts as space).
PURPOSE_PATTERN: Final = "[^\\s\\x1c-\\x1f\\x85\\ufeff]"

COUNTED: Final = frozenset(
    {
        Refusal.PRODUCT_UNKNOWN,
        Refusal.PRODUCT_NOT_GRANTED,
        Refusal.PURPOSE_MISMATCH,
        Refusal.GRANT_INACTIVE,
        Refusal.NOT_A_MEMBER,
        Refusal.INVALID_PARAMS,
        Refusal.CONSENT_REFUSED,
        Refusal.DATASET_NOT_OPEN,
        Refusal.PRODUCT_UNAVAILABLE,
        Refusal.PRODUCT_WITHDRAWN,
    }
)
REASONS: Final[dict[str, str]] = {
    Refusal.KEY_MISSING: "未提供 API 密钥",
    Refusal.KEY_UNKNOWN: "API 密钥无效",
    Refusal.KEY_REVOKED: "API 密钥已撤销",
    Refusal.KEY_EXPIRED: "API 密钥已过期",
    Refusal.RATE_LIMITED: "调用频率超过限制",
    Refusal.QUOTA_EXHAUSTED: "本月调用配额已用完",
    Refusal.PRODUCT_UNKNOWN: "数据产品不存在",
    Refusal.PRODUCT_NOT_GRANTED: "该数据产品不在授权范围内",
    Refusal.PURPOSE_MISMATCH: "用途与批准的用途不符",
    Refusal.GRANT_INACTIVE: "数据使用授权已撤销或不在有效期内",
    Refusal.NOT_A_MEMBER: "未加入该产品所属专区",
    Refusal.INVALID_PARAMS: "参数校验失败",
    Refusal.CONSENT_REFUSED: "数据主体未授权或授权不适用",
    Refusal.DATASET_NOT_OPEN: "数据集不是无条件开放数据",
    Refusal.PRODUCT_UNAVAILABLE: "数据产品暂不可用",
    Refusal.PRIVACY_BUDGET_SPENT: "该数据产品在当前数据版本上的隐私预算已用完",
    Refusal.PRODUCT_WITHDRAWN: "数据提供方已撤回该数据，不再提供",
}


@dataclass(frozen=True)
class Limits:
    """The key's rate limit and monthly quota as a counted call left them."""

    rate_limit: int  # calls a minute
    rate_remaining: int
    reset_seconds: int  # until the minute's window closes
    quota_limit: int  # answered calls a month
    quota_remaining: int
    retry_after: int | None = None  # seconds until a call refused for a limit may succeed
    quota_used: int = 0  # calls answered this month: only answers spend the quota
    refused: int = 0  # calls refused this month (with a valid key), not counted in the quota


@dataclass
class Outcome:
    """What a call came to: the answer (``body``), or a refusal (``reason``, with its problem
    details as ``body``); ``limits`` once the call counted against the key's."""

    body: dict[str, Any]
    reason: Refusal | None = None
    problem: Problem | None = None
    limits: Limits | None = None
    budget: privacy.Budget | None = None  # a noised product's privacy budget after the call

    @property
    def status(self) -> int:
        """The status the call is metered with: the problem's for a refusal."""
        return ANSWERED if self.problem is None else self.problem.http_status


@dataclass
class CallState:
    """A call as the gateway carries it: what its read phase learnt (key, grant, product,
    purpose, subject) and what counting it against the key's limits made of it."""

    product_code: str
    started: float
    now: datetime
    key: ApiKey | None = None
    grant: Grant | None = None
    product: Product | None = None
    purpose: str | None = None
    subject: str | None = None
    held: list[Grant] = field(default_factory=list)  # the key's grants
    limits: Limits | None = None
    limited: Refusal | None = None  # over the rate limit or the monthly quota
    spent: bool = False  # counted as an answer in the key's month (spends the quota)
    budget: privacy.Budget | None = None  # noised products: the consumer's ε after this call


@dataclass
class Verdict:
    """What the read phase decided; the write phase records it."""

    reason: Refusal | None = None  # a refusal's reason, None for an answer
    problem: Problem | None = None
    decision: authorisations.Decision | None = None  # the consent check, if one was made
    relying: authorisations.Party | None = None
    body: dict[str, Any] | None = None
    counted: bool = False  # the call counts against the key's limits
    used: authorisations.Decision | None = None  # the consent as recorded (write phase)
    private: privacy.Query | None = None  # a noised product's query, released or replayed
    answer: Answer | None = None  # with ``private``: the answer the body was built from


@dataclass
class Pending:
    """A call decided and computed, not yet recorded (see
    :func:`shuhui.channel.gateway.record_call`)."""

    call: CallState
    verdict: Verdict
