"""The measures of the operations map (经办管理一张图, see ``shuhui.insight.measures``): the
workload inside (对内“打包办”: cases filed, finished and open per department, the cases near or
past their promised date) and the one-thing bundles outside (对外“一件事”: bundles filed, how long
a bundle and each of its parts took). Read through ``approval.facts`` and ``hrss.facts``.

As on the services map, an applicant is placed in the district the registers name (``residents``,
``enterprises``, through ``approval.facts.Districts``), so these measures follow those tables'
versions too."""

from __future__ import annotations

from datetime import date

from shuhui.approval import facts as approval
from shuhui.core.display import mask_citizen_id
from shuhui.core.i18n import Text
from shuhui.hrss import facts as hrss
from shuhui.insight.measures import Column, Inputs, Listing, Measure

DISTRICTS = approval.DISTRICT_TABLES
WARNINGS = {"overdue": "已超期", "due_soon": "即将到期"}

# --- the list behind the deadlines ------------------------------------------------------------

AT_RISK_COLUMNS = (
    Column("code", Text("办件编号", "Case")),
    Column("item", Text("事项", "Item")),
    Column("department", Text("办理部门", "Department")),
    Column("applicant", Text("申请人证件号", "Applicant (masked ID)")),
    Column("state", Text("办理环节", "Stage")),
    Column("promised_due", Text("承诺办结日期", "Promised by")),
    Column("days_left", Text("剩余工作日", "Working days left")),
    Column("warning", Text("预警", "Warning")),
)


def at_risk_list(
    inputs: Inputs, start: date | None, end: date | None, district: str | None, limit: int
) -> Listing:
    """The cases due soon or overdue now (a stock: the months do not apply), the earliest due
    first, of applicants in ``district`` when one is asked. A person applicant's ID is masked;
    an enterprise's credit code is shown as it is."""
    found = approval.at_risk(inputs.db, inputs.today)
    if district is not None:
        districts = approval.Districts(inputs.core)
        districts.prefetch((c.applicant_kind, c.applicant_id) for c in found)
        found = [c for c in found if districts(c.applicant_kind, c.applicant_id) == district]
    rows = [
        {
            "code": c.code,
            "item": c.item_name,
            "department": c.department,
            "applicant": mask_citizen_id(c.applicant_id),
            "state": c.state_name,
            "promised_due": c.promised_due.isoformat(),
            "days_left": c.days_left,
            "warning": WARNINGS[c.warning],
        }
        for c in found[:limit]
    ]
    return Listing(AT_RISK_COLUMNS, rows, len(found), personal=True)


MEASURES: tuple[Measure, ...] = (
    Measure(
        name="approval.cases_filed",
        how=Text(
            "申请人提交（含窗口代为提交）的办件数，按首次提交日期所在月份、办理部门和申请人"
            "所在区（市）计数；草稿不计。",
            "Cases filed (online or at a window), by the month first filed, the department and "
            "the applicant's district; drafts are not counted.",
        ),
        facts=lambda i: approval.cases_filed(i.db, approval.Districts(i.core)),
        tables=DISTRICTS,
    ),
    Measure(
        name="approval.cases_finished",
        how=Text(
            "办结（已出证或不予许可）的办件数，按办结日期所在月份、办理部门和申请人所在区（市）"
            "计数；申请人撤回的不计。",
            "Cases finished (result issued, or rejected), by the month finished, the department "
            "and the applicant's district; cases the applicant withdrew are not counted.",
        ),
        facts=lambda i: approval.cases_finished(i.db, approval.Districts(i.core)),
        tables=DISTRICTS,
    ),
    Measure(
        name="approval.cases_open",
        how=Text(
            "当前在办的办件（待受理、待补正、已受理、审查中、已准予待出证），按办理部门和申请人"
            "所在区（市）计数。",
            "Cases being handled now (waiting for acceptance or a correction, accepted, under "
            "review, approved and not yet issued), by department and the applicant's district.",
        ),
        facts=lambda i: approval.open_cases(i.db, approval.Districts(i.core)),
        tables=DISTRICTS,
    ),
    Measure(
        name="approval.deadlines_at_risk",
        how=Text(
            "计时中的在办件（已受理、审查中、已准予待出证）里，距承诺办结日期不超过2个工作日的"
            "（即将到期）和已过承诺办结日期的（已超期），与部门待办队列的预警一致，按预警类别和"
            "申请人所在区（市）计数；待补正的办件停止计时，不计。",
            "Cases whose clock runs (accepted, under review, approved and not yet issued) "
            "within 2 working days of their promised date (due soon) or past it (overdue), as "
            "the departments' queues warn of them, by warning and the applicant's district; a "
            "case waiting for a correction has its clock stopped and is not counted.",
        ),
        facts=lambda i: approval.deadlines(i.db, approval.Districts(i.core), i.today),
        tables=DISTRICTS,
        listing=at_risk_list,
    ),
    Measure(
        name="hrss.bundles_filed",
        how=Text(
            "一次提交的“一件事”办件数（不论其中各事项是否都提交成功），按提交日期所在月份、"
            "“一件事”类别和申请人所在区（市）计数。",
            "One-thing bundles filed (whether or not each of their items could be), by the "
            "month filed, the bundle and the applicant's district.",
        ),
        facts=lambda i: hrss.bundles_filed(i.db, approval.Districts(i.core)),
        tables=DISTRICTS,
    ),
    Measure(
        name="hrss.bundle_days",
        how=Text(
            "已全部办结的“一件事”，自提交之日至最后一个事项办结之日（发出办结告知）的工作日数"
            "（含等待补正的时间）的平均值，按办结月份、“一件事”类别和申请人所在区（市）；所有"
            "事项都未能提交的不计。",
            "The average working days from filing a bundle to the end of its last part (its "
            "one notice), waiting for corrections included, by the month finished, the bundle "
            "and the applicant's district; a filing none of whose items could be filed is left "
            "out.",
        ),
        facts=lambda i: hrss.bundle_days(i.db, approval.Districts(i.core)),
        tables=DISTRICTS,
    ),
    Measure(
        name="hrss.part_days",
        how=Text(
            "“一件事”中各事项办件自提交之日至办结（出证或不予许可）之日的工作日数，扣除等待"
            "申请人补正的工作日，取平均值，按办结月份、承办部门和申请人所在区（市）。",
            "The average working days a bundle's part took at its department, from filing to "
            "its result (issued or rejected), less the working days waiting for the applicant's "
            "correction, by the month it ended, the department and the applicant's district.",
        ),
        facts=lambda i: hrss.part_days(i.db, approval.Districts(i.core)),
        tables=DISTRICTS,
    ),
)
