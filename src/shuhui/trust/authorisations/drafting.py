"""Drafting authorisations: who may sign for a grantor (the business register for an
enterprise), the validity window and use limits, the narrowing rule for sub-delegation, and the
pending row with its signed-to-be document."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, utcnow
from shuhui.core.content import Items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.trust.authorisations.models import Authorisation
from shuhui.trust.authorisations.terms import (
    CERT_USE_ACTION,
    CODE_PREFIX,
    MANDATE_ACTIONS,
    MAX_DAYS,
    MAX_DEPTH,
    MAX_USES,
    PAST_START,
    Party,
    actions_of,
    depth,
    document_of,
    effective_status,
    get_or_404,
    iso,
    normalise_code,
    normalise_purpose,
    party_zh,
    scope_of,
    status_zh,
    stored_party,
)
from shuhui.trust.crypto.canonical import JsonValue, canonical_json
from shuhui.trust.crypto.sm import sm3_hex
from shuhui.trust.ledger import service as ledger


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
                errors=[
                    FieldError(
                        "grantor",
                        Text(
                            "个人的授权须由本人签署",
                            "a person's authorisation is signed by that person",
                        ),
                    )
                ],
            )
        return
    representative = registry.legal_representative(grantor.id)
    if representative is None:
        raise Problem(
            "validation",
            detail=f"企业登记信息中没有统一社会信用代码为 {grantor.id} 的企业",
            errors=[
                FieldError(
                    "grantor.id",
                    Text(
                        "企业登记信息中没有这家企业",
                        "enterprise not found in the business register",
                    ),
                )
            ],
        )
    if representative != signatory_id:
        raise Problem(
            "forbidden",
            detail="企业授权须由登记的法定代表人签署",
            errors=[
                FieldError(
                    "grantor",
                    Text(
                        "签署人不是登记的法定代表人",
                        "signatory is not the registered legal representative",
                    ),
                )
            ],
        )


_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U to misread


def new_code(kind: str, at: datetime) -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"{CODE_PREFIX[kind]}{at.year}-{body[:4]}-{body[4:8]}-{body[8:]}"


@dataclass(frozen=True)
class Window:
    valid_from: datetime
    valid_to: datetime


def check_window(valid_from: datetime, valid_to: datetime, now: datetime) -> Window:
    start = as_utc(valid_from).replace(microsecond=0)
    end = as_utc(valid_to).replace(microsecond=0)
    if start < now - PAST_START:
        raise Problem(
            "validation",
            errors=[FieldError("valid_from", Text("不能早于现在", "cannot be in the past"))],
        )
    if end <= start:
        raise Problem(
            "validation",
            errors=[FieldError("valid_to", Text("必须晚于开始时间", "must be after valid_from"))],
        )
    if end <= now:
        raise Problem(
            "validation",
            errors=[FieldError("valid_to", Text("必须晚于现在", "must be in the future"))],
        )
    if end - start > timedelta(days=MAX_DAYS):
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "valid_to",
                    Text(f"最长为开始后 {MAX_DAYS} 天", f"at most {MAX_DAYS} days after start"),
                )
            ],
        )
    return Window(start, end)


def _check_uses(max_uses: int | None) -> None:
    if max_uses is not None and not 1 <= max_uses <= MAX_USES:
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "max_uses", Text(f"应在 1 到 {MAX_USES} 之间", f"between 1 and {MAX_USES}")
                )
            ],
        )


def _unique_sorted(values: Iterable[str], where: str) -> list[str]:
    out = sorted({v.strip() for v in values if v.strip()})
    if not out:
        raise Problem(
            "validation", errors=[FieldError(where, Text("至少选择一项", "name at least one"))]
        )
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
                "validation",
                errors=[
                    FieldError(
                        "actions",
                        Text(f"{act!r} 不是可选的操作：{known}", f"{act!r}: not one of {known}"),
                    )
                ],
            )
    window = check_window(valid_from, valid_to, now)
    _check_uses(max_uses)
    if agent.kind == grantor.kind and agent.id == grantor.id:
        raise Problem(
            "validation",
            errors=[FieldError("agent", Text("不能是授权人本人", "cannot be the grantor"))],
        )

    principal = grantor
    if parent_code is not None:
        parent = get_or_404(db, parent_code)
        principal = _check_narrowing(
            db, parent, grantor, agent, matters, acts, window, max_uses, now
        )
    if agent.kind == principal.kind and agent.id == principal.id:
        raise Problem(
            "validation",
            errors=[FieldError("agent", Text("不能是委托人本人", "cannot be the principal"))],
        )
    today = now.date()
    for code in matters:
        item = items.get(code)
        if item is None:
            raise Problem(
                "validation",
                errors=[
                    FieldError(
                        "scope", Text(f"没有编号为 {code} 的事项", f"{code}: no such service item")
                    )
                ],
            )
        if not item.in_force(today):
            raise Problem(
                "validation",
                errors=[
                    FieldError(
                        "scope", Text(f"事项 {code} 目前不在办理期", f"{code}: not in force")
                    )
                ],
            )
        if item.attrs.get("delegable") is not True:
            raise Problem(
                "validation",
                detail=f"事项“{item.name_zh}”须本人办理，不能委托",
                errors=[
                    FieldError(
                        "scope",
                        Text(
                            f"事项 {code} 须本人办理，不能委托",
                            f"{code}: must be handled in person",
                        ),
                    )
                ],
            )
        holder = item.attrs.get("holder", "any")
        if holder not in ("any", principal.kind):
            raise Problem(
                "validation",
                errors=[
                    FieldError(
                        "scope",
                        Text(
                            f"事项 {code} 只能由{party_zh(holder)}办理，"
                            f"不能由{party_zh(principal.kind)}办理",
                            f"{code}: a matter for a {holder}, not a {principal.kind}",
                        ),
                    )
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
        raise Problem(
            "validation", errors=[FieldError("parent", Text("这不是委托授权", "not a mandate"))]
        )
    if (parent.grantee_kind, parent.grantee_id) != (grantor.kind, grantor.id):
        raise Problem(
            "forbidden",
            errors=[
                FieldError(
                    "parent",
                    Text(
                        "只有上级委托的受托人可以转委托",
                        "only the parent mandate's agent can sub-delegate",
                    ),
                )
            ],
        )
    if not parent.subdelegation:
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "parent",
                    Text("上级委托不允许转委托", "the parent mandate forbids sub-delegation"),
                )
            ],
        )
    status = effective_status(parent, now)
    if status != "active":
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "parent",
                    Text(
                        f"上级委托的状态是“{status_zh(status)}”", f"the parent mandate is {status}"
                    ),
                )
            ],
        )
    if depth(db, parent) + 1 >= MAX_DEPTH:
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "parent", Text(f"转委托最多 {MAX_DEPTH} 层", f"at most {MAX_DEPTH} links")
                )
            ],
        )
    wider = sorted(set(matters) - set(map(str, scope_of(parent))))
    if wider:
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "scope",
                    Text(
                        f"超出了上级委托的范围：{'、'.join(wider)}",
                        f"wider than the parent: {', '.join(wider)}",
                    ),
                )
            ],
        )
    more = sorted(set(acts) - set(map(str, actions_of(parent))))
    if more:
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "actions",
                    Text(
                        f"超出了上级委托的范围：{'、'.join(more)}",
                        f"wider than the parent: {', '.join(more)}",
                    ),
                )
            ],
        )
    if window.valid_from < parent.valid_from:
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "valid_from", Text("早于上级委托的开始时间", "before the parent's start")
                )
            ],
        )
    if window.valid_to > parent.valid_to:
        raise Problem(
            "validation",
            errors=[
                FieldError("valid_to", Text("晚于上级委托的结束时间", "after the parent's end"))
            ],
        )
    if parent.max_uses is not None:
        left = parent.max_uses - parent.uses
        if max_uses is None or max_uses > left:
            raise Problem(
                "validation",
                errors=[
                    FieldError(
                        "max_uses",
                        Text(
                            f"不能超过上级委托剩余的 {left} 次",
                            f"at most the parent's {left} remaining uses",
                        ),
                    )
                ],
            )
    if agent.kind == parent.grantor_kind and agent.id == parent.grantor_id:
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "agent", Text("不能转委托回授权人", "cannot delegate back to the grantor")
                )
            ],
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
                errors=[
                    FieldError(
                        "certificate_types",
                        Text(f"没有编号为 {code} 的证照类型", f"{code}: no such certificate type"),
                    )
                ],
            )
        holder_kind = item.attrs.get("holder", "any")
        if holder_kind not in ("any", holder.kind):
            raise Problem(
                "validation",
                errors=[
                    FieldError(
                        "certificate_types",
                        Text(
                            f"证照 {code} 由{party_zh(holder_kind)}持有，"
                            f"不是{party_zh(holder.kind)}",
                            f"{code}: held by a {holder_kind}, not a {holder.kind}",
                        ),
                    )
                ],
            )
    number = (certificate_no or "").strip() or None
    if number is not None and (len(types) != 1 or len(number) > 64):
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "certificate_no",
                    Text(
                        "一个证照号码只能对应一种证照类型",
                        "one certificate number goes with exactly one type",
                    ),
                )
            ],
        )
    what = normalise_purpose(purpose)
    if not what:
        raise Problem(
            "validation", errors=[FieldError("purpose", Text("请说明用途", "state the purpose"))]
        )
    window = check_window(valid_from, valid_to, now)
    _check_uses(max_uses)
    if relying_party.kind != "enterprise":
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "relying_party.kind",
                    Text("应为机构，填写其统一社会信用代码", "an institution, by its credit code"),
                )
            ],
        )
    if relying_party.kind == holder.kind and relying_party.id == holder.id:
        raise Problem(
            "validation",
            errors=[FieldError("relying_party", Text("不能是持证人本人", "cannot be the holder"))],
        )
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
