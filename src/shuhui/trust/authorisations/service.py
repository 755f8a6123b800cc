"""Signed authorisations: mandates (委托授权) and certificate-use authorisations (用证授权).

A *mandate* lets an agent handle named service items (事项) for a principal — a person, or an
enterprise through its legal representative — with listed actions, inside a validity window,
optionally a limited number of times. A mandate that allows it can be sub-delegated, and a
sub-delegation can only narrow: fewer matters, fewer actions, a shorter window, fewer uses.

A *certificate-use authorisation* lets a relying party (a bank, a hospital, a department) use
the holder's e-certificates of named types — or one certificate — for one stated purpose, once or
several times, inside a window.

Both are one mechanism: a row whose ``document`` is the RFC 8785 JSON the signatory signed with
SM2 (ID ``1234567812345678``, so ``openssl pkeyutl -verify -rawin -digest sm3`` checks it), a
state machine pending → active → revoked / expired / exhausted, and the audit ledger: every
state change, every use and every refusal is an entry whose ``grant`` is the authorisation's
code and whose ``subject`` is the principal, so the principal sees each of them.

Decisions re-verify the signature and the signed bytes of every link of the chain: a row edited
behind the platform's back allows nothing.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal, Protocol, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, utcnow
from shuhui.core.content import Items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.ids import InvalidIdentifier, parse_citizen_id, parse_credit_code
from shuhui.trust.authorisations.models import Authorisation, PersonalKey
from shuhui.trust.crypto import keystore
from shuhui.trust.crypto.canonical import JsonValue, canonical_json
from shuhui.trust.crypto.sm import SM2PrivateKey, SM2PublicKey, sm3_hex, verify
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.models import LedgerEntry

FORMAT: Final = "shuhui-authorisation-v1"
# The table itself, for statements that need no ORM objects (the hot use count).
AUTHORISATIONS: Final = cast(Table, Authorisation.__table__)
PERSONAL_KEYS: Final = cast(Table, PersonalKey.__table__)
# The signer's key as a decision reads it: a Core statement built once (an ORM select of the
# same columns costs the ORM's compile step on every call).
SIGNER_KEY: Final = select(
    PERSONAL_KEYS.c.citizen_id, PERSONAL_KEYS.c.revoked_at, PERSONAL_KEYS.c.public_key_pem
).where(PERSONAL_KEYS.c.key_id == bindparam("key_id"))
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
ENDED: Final = frozenset({"revoked", "expired", "exhausted"})

MAX_DAYS: Final = 5 * 366
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


# --- parties ----------------------------------------------------------------------------------


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
        raise Problem("validation", errors=[FieldError(f"{where}.name", "1-128 characters")])
    try:
        if kind == "person":
            return Party("person", parse_citizen_id(identifier).number, name)
        if kind == "enterprise":
            return Party("enterprise", parse_credit_code(identifier).code, name)
    except InvalidIdentifier as exc:
        raise Problem("validation", errors=[FieldError(f"{where}.id", exc.reason)]) from None
    raise Problem("validation", errors=[FieldError(f"{where}.kind", "person or enterprise")])


def stored_party(kind: str, identifier: str, name: str) -> Party:
    """A party as stored: checked on the way in, so only the kind needs narrowing."""
    return Party("enterprise" if kind == "enterprise" else "person", identifier, name)


class EnterpriseRegistry(Protocol):
    """Where the platform learns who represents an enterprise (the business register)."""

    def legal_representative(self, credit_code: str) -> str | None:
        """The legal representative's citizen ID, or None if the enterprise is not registered."""
        ...


def check_signatory(grantor: Party, signatory_id: str, registry: EnterpriseRegistry) -> None:
    """A person signs for themself; an enterprise signs through its legal representative."""
    if grantor.kind == "person":
        if signatory_id != grantor.id:
            raise Problem(
                "forbidden",
                detail="只有本人可以签署个人授权",
                errors=[FieldError("grantor", "a person's authorisation is signed by that person")],
            )
        return
    representative = registry.legal_representative(grantor.id)
    if representative is None:
        raise Problem(
            "validation",
            detail=f"企业登记信息中没有统一社会信用代码为 {grantor.id} 的企业",
            errors=[FieldError("grantor.id", "enterprise not found in the business register")],
        )
    if representative != signatory_id:
        raise Problem(
            "forbidden",
            detail="企业授权须由登记的法定代表人签署",
            errors=[FieldError("grantor", "signatory is not the registered legal representative")],
        )


# --- personal signing keys ----------------------------------------------------------------------

PERSONAL_KEY_DIR: Final = Path("keys") / "people"


def _personal_key_path(data_dir: Path, key_id: str) -> Path:
    if not key_id.isalnum():
        raise ValueError(f"bad key id {key_id!r}")
    return data_dir / PERSONAL_KEY_DIR / f"{key_id}.pem"


def active_key(db: Session, citizen_id: str) -> PersonalKey | None:
    return db.scalar(
        select(PersonalKey)
        .where(PersonalKey.citizen_id == citizen_id, PersonalKey.revoked_at.is_(None))
        .order_by(PersonalKey.id.desc())
    )


def _new_key(
    db: Session, citizen_id: str, public: SM2PublicKey, custody: str, *, actor: str
) -> PersonalKey:
    """Stores a person's new signing key; a person has one at a time, so earlier ones end."""
    now = utcnow()
    for old in db.scalars(
        select(PersonalKey).where(
            PersonalKey.citizen_id == citizen_id, PersonalKey.revoked_at.is_(None)
        )
    ):
        old.revoked_at = now
        ledger.record(db, actor, "key.revoked", subject=citizen_id, detail={"key_id": old.key_id})
    row = PersonalKey(
        citizen_id=citizen_id,
        key_id=public.fingerprint(),
        public_key_pem=public.to_pem(),
        custody=custody,
        created_at=now,
    )
    db.add(row)
    db.flush()
    held = "platform custody" if custody == "platform" else "held by the person"
    ledger.record(
        db,
        actor,
        "key.issued" if custody == "platform" else "key.registered",
        subject=citizen_id,
        purpose=f"personal signing key ({held})",
        detail={"key_id": row.key_id, "algorithm": "SM2", "custody": custody},
    )
    return row


def issue_platform_key(db: Session, data_dir: Path, citizen_id: str, *, actor: str) -> PersonalKey:
    """A platform-held key (云签名) for a person, replacing any earlier active key."""
    key = SM2PrivateKey.generate()
    row = _new_key(db, citizen_id, key.public_key, "platform", actor=actor)
    keystore.write(_personal_key_path(data_dir, row.key_id), key)
    return row


def register_holder_key(
    db: Session, citizen_id: str, public_key_pem: str, *, actor: str
) -> PersonalKey:
    """Registers a key the person holds themself (e.g. ``openssl genpkey -algorithm SM2``)."""
    try:
        public = SM2PublicKey.from_pem(public_key_pem)
    except ValueError as exc:
        raise Problem(
            "validation", errors=[FieldError("public_key_pem", f"not an SM2 public key: {exc}")]
        ) from None
    if db.scalar(select(PersonalKey).where(PersonalKey.key_id == public.fingerprint())):
        raise Problem("conflict", errors=[FieldError("public_key_pem", "key already registered")])
    return _new_key(db, citizen_id, public, "holder", actor=actor)


# --- the signed document ------------------------------------------------------------------------


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


def signature_problem(db: Session, a: Link) -> tuple[str, str] | None:
    """None if the row is exactly what its signatory signed, with a key registered to them."""
    if a.document != canonical_json(document_of(a)):
        return R_TAMPERED
    if a.signature is None or a.key_id is None:
        return R_PENDING
    key = db.execute(SIGNER_KEY, {"key_id": a.key_id}).first()
    if key is None or key.citizen_id != a.signatory_id:
        return R_SIGNATURE
    revoked = None if key.revoked_at is None else as_utc(key.revoked_at)
    if revoked is not None and a.signed_at is not None and revoked < a.signed_at:
        return R_SIGNATURE
    if not _verifies(key.public_key_pem, bytes(a.document), bytes(a.signature)):
        return R_SIGNATURE
    return None


@lru_cache(maxsize=16_384)
def _verifies(public_key_pem: str, document: bytes, signature: bytes) -> bool:
    """SM2 verification, remembered: every decision re-checks every link of its chain, and a
    data-channel check on one person repeats the same (key, document, signature) each call.
    The cache is keyed by the exact bytes, so an edited row is verified afresh (and fails)."""
    return verify(SM2PublicKey.from_pem(public_key_pem), document, signature)


# --- creating, signing, revoking --------------------------------------------------------------

_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U to misread


def new_code(kind: str, at: datetime) -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"{CODE_PREFIX[kind]}{at.year}-{body[:4]}-{body[4:8]}-{body[8:]}"


def normalise_code(code: str) -> str:
    return code.strip().upper()


def get(db: Session, code: str) -> Authorisation | None:
    return db.scalar(select(Authorisation).where(Authorisation.code == normalise_code(code)))


def get_or_404(db: Session, code: str) -> Authorisation:
    found = get(db, code)
    if found is None:
        raise Problem("not-found", detail=f"授权码 {code} 不存在")
    return found


@dataclass(frozen=True)
class Window:
    valid_from: datetime
    valid_to: datetime


def check_window(valid_from: datetime, valid_to: datetime, now: datetime) -> Window:
    start = as_utc(valid_from).replace(microsecond=0)
    end = as_utc(valid_to).replace(microsecond=0)
    if start < now - timedelta(days=1):
        raise Problem("validation", errors=[FieldError("valid_from", "cannot be in the past")])
    if end <= start:
        raise Problem("validation", errors=[FieldError("valid_to", "must be after valid_from")])
    if end <= now:
        raise Problem("validation", errors=[FieldError("valid_to", "must be in the future")])
    if end - start > timedelta(days=MAX_DAYS):
        raise Problem(
            "validation", errors=[FieldError("valid_to", f"at most {MAX_DAYS} days after start")]
        )
    return Window(start, end)


def _check_uses(max_uses: int | None) -> None:
    if max_uses is not None and not 1 <= max_uses <= MAX_USES:
        raise Problem("validation", errors=[FieldError("max_uses", f"between 1 and {MAX_USES}")])


def _unique_sorted(values: Iterable[str], where: str) -> list[str]:
    out = sorted({v.strip() for v in values if v.strip()})
    if not out:
        raise Problem("validation", errors=[FieldError(where, "name at least one")])
    return out


def _new(
    db: Session,
    *,
    kind: str,
    principal: Party,
    grantor: Party,
    signatory_id: str,
    grantee: Party,
    scope: list[str],
    actions: list[str],
    window: Window,
    max_uses: int | None,
    subdelegation: bool,
    parent_code: str | None,
    certificate_no: str | None,
    purpose: str | None,
    actor: str,
    now: datetime,
) -> Authorisation:
    a = Authorisation(
        code=new_code(kind, now),
        kind=kind,
        principal_kind=principal.kind,
        principal_id=principal.id,
        principal_name=principal.name,
        grantor_kind=grantor.kind,
        grantor_id=grantor.id,
        signatory_id=signatory_id,
        grantee_kind=grantee.kind,
        grantee_id=grantee.id,
        grantee_name=grantee.name,
        scope=json.dumps(scope, ensure_ascii=False),
        actions=json.dumps(actions),
        certificate_no=certificate_no,
        purpose=purpose,
        valid_from=window.valid_from,
        valid_to=window.valid_to,
        max_uses=max_uses,
        uses=0,
        subdelegation=subdelegation,
        parent_code=parent_code,
        status="pending",
        created_at=now.replace(microsecond=0),
        created_by=actor,
        document=b"",
    )
    a.document = canonical_json(document_of(a))
    db.add(a)
    db.flush()
    ledger.record(
        db,
        actor,
        f"{kind}.created",
        subject=principal.id,
        purpose=purpose,
        grant=a.code,
        detail={
            "grantee": grantee.as_json(),
            "scope": list[JsonValue](scope),
            "actions": list[JsonValue](actions),
            "valid_to": iso(window.valid_to),
            "parent": parent_code,
            "document_sm3": sm3_hex(a.document),
        },
    )
    return a


def create_mandate(
    db: Session,
    items: Items,
    registry: EnterpriseRegistry,
    *,
    grantor: Party,
    signatory_id: str,
    agent: Party,
    scope: Sequence[str],
    actions: Sequence[str],
    valid_from: datetime,
    valid_to: datetime,
    max_uses: int | None = None,
    subdelegation: bool = False,
    parent_code: str | None = None,
    actor: str,
    now: datetime | None = None,
) -> Authorisation:
    """Drafts a mandate (pending until its signatory signs it)."""
    now = as_utc(now or utcnow())
    check_signatory(grantor, signatory_id, registry)
    matters = _unique_sorted(scope, "scope")
    acts = _unique_sorted(actions, "actions")
    for act in acts:
        if act not in MANDATE_ACTIONS:
            known = ", ".join(MANDATE_ACTIONS)
            raise Problem(
                "validation", errors=[FieldError("actions", f"{act!r}: not one of {known}")]
            )
    window = check_window(valid_from, valid_to, now)
    _check_uses(max_uses)
    if agent.kind == grantor.kind and agent.id == grantor.id:
        raise Problem("validation", errors=[FieldError("agent", "cannot be the grantor")])

    principal = grantor
    if parent_code is not None:
        parent = get_or_404(db, parent_code)
        principal = _check_narrowing(
            db, parent, grantor, agent, matters, acts, window, max_uses, now
        )
    if agent.kind == principal.kind and agent.id == principal.id:
        raise Problem("validation", errors=[FieldError("agent", "cannot be the principal")])
    today = now.date()
    for code in matters:
        item = items.get(code)
        if item is None:
            raise Problem(
                "validation", errors=[FieldError("scope", f"{code}: no such service item")]
            )
        if not item.in_force(today):
            raise Problem("validation", errors=[FieldError("scope", f"{code}: not in force")])
        if item.attrs.get("delegable") is not True:
            raise Problem(
                "validation",
                detail=f"事项“{item.name_zh}”须本人办理，不能委托",
                errors=[FieldError("scope", f"{code}: must be handled in person")],
            )
        holder = item.attrs.get("holder", "any")
        if holder not in ("any", principal.kind):
            raise Problem(
                "validation",
                errors=[
                    FieldError("scope", f"{code}: a matter for a {holder}, not a {principal.kind}")
                ],
            )
    return _new(
        db,
        kind="mandate",
        principal=principal,
        grantor=grantor,
        signatory_id=signatory_id,
        grantee=agent,
        scope=matters,
        actions=acts,
        window=window,
        max_uses=max_uses,
        subdelegation=subdelegation,
        parent_code=None if parent_code is None else normalise_code(parent_code),
        certificate_no=None,
        purpose=None,
        actor=actor,
        now=now,
    )


def _check_narrowing(
    db: Session,
    parent: Authorisation,
    grantor: Party,
    agent: Party,
    matters: list[str],
    acts: list[str],
    window: Window,
    max_uses: int | None,
    now: datetime,
) -> Party:
    """A sub-delegation comes from the parent's agent and only ever narrows the parent."""
    if parent.kind != "mandate":
        raise Problem("validation", errors=[FieldError("parent", "not a mandate")])
    if (parent.grantee_kind, parent.grantee_id) != (grantor.kind, grantor.id):
        raise Problem(
            "forbidden",
            errors=[FieldError("parent", "only the parent mandate's agent can sub-delegate")],
        )
    if not parent.subdelegation:
        raise Problem(
            "validation", errors=[FieldError("parent", "the parent mandate forbids sub-delegation")]
        )
    status = effective_status(parent, now)
    if status != "active":
        raise Problem(
            "validation", errors=[FieldError("parent", f"the parent mandate is {status}")]
        )
    if depth(db, parent) + 1 >= MAX_DEPTH:
        raise Problem("validation", errors=[FieldError("parent", f"at most {MAX_DEPTH} links")])
    wider = sorted(set(matters) - set(map(str, scope_of(parent))))
    if wider:
        raise Problem(
            "validation", errors=[FieldError("scope", f"wider than the parent: {', '.join(wider)}")]
        )
    more = sorted(set(acts) - set(map(str, actions_of(parent))))
    if more:
        raise Problem(
            "validation",
            errors=[FieldError("actions", f"wider than the parent: {', '.join(more)}")],
        )
    if window.valid_from < parent.valid_from:
        raise Problem("validation", errors=[FieldError("valid_from", "before the parent's start")])
    if window.valid_to > parent.valid_to:
        raise Problem("validation", errors=[FieldError("valid_to", "after the parent's end")])
    if parent.max_uses is not None:
        left = parent.max_uses - parent.uses
        if max_uses is None or max_uses > left:
            raise Problem(
                "validation",
                errors=[FieldError("max_uses", f"at most the parent's {left} remaining uses")],
            )
    if agent.kind == parent.grantor_kind and agent.id == parent.grantor_id:
        raise Problem(
            "validation", errors=[FieldError("agent", "cannot delegate back to the grantor")]
        )
    return stored_party(parent.principal_kind, parent.principal_id, parent.principal_name)


def create_cert_use(
    db: Session,
    certificate_types: Items,
    registry: EnterpriseRegistry,
    *,
    holder: Party,
    signatory_id: str,
    relying_party: Party,
    certificate_types_wanted: Sequence[str],
    certificate_no: str | None,
    purpose: str,
    valid_from: datetime,
    valid_to: datetime,
    max_uses: int | None,
    actor: str,
    now: datetime | None = None,
) -> Authorisation:
    """Drafts a certificate-use authorisation (pending until the holder signs it)."""
    now = as_utc(now or utcnow())
    check_signatory(holder, signatory_id, registry)
    types = _unique_sorted(certificate_types_wanted, "certificate_types")
    today = now.date()
    for code in types:
        item = certificate_types.get(code)
        if item is None or not item.in_force(today):
            raise Problem(
                "validation",
                errors=[FieldError("certificate_types", f"{code}: no such certificate type")],
            )
        holder_kind = item.attrs.get("holder", "any")
        if holder_kind not in ("any", holder.kind):
            raise Problem(
                "validation",
                errors=[
                    FieldError(
                        "certificate_types", f"{code}: held by a {holder_kind}, not a {holder.kind}"
                    )
                ],
            )
    number = (certificate_no or "").strip() or None
    if number is not None and (len(types) != 1 or len(number) > 64):
        raise Problem(
            "validation",
            errors=[
                FieldError("certificate_no", "one certificate number goes with exactly one type")
            ],
        )
    what = normalise_purpose(purpose)
    if not what:
        raise Problem("validation", errors=[FieldError("purpose", "state the purpose")])
    window = check_window(valid_from, valid_to, now)
    _check_uses(max_uses)
    if relying_party.kind != "enterprise":
        raise Problem(
            "validation",
            errors=[FieldError("relying_party.kind", "an institution, by its credit code")],
        )
    if relying_party.kind == holder.kind and relying_party.id == holder.id:
        raise Problem("validation", errors=[FieldError("relying_party", "cannot be the holder")])
    return _new(
        db,
        kind="cert_use",
        principal=holder,
        grantor=holder,
        signatory_id=signatory_id,
        grantee=relying_party,
        scope=types,
        actions=[CERT_USE_ACTION],
        window=window,
        max_uses=max_uses,
        subdelegation=False,
        parent_code=None,
        certificate_no=number,
        purpose=what,
        actor=actor,
        now=now,
    )


def normalise_purpose(purpose: str) -> str:
    # One spelling per purpose: stray and repeated spaces do not make a different purpose.
    text = " ".join(purpose.split())
    if len(text) > 256:
        raise Problem("validation", errors=[FieldError("purpose", "at most 256 characters")])
    return text


def sign(
    db: Session,
    data_dir: Path,
    code: str,
    *,
    signer_citizen_id: str,
    signature: bytes | None = None,
    actor: str,
    now: datetime | None = None,
) -> Authorisation:
    """The signatory signs: with their platform key (after re-authentication, which the caller
    has done), or by handing over a signature made with the key they hold."""
    now = as_utc(now or utcnow())
    a = get_or_404(db, code)
    if a.signatory_id != signer_citizen_id:
        raise Problem(
            "forbidden",
            detail="只有授权的签署人可以签署",
            errors=[FieldError("code", "not the signatory")],
        )
    if a.status != "pending":
        raise Problem("conflict", errors=[FieldError("code", f"already {a.status}")])
    if a.parent_code is not None:
        parent = get_or_404(db, a.parent_code)
        status = effective_status(parent, now)
        if status != "active":
            raise Problem(
                "conflict", errors=[FieldError("parent", f"the parent mandate is {status}")]
            )
    key = active_key(db, signer_citizen_id)
    if signature is None:
        if key is None or key.custody != "platform":
            key = issue_platform_key(db, data_dir, signer_citizen_id, actor=actor)
        path = _personal_key_path(data_dir, key.key_id)
        private = keystore.read(path)
        if private is None:
            raise FileNotFoundError(path)
        signature = private.sign(a.document)
    else:
        if key is None or key.custody != "holder":
            raise Problem(
                "validation", errors=[FieldError("signature", "register your own public key first")]
            )
        if not verify(SM2PublicKey.from_pem(key.public_key_pem), a.document, signature):
            raise Problem(
                "validation",
                errors=[FieldError("signature", "does not verify over the document with your key")],
            )
    a.key_id = key.key_id
    a.signature = signature
    a.signed_at = now.replace(microsecond=0)
    a.status = "active"
    db.flush()
    ledger.record(
        db,
        actor,
        f"{a.kind}.signed",
        subject=a.principal_id,
        purpose=a.purpose,
        grant=a.code,
        detail={"key_id": key.key_id, "custody": key.custody, "document_sm3": sm3_hex(a.document)},
    )
    return a


def revoke(
    db: Session,
    code: str,
    *,
    by: Sequence[str],
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> Authorisation:
    """Revokes an authorisation and every sub-delegation made from it.

    ``by`` are the identities of whoever asks; the grantor, the principal or the signatory may
    revoke (the principal can always take back what is done in their name)."""
    now = as_utc(now or utcnow())
    a = get_or_404(db, code)
    if not {a.grantor_id, a.principal_id, a.signatory_id} & set(by):
        raise Problem("forbidden", detail="只有授权人可以撤销授权")
    why = " ".join(reason.split())[:256] or "revoked by the grantor"
    status = effective_status(a, now)
    if status in ENDED:
        raise Problem("conflict", errors=[FieldError("code", f"already {status}")])
    _end(db, a, "revoked", why, actor, now)
    for child in children_of(db, a):
        if effective_status(child, now) not in ENDED:
            _end(db, child, "revoked", f"parent {child.parent_code} revoked", actor, now)
    return a


def _end(
    db: Session,
    a: Authorisation,
    status: str,
    reason: str,
    actor: str,
    now: datetime,
    entries: list[ledger.Entry] | None = None,
) -> None:
    """Ends ``a``; its ledger entry goes to ``entries`` if given (the caller appends them in
    order), else straight to the ledger."""
    before = a.status
    a.status = status
    a.ended_at = now.replace(microsecond=0)
    a.end_reason = reason
    db.flush()
    _entry(
        db,
        entries,
        ledger.Entry(
            actor,
            f"{a.kind}.{status}",
            subject=a.principal_id,
            purpose=a.purpose,
            grant=a.code,
            detail={"from": before, "reason": reason},
        ),
    )


def _entry(db: Session, entries: list[ledger.Entry] | None, entry: ledger.Entry) -> None:
    if entries is None:
        ledger.record_many(db, [entry])
    else:
        entries.append(entry)


def effective_status(a: Link, now: datetime) -> str:
    if a.status in ("active", "pending") and as_utc(now) > a.valid_to:
        return "expired"
    return a.status


def settle(db: Session, a: Authorisation, now: datetime, actor: str = "system") -> str:
    """Records an expiry the clock has brought about, the first time anyone looks."""
    status = effective_status(a, now)
    if status != a.status:
        _end(db, a, status, f"validity ended {iso(a.valid_to)}", actor, now)
    return status


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


def chain_of(db: Session, a: Link) -> list[Link]:
    """Root first; the links above ``a`` read as rows."""
    links: list[Link] = [a]
    while links[0].parent_code is not None:
        row = db.execute(LINK_BY_CODE, {"code": links[0].parent_code}).first()
        if row is None:
            break
        links.insert(0, LinkRow(**row._mapping))
    return links


# --- deciding and using -----------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: tuple[str, str] | None = None
    chain: tuple[str, ...] = ()
    # The link at fault when refused (None when no authorisation applies at all).
    at_fault: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "reason": None if self.reason is None else self.reason[0],
            "reason_zh": None if self.reason is None else self.reason[1],
            "chain": list(self.chain),
            "at_fault": self.at_fault,
        }


@dataclass
class _Candidate:
    links: list[Link]
    covers: bool
    failure: tuple[str, str] | None = None
    at_fault: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _state_failure(db: Session, link: Link, now: datetime) -> tuple[str, str] | None:
    problem = signature_problem(db, link)
    if problem is not None:
        return problem
    status = effective_status(link, now)
    if status == "revoked":
        return R_REVOKED
    if status == "expired":
        return R_EXPIRED
    if status == "exhausted" or (link.max_uses is not None and link.uses >= link.max_uses):
        return R_EXHAUSTED
    if status == "pending":
        return R_PENDING
    if now < link.valid_from:
        return R_NOT_YET
    return None


def _decide(db: Session, candidates: list[LinkRow], now: datetime, covers: Any) -> Decision:
    found: list[_Candidate] = []
    for leaf in candidates:
        links = chain_of(db, leaf)
        scope_failure = None
        for link in links:
            scope_failure = covers(link)
            if scope_failure is not None:
                break
        found.append(_Candidate(links, scope_failure is None, scope_failure, leaf.code))
    for cand in found:
        if not cand.covers:
            continue
        for link in cand.links:
            failure = _state_failure(db, link, now)
            if failure is not None:
                cand.failure, cand.at_fault = failure, link.code
                break
        else:
            return Decision(True, None, tuple(link.code for link in cand.links), None)
    if not found:
        return Decision(False, R_NONE)
    # Say the most useful thing: why a covering authorisation does not apply, else why none covers.
    best = next((c for c in found if c.covers), found[0])
    return Decision(False, best.failure, tuple(link.code for link in best.links), best.at_fault)


def _candidates(kind: str) -> Any:
    """The authorisations of one kind from a principal to a grantee, newest first: a statement
    built once, with the parties bound per decision (building it per call cost as much as
    running it)."""
    columns = AUTHORISATIONS.c
    return (
        select(AUTHORISATIONS)
        .where(
            columns.kind == kind,
            columns.grantee_kind == bindparam("grantee_kind"),
            columns.grantee_id == bindparam("grantee_id"),
            columns.principal_id == bindparam("principal_id"),
        )
        .order_by(columns.id.desc())
    )


LINK_BY_CODE: Final = select(AUTHORISATIONS).where(AUTHORISATIONS.c.code == bindparam("code"))


CANDIDATES: Final = {kind: _candidates(kind) for kind in ("mandate", "cert_use")}


def _newest_first(db: Session, kind: str, grantee: Party, principal_id: str) -> list[LinkRow]:
    db.flush()  # as an ORM query would: the rows must include this session's changes
    rows = db.execute(
        CANDIDATES[kind],
        {"grantee_kind": grantee.kind, "grantee_id": grantee.id, "principal_id": principal_id},
    )
    return [LinkRow(**row._mapping) for row in rows]


def decide_mandate(
    db: Session,
    *,
    agent: Party,
    action: str,
    matter: str,
    principal_id: str,
    now: datetime | None = None,
) -> Decision:
    """May ``agent`` do ``action`` on service item ``matter`` for ``principal_id`` now?"""
    now = as_utc(now or utcnow())
    candidates = _newest_first(db, "mandate", agent, principal_id)

    def covers(link: Link) -> tuple[str, str] | None:
        if matter not in scope_of(link):
            return R_SCOPE
        if action not in actions_of(link):
            return R_ACTION
        return None

    return _decide(db, candidates, now, covers)


def decide_cert_use(
    db: Session,
    *,
    relying_party: Party,
    holder_id: str,
    certificate_type: str,
    purpose: str,
    certificate_no: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """May ``relying_party`` use the holder's certificate of this type for this purpose now?"""
    now = as_utc(now or utcnow())
    what = normalise_purpose(purpose)
    candidates = _newest_first(db, "cert_use", relying_party, holder_id)

    def covers(link: Link) -> tuple[str, str] | None:
        if certificate_type not in scope_of(link):
            return R_CERT
        if link.certificate_no is not None and link.certificate_no != certificate_no:
            return R_CERT
        if link.purpose != what:
            return R_PURPOSE
        return None

    return _decide(db, candidates, now, covers)


# Counts a use on every listed link that has one left (built once; the codes bound per use).
COUNT_USE: Final = (
    update(AUTHORISATIONS)
    .where(
        AUTHORISATIONS.c.code.in_(bindparam("codes", expanding=True)),
        or_(
            AUTHORISATIONS.c.max_uses.is_(None),
            AUTHORISATIONS.c.uses < AUTHORISATIONS.c.max_uses,
        ),
    )
    .values(uses=AUTHORISATIONS.c.uses + 1)
    .returning(AUTHORISATIONS.c.code, AUTHORISATIONS.c.uses, AUTHORISATIONS.c.max_uses)
)


def record_use(
    db: Session,
    decision: Decision,
    *,
    kind: Kind,
    actor: str,
    grantee: Party,
    principal_id: str,
    detail: dict[str, JsonValue],
    purpose: str | None = None,
    now: datetime | None = None,
    entries: list[ledger.Entry] | None = None,
) -> Decision:
    """Counts an allowed use on every link of its chain, or records the refusal. Either way the
    ledger has it; the caller must commit even when the decision is a refusal. With
    ``entries``, the ledger entries are added to that list, in order, for the caller to append
    with others in one :func:`ledger.record_many` in the same transaction (the data channel
    records a batch of calls at once)."""
    now = as_utc(now or utcnow())
    body: dict[str, JsonValue] = {
        "grantee": grantee.as_json(),
        "chain": list[JsonValue](decision.chain),
        **detail,
    }
    if not decision.allowed:
        assert decision.reason is not None
        body["reason"] = decision.reason[0]
        _entry(
            db,
            entries,
            ledger.Entry(
                actor,
                f"{kind}.refused",
                subject=principal_id,
                purpose=purpose,
                grant=decision.at_fault or (decision.chain[-1] if decision.chain else None),
                detail=body,
            ),
        )
        return decision
    # One conditional UPDATE counts the use on every link that has one left: atomic per row, so
    # two agents racing for the last use cannot both get it.
    codes = list(dict.fromkeys(decision.chain))
    counted = {
        str(code): (int(uses), None if limit is None else int(limit))
        for code, uses, limit in db.execute(COUNT_USE, {"codes": codes})
    }
    for held in db.identity_map.values():  # loaded copies no longer know the count
        if isinstance(held, Authorisation) and held.code in counted:
            db.expire(held, ["uses"])
    if len(counted) < len(codes):
        if counted:  # give back the uses counted on the other links
            db.execute(
                update(AUTHORISATIONS)
                .where(AUTHORISATIONS.c.code.in_(list(counted)))
                .values(uses=AUTHORISATIONS.c.uses - 1)
            )
        spent = next(code for code in codes if code not in counted)
        refused = Decision(False, R_EXHAUSTED, decision.chain, spent)
        return record_use(
            db,
            refused,
            kind=kind,
            actor=actor,
            grantee=grantee,
            principal_id=principal_id,
            detail=detail,
            purpose=purpose,
            now=now,
            entries=entries,
        )
    _entry(
        db,
        entries,
        ledger.Entry(
            actor,
            f"{kind}.used",
            subject=principal_id,
            purpose=purpose,
            grant=decision.chain[-1],
            detail=body,
        ),
    )
    for code in codes:
        uses, limit = counted[code]
        if limit is not None and uses >= limit:
            link = get_or_404(db, code)
            _end(db, link, "exhausted", f"all {limit} uses made", actor, now, entries)
    return decision


def record_check(
    db: Session,
    decision: Decision,
    *,
    actor: str,
    agent: Party,
    principal_id: str,
    detail: dict[str, JsonValue],
) -> None:
    """An officer asked whether an agent may act; the principal can see that someone looked."""
    body: dict[str, JsonValue] = {
        "agent": agent.as_json(),
        "allowed": decision.allowed,
        "reason": None if decision.reason is None else decision.reason[0],
        "chain": list[JsonValue](decision.chain),
        **detail,
    }
    ledger.record(
        db,
        actor,
        "mandate.checked",
        subject=principal_id,
        purpose="counter check",
        grant=decision.at_fault or (decision.chain[-1] if decision.chain else None),
        detail=body,
    )


# --- reading ----------------------------------------------------------------------------------


def involving(db: Session, identities: Sequence[str]) -> list[Authorisation]:
    """Authorisations someone granted, is subject of, signed, or received; newest first."""
    if not identities:
        return []
    return list(
        db.scalars(
            select(Authorisation)
            .where(
                or_(
                    Authorisation.principal_id.in_(identities),
                    Authorisation.grantor_id.in_(identities),
                    Authorisation.signatory_id.in_(identities),
                    Authorisation.grantee_id.in_(identities),
                )
            )
            .order_by(Authorisation.id.desc())
        )
    )


def is_party(a: Authorisation, identities: Iterable[str]) -> bool:
    return bool({a.principal_id, a.grantor_id, a.signatory_id, a.grantee_id} & set(identities))


def events(db: Session, codes: Sequence[str], limit: int = 500) -> list[LedgerEntry]:
    """Every ledger entry about these authorisations: state changes, uses, refusals, checks."""
    return list(
        db.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.grant.in_(codes))
            .order_by(LedgerEntry.seq.desc())
            .limit(limit)
        )
    )


def entries_about(
    db: Session, subjects: Sequence[str], *, before: int | None = None, limit: int = 50
) -> list[LedgerEntry]:
    """Ledger entries whose subject is one of ``subjects``, newest first (谁用了我的数据)."""
    query = select(LedgerEntry).where(LedgerEntry.subject.in_(subjects))
    if before is not None:
        query = query.where(LedgerEntry.seq < before)
    return list(db.scalars(query.order_by(LedgerEntry.seq.desc()).limit(limit)))


def envelope(db: Session, a: Authorisation) -> dict[str, Any]:
    """Everything a third party needs to check the signature offline."""
    key = (
        None
        if a.key_id is None
        else db.scalar(select(PersonalKey).where(PersonalKey.key_id == a.key_id))
    )
    return {
        "format": FORMAT,
        "document": base64.b64encode(a.document).decode("ascii"),
        "signature": None if a.signature is None else base64.b64encode(a.signature).decode("ascii"),
        "key_id": a.key_id,
        "public_key_pem": None if key is None else key.public_key_pem,
        "distinguishing_id": "1234567812345678",
    }


@dataclass(frozen=True)
class Verification:
    authorisation: Authorisation
    status: str
    signature_valid: bool
    problem: tuple[str, str] | None
    chain: list[Link]
    chain_problem: tuple[str, str] | None


def verify_code(
    db: Session, code: str, *, actor: str, purpose: str, now: datetime | None = None
) -> Verification:
    """An officer checks an authorisation code; the check itself is recorded for the principal."""
    now = as_utc(now or utcnow())
    a = get_or_404(db, code)
    status = settle(db, a, now, actor="system")
    problem = signature_problem(db, a)
    chain = chain_of(db, a)
    chain_problem = None
    for link in chain[:-1]:
        failure = _state_failure(db, link, now)
        if failure is not None:
            chain_problem = (f"{link.code}: {failure[0]}", f"上级授权 {link.code}：{failure[1]}")
            break
    ledger.record(
        db,
        actor,
        f"{a.kind}.verified",
        subject=a.principal_id,
        purpose=purpose,
        grant=a.code,
        detail={
            "status": status,
            "signature_valid": problem is None or problem == R_PENDING,
        },
    )
    return Verification(a, status, problem is None, problem, chain, chain_problem)
