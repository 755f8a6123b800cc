"""Why one entity is eligible, not eligible, or undetermined: every condition with its value, the
input values with the table, version and rows they came from, the parameters in force on the
date, and the text each piece implements — as data, and as plain Chinese (or English).

The explanation is read from the same compiled query as the batch run (filtered to the one
entity), so it cannot disagree with it. Only the list of source rows behind an aggregate is an
extra query, and only for this one entity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
from sqlglot import exp

from shuhui.core.display import with_unit
from shuhui.core.i18n import translate
from shuhui.core.money import is_fen_unit
from shuhui.datacore.schema import TableSpec
from shuhui.rules.compiler import col, row_predicate, source_rows
from shuhui.rules.expressions import date_literal, literal
from shuhui.rules.language import AGGREGATES, EVAL_DATE, Condition, Rule, Variable
from shuhui.rules.service import Evaluation, evaluate_one

ROWS_SHOWN = 20
OUTCOME_TEXT = {
    "eligible": ("符合", "eligible"),
    "not_eligible": ("不符合", "not eligible"),
    "undetermined": ("待定（缺少数据）", "undetermined (inputs missing)"),
}
MARK = {True: "✓", False: "✗", None: "?"}
VALUE_TEXT = {True: ("是", "yes"), False: ("否", "no"), None: ("未知", "unknown")}


@dataclass(frozen=True)
class InputUse:
    name: str
    zh: str
    en: str
    kind: str
    value: Any
    table: str | None
    version: int | None
    rows: list[dict[str, Any]]  # the source rows used (keys and the columns the rule reads)
    row_count: int  # rows looked at, of which ``rows`` shows the first ROWS_SHOWN
    how: str  # what the variable is, in the rule's own words (expression, filter, window)
    missing: bool
    supplied: bool = False  # the value is an applicant's answer, not the data core's


@dataclass(frozen=True)
class ConditionResult:
    id: str
    zh: str
    en: str
    kind: str
    value: bool | None
    test: str
    reference: str
    children: list[ConditionResult] = field(default_factory=list)


@dataclass(frozen=True)
class ParameterUse:
    name: str
    zh: str
    en: str
    value: Any
    unit: str
    since: date
    reference: str


@dataclass(frozen=True)
class Explanation:
    rule: Rule
    on: date
    key: str
    outcome: str
    amount: int | float | None
    conditions: ConditionResult
    inputs: list[InputUse]
    parameters: list[ParameterUse]
    missing: list[InputUse]

    def as_dict(self) -> dict[str, Any]:
        def cond(node: ConditionResult) -> dict[str, Any]:
            out: dict[str, Any] = {
                "id": node.id,
                "zh": node.zh,
                "en": node.en,
                "kind": node.kind,
                "value": node.value,
            }
            if node.test:
                out["test"] = node.test
            if node.reference:
                out["reference"] = node.reference
            if node.children:
                out["children"] = [cond(child) for child in node.children]
            return out

        return {
            "rule": self.rule.code,
            "name": {"zh": self.rule.name_zh, "en": self.rule.name_en},
            "reference": self.rule.reference,
            "department": self.rule.department,
            "entity": self.rule.entity.code,
            "id": self.key,
            "date": self.on.isoformat(),
            "outcome": self.outcome,
            "amount": self.amount,
            "amount_unit": self.rule.amount.unit if self.rule.amount else None,
            "missing": [i.name for i in self.missing],
            "conditions": cond(self.conditions),
            "inputs": [
                {
                    "name": i.name,
                    "zh": i.zh,
                    "kind": i.kind,
                    "value": _jsonable(i.value),
                    "table": i.table,
                    "version": i.version,
                    "rows": [{k: _jsonable(x) for k, x in r.items()} for r in i.rows],
                    "row_count": i.row_count,
                    "how": i.how,
                    "missing": i.missing,
                    "supplied": i.supplied,
                }
                for i in self.inputs
            ],
            "parameters": [
                {
                    "name": p.name,
                    "zh": p.zh,
                    "value": _jsonable(p.value),
                    "unit": p.unit,
                    "since": p.since.isoformat(),
                    "reference": p.reference,
                }
                for p in self.parameters
            ],
        }

    def text(self, locale: str = "zh-CN") -> str:
        """The explanation as a reader gets it: plain language, every figure with its source."""
        r = self.rule

        def t(zh: str, en: str) -> str:
            return translate(locale, zh, en)

        lines = [
            f"{t('政策', 'Policy')}: {t(r.name_zh, r.name_en)} ({r.code})",
            f"{t('依据', 'Reference')}: {r.reference}",
            f"{t('实施部门', 'Department')}: {r.department}",
            f"{t('对象', 'Subject')}: {t(r.entity.name_zh, r.entity.name_en)} {self.key}"
            f" · {t('评估日', 'as of')} {self.on.isoformat()}",
            f"{t('结论', 'Outcome')}: {t(*OUTCOME_TEXT[self.outcome])}",
        ]
        if self.missing:
            names = "、".join(t(i.zh, i.en) for i in self.missing)
            lines.append(f"{t('缺少的数据', 'Missing inputs')}: {names}")
        if r.amount is not None and self.outcome == "eligible":
            shown = "?" if self.amount is None else _with_unit(self.amount, r.amount.unit, locale)
            lines.append(f"{t(r.amount.zh, r.amount.en)}: {shown}")
        lines.append(t("条件：", "Conditions:"))

        def walk(node: ConditionResult, depth: int) -> None:
            value = t(*VALUE_TEXT[node.value])
            test = f"  [{node.test}]" if node.test else ""
            lines.append(f"{'  ' * depth}{MARK[node.value]} {t(node.zh, node.en)}：{value}{test}")
            if node.reference:
                lines.append(f"{'  ' * depth}    {t('依据', 'Reference')}: {node.reference}")
            for child in node.children:
                walk(child, depth + 1)

        walk(self.conditions, 1)
        lines.append(t("数据：", "Inputs:"))
        for i in self.inputs:
            source = ""
            if i.table is not None:
                version = t(f"第{i.version}版", f"v{i.version}") if i.version else ""
                rows = t(f"{i.row_count}行", f"{i.row_count} rows")
                keys = "; ".join(
                    ", ".join(f"{k}={_jsonable(x)}" for k, x in row.items()) for row in i.rows[:3]
                )
                more = "…" if i.row_count > 3 else ""
                source = f"  ← {i.table} {version} {rows}" + (f": {keys}{more}" if keys else "")
            unit = r.variables[i.name].unit if i.name in r.variables else ""
            value = t("缺失", "missing") if i.value is None else _with_unit(i.value, unit, locale)
            if i.supplied:
                source = t("  ← 申请人提供", "  ← given by the applicant")
            lines.append(f"  {t(i.zh, i.en)} = {value}{source}")
            if i.how:
                lines.append(f"      {i.how}")
        if self.parameters:
            lines.append(
                t(
                    f"参数（{self.on.isoformat()} 有效）：",
                    f"Parameters in force on {self.on.isoformat()}:",
                )
            )
            for p in self.parameters:
                lines.append(
                    f"  {t(p.zh, p.en)} = {_with_unit(p.value, p.unit, locale)}"
                    f"（{t('自', 'since')} {p.since.isoformat()}；"
                    f"{t('依据', 'ref')}: {p.reference}）"
                )
        return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value


def _shown(value: Any, locale: str) -> str:
    if isinstance(value, bool):
        return translate(locale, *VALUE_TEXT[value])
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(_jsonable(value))


def _with_unit(value: Any, unit: str, locale: str) -> str:
    """A figure with its unit; money counted in fen is read in 元 (10000 分/月 → 100.00 元/月)."""
    if is_fen_unit(unit) and isinstance(value, int | float) and not isinstance(value, bool):
        return with_unit(value, unit)
    shown = _shown(value, locale)
    return f"{shown} {unit}" if unit else shown


def _how(var: Variable) -> str:
    if var.kind == "expr":
        return var.expr_text
    if var.kind == "supplied":
        return var.note
    if var.kind == "column":
        return f"{var.table}.{var.column}"
    parts = [f"{var.kind}({var.table}{'.' + var.column if var.column else ''})"]
    if var.where_text:
        parts.append(f"where {var.where_text}")
    w = var.window
    if w is not None:
        anchor = "评估日" if w.anchor == EVAL_DATE else w.anchor
        start = f"{anchor}{w.start.zh()}" if w.start else "不限"
        end = f"{anchor}{w.end.zh()}" if w.end else "不限"
        parts.append(f"{w.on} ∈ [{start}, {end}]（含两端）")
    return " ".join(parts)


def _used_columns(var: Variable, spec: TableSpec) -> list[str]:
    wanted = list(spec.primary_key)
    for name in (var.window.on if var.window else None, var.order_by, var.column):
        if name:
            wanted.append(name)
    for node in (var.where, var.of):
        if node is not None:
            wanted += [c.name for c in node.find_all(exp.Column)]
    return list(dict.fromkeys(wanted))


def _source_rows(
    con: duckdb.DuckDBPyConnection,
    rule: Rule,
    var: Variable,
    spec: TableSpec,
    key: str,
    evaluation: Evaluation,
    on: date,
) -> tuple[list[dict[str, Any]], int]:
    """The rows of the variable's table for this entity that count, or are in doubt."""
    assert var.table is not None
    source = rule.entity.sources[var.table]
    anchor: exp.Expr = date_literal(on)
    if var.window is not None and var.window.anchor != EVAL_DATE:
        value = evaluation.variables[var.window.anchor]
        anchor = (
            exp.cast(exp.Null(), exp.DataType.build("date")) if value is None else literal(value)
        )
    pred = row_predicate(var, "t", anchor)
    shown = _used_columns(var, spec)
    query = (
        exp.select(*[col(name, "t") for name in shown])
        .from_(source_rows(var))
        .where(exp.EQ(this=col(source.key, "t"), expression=exp.Literal.string(key)))
        .where(
            exp.or_(
                exp.paren(pred.copy()), exp.Is(this=exp.paren(pred.copy()), expression=exp.Null())
            )
        )
    )
    if var.window is not None:
        query = query.order_by(exp.Ordered(this=col(var.window.on, "t"), desc=True))
    cursor = con.execute(query.sql(dialect="duckdb"))
    rows = [dict(zip(shown, row, strict=True)) for row in cursor.fetchall()]
    return rows[:ROWS_SHOWN], len(rows)


def _nothing_counted(var: Variable, value: Any) -> bool:
    """Whether the value itself says no source row counted and none was in doubt (a row in
    doubt makes the value unknown): a count of 0, or exists false. Then there are no rows to
    list, and the query for them is skipped (most people, most of the time)."""
    if var.kind in ("count", "count_distinct"):
        return value == 0 and not isinstance(value, bool)
    return var.kind == "exists" and value is False


def _conditions(node: Condition, values: Mapping[str, bool | None]) -> ConditionResult:
    return ConditionResult(
        id=node.id,
        zh=node.zh,
        en=node.en,
        kind=node.kind,
        value=values[node.id],
        test=node.test_text,
        reference=node.reference,
        children=[_conditions(child, values) for child in node.children],
    )


def conditions_of(rule: Rule, evaluation: Evaluation) -> ConditionResult:
    """The rule's conditions as an evaluation found them, the tree an explanation shows."""
    return _conditions(rule.condition, evaluation.conditions)


def explain(
    con: duckdb.DuckDBPyConnection,
    rule: Rule,
    on: date,
    key: str,
    specs: Mapping[str, TableSpec],
    versions: Mapping[str, int] | None = None,
    supplied: Mapping[str, Any] | None = None,
) -> Explanation:
    """``supplied``: values given from outside the data core (an application's answers), used
    in place of the variables' own."""
    given = {k: x for k, x in (supplied or {}).items() if x is not None}
    evaluation = evaluate_one(con, rule, on, key, given)
    inputs: list[InputUse] = []
    for name, var in rule.variables.items():
        rows: list[dict[str, Any]] = []
        count = 0
        value = evaluation.variables[name]
        if name in given or _nothing_counted(var, value):
            pass  # no row of the data core behind it: an answer, or a known zero / no
        elif var.kind == "column":
            rows, count = [{rule.entity.key: key}], 1
        elif var.kind in AGGREGATES and var.table is not None and var.table in specs:
            rows, count = _source_rows(con, rule, var, specs[var.table], key, evaluation, on)
        inputs.append(
            InputUse(
                name=name,
                zh=var.zh,
                en=var.en,
                kind=var.kind,
                value=value,
                table=var.table,
                version=(versions or {}).get(var.table) if var.table else None,
                rows=rows,
                row_count=count,
                how=_how(var),
                missing=name in evaluation.missing,
                supplied=name in given,
            )
        )
    parameters = []
    for param in rule.parameters.values():
        value = param.value_on(on)
        assert value is not None  # evaluate_one checked every parameter has one
        parameters.append(
            ParameterUse(
                param.name,
                param.zh,
                param.en,
                value.value,
                param.unit,
                value.start,
                param.reference,
            )
        )
    return Explanation(
        rule=rule,
        on=on,
        key=key,
        outcome=evaluation.outcome,
        amount=evaluation.amount,
        conditions=_conditions(rule.condition, evaluation.conditions),
        inputs=inputs,
        parameters=parameters,
        missing=[i for i in inputs if i.missing],
    )
