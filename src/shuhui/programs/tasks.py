"""A policy campaign's run over the city as a background job (``programs.campaign``): started from
the campaign console, it runs on a worker through :func:`.service.run_campaign` in one
transaction — the campaign, its candidates and its ledger entry are there together, or none of
them — with its three steps as the job's progress. Refused before it is queued as the run would
be (another department's policy, a rule that offers nothing, a bad scope or limit). The same
run asked again while one is queued or running is that one."""

from __future__ import annotations

from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.core.clock import local_today
from shuhui.core.errors import Problem
from shuhui.core.i18n import Text
from shuhui.jobs.kinds import JobKind, Outcome, Prepared, Run
from shuhui.programs import service
from shuhui.programs.models import Candidate
from shuhui.programs.schemas import CampaignIn
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role, roles_needed

CAMPAIGN: Final = "programs.campaign"


def campaign_kind(library: service.Library) -> JobKind[CampaignIn]:
    def prepare(db: Session, user: User, params: CampaignIn) -> Prepared[CampaignIn]:
        if Role.officer not in user.role_set:
            raise Problem("forbidden", detail=roles_needed(Role.officer))
        rule = service.campaign_rule(
            library, params.rule, user.department, params.scope, params.limit
        )
        on = params.evaluated_on or local_today()
        limit = "" if params.limit is None else str(params.limit)
        return Prepared(
            params.model_copy(update={"evaluated_on": on}),
            Text(
                f"政策找人：{rule.name_zh}（{on.isoformat()}）", f"Campaign: {rule.name_en} ({on})"
            ),
            key=f"{CAMPAIGN}:{rule.code}:{on.isoformat()}:{params.scope}:{limit}:{user.department}",
        )

    def work(run: Run[CampaignIn]) -> Outcome:
        p = run.params
        c = service.run_campaign(
            run.db,
            library,
            p.rule,
            p.evaluated_on,
            actor=run.actor,
            department=run.department,
            scope=p.scope,
            limit=p.limit,
            progress=run.progress,
        )
        found = run.db.scalar(
            select(func.count()).select_from(Candidate).where(Candidate.campaign_id == c.id)
        )
        n = int(found or 0)
        return Outcome(
            {"campaign": c.code, "rule": c.rule, "candidates": n, "counts": dict(c.counts)},
            Text(f"找到候选对象 {n:,} 个，等待部门确认", f"{n:,} candidates found, to confirm"),
            link=f"/hrss/campaigns/{c.code}",
        )

    return JobKind(CAMPAIGN, Text("政策找人运行", "Policy campaign run"), CampaignIn, prepare, work)
