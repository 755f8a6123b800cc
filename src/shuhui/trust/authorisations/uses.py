"""Recording uses: an allowed use counted on every link of its chain (atomically), a refusal,
an officer's check: each a ledger entry the principal sees."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import bindparam, or_, update
from sqlalchemy.orm import Session

from shuhui.core.clock import as_utc, utcnow
from shuhui.trust.authorisations.decisions import Decision
from shuhui.trust.authorisations.models import Authorisation
from shuhui.trust.authorisations.signing import append_entry, end
from shuhui.trust.authorisations.terms import AUTHORISATIONS, R_EXHAUSTED, Kind, Party, get_or_404
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.ledger import service as ledger

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
# The same for a chain of one link (``code``), for a caller that counts the uses of several
# decisions together before recording them (:func:`record_use` with ``counted``).
COUNT_ONE_USE: Final = (
    update(AUTHORISATIONS)
    .where(
        AUTHORISATIONS.c.code == bindparam("link"),
        or_(
            AUTHORISATIONS.c.max_uses.is_(None),
            AUTHORISATIONS.c.uses < AUTHORISATIONS.c.max_uses,
        ),
    )
    .values(uses=AUTHORISATIONS.c.uses + 1)
    .returning(AUTHORISATIONS.c.code, AUTHORISATIONS.c.uses, AUTHORISATIONS.c.max_uses)
)
# Gives back uses counted ahead for calls that were refused for other reasons in the end.
GIVE_BACK: Final = (
    update(AUTHORISATIONS)
    .where(AUTHORISATIONS.c.code == bindparam("link"))
    .values(uses=AUTHORISATIONS.c.uses - bindparam("n"))
)

Counted = dict[str, tuple[int, int | None]]  # code: (uses, max_uses) after the count


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
    counted: Counted | None = None,
) -> Decision:
    """Counts an allowed use on every link of its chain, or records the refusal. Either way the
    ledger has it; the caller must commit even when the decision is a refusal. With
    ``entries``, the ledger entries are added to that list, in order, for the caller to append
    with others in one :func:`ledger.record_many` in the same transaction (the data channel
    records a batch of calls at once). With ``counted``, the caller has counted the use
    already in this transaction (:data:`COUNT_ONE_USE` on a chain of one link: the rows it
    returned, none if the link had no use left)."""
    now = as_utc(now or utcnow())
    body: dict[str, JsonValue] = {
        "grantee": grantee.as_json(),
        "chain": list[JsonValue](decision.chain),
        **detail,
    }
    if not decision.allowed:
        assert decision.reason is not None
        body["reason"] = decision.reason[0]
        append_entry(
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
    if counted is None:
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
    append_entry(
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
            end(db, link, "exhausted", f"all {limit} uses made", actor, now, entries)
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
