"""What the API gives and the pages show of needs and profiles: plain dicts, one shape for
both, with the state and kind named in Chinese and money in fen beside its 元 text."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from shuhui.approval.lookups import Lookups, lookups_for
from shuhui.core.clock import utcnow
from shuhui.core.display import yuan
from shuhui.enterprise import needs as need_service
from shuhui.enterprise.access import content_of
from shuhui.enterprise.models import Need
from shuhui.enterprise.platforms import PlatformCatalogue
from shuhui.enterprise.platforms import load as load_platforms
from shuhui.programs.service import Library


def lookups_of(request: Request) -> Lookups:
    return lookups_for(request.app.state.datacore)


def catalogue_of(request: Request) -> PlatformCatalogue:
    return load_platforms(content_of(request))


def library_of(request: Request) -> Library:
    library: Library = request.app.state.policy_library
    return library


def need_out(
    need: Need,
    *,
    content: Path,
    db: Session | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    kinds = need_service.kinds(content)
    at = now or utcnow()
    out: dict[str, Any] = {
        "code": need.code,
        "credit_code": need.credit_code,
        "enterprise_name": need.enterprise_name,
        "kind": need.kind,
        "kind_name": kinds[need.kind].zh if need.kind in kinds else need.kind,
        "title": need.title,
        "detail": need.detail,
        "amount_fen": need.amount_fen,
        "amount_text": yuan(need.amount_fen) if need.amount_fen is not None else None,
        "department": need.department,
        "state": need.state,
        "state_name": need_service.STATE_NAMES[need.state],
        "posted_at": need.posted_at.isoformat(),
        "due_at": need.due_at.isoformat(),
        "overdue": need_service.overdue(need, at),
        "handler": need.handler,
        "handling_at": need.handling_at.isoformat() if need.handling_at else None,
        "closed_at": need.closed_at.isoformat() if need.closed_at else None,
        "outcome": need.outcome,
        "rating": need.rating,
        "rating_comment": need.rating_comment,
        "matches": need.matches,
        "page": f"/enterprise/needs/{need.code}",
    }
    if db is not None:
        out["steps"] = [
            {
                "step": s.step,
                "step_name": need_service.STEP_NAMES.get(s.step, s.step),
                "actor": s.actor,
                "note": s.note,
                "at": s.at.isoformat(),
            }
            for s in need_service.steps_of(db, need)
        ]
    return out
