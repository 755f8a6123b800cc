"""The vocabulary of authorisations and the document a signatory signs: kinds, actions,
statuses and the stable reasons for a refusal; the parties; the row as a decision reads it
(:class:`LinkRow`) and the RFC 8785 document rebuilt from it; the chain of sub-delegations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.ids import InvalidIdentifier, parse_citizen_id, parse_credit_code
from shuhui.trust.authorisations.models import Authorisation
from shuhui.trust.crypto.canonical import JsonValue

FORMAT: Final = "shuhui-authorisation-v1"


# The table itself, for statements that need no ORM objects (the hot use count).
AUTHORISATIONS: Final = cast(Table, Authorisation.__table__)


Kind = Literal["mandate", "cert_use"]


PartyKind = Literal["person", "enterprise"]


KIND_TITLES: Final[dict[str, tuple[str, str]]] = {
    "mandate": ("委托授权", "Mandate"),
    "cert_use": ("用证授权", "Certificate-use authorisation"),
}


CODE_PREFIX: Final[dict[str, str]] = {"mandate": "WT", "cert_use": "YZ"}


MANDATE_ACTIONS: Final[dict[str, tuple[str, str]]] = {
    "apply": ("申请办理", "Apply"),
    "supplement": ("补正材料", "Supplement materials"),
    "query": ("查询进度", "Check progress"),
    "collect": ("领取结果", "Collect the result"),
    "withdraw": ("撤回申请", "Withdraw the application"),
}


CERT_USE_ACTION: Final = "use"


STATUS_TITLES: Final[dict[str, tuple[str, str]]] = {
    "pending": ("待签署", "Awaiting signature"),
    "active": ("生效中", "Active"),
    "revoked": ("已撤销", "Revoked"),
    "expired": ("已过期", "Expired"),
    "exhausted": ("次数已用完", "Uses exhausted"),
}

PARTY_KINDS: Final[dict[str, str]] = {"person": "个人", "enterprise": "企业", "any": "任何人"}


def status_zh(status: str) -> str:
    """An authorisation's status as people read it (待签署, 已撤销…)."""
    return STATUS_TITLES.get(status, (status, status))[0]


def party_zh(kind: str) -> str:
    return PARTY_KINDS.get(kind, kind)


ENDED: Final = frozenset({"revoked", "expired", "exhausted"})


MAX_DAYS: Final = 5 * 366
# How far back a start may be asked for (a form's "today" is Beijing's day): it starts now.
PAST_START: Final = timedelta(days=1)


MAX_USES: Final = 100_000


MAX_DEPTH: Final = 3  # a mandate, a sub-delegation, and one more


# Stable reasons: (English for clients and tests, Chinese for people).
R_NONE: Final = ("no authorisation from this principal to this party", "没有该委托人对其的授权")


R_PENDING: Final = ("authorisation is not signed yet", "授权尚未签署生效")


R_REVOKED: Final = ("authorisation was revoked", "授权已被撤销")


R_EXPIRED: Final = ("authorisation has expired", "授权已过期")


R_NOT_YET: Final = ("authorisation is not valid yet", "授权尚未到生效时间")


R_EXHAUSTED: Final = ("authorisation has no uses left", "授权使用次数已用完")


R_SCOPE: Final = ("matter is outside the authorisation's scope", "该事项不在授权范围内")


R_ACTION: Final = ("action is outside the authorisation's scope", "该操作不在授权范围内")


R_CERT: Final = ("certificate is outside the authorisation's scope", "该证照不在授权范围内")


R_PURPOSE: Final = ("purpose differs from the authorised purpose", "用途与授权用途不符")


R_TAMPERED: Final = (
    "stored authorisation does not match what was signed",
    "授权记录与签署内容不符",
)


R_SIGNATURE: Final = ("signature does not verify", "签名验证失败")


@dataclass(frozen=True)
class Party:
    kind: PartyKind
    id: str
    name: str

    def as_json(self) -> dict[str, JsonValue]:
        return {"kind": self.kind, "id": self.id, "name": self.name}


def parse_party(kind: str, identifier: str, name: str, where: str) -> Party:
    """A person by citizen ID or an organisation by credit code, both check-digit verified."""
    name = name.strip()
    if not name or len(name) > 128:
        raise Problem(
            "validation",
            errors=[FieldError(f"{where}.name", Text("1 到 128 个字", "1-128 characters"))],
        )
    try:
        if kind == "person":
            return Party("person", parse_citizen_id(identifier).number, name)
        if kind == "enterprise":
            return Party("enterprise", parse_credit_code(identifier).code, name)
    except InvalidIdentifier as exc:
        raise Problem("validation", errors=[FieldError(f"{where}.id", exc.reason)]) from None
    raise Problem(
        "validation",
        errors=[FieldError(f"{where}.kind", Text("应为个人或企业", "person or enterprise"))],
    )


def stored_party(kind: str, identifier: str, name: str) -> Party:
    """A party as stored: checked on the way in, so only the kind needs narrowing."""
    return Party("enterprise" if kind == "enterprise" else "person", identifier, name)


def iso(value: datetime) -> str:
    return as_utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _party(kind: str, ident: str, name: str | None = None) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {"kind": kind, "id": ident}
    if name is not None:
        out["name"] = name
    return out


@dataclass(frozen=True, slots=True)
class LinkRow:
    """An authorisation as a decision reads it: the row's columns, not an ORM object (loading
    ORM objects cost twice the query on the data channel's path). Same names as
    :class:`~shuhui.trust.authorisations.models.Authorisation`; read-only."""

    id: int
    code: str
    kind: str
    principal_kind: str
    principal_id: str
    principal_name: str
    grantor_kind: str
    grantor_id: str
    signatory_id: str
    grantee_kind: str
    grantee_id: str
    grantee_name: str
    scope: str
    actions: str
    certificate_no: str | None
    purpose: str | None
    valid_from: datetime
    valid_to: datetime
    max_uses: int | None
    uses: int
    subdelegation: bool
    parent_code: str | None
    status: str
    created_at: datetime
    created_by: str
    document: bytes
    key_id: str | None
    signature: bytes | None
    signed_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None


Link = Authorisation | LinkRow


def document_of(a: Link) -> dict[str, JsonValue]:
    """What the signatory signs, rebuilt from the row's columns."""
    return {
        "format": FORMAT,
        "code": a.code,
        "kind": a.kind,
        "principal": _party(a.principal_kind, a.principal_id, a.principal_name),
        "grantor": _party(a.grantor_kind, a.grantor_id),
        "signatory": a.signatory_id,
        "grantee": _party(a.grantee_kind, a.grantee_id, a.grantee_name),
        "scope": scope_of(a),
        "actions": actions_of(a),
        "certificate_no": a.certificate_no,
        "purpose": a.purpose,
        "valid_from": iso(a.valid_from),
        "valid_to": iso(a.valid_to),
        "max_uses": a.max_uses,
        "subdelegation": a.subdelegation,
        "parent": a.parent_code,
        "issued_at": iso(a.created_at),
    }


def scope_of(a: Link) -> list[JsonValue]:
    return list(json.loads(a.scope))


def actions_of(a: Link) -> list[JsonValue]:
    return list(json.loads(a.actions))


def normalise_code(code: str) -> str:
    return code.strip().upper()


def normalise_purpose(purpose: str) -> str:
    # One spelling per purpose: stray and repeated spaces do not make a different purpose.
    text = " ".join(purpose.split())
    if len(text) > 256:
        raise Problem(
            "validation",
            errors=[FieldError("purpose", Text("最多 256 个字", "at most 256 characters"))],
        )
    return text


def get(db: Session, code: str) -> Authorisation | None:
    return db.scalar(select(Authorisation).where(Authorisation.code == normalise_code(code)))


def get_or_404(db: Session, code: str) -> Authorisation:
    found = get(db, code)
    if found is None:
        raise Problem("not-found", detail=f"授权码 {code} 不存在")
    return found


def effective_status(a: Link, now: datetime) -> str:
    if a.status in ("active", "pending") and as_utc(now) > a.valid_to:
        return "expired"
    return a.status


def depth(db: Session, a: Authorisation) -> int:
    n = 0
    while a.parent_code is not None:
        parent = get(db, a.parent_code)
        if parent is None:
            break
        a, n = parent, n + 1
    return n


def children_of(db: Session, a: Authorisation) -> list[Authorisation]:
    """Every sub-delegation made from ``a``, at any depth."""
    found: list[Authorisation] = []
    pending = [a.code]
    while pending:
        level = list(
            db.scalars(select(Authorisation).where(Authorisation.parent_code.in_(pending)))
        )
        found.extend(level)
        pending = [c.code for c in level]
    return found


LINK_BY_CODE: Final = select(AUTHORISATIONS).where(AUTHORISATIONS.c.code == bindparam("code"))


def chain_of(db: Session, a: Link) -> list[Link]:
    """Root first; the links above ``a`` read as rows."""
    links: list[Link] = [a]
    while links[0].parent_code is not None:
        row = db.execute(LINK_BY_CODE, {"code": links[0].parent_code}).first()
        if row is None:
            break
        links.insert(0, LinkRow(**row._mapping))
    return links
