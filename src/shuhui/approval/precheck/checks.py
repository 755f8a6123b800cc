"""What the pre-check tells the applicant about a material before they submit: a wrong
document, fields it does not show, identifiers whose check character does not fit, dates that
cannot be (a birth in the future, an expired card or licence), values that differ from the form,
and, given the data core, identifiers the registers do not hold or hold for someone else.

Each issue names a field (a document field, ``material`` for the document as a whole, ``file``
for the upload) and says why in plain Chinese (a :class:`~shuhui.core.i18n.Text`, English in
``.en``). Register values are never shown in a reason: the applicant learns that the name does
not match the one registered, not whose name it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from shuhui.approval.precheck import kinds
from shuhui.approval.precheck.extract import Reading
from shuhui.approval.precheck.values import (
    normalise,
    parse_capital,
    parse_date,
    range_end,
)
from shuhui.core import ids
from shuhui.core.i18n import Text

if TYPE_CHECKING:
    import duckdb

    from shuhui.datacore.store import DataCore

# A medical certificate older than this is not taken as showing the present state (the
# services that ask for one ask for one issued within three months).
CERTIFICATE_VALID_DAYS = 90
# A page with fewer characters than this was not read at all.
MIN_TEXT = 4
# How much more a page must look like another kind than the one asked for to be called wrong.
WRONG_MARGIN = 3


@dataclass(frozen=True)
class Issue:
    field: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "reason": str(self.reason)}


@dataclass(frozen=True)
class Lookup:
    """A register read for the check: which table, by which key (personal data the caller
    records in the ledger)."""

    table: str
    key: str


# --- which fields hold what --------------------------------------------------------------------

# Per kind: the field holding a citizen ID, the person's name, birth date and sex beside it.
PERSON_FIELDS: dict[str, tuple[str, str, str | None, str | None]] = {
    kinds.ID_CARD: ("公民身份号码", "姓名", "出生", "性别"),
    kinds.LABOUR_CONTRACT: ("公民身份号码", "劳动者", None, "性别"),
    kinds.MEDICAL_CERTIFICATE: ("公民身份号码", "姓名", None, "性别"),
}
# Per kind: the field holding a credit code, the enterprise's name, legal representative and
# founding date beside it.
ENTERPRISE_FIELDS: dict[str, tuple[str, str, str | None, str | None]] = {
    kinds.BUSINESS_LICENCE: ("统一社会信用代码", "名称", "法定代表人", "成立日期"),
    kinds.LABOUR_CONTRACT: ("统一社会信用代码", "用人单位", "法定代表人", None),
}
DATE_FIELDS = frozenset({"出生", "出生日期", "成立日期", "起始日期", "终止日期", "日期"})
# Dates that cannot lie ahead of the day the material is uploaded.
PAST_DATES = frozenset({"出生", "出生日期", "成立日期", "日期"})

# Names a form may give the value a document field must match, besides the field's own name.
FORM_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    kinds.ID_CARD: {
        "姓名": ("person_name", "applicant_name", "name", "full_name"),
        "公民身份号码": ("citizen_id", "applicant_id", "id_number"),
        "出生": ("birth_date",),
        "性别": ("sex",),
    },
    kinds.BUSINESS_LICENCE: {
        "名称": ("enterprise_name", "company_name", "name"),
        "统一社会信用代码": ("credit_code",),
        "法定代表人": ("legal_rep_name", "legal_representative"),
    },
    kinds.DIPLOMA: {
        "姓名": ("person_name", "applicant_name", "name"),
        "学校": ("school",),
        "专业": ("major",),
    },
    kinds.LABOUR_CONTRACT: {
        "用人单位": ("employer_name", "enterprise_name"),
        "统一社会信用代码": ("employer_credit_code", "credit_code"),
        "劳动者": ("person_name", "employee_name", "name"),
        "公民身份号码": ("citizen_id",),
    },
    kinds.MEDICAL_CERTIFICATE: {
        "姓名": ("person_name", "patient_name", "name"),
        "公民身份号码": ("citizen_id",),
    },
    kinds.SITE_PLAN: {
        "项目名称": ("project_name",),
        "建设单位": ("builder", "enterprise_name", "builder_name"),
    },
}


# --- the checks ----------------------------------------------------------------------------------


def check(
    reading: Reading,
    *,
    form: Mapping[str, Any] | None = None,
    datacore: DataCore | None = None,
    today: date,
) -> tuple[list[Issue], list[Lookup]]:
    """The issues of a reading, and the register reads made to find them."""
    kind, fields = reading.kind, reading.fields
    if len(reading.text) < MIN_TEXT:
        return [
            Issue(
                "file",
                Text(
                    "没有从材料中读出文字：请上传清晰、完整、方向正确的扫描件或照片。",
                    "no text could be read: upload a clear, whole, upright scan or photo",
                ),
            )
        ], []
    looks = reading.looks_like
    looks_more = (
        looks is not None and reading.evidence[looks] >= reading.evidence[kind] + WRONG_MARGIN
    )
    if looks is not None and looks != kind and looks_more:
        return [_wrong_kind(kind, looks)], []
    issues = list(_missing(reading))
    issues += _identifiers(kind, fields, today)
    issues += _dates(kind, fields, today)
    issues += _kind_rules(kind, fields, today)
    if form:
        issues += _against_form(kind, fields, form)
    lookups: list[Lookup] = []
    if datacore is not None:
        issues += _against_registers(kind, fields, datacore, lookups, today)
    return _deduplicated(issues), lookups


def _wrong_kind(kind: str, looks: str) -> Issue:
    asked, seen = kinds.KIND_NAMES[kind], kinds.KIND_NAMES[looks]
    return Issue(
        "material",
        Text(
            f"上传的材料看起来是{seen}，不是要求的{asked}：请上传{asked}。",
            f"the upload looks like a {looks}, not the {kind} asked for",
        ),
    )


def _missing(reading: Reading) -> Iterator[Issue]:
    for field in kinds.required_fields(reading.kind, reading.fields):
        if field not in reading.fields:
            yield Issue(
                field,
                Text(
                    f"没有读到“{field}”：材料可能不完整、被裁切、不清晰或有遮挡。",
                    f"'{field}' could not be read: the document may be cut off, blurred or covered",
                ),
            )


def _identifiers(kind: str, fields: Mapping[str, str], today: date) -> Iterator[Issue]:
    person = PERSON_FIELDS.get(kind)
    if person and person[0] in fields:
        id_field, _, birth_field, sex_field = person
        try:
            parsed = ids.parse_citizen_id(fields[id_field], today=today)
        except ids.InvalidIdentifier as exc:
            yield Issue(
                id_field,
                Text(f"公民身份号码无效：{exc.reason}。", f"invalid citizen ID: {exc.reason.en}"),
            )
        else:
            birth = parse_date(fields.get(birth_field or "", ""))
            if birth is not None and birth != parsed.birth_date:
                yield Issue(
                    birth_field or id_field,
                    Text(
                        "出生日期与公民身份号码中的出生日期不一致。",
                        "the birth date differs from the one in the citizen ID",
                    ),
                )
            sex = fields.get(sex_field or "")
            if sex in ("男", "女") and sex != ("男" if parsed.sex == "M" else "女"):
                yield Issue(
                    sex_field or id_field,
                    Text(
                        "性别与公民身份号码（第 17 位）不一致。",
                        "the sex differs from the citizen ID's 17th digit",
                    ),
                )
    enterprise = ENTERPRISE_FIELDS.get(kind)
    if enterprise and enterprise[0] in fields:
        try:
            ids.parse_credit_code(fields[enterprise[0]])
        except ids.InvalidIdentifier as exc:
            yield Issue(
                enterprise[0],
                Text(
                    f"统一社会信用代码无效：{exc.reason}。", f"invalid credit code: {exc.reason.en}"
                ),
            )


def _dates(kind: str, fields: Mapping[str, str], today: date) -> Iterator[Issue]:
    for field, value in fields.items():
        if field not in DATE_FIELDS:
            continue
        parsed = parse_date(value)
        if parsed is None:
            yield Issue(
                field,
                Text(f"“{field}”不是能识别的日期（读到“{value}”）。", f"'{field}' is not a date"),
            )
        elif field in PAST_DATES and parsed > today:
            yield Issue(
                field,
                Text(f"“{field}”{parsed.isoformat()} 晚于今天。", f"'{field}' is in the future"),
            )
    for field, what in (("有效期限", "身份证"), ("营业期限", "营业执照")):
        validity = fields.get(field)
        if validity is None:
            continue
        if "至" not in validity:
            yield Issue(
                field, Text(f"“{field}”无法识别（读到“{validity}”）。", f"'{field}' unreadable")
            )
            continue
        end = range_end(validity)
        if end is not None and end < today:
            yield Issue(
                field,
                Text(
                    f"{what}已于 {end.isoformat()} 过期，请上传有效期内的{what}。",
                    f"the {kind} expired on {end.isoformat()}",
                ),
            )


def _kind_rules(kind: str, fields: Mapping[str, str], today: date) -> Iterator[Issue]:
    if kind == kinds.BUSINESS_LICENCE and "注册资本" in fields:
        if parse_capital(fields["注册资本"]) is None:
            yield Issue(
                "注册资本", Text("注册资本的金额无法识别。", "registered capital unreadable")
            )
    elif kind == kinds.LABOUR_CONTRACT:
        start, end = parse_date(fields.get("起始日期", "")), parse_date(fields.get("终止日期", ""))
        if start and end and end < start:
            yield Issue(
                "终止日期", Text("合同终止日期早于起始日期。", "the contract ends before it starts")
            )
        elif end and end < today:
            yield Issue(
                "终止日期",
                Text(
                    f"劳动合同已于 {end.isoformat()} 到期，请上传在有效期内的合同。",
                    f"the contract ended on {end.isoformat()}",
                ),
            )
    elif kind == kinds.MEDICAL_CERTIFICATE:
        issued = parse_date(fields.get("日期", ""))
        if issued and issued <= today and today - issued > timedelta(days=CERTIFICATE_VALID_DAYS):
            yield Issue(
                "日期",
                Text(
                    f"诊断证明开具于 {issued.isoformat()}，已超过 {CERTIFICATE_VALID_DAYS} 天，"
                    "请上传近期开具的证明。",
                    f"the certificate is older than {CERTIFICATE_VALID_DAYS} days",
                ),
            )
        yield from _age(fields, issued or today)
    elif kind == kinds.DIPLOMA:
        yield from _diploma_number(fields)
    elif kind == kinds.SITE_PLAN and not re.fullmatch(r"1:\d+", fields.get("比例", "1:1")):
        yield Issue("比例", Text("比例应写作“1:500”的形式。", "scale should read like 1:500"))


def _age(fields: Mapping[str, str], on: date) -> Iterator[Issue]:
    age = re.match(r"(\d+)岁", fields.get("年龄", ""))
    try:
        born = ids.parse_citizen_id(fields.get("公民身份号码", "")).birth_date
    except ids.InvalidIdentifier:
        return
    if age is None:
        return
    actual = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    # A hospital counts 虚岁 now and then: one year either way is not an error.
    if abs(actual - int(age[1])) > 1:
        yield Issue(
            "年龄",
            Text("年龄与公民身份号码中的出生日期不符。", "the age differs from the citizen ID's"),
        )


# The 学历证书 number: school code (5), kind of schooling (1), year (4), level (1), serial (6).
_LEVEL_DIGITS = {"本科": "5", "专科": "6", "硕士研究生": "4", "博士研究生": "1"}


def _diploma_number(fields: Mapping[str, str]) -> Iterator[Issue]:
    number = fields.get("证书编号")
    if number is None:
        return
    if len(number) != 17:
        yield Issue(
            "证书编号",
            Text(
                f"证书编号应为 17 位数字（读到 {len(number)} 位）。",
                "a diploma number has 17 digits",
            ),
        )
        return
    month = fields.get("毕业年月", "")
    if month[:4].isdigit() and number[6:10] != month[:4]:
        yield Issue(
            "证书编号",
            Text("证书编号中的年份与毕业年份不一致。", "the number's year differs from graduation"),
        )
    level = _LEVEL_DIGITS.get(fields.get("层次", ""))
    if level and number[10] != level:
        yield Issue(
            "证书编号",
            Text(
                "证书编号中的培养层次与证书所写不一致。", "the number's level differs from the text"
            ),
        )


def _same(field: str, document: str, given: Any) -> bool:
    if field in DATE_FIELDS:
        return parse_date(document) == parse_date(str(given))
    if field in ("公民身份号码", "统一社会信用代码"):
        return normalise(document).upper() == normalise(str(given)).upper()
    return _plain(document) == _plain(str(given))


def _plain(text: str) -> str:
    """Text compared as people mean it: width, spaces and bracket shapes aside."""
    return normalise(text).replace("（", "(").replace("）", ")")


def _against_form(kind: str, fields: Mapping[str, str], form: Mapping[str, Any]) -> Iterator[Issue]:
    for field, keys in FORM_KEYS.get(kind, {}).items():
        document = fields.get(field)
        given = next((form[k] for k in (field, *keys) if form.get(k) not in (None, "")), None)
        if document is None or given is None or _same(field, document, given):
            continue
        yield Issue(
            field,
            Text(
                f"材料上的{field}“{document}”与表单填写的“{given}”不一致。",
                f"'{field}' on the document differs from the form",
            ),
        )


# --- the registers -------------------------------------------------------------------------------


def _against_registers(
    kind: str,
    fields: Mapping[str, str],
    datacore: DataCore,
    lookups: list[Lookup],
    today: date,
) -> list[Issue]:
    import duckdb

    issues: list[Issue] = []
    person = PERSON_FIELDS.get(kind)
    enterprise = ENTERPRISE_FIELDS.get(kind)
    wanted = []
    if person and _valid_citizen(fields.get(person[0], ""), today):
        wanted.append("residents")
    if enterprise and _valid_credit(fields.get(enterprise[0], "")):
        wanted.append("enterprises")
    if not wanted:
        return issues
    try:
        con = datacore.connect(tables=wanted)
    except (OSError, duckdb.Error):
        return issues
    try:
        if "residents" in wanted and person:
            issues += _resident(con, fields, person, lookups)
        if "enterprises" in wanted and enterprise:
            issues += _enterprise(con, fields, enterprise, lookups)
    finally:
        con.close()
    return issues


def _valid_citizen(number: str, today: date) -> bool:
    try:
        ids.parse_citizen_id(number, today=today)
    except ids.InvalidIdentifier:
        return False
    return True


def _valid_credit(code: str) -> bool:
    try:
        ids.parse_credit_code(code)
    except ids.InvalidIdentifier:
        return False
    return True


def _row(con: duckdb.DuckDBPyConnection, query: str, key: str) -> tuple[Any, ...] | None:
    import duckdb

    try:
        return con.execute(query, [key]).fetchone()
    except duckdb.Error:  # the register is not in this data core
        return None


def _resident(
    con: duckdb.DuckDBPyConnection,
    fields: Mapping[str, str],
    person: tuple[str, str, str | None, str | None],
    lookups: list[Lookup],
) -> Iterator[Issue]:
    id_field, name_field, birth_field, sex_field = person
    key = fields[id_field]
    lookups.append(Lookup("residents", key))
    row = _row(con, "SELECT name, birth_date, sex FROM residents WHERE citizen_id = ?", key)
    if row is None:
        yield Issue(
            id_field,
            Text(
                "人口库中没有这个公民身份号码。", "the population register has no such citizen ID"
            ),
        )
        return
    registered_name, birth, sex = row
    name = fields.get(name_field)
    if name is not None and _plain(name) != _plain(str(registered_name)):
        yield Issue(
            name_field,
            Text(
                f"“{name}”与人口库中该公民身份号码登记的姓名不一致。",
                "the name differs from the one registered for this citizen ID",
            ),
        )
    on_card = parse_date(fields.get(birth_field or "", ""))
    if on_card is not None and birth is not None and on_card != birth:
        yield Issue(
            birth_field or id_field,
            Text("出生日期与人口库登记的不一致。", "the birth date differs from the register"),
        )
    shown_sex = fields.get(sex_field or "")
    if shown_sex in ("男", "女") and sex in ("男", "女") and shown_sex != sex:
        yield Issue(
            sex_field or id_field,
            Text("性别与人口库登记的不一致。", "the sex differs from the register"),
        )


def _enterprise(
    con: duckdb.DuckDBPyConnection,
    fields: Mapping[str, str],
    enterprise: tuple[str, str, str | None, str | None],
    lookups: list[Lookup],
) -> Iterator[Issue]:
    code_field, name_field, rep_field, founded_field = enterprise
    key = fields[code_field]
    lookups.append(Lookup("enterprises", key))
    row = _row(
        con,
        "SELECT name, legal_rep_name, established_date, status FROM enterprises"
        " WHERE credit_code = ?",
        key,
    )
    if row is None:
        yield Issue(
            code_field,
            Text(
                "企业登记信息中没有这个统一社会信用代码。",
                "the enterprise register has no such credit code",
            ),
        )
        return
    # An enterprise's registration is public (国家企业信用信息公示系统): its values may be named.
    registered, rep, founded, status = row
    name = fields.get(name_field)
    if name is not None and _plain(name) != _plain(str(registered)):
        yield Issue(
            name_field,
            Text(
                f"名称与该统一社会信用代码登记的“{registered}”不一致。",
                "the name differs from the one registered for this credit code",
            ),
        )
    shown_rep = fields.get(rep_field or "")
    if shown_rep is not None and rep is not None and _plain(shown_rep) != _plain(str(rep)):
        yield Issue(
            rep_field or code_field,
            Text(
                "法定代表人与企业登记信息不一致（可能已变更，请上传最新的营业执照）。",
                "the legal representative differs from the register",
            ),
        )
    shown_founded = parse_date(fields.get(founded_field or "", ""))
    if shown_founded is not None and founded is not None and shown_founded != founded:
        yield Issue(
            founded_field or code_field,
            Text(
                f"成立日期与企业登记信息（{founded}）不一致。",
                "the founding date differs from the register",
            ),
        )
    if status in ("注销", "吊销"):
        yield Issue(
            code_field,
            Text(f"该企业的登记状态为“{status}”。", f"the enterprise is {status}"),
        )


def _deduplicated(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str]] = set()
    out = []
    for issue in issues:
        key = (issue.field, str(issue.reason))
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out
