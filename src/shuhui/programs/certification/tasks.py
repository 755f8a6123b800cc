"""The certification cycle as a background job (``certification.cycle``), for the dashboard that
starts it (the command line runs it in the foreground): queued on the platform's job queue
(:mod:`shuhui.jobs`), run by a worker through :func:`.service.run` in one transaction, its
progress the pensions walked.

Refused before it is queued as the run would be: an officer of another department, a date after
today. A date's cycle asked again while it is queued or running is that job; a date already run
is run again only to find it done (``already_run``), as the service makes it — a cycle is
idempotent per date, and one transaction, so a worker killed mid-run leaves nothing and the run
taken up again does it all. The job's result page is the dashboard, saying whether this run
changed anything."""

from __future__ import annotations

from typing import Final

from sqlalchemy.orm import Session

from shuhui.core.clock import local_today, utcnow
from shuhui.core.errors import Problem
from shuhui.core.i18n import Text
from shuhui.core.settings import Settings
from shuhui.jobs.kinds import JobKind, Outcome, Prepared, Run
from shuhui.programs.certification import service
from shuhui.programs.certification.schemas import CycleIn
from shuhui.programs.certification.windows import check_date
from shuhui.programs.service import Library
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role, roles_needed

CYCLE: Final = "certification.cycle"
# The evidence rule whose department runs the cycle (``routes.RULE``; routes sit above tasks).
RULE: Final = "pension-certification"


def cycle_kind(library: Library, settings: Settings) -> JobKind[CycleIn]:
    def prepare(db: Session, user: User, params: CycleIn) -> Prepared[CycleIn]:
        if Role.officer not in user.role_set:
            raise Problem("forbidden", detail=roles_needed(Role.officer))
        wanted = library.rule(RULE).department
        if user.department != wanted:
            raise Problem(
                "forbidden",
                detail=Text(
                    f"养老保险待遇资格认证由{wanted}办理",
                    f"pension certification is run by {wanted}",
                ),
            )
        day = params.date or local_today()
        check_date(day, utcnow())
        return Prepared(
            CycleIn(date=day),
            Text(
                f"养老保险待遇资格认证（比对日 {day.isoformat()}）",
                f"Pension certification cycle ({day})",
            ),
            key=f"{CYCLE}:{day.isoformat()}",
        )

    def work(run: Run[CycleIn]) -> Outcome:
        on = run.params.date

        def walked(done: int, total: int) -> None:
            run.progress(done, total, Text("比对养老金领取人", "Checking the pensioners"))

        run.progress(0, 0, Text("比对全市生存证据", "Comparing the city's evidence"))
        result = service.run(
            run.db,
            library,
            settings,
            on,
            actor=run.actor,
            department=run.department,
            progress=walked,
        )
        day = result.run_on.isoformat()
        counts = {k: int(v) for k, v in result.counts.items()}
        if result.already_run:
            text = Text(
                f"{day} 的认证已经运行过，本次没有改变任何记录",
                f"the cycle of {day} had run: nothing changed",
            )
        else:
            text = Text(
                f"比对领取人 {counts.get('recipients', 0):,} 人，数据认证通过 "
                f"{counts.get('certified', 0):,} 人，暂停发放 {counts.get('suspended', 0):,} 人",
                f"{counts.get('recipients', 0):,} recipients, {counts.get('certified', 0):,} "
                f"certified by data, {counts.get('suspended', 0):,} suspended",
            )
        again = "&again=1" if result.already_run else ""
        return Outcome(
            {"date": day, "already_run": result.already_run, "run": result.run_id, **counts},
            text,
            link=f"/hrss/certification?ran={day}{again}#runs",
        )

    return JobKind(
        CYCLE, Text("养老保险待遇资格认证", "Pension certification cycle"), CycleIn, prepare, work
    )
