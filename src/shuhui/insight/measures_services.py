"""The measures of the services map (政务服务一张图, see ``shuhui.insight.measures``): reminded
before (事前提醒: proactive reminders sent and taken up), handled without effort during (事中无感:
items online, the online share, fields and materials spared), told after (事后反馈: finished by
the promised date, ratings). Read through ``approval.facts`` and ``hrss.facts``.

A case's applicant is placed in the district the registers name — a person's of residence, an
enterprise's of registration — read through approval's key indexes of the data core's
``residents`` and ``enterprises`` (``approval.facts.Districts``): the cases keep the applicant,
not the place. So these measures read those two tables as well as the operational database,
and follow their versions."""

from __future__ import annotations

from datetime import date

from shuhui.approval import facts as approval
from shuhui.approval.items import load_catalogue
from shuhui.core.clock import local_today
from shuhui.core.display import mask_citizen_id, month_text
from shuhui.core.facts import Fact, month_of
from shuhui.core.i18n import Text
from shuhui.hrss import facts as hrss
from shuhui.hrss import reminders
from shuhui.insight.engine import district_name
from shuhui.insight.measures import Column, Inputs, Listing, Measure

DISTRICTS = approval.DISTRICT_TABLES


def _items_online(i: Inputs) -> list[Fact]:
    catalogue = load_catalogue(i.settings.city_content)
    return approval.items_online(catalogue.items.values(), i.today)


# --- the list behind the reminders' take-up ---------------------------------------------------


def _within(month: date, start: date | None, end: date | None) -> bool:
    return (start is None or start <= month) and (end is None or month <= end)


REMINDED_COLUMNS = (
    Column("reminder", Text("提醒事项", "Reminder")),
    Column("recipient", Text("被提醒人身份证号", "Person (masked ID)")),
    Column("district", Text("居住区（市）", "District")),
    Column("due", Text("到期月份", "Falls due")),
    Column("sent_on", Text("提醒日期", "Reminded on")),
)


def not_taken_up(
    inputs: Inputs, start: date | None, end: date | None, district: str | None, limit: int
) -> Listing:
    """The reminders of the months shown after which the person has filed nothing yet (whom
    the bureau follows up), of people living in ``district`` when one is asked, oldest first."""
    kinds = reminders.kinds(inputs.settings.city_content)
    districts = approval.Districts(inputs.core)
    found = hrss.reminded(inputs.db, kinds)
    districts.prefetch(("person", r.recipient) for r in found if not r.taken_up)
    rows = []
    for r in found:
        sent_on = local_today(r.sent_at)
        if r.taken_up or not _within(month_of(sent_on), start, end):
            continue
        where = districts("person", r.recipient)
        if district is not None and where != district:
            continue
        rows.append(
            {
                "reminder": kinds[r.reminder].name,
                "recipient": mask_citizen_id(r.recipient),
                "district": str(district_name(where)) if where else None,
                "due": month_text(r.due),
                "sent_on": sent_on.isoformat(),
            }
        )
    return Listing(REMINDED_COLUMNS, rows[:limit], len(rows), personal=True)


MEASURES: tuple[Measure, ...] = (
    Measure(
        name="approval.items_online",
        how=Text(
            "城市政务服务事项目录（service-items.yaml）中今日在施行期内的事项，均可在网上办事"
            "大厅和接口在线申请，按办理部门计数。",
            "The items of the city's service catalogue in force today, each applied for in the "
            "online hall and over the API, counted per department.",
        ),
        facts=_items_online,
        operational=False,
    ),
    Measure(
        name="approval.online_share",
        how=Text(
            "已提交的办件中，网上自助办理、委托代理人网上代办和政企直连提交的件数除以全部件数"
            "（窗口办理为唯一线下渠道），按提交日期所在月份、办理部门和申请人所在区（市）。",
            "Cases filed online (by the applicant, by an agent under a mandate, over the "
            "enterprise direct link) over all cases filed (the window is the one offline "
            "channel), by the month filed, the department and the applicant's district.",
        ),
        facts=lambda i: approval.online_share(i.db, approval.Districts(i.core)),
        tables=DISTRICTS,
    ),
    Measure(
        name="approval.fields_spared",
        how=Text(
            "已提交办件的表单字段中，由平台填好（身份自动填、历史选择填、共享系统填）且申请人"
            "未改动的字段数，除以这些字段与申请人自己填写（无预填或改动了预填）的字段数之和；"
            "未填写的选填字段不计。按提交月份、办理部门和申请人所在区（市）。",
            "Form fields the platform filled (identity, history, shared data) and the applicant "
            "kept, over those plus the fields the applicant typed (nothing offered, or the offer "
            "changed); optional fields left empty count in neither. By the month filed, the "
            "department and the applicant's district.",
        ),
        facts=lambda i: approval.fields_spared(i.db, approval.Districts(i.core)),
        tables=DISTRICTS,
    ),
    Measure(
        name="approval.materials_spared",
        how=Text(
            "已提交办件的申请材料中，以电子证照代替而免于提交的份数，除以免交与上传的份数之和，"
            "按提交月份、办理部门和申请人所在区（市）。",
            "Materials waived because an e-certificate replaces them, over those plus the "
            "materials uploaded, by the month filed, the department and the applicant's "
            "district.",
        ),
        facts=lambda i: approval.materials_spared(i.db, approval.Districts(i.core)),
        tables=DISTRICTS,
    ),
    Measure(
        name="approval.finished_in_time",
        how=Text(
            "办结（已出证或不予许可）的办件中，办结日期不晚于承诺办结日期（受理之日起按工作日"
            "计，补正等待期间顺延）的件数除以办结件数，按办结日期所在月份、办理部门和申请人所在"
            "区（市）。",
            "Cases finished (result issued, or rejected) on or before their promised date "
            "(working days from acceptance, moved on by the days waiting for a correction), over "
            "all cases finished, by the month finished, the department and the applicant's "
            "district.",
        ),
        facts=lambda i: approval.finished_in_time(i.db, approval.Districts(i.core)),
        tables=DISTRICTS,
    ),
    Measure(
        name="approval.good_ratings",
        how=Text(
            "办结后申请人的评价中，三至五星（基本满意、满意、非常满意）的条数除以评价总数，"
            "按评价日期所在月份、被评价部门和申请人所在区（市）；一至二星为差评。",
            "Ratings of 3 to 5 stars (fairly satisfied, satisfied, very satisfied) over all "
            "ratings of finished cases, by the month rated, the department rated and the "
            "applicant's district; 1 and 2 stars are the bad ones.",
        ),
        facts=lambda i: approval.good_ratings(i.db, approval.Districts(i.core)),
        tables=DISTRICTS,
    ),
    Measure(
        name="hrss.reminders_sent",
        how=Text(
            "人社部门按规则主动发出的提醒（站内消息并短信），每人每个到期日只发一次，按发送日期"
            "所在月份、提醒事项和被提醒人居住区（市）计数。",
            "Proactive reminders sent (portal message and SMS), once per person and due date, "
            "by the month sent, the reminder and the district the person lives in.",
        ),
        facts=lambda i: hrss.reminders_sent(i.db, approval.Districts(i.core)),
        tables=DISTRICTS,
    ),
    Measure(
        name="hrss.reminders_taken_up",
        how=Text(
            "发出的提醒中，被提醒人在提醒发出之后提交了提醒按钮所指“一件事”（或事项）的条数，"
            "除以发出的提醒条数，按发送月份、提醒事项和被提醒人居住区（市）。",
            "Reminders after which the person filed the bundle (or item) the reminder's button "
            "starts, over the reminders sent, by the month sent, the reminder and the person's "
            "district.",
        ),
        facts=lambda i: hrss.reminders_taken_up(
            i.db, approval.Districts(i.core), reminders.kinds(i.settings.city_content)
        ),
        tables=DISTRICTS,
        listing=not_taken_up,
    ),
)
