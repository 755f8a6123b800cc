"""The measures of the risk map (风险防控一张图, see ``shuhui.insight.measures``): fund supervision
along its four chains (基金监管“四链合一”) and pension certification, read through
``shuhui.programs.facts``.

An alert's holder is placed in the district where the population register (the data core's
``residents``) says they live: the programs' tables keep the person, not the place. So these
measures read ``residents`` as well as the operational database, and follow its versions."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date

from shuhui.core.display import mask_citizen_id, yuan
from shuhui.core.i18n import Text
from shuhui.datacore.store import DataCore
from shuhui.insight.measures import Column, Inputs, Listing, Measure
from shuhui.programs import facts as programs

RESIDENTS = ("residents",)


def districts_of(core: DataCore) -> programs.Districts:
    """Citizen IDs → their districts of residence, read from the population register (one
    semi-join of the IDs asked, however many)."""

    def lookup(ids: Collection[str]) -> Mapping[str, str]:
        if not ids:
            return {}
        con = core.connect(tables=RESIDENTS)
        try:
            rows = con.execute(
                "SELECT citizen_id, district_code FROM residents "
                "WHERE citizen_id IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(ids)],
            ).fetchall()
        finally:
            con.close()
        return {str(c): str(d) for c, d in rows if d is not None}

    return lookup


def _name(table: Mapping[str, tuple[str, str]], code: str) -> str:
    return table.get(code, (code, code))[0]


# --- the lists behind the figures ---------------------------------------------------------------

ALERT_COLUMNS = (
    Column("code", Text("疑点编号", "Alert")),
    Column("name", Text("风险类型", "Risk")),
    Column("chain", Text("所在链条", "Chain")),
    Column("state", Text("处置环节", "Stage")),
    Column("holder", Text("当事人身份证号", "Person (masked ID)")),
    Column("evaluated_on", Text("发现日期", "Found on")),
    Column("amount", Text("涉及金额（元）", "Amount (yuan)")),
    Column("recovered", Text("已追回（元）", "Recovered (yuan)")),
)


def open_alerts(
    inputs: Inputs, start: date | None, end: date | None, district: str | None, limit: int
) -> Listing:
    """The alerts open now (a stock: the months do not apply), of holders living in
    ``district`` when one is asked."""
    holders = None
    if district is not None:
        found = districts_of(inputs.core)(programs.open_alert_holders(inputs.db))
        holders = {c for c, d in found.items() if d == district}
    rows, total = programs.open_alerts(inputs.db, holders=holders, limit=limit)
    return Listing(
        ALERT_COLUMNS,
        [
            {
                "code": a.code,
                "name": a.name,
                "chain": _name(programs.CHAINS, a.chain),
                "state": _name(programs.ALERT_STATES, a.state),
                "holder": mask_citizen_id(a.citizen_id),
                "evaluated_on": a.evaluated_on.isoformat(),
                "amount": yuan(a.amount_fen),
                "recovered": yuan(a.recovered_fen),
            }
            for a in rows
        ],
        total,
        personal=True,
    )


OVERPAYMENT_COLUMNS = (
    Column("pension_id", Text("待遇编号", "Pension")),
    Column("holder", Text("领取人身份证号", "Recipient (masked ID)")),
    Column("died_on", Text("死亡日期", "Died on")),
    Column("months", Text("死亡后发放月数", "Months paid after death")),
    Column("amount", Text("多发金额（元）", "Overpaid (yuan)")),
    Column("recovered", Text("已追回（元）", "Recovered (yuan)")),
    Column("status", Text("状态", "Status")),
    Column("found_on", Text("发现日期", "Found on")),
)
OVERPAYMENT_STATUS = {"open": "待追回", "recovered": "已追回"}


def overpayment_list(
    inputs: Inputs, start: date | None, end: date | None, district: str | None, limit: int
) -> Listing:
    rows, total = programs.overpayments(
        inputs.db, start=start, end=end, district=district, limit=limit
    )
    return Listing(
        OVERPAYMENT_COLUMNS,
        [
            {
                "pension_id": o.pension_id,
                "holder": mask_citizen_id(o.citizen_id),
                "died_on": o.died_on.isoformat(),
                "months": o.months,
                "amount": yuan(o.amount_fen),
                "recovered": yuan(o.recovered_fen),
                "status": OVERPAYMENT_STATUS.get(o.status, o.status),
                "found_on": o.found_on.isoformat(),
            }
            for o in rows
        ],
        total,
        personal=True,
    )


MEASURES: tuple[Measure, ...] = (
    Measure(
        name="fundrisk.alerts_opened",
        how=Text(
            "基金监管检测发现的风险疑点，按发现（检测）日期所在月份、所在链条和当事人在人口"
            "基础信息中的居住区（市）计数；此后是否排除不影响计数。",
            "Fund-risk alerts opened, by the month of the detection date, the chain and the "
            "district the holder lives in (population register), whatever became of them.",
        ),
        facts=lambda i: programs.alerts_opened(i.db, districts_of(i.core)),
        tables=RESIDENTS,
    ),
    Measure(
        name="fundrisk.alerts_open",
        how=Text(
            "当前尚未办结的风险疑点（待核查、核查中、已确认违规、追回中），按处置环节和当事人"
            "居住区（市）计数；已排除、已全部追回的不计。",
            "Alerts open now (new, checking, confirmed, recovering), by stage and the holder's "
            "district; dismissed and wholly recovered ones are not counted.",
        ),
        facts=lambda i: programs.alerts_open(i.db, districts_of(i.core)),
        tables=RESIDENTS,
        listing=open_alerts,
    ),
    Measure(
        name="fundrisk.amount_confirmed",
        how=Text(
            "经核查确认违规的疑点所涉应追回金额（分，显示为元），按确认的月份、链条和当事人"
            "居住区（市）合计。",
            "The amounts owed by alerts confirmed as breaches (fen, shown in yuan), by the "
            "month of confirmation, chain and the holder's district.",
        ),
        facts=lambda i: programs.alert_amounts_confirmed(i.db, districts_of(i.core)),
        tables=RESIDENTS,
    ),
    Measure(
        name="fundrisk.amount_recovered",
        how=Text(
            "登记追回的金额（分，显示为元），每笔按登记的月份、疑点所在链条和当事人居住区（市）"
            "合计。",
            "Each recovery recorded (fen, shown in yuan), by the month recorded, the alert's "
            "chain and the holder's district.",
        ),
        facts=lambda i: programs.alert_recoveries(i.db, districts_of(i.core)),
        tables=RESIDENTS,
    ),
    Measure(
        name="fundrisk.recovery_rate",
        how=Text(
            "已确认违规的疑点中，已追回金额之和除以应追回金额之和，截至当前，按链条和当事人"
            "居住区（市）。",
            "Recovered over owed, summed over alerts confirmed as breaches, as they stand now, "
            "by chain and the holder's district.",
        ),
        facts=lambda i: programs.alert_recovery_shares(i.db, districts_of(i.core)),
        tables=RESIDENTS,
    ),
    Measure(
        name="certification.rate",
        how=Text(
            "养老保险待遇领取资格认证记录中，已认证人数除以已认证与待认证人数之和（死亡的不计），"
            "按认证期开始的月份和领取地区（市）；任意十二个月内每名领取人只计一次。",
            "Certified recipients over certified and not yet certified ones (the deceased are "
            "neither), by the month the window opened and the district of the pension; any "
            "twelve months count each recipient once.",
        ),
        facts=lambda i: programs.certification_shares(i.db),
    ),
    Measure(
        name="certification.overpayments",
        how=Text(
            "资格认证发现领取人死亡后仍发放的养老金（分，显示为元），按发现的月份和领取地"
            "区（市）合计，分为已追回和待追回两部分。",
            "Pension paid after the recipient's death found by certification (fen, shown in "
            "yuan), by the month found and the pension's district, split into recovered and "
            "outstanding.",
        ),
        facts=lambda i: programs.overpayment_facts(i.db),
        listing=overpayment_list,
    ),
)
