"""Pre-filled forms (身份自动填 / 历史选择填 / 共享系统填) and the materials e-certificates waive.

``prefill`` makes a :class:`~shuhui.approval.provenance.Prefill` for one applicant and one
service item:

- **Who applies.** The logged-in person or enterprise itself, or — ``applicant_id`` naming
  someone else — the user as an agent: the item must be delegable and the principal's signed
  mandate (委托授权) must cover the item and the action ``apply``. The use, or the refusal, is
  counted and recorded (``mandate.used`` / ``mandate.refused``) before anything is read; a
  refusal then raises ``Problem("mandate-refused", 403)`` — the caller must commit the
  transaction anyway (answer the problem, do not let it roll back), or the refusal is lost.
  At a service-hall window (``at_counter``) the user is the officer filing for the applicant
  present, whose identity document was checked in person: no mandate, nothing of the officer's
  own (``counter`` checks first that the officer's department may accept the item).
- **Identity fields** (``x-fill`` kind ``identity``) come from the applicant's register row
  (``residents`` by citizen ID, ``enterprises`` by credit code); **shared fields** (kind
  ``shared``) from any data-core table keyed by the applicant's ID, the row with the greatest
  ``order_by`` where a key has many rows. Each carries its provenance: table, version, key and
  the time it was read (:mod:`shuhui.approval.lookups`).
- **History** (``x-history``): the values the applicant gave for a field of the same name in
  earlier submitted cases, newest first, distinct, at most five; the newest fills a field the
  platform has nothing for.
- **Materials** an e-certificate replaces are waived (免提交) when the data core's
  ``e_certificates`` holds a valid (有效) certificate of that type for the holder: the applicant,
  or another holder named by a form field (``holder_field``), whose certificate-use
  authorisation (用证授权) for this purpose is then needed (``waive_with_holder``): a refusal is
  recorded (``cert_use.refused``) and listed in ``Prefill.refused``.
- **The ledger**: one ``approval.form.prefilled`` entry per form, about the applicant (so it
  shows at 谁用了我的数据), naming the item, the fields filled and the table versions read; no
  value is written to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from shuhui.approval.items import Material, ServiceItem
from shuhui.approval.lookups import (
    CERTIFICATES,
    ENTERPRISES,
    HOLDER_KEY,
    RESIDENTS,
    Key,
    Lookups,
    Rows,
    key_of,
    lookups_for,
)
from shuhui.approval.models import Case, CaseField
from shuhui.approval.provenance import (
    FilledField,
    HistoryChoice,
    Prefill,
    Provenance,
    Refusal,
    WaivedMaterial,
)
from shuhui.core.clock import as_utc, utcnow
from shuhui.core.display import mask_citizen_id
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.ids import InvalidIdentifier, parse_citizen_id, parse_credit_code
from shuhui.datacore.store import DataCore
from shuhui.standard.vocabularies import CERTIFICATE_STATUSES
from shuhui.trust.authorisations import service as authz
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.identity.models import User
from shuhui.trust.ledger import service as ledger

MANDATE_ACTION: Final = "apply"  # the mandate action (terms.MANDATE_ACTIONS) applying needs
VALID: Final = CERTIFICATE_STATUSES[0]  # 有效
HISTORY_CHOICES: Final = 5
# Rows read for history at most: an applicant's latest cases are what they would pick from.
HISTORY_ROWS: Final = 500
# The register an applicant of each kind is read from: (table, key column, name column).
REGISTERS: Final[dict[str, tuple[str, str, str]]] = {
    "person": (RESIDENTS, "citizen_id", "name"),
    "enterprise": (ENTERPRISES, "credit_code", "name"),
}
R_NOT_DELEGABLE: Final = (
    "the service item must be handled by the applicant in person",
    "该事项须由本人亲自办理，不能委托他人代办",
)
R_NO_CERTIFICATE: Final = (
    "the holder has no valid certificate of this type",
    "持证人名下没有有效的该类电子证照",
)


def purpose_of(item: ServiceItem) -> str:
    """What reading data for this item is for, as the ledger says it and as a holder's
    certificate-use authorisation must word it (word for word): 办理<the item's name>."""
    return f"办理{item.name_zh}"


def lookup_needs(items: Iterable[ServiceItem]) -> set[tuple[str, Key]]:
    """The (table, key) indexes these items' forms read: the registers, the certificates, and
    each field's declared table."""
    needs: set[tuple[str, Key]] = {
        (RESIDENTS, ("citizen_id",)),
        (ENTERPRISES, ("credit_code",)),
        (CERTIFICATES, HOLDER_KEY),
    }
    for item in items:
        for f in item.form.fields:
            if f.fill is not None:
                needs.add((f.fill.table, key_of(f.fill.key)))
    return needs


# --- who applies --------------------------------------------------------------------------------


def own_id(user: User, kind: str) -> str | None:
    """The ID the user applies under for an item of this holder kind."""
    return user.citizen_id if kind == "person" else user.credit_code


def _own_ids(user: User) -> set[str]:
    return {i for i in (user.citizen_id, user.credit_code) if i}


def _checked_applicant(kind: str, value: str) -> str:
    try:
        if kind == "person":
            return parse_citizen_id(value).number
        return parse_credit_code(value).code
    except InvalidIdentifier as bad:
        what = "公民身份号码" if kind == "person" else "统一社会信用代码"
        raise Problem(
            "validation", detail=f"申请人{what}有误", errors=[FieldError("applicant", bad.reason)]
        ) from None


def _agent(user: User) -> authz.Party:
    if user.citizen_id:
        return authz.Party("person", user.citizen_id, user.display_name)
    if user.credit_code:
        return authz.Party("enterprise", user.credit_code, user.department or user.display_name)
    raise Problem(
        "forbidden",
        detail="当前账户未绑定公民身份号码或统一社会信用代码，不能代他人办理",
        errors=[FieldError("applicant", Text("账户未绑定身份", "the account has no identity"))],
    )


def mandate_refused(item: ServiceItem, principal: str, decision: authz.Decision) -> Problem:
    assert decision.reason is not None
    english, chinese = decision.reason
    return Problem(
        "mandate-refused",
        detail=f"不能代{mask_citizen_id(principal)}办理“{item.name_zh}”：{chinese}",
        errors=[FieldError("applicant", Text(chinese, english))],
        extra={"chain": list(decision.chain), "at_fault": decision.at_fault},
    )


def _mandate(
    db: Session, item: ServiceItem, agent: authz.Party, principal: str, now: datetime
) -> authz.Decision:
    """Whether the agent may apply for the principal: an item done in person allows nobody."""
    if not item.delegable:
        return authz.Decision(False, R_NOT_DELEGABLE)
    return authz.decide_mandate(
        db, agent=agent, action=MANDATE_ACTION, matter=item.code, principal_id=principal, now=now
    )


# --- the form -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _HolderUse:
    """Another holder's certificate for a material: decided, to be counted or recorded refused."""

    material: Material
    holder_id: str
    relying: authz.Party
    purpose: str
    certificate: str | None
    decision: authz.Decision


@dataclass(frozen=True)
class FormRead:
    """A form read, not yet recorded: what :func:`record_form` counts and records. Nothing of it
    may reach the applicant before it is recorded."""

    item: ServiceItem
    user: User
    now: datetime
    applicant: str
    name: str
    agent: authz.Party | None  # applying for someone else
    mandate: authz.Decision | None  # the agent's, to be counted (or recorded refused)
    fields: dict[str, FilledField]
    waived: dict[str, WaivedMaterial]
    holder_uses: tuple[_HolderUse, ...]
    versions: dict[str, int]
    counter: bool = False  # an officer filing at a service-hall window


def prefill(
    db: Session,
    datacore: DataCore,
    item: ServiceItem,
    *,
    user: User,
    applicant_id: str | None = None,
    now: datetime | None = None,
    at_counter: bool = False,
) -> Prefill:
    """The item's form filled for the applicant (the user, or a principal under a mandate; at
    a window, ``at_counter``, the applicant present for whom the officer files).

    Raises ``Problem("mandate-refused")`` after recording the refusal: the caller must commit.
    """
    read = read_form(
        db, datacore, item, user=user, applicant_id=applicant_id, now=now, at_counter=at_counter
    )
    return record_form(db, read)


def read_form(
    db: Session,
    datacore: DataCore,
    item: ServiceItem,
    *,
    user: User,
    applicant_id: str | None = None,
    now: datetime | None = None,
    at_counter: bool = False,
) -> FormRead:
    """Everything :func:`prefill` reads and decides, writing nothing; :func:`record_form` then
    writes (a caller that must keep its writes short, like the form's route on SQLite, takes
    its write lock between the two). An agent's refused mandate reads nothing else. At a
    window (``at_counter``) ``applicant_id`` is the applicant present, and nothing is the
    officer's own."""
    now = as_utc(now or utcnow())
    kind = item.holder
    own = None if at_counter else own_id(user, kind)
    agent: authz.Party | None = None
    mandate: authz.Decision | None = None
    if at_counter:
        if applicant_id is None:
            raise ValueError("a counter filing names its applicant")
        applicant = _checked_applicant(kind, applicant_id)
    elif applicant_id is None or applicant_id == own:
        if own is None:
            what = "公民身份号码" if kind == "person" else "统一社会信用代码"
            raise Problem(
                "forbidden",
                detail=f"“{item.name_zh}”须以{what}办理，当前账户未绑定",
                errors=[FieldError("applicant", Text(f"账户未绑定{what}", "no such identity"))],
            )
        applicant = own
    else:
        applicant = _checked_applicant(kind, applicant_id)
        agent = _agent(user)
        mandate = _mandate(db, item, agent, applicant, now)
        if not mandate.allowed:
            return FormRead(item, user, now, applicant, "", agent, mandate, {}, {}, (), {})

    reads = _Reads(lookups_for(datacore), applicant)
    register, register_key, name_column = REGISTERS[kind]
    row = reads.rows(register, register_key)
    found = row.first() if row is not None else None
    name = str(found[name_column]) if found and found.get(name_column) else ""
    if not name and applicant == own:
        name = user.display_name if kind == "person" else (user.department or user.display_name)

    history = _history(db, kind, applicant, [f.name for f in item.form.fields if f.history])
    fields: dict[str, FilledField] = {}
    for f in item.form.fields:
        value: Any = None
        provenance: Provenance | None = None
        if f.fill is not None:
            got = reads.rows(f.fill.table, f.fill.key)
            chosen = got.latest(f.fill.order_by) if got is not None else None
            if got is not None and chosen is not None and chosen.get(f.fill.column) is not None:
                value = _json_value(chosen[f.fill.column])
                provenance = Provenance(
                    f.fill.kind, got.at, table=got.table, version=got.version, key=got.key
                )
        choices = history.get(f.name, ()) if f.history else ()
        if value is None and choices:
            value = choices[0].value
            provenance = Provenance("history", now, case_code=choices[0].case_code)
        fields[f.name] = FilledField(f.name, value, provenance, choices)

    relying = authz.Party(kind, applicant, name)
    waived: dict[str, WaivedMaterial] = {}
    uses: list[_HolderUse] = []
    for material in item.materials:
        if material.replaced_by is None:
            continue
        holder = applicant
        if material.holder_field is not None:
            given = fields.get(material.holder_field)
            holder = str(given.value) if given is not None and given.value else ""
        if not holder:
            continue  # the applicant names the holder; the case asks again then
        if holder == applicant or (not at_counter and holder in _own_ids(user)):
            certificate = _valid_certificate(reads.certificates(holder), material.replaced_by)
            if certificate is not None:
                waived[material.code] = WaivedMaterial(
                    material.code, material.replaced_by, certificate, holder
                )
            continue
        uses.append(_decide_holder(db, reads, material, holder, relying, purpose_of(item), now))
    return FormRead(
        item,
        user,
        now,
        applicant,
        name,
        agent,
        mandate,
        fields,
        waived,
        tuple(uses),
        dict(reads.versions),
        at_counter,
    )


def record_form(db: Session, read: FormRead) -> Prefill:
    """Records a form read: the agent's use of the mandate (or its refusal, then raised as
    ``mandate-refused``: the caller must commit), each use or refusal of another holder's
    certificate, and the one ``approval.form.prefilled`` entry about the applicant."""
    item, user, now = read.item, read.user, read.now
    mandate_code: str | None = None
    if read.agent is not None and read.mandate is not None:
        decision = authz.record_use(
            db,
            read.mandate,
            kind="mandate",
            actor=user.username,
            grantee=read.agent,
            principal_id=read.applicant,
            detail={"action": MANDATE_ACTION, "matter": item.code},
            purpose=purpose_of(item),
            now=now,
        )
        if not decision.allowed:  # refused, or its last use taken meanwhile
            raise mandate_refused(item, read.applicant, decision)
        mandate_code = decision.chain[-1]
    waived = dict(read.waived)
    refused: list[Refusal] = []
    for use in read.holder_uses:
        outcome = _record_holder(db, use, item, user, now)
        if isinstance(outcome, WaivedMaterial):
            waived[use.material.code] = outcome
        else:
            refused.append(outcome)

    filled: dict[str, list[JsonValue]] = {}
    for ff in read.fields.values():
        if ff.provenance is not None:
            filled.setdefault(ff.provenance.kind, []).append(ff.name)
    detail: dict[str, JsonValue] = {
        "item": item.code,
        "fields": dict[str, JsonValue](filled),
        "tables": dict[str, JsonValue](read.versions),
        "waived": list[JsonValue](waived),
        "refused": [r.material for r in refused],
    }
    if read.agent is not None:  # 谁用了我的数据 names the agent
        detail["agent"] = read.agent.as_json()
    if read.counter:  # and the window's department
        detail["counter"] = user.department or ""
    ledger.record(
        db,
        user.username,
        "approval.form.prefilled",
        subject=read.applicant,
        purpose=purpose_of(item),
        grant=mandate_code,
        detail=detail,
    )
    return Prefill(
        item_code=item.code,
        applicant_kind=item.holder,
        applicant_id=read.applicant,
        applicant_name=read.name,
        fields=read.fields,
        waived=waived,
        refused=tuple(refused),
        agent_id=None if read.agent is None else read.agent.id,
        mandate_code=mandate_code,
        versions=dict(read.versions),
    )


class _Reads:
    """One form's reads of the data core, each (table, key) once, and the versions read."""

    def __init__(self, lookups: Lookups, applicant: str) -> None:
        self.lookups = lookups
        self.applicant = applicant
        self.versions: dict[str, int] = {}
        self._done: dict[tuple[str, Key, str], Rows | None] = {}

    def rows(self, table: str, key: str | Sequence[str], value: str | None = None) -> Rows | None:
        wanted = (table, key_of(key), value or self.applicant)
        if wanted not in self._done:
            got = self.lookups.rows(table, wanted[1], wanted[2])
            self._done[wanted] = got
            if got is not None:
                self.versions[got.table] = got.version
        return self._done[wanted]

    def certificates(self, holder: str) -> Rows | None:
        return self.rows(CERTIFICATES, HOLDER_KEY, holder)


def _json_value(value: Any) -> Any:
    """A data-core value as a form holds it (JSON): dates as ISO text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# Built once, the applicant and field names bound per form (building it cost as much as running
# it). Submitted cases only: a draft's values are not history.
CASES: Final = cast(Table, Case.__table__)
FIELDS: Final = cast(Table, CaseField.__table__)
HISTORY: Final = (
    select(FIELDS.c.field, FIELDS.c.value, CASES.c.code, CASES.c.submitted_at)
    .join(CASES, CASES.c.id == FIELDS.c.case_id)
    .where(
        CASES.c.applicant_id == bindparam("applicant"),
        CASES.c.applicant_kind == bindparam("kind"),
        CASES.c.submitted_at.is_not(None),
        FIELDS.c.field.in_(bindparam("names", expanding=True)),
    )
    .order_by(CASES.c.submitted_at.desc(), CASES.c.id.desc())
    .limit(bindparam("limit"))
)


def _history(
    db: Session, kind: str, applicant: str, names: list[str]
) -> dict[str, tuple[HistoryChoice, ...]]:
    """The applicant's values in earlier submitted cases, per field name: newest first,
    distinct, at most ``HISTORY_CHOICES``."""
    if not names:
        return {}
    rows = db.execute(
        HISTORY, {"applicant": applicant, "kind": kind, "names": names, "limit": HISTORY_ROWS}
    )
    found: dict[str, list[HistoryChoice]] = {}
    seen: dict[str, set[str]] = {}
    for field, value, code, submitted_at in rows:
        if value is None or value == "":
            continue
        choices = found.setdefault(field, [])
        same = json.dumps(value, sort_keys=True, ensure_ascii=False)
        if len(choices) >= HISTORY_CHOICES or same in seen.setdefault(field, set()):
            continue
        seen[field].add(same)
        choices.append(HistoryChoice(value, code, as_utc(submitted_at)))
    return {field: tuple(choices) for field, choices in found.items()}


def _valid_certificate(rows: Rows | None, certificate_type: str) -> str | None:
    """The number of the holder's newest valid certificate of this type, if any."""
    if rows is None:
        return None
    valid = [
        r
        for r in rows.rows
        if r.get("certificate_type") == certificate_type and r.get("status") == VALID
    ]
    if not valid:
        return None
    newest = max(valid, key=lambda r: (r.get("issue_date") or date.min, r["certificate_no"]))
    return str(newest["certificate_no"])


# --- another holder's certificate ---------------------------------------------------------------


def waive_with_holder(
    db: Session,
    datacore: DataCore,
    item: ServiceItem,
    material: Material,
    holder_id: str,
    *,
    user: User,
    purpose: str,
    applicant: authz.Party | None = None,
    now: datetime | None = None,
) -> WaivedMaterial | Refusal:
    """Waives ``material`` with another holder's e-certificate, under the holder's
    certificate-use authorisation (用证授权) for the applicant (the relying party: by default
    the user's own person or enterprise for the item) and ``purpose``, word for word.

    The use is counted and recorded (``cert_use.used``, about the holder); a refusal — no
    authorisation, one that does not cover the type or purpose, or no valid certificate — is
    recorded (``cert_use.refused``) and returned. The caller commits either way."""
    now = as_utc(now or utcnow())
    if material.replaced_by is None:
        return Refusal(
            material.code,
            f"“{material.name_zh}”不能以电子证照代替，请上传材料",
            f"no e-certificate replaces {material.name_en}: upload it",
        )
    if applicant is None:
        mine = own_id(user, item.holder)
        if mine is None:
            return Refusal(
                material.code,
                "当前账户未绑定身份，不能使用他人的电子证照",
                "the account has no identity to use another holder's certificate under",
            )
        name = user.display_name if item.holder == "person" else user.department or ""
        applicant = authz.Party(item.holder, mine, name or user.display_name)
    reads = _Reads(lookups_for(datacore), applicant.id)
    use = _decide_holder(db, reads, material, holder_id, applicant, purpose, now)
    return _record_holder(db, use, item, user, now)


def _decide_holder(
    db: Session,
    reads: _Reads,
    material: Material,
    holder_id: str,
    relying: authz.Party,
    purpose: str,
    now: datetime,
) -> _HolderUse:
    assert material.replaced_by is not None
    # Which certificate would be used, so an authorisation naming one certificate can cover it;
    # nothing of it leaves here unless the holder's authorisation allows it.
    certificate = _valid_certificate(reads.certificates(holder_id), material.replaced_by)
    decision = authz.decide_cert_use(
        db,
        relying_party=relying,
        holder_id=holder_id,
        certificate_type=material.replaced_by,
        purpose=purpose,
        certificate_no=certificate,
        now=now,
    )
    if decision.allowed and certificate is None:
        decision = authz.Decision(False, R_NO_CERTIFICATE, decision.chain, decision.chain[-1])
    return _HolderUse(material, holder_id, relying, purpose, certificate, decision)


def _record_holder(
    db: Session, use: _HolderUse, item: ServiceItem, user: User, now: datetime
) -> WaivedMaterial | Refusal:
    material, holder_id = use.material, use.holder_id
    assert material.replaced_by is not None
    decision = authz.record_use(
        db,
        use.decision,
        kind="cert_use",
        actor=user.username,
        grantee=use.relying,
        principal_id=holder_id,
        detail={
            "certificate_type": material.replaced_by,
            "certificate_no": use.certificate if use.decision.allowed else None,
            "item": item.code,
            "material": material.code,
        },
        purpose=authz.normalise_purpose(use.purpose),
        now=now,
    )
    if decision.allowed and use.certificate is not None:
        return WaivedMaterial(
            material.code, material.replaced_by, use.certificate, holder_id, decision.chain[-1]
        )
    assert decision.reason is not None
    english, chinese = decision.reason
    kind_zh = material.replaced_by
    if decision.reason == authz.R_NONE:
        who = use.relying.name or "申请人"
        chinese = f"持证人尚未签署用证授权，同意{who}为{use.purpose}使用其{kind_zh}"
        english = "the holder has not authorised this use of the certificate"
    return Refusal(
        material.code,
        f"不能使用{mask_citizen_id(holder_id)}的{kind_zh}：{chinese}，请上传“{material.name_zh}”",
        f"cannot use the certificate of {mask_citizen_id(holder_id)}: {english}",
    )
