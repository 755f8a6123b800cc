"""Reading rule files and checking them before anything runs.

A rule book is a folder: ``entities.yaml`` (kind ``rule-entities``: what a person or an
enterprise is, how the data core's tables join it, and the variables its rules share) and one file
per policy (kind ``rules``). Both are ordinary city content (:mod:`shuhui.core.content`: code,
bilingual name, validity dates, reference); what a rule carries beyond that is checked here
against the data core's real table schemas (its variables by :mod:`shuhui.rules.variables`).
Every problem found is reported at once, each as a field path and a reason, and a book with any
problem is refused whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Final, cast

from shuhui.core.content import ContentError, Item, load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.datacore.schema import TableSpec
from shuhui.rules.expressions import ExprError, check, parse
from shuhui.rules.language import (
    EVAL_DATE,
    NUMERIC,
    Amount,
    Condition,
    ConditionKind,
    Entity,
    Parameter,
    ParamValue,
    Rule,
    Source,
    Type,
    Variable,
)
from shuhui.rules.variables import (
    ENTITIES_FILE,
    NAME,
    TYPES,
    Errors,
    read_variables,
    table_env,
    text,
)

ENTITIES_KIND: Final = "rule-entities"
RULES_KIND: Final = "rules"
TESTS_DIR: Final = "tests"


@dataclass(frozen=True)
class RuleBook:
    directory: Path
    entities: dict[str, Entity]
    rules: dict[str, Rule]

    def rule(self, code: str) -> Rule:
        found = self.rules.get(code)
        if found is None:
            raise Problem(
                "not-found",
                detail=Text(
                    f"没有编号为 {code!r} 的规则；现有：{'、'.join(self.rules) or '无'}",
                    f"no rule {code!r}; known: {', '.join(self.rules) or 'none'}",
                ),
                errors=[FieldError("rule", Text("没有这条规则", "unknown rule"))],
            )
        return found


def refused(errors: list[FieldError]) -> Problem:
    return Problem(
        "validation",
        detail=f"规则校验未通过 rules refused: {len(errors)} problem(s)",
        errors=errors,
    )


# --- entities ------------------------------------------------------------------------------


def _entity(item: Item, where: str, specs: Mapping[str, TableSpec], errs: Errors) -> Entity:
    attrs = item.attrs
    table = attrs.get("table")
    key = attrs.get("key")
    spec = specs.get(table) if isinstance(table, str) else None
    if spec is None:
        errs.add(f"{where}.table", f"no data-core table {table!r}")
    elif not isinstance(key, str) or key not in table_env(spec):
        errs.add(f"{where}.key", f"{key!r} is not a column of {table}")
    sources: dict[str, Source] = {}
    raw = attrs.get("sources") or {}
    if not isinstance(raw, dict):
        errs.add(f"{where}.sources", "must be a mapping of table name to {key, complete}")
        raw = {}
    for name, body in raw.items():
        parsed = _source(name, body, f"{where}.sources.{name}", specs, errs)
        if parsed is None:
            continue
        source, column_ok = parsed
        if column_ok and spec is not None and isinstance(key, str) and key in table_env(spec):
            mine, theirs = spec.column(key).type, specs[name].column(source.key).type
            if mine != theirs:
                errs.add(
                    f"{where}.sources.{name}.key",
                    f"{name}.{source.key} is {theirs}, {table}.{key} is {mine}",
                )
        sources[name] = source
    entity = Entity(
        code=item.code,
        name_zh=item.name_zh,
        name_en=item.name_en,
        table=str(table),
        key=str(key),
        reference=item.reference,
        sources=sources,
        lookups=_lookups(attrs.get("lookups"), f"{where}.lookups", specs, errs),
    )
    # Variables many of the entity's rules use, checked once here; a rule takes one by writing
    # `name: shared` among its variables. Only the evaluation date is in scope: no parameters.
    raw_shared = attrs.get("variables") or {}
    shared = read_variables(raw_shared, where, entity, specs, {EVAL_DATE: "date"}, errs)
    if isinstance(raw_shared, dict):
        errs.shared_failed |= {(item.code, n) for n in raw_shared if n not in shared}
    return replace(entity, variables=shared)


def _source(
    name: str, body: Any, here: str, specs: Mapping[str, TableSpec], errs: Errors
) -> tuple[Source, bool] | None:
    """A table joined by one column, {key, complete, note} (a source or a lookup register),
    and whether its key column exists; None when there is no such table or no mapping."""
    spec = specs.get(name)
    if spec is None:
        errs.add(here, f"no data-core table {name!r}")
        return None
    if not isinstance(body, dict):
        errs.add(here, "must be {key: <column>, complete: true|false, note: …}")
        return None
    column = body.get("key")
    column_ok = isinstance(column, str) and column in table_env(spec)
    if not column_ok:
        errs.add(f"{here}.key", f"{column!r} is not a column of {name}")
    complete = body.get("complete")
    if not isinstance(complete, bool):
        errs.add(f"{here}.complete", "must be true or false: is every row there?")
    note = text(body.get("note"))
    if note is None:
        errs.add(f"{here}.note", "say what the table covers (why complete or not)")
    return Source(name, str(column), bool(complete), note or ""), column_ok


def _lookups(
    raw: Any, where: str, specs: Mapping[str, TableSpec], errs: Errors
) -> dict[str, Source]:
    """Registers an aggregate may look its rows up in: {table: {key, complete, note}}."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        errs.add(where, "must be a mapping of table name to {key, complete, note}")
        return {}
    found: dict[str, Source] = {}
    for name, body in raw.items():
        parsed = _source(name, body, f"{where}.{name}", specs, errs)
        if parsed is not None and parsed[1]:
            found[name] = parsed[0]
    return found


# --- parameters ----------------------------------------------------------------------------


def _value(kind: Type, value: Any) -> ParamValue | str:
    """The value if it has the parameter's type, else the reason it has not."""
    ok = {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "date": isinstance(value, date),
    }[kind]
    if not ok:
        return f"{value!r} is not a {kind}"
    return ParamValue(date.min, value)


def _parameter(name: str, body: Any, where: str, errs: Errors) -> Parameter | None:
    if not isinstance(body, dict):
        errs.add(where, "must be {zh, type, unit, reference, values: [{from, value}]}")
        return None
    zh = text(body.get("zh"))
    reference = text(body.get("reference"))
    kind = body.get("type")
    if zh is None:
        errs.add(f"{where}.zh", "missing Chinese name")
    if reference is None:
        errs.add(f"{where}.reference", "every parameter names the text that sets it")
    if kind not in TYPES:
        errs.add(f"{where}.type", f"must be one of {', '.join(TYPES)}")
        return None
    ptype = cast(Type, kind)
    raw = body.get("values")
    if not isinstance(raw, list) or not raw:
        errs.add(f"{where}.values", "must be a non-empty list of {from: YYYY-MM-DD, value: …}")
        return None
    values: list[ParamValue] = []
    for i, entry in enumerate(raw):
        here = f"{where}.values[{i}]"
        if not isinstance(entry, dict) or "from" not in entry or "value" not in entry:
            errs.add(here, "must be {from: YYYY-MM-DD, value: …}")
            continue
        start = entry["from"]
        if not isinstance(start, date):
            errs.add(f"{here}.from", "not a date (YYYY-MM-DD)")
            continue
        got = _value(ptype, entry["value"])
        if isinstance(got, str):
            errs.add(f"{here}.value", got)
            continue
        if values and start <= values[-1].start:
            errs.add(f"{here}.from", "values must be in order of their start dates, no repeats")
            continue
        values.append(ParamValue(start, got.value))
    return Parameter(
        name=name,
        zh=zh or name,
        en=text(body.get("en")) or name,
        type=ptype,
        unit=text(body.get("unit")) or "",
        reference=reference or "",
        values=tuple(values),
    )


# --- conditions and amount -----------------------------------------------------------------


def _condition(
    raw: Any,
    where: str,
    env: dict[str, Type],
    variables: Mapping[str, Variable],
    ids: set[str],
    errs: Errors,
) -> Condition | None:
    if not isinstance(raw, dict):
        errs.add(where, "must be {all: […]}, {any: […]}, {not: …} or {id, zh, test}")
        return None
    groups = [k for k in ("all", "any", "not") if k in raw]
    if len(groups) > 1 or (groups and "test" in raw):
        errs.add(where, "one of all, any, not or test per condition")
        return None
    cid = raw.get("id")
    if cid is None and groups:
        cid = f"{groups[0]}_{len(ids) + 1}"
    if not isinstance(cid, str) or not NAME.match(cid):
        errs.add(f"{where}.id", "a condition needs an id (a-z, 0-9, _)")
        return None
    if cid in ids:
        errs.add(f"{where}.id", f"duplicate condition id {cid!r}")
        return None
    ids.add(cid)
    zh = text(raw.get("zh"))
    en = text(raw.get("en")) or zh or cid
    reference = text(raw.get("reference")) or ""
    if groups:
        kind = groups[0]
        body = raw[kind]
        items = [body] if kind == "not" else body
        if not isinstance(items, list) or not items:
            errs.add(f"{where}.{kind}", "must list at least one condition")
            return None
        children = []
        for i, child in enumerate(items):
            place = f"{where}.not" if kind == "not" else f"{where}.{kind}[{i}]"
            built = _condition(child, place, env, variables, ids, errs)
            if built is not None:
                children.append(built)
        default = {
            "all": ("以下条件全部满足", "All of the following"),
            "any": ("以下条件满足其一", "Any of the following"),
            "not": ("不满足以下条件", "Not the following"),
        }[kind]
        return Condition(
            id=cid,
            kind=cast(ConditionKind, kind),  # one of the three keys checked above
            zh=zh or default[0],
            en=text(raw.get("en")) or default[1],
            children=tuple(children),
            reference=reference,
        )
    if zh is None:
        errs.add(f"{where}.zh", "say the condition in plain Chinese")
    try:
        test = parse(raw.get("test"))
        checked = check(test, env)
    except ExprError as exc:
        errs.add(f"{where}.test", str(exc))
        return None
    if checked.type != "bool":
        errs.add(f"{where}.test", f"must be a condition (bool), not {checked.type}")
        return None
    return Condition(
        id=cid,
        kind="test",
        zh=zh or cid,
        en=en,
        test=test,
        test_text=str(raw["test"]).strip(),
        refs=tuple(sorted(n for n in checked.names if n in variables)),
        params=tuple(sorted(n for n in checked.names if n not in variables and n != EVAL_DATE)),
        reference=reference,
    )


def _amount(
    raw: Any, where: str, env: dict[str, Type], variables: Mapping[str, Variable], errs: Errors
) -> Amount | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errs.add(where, "must be {zh, unit, expr}")
        return None
    try:
        node = parse(raw.get("expr"))
        checked = check(node, env)
    except ExprError as exc:
        errs.add(f"{where}.expr", str(exc))
        return None
    if checked.type not in NUMERIC:
        errs.add(f"{where}.expr", f"an amount is a number, not {checked.type}")
        return None
    zh = text(raw.get("zh"))
    if zh is None:
        errs.add(f"{where}.zh", "missing Chinese name")
    return Amount(
        zh=zh or "金额",
        en=text(raw.get("en")) or "amount",
        unit=text(raw.get("unit")) or "",
        expr=node,
        expr_text=str(raw["expr"]).strip(),
        type=checked.type,
        refs=tuple(sorted(n for n in checked.names if n in variables)),
        params=tuple(sorted(n for n in checked.names if n not in variables and n != EVAL_DATE)),
    )


# --- rules ---------------------------------------------------------------------------------


def _rule(
    item: Item,
    where: str,
    path: Path,
    entities: Mapping[str, Entity],
    specs: Mapping[str, TableSpec],
    errs: Errors,
) -> Rule | None:
    attrs = item.attrs
    before = len(errs.items)
    department = text(attrs.get("department"))
    if department is None:
        # Campaigns send a rule's candidates to this department for confirmation: no default.
        errs.add(f"{where}.department", "name the department that implements it (实施部门)")
    entity = entities.get(attrs.get("entity", ""))
    if entity is None:
        errs.add(f"{where}.entity", f"must be one of {', '.join(entities) or '(none defined)'}")
        return None
    parameters: dict[str, Parameter] = {}
    raw_params = attrs.get("parameters") or {}
    if not isinstance(raw_params, dict):
        errs.add(f"{where}.parameters", "must be a mapping of name to parameter")
        raw_params = {}
    for name, body in raw_params.items():
        if not isinstance(name, str) or not NAME.match(name) or name == EVAL_DATE:
            errs.add(f"{where}.parameters.{name}", "a name of a-z, 0-9 and _ (not eval_date)")
            continue
        param = _parameter(name, body, f"{where}.parameters.{name}", errs)
        if param is not None:
            parameters[name] = param
    env: dict[str, Type] = {EVAL_DATE: "date"}
    env.update({p.name: p.type for p in parameters.values()})
    variables = read_variables(
        attrs.get("variables") or {}, where, entity, specs, env, errs, taken=parameters
    )
    condition = _condition(
        attrs.get("conditions"), f"{where}.conditions", env, variables, set(), errs
    )
    amount = _amount(attrs.get("amount"), f"{where}.amount", env, variables, errs)
    if condition is None or len(errs.items) > before:
        return None
    read = {v.table for v in variables.values() if v.table and v.kind != "column"}
    read |= {v.lookup.table for v in variables.values() if v.lookup is not None}
    tables = [entity.table, *sorted(read)]
    return Rule(
        code=item.code,
        name_zh=item.name_zh,
        name_en=item.name_en,
        valid_from=item.valid_from,
        valid_to=item.valid_to,
        reference=item.reference,
        department=department or "",
        path=path,
        entity=entity,
        variables=variables,
        parameters=parameters,
        condition=condition,
        amount=amount,
        summary=text(attrs.get("summary")) or "",
        tables=tuple(tables),
    )


def rule_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if p.name != ENTITIES_FILE)


def load_book(directory: Path, specs: Mapping[str, TableSpec]) -> RuleBook:
    """Every rule in ``directory``, checked against ``specs`` (the data core's tables)."""
    errs = Errors()
    entities: dict[str, Entity] = {}
    rules: dict[str, Rule] = {}
    try:
        for item in load_items(directory / ENTITIES_FILE, ENTITIES_KIND):
            where = f"{ENTITIES_FILE}: {item.code}"
            entities[item.code] = _entity(item, where, specs, errs)
    except ContentError as exc:
        errs.add(f"{exc.path.name}: {exc.where}", exc.reason)
    for path in rule_files(directory):
        try:
            items = load_items(path, RULES_KIND)
        except ContentError as exc:
            errs.add(f"{exc.path.name}: {exc.where}", exc.reason)
            continue
        for item in items:
            where = f"{path.name}: {item.code}"
            if item.code in rules:
                errs.add(f"{where}.code", f"rule {item.code!r} is also in {rules[item.code].path}")
                continue
            rule = _rule(item, where, path, entities, specs, errs)
            if rule is not None:
                rules[item.code] = rule
    if errs.items:
        raise refused(errs.items)
    return RuleBook(directory, entities, rules)


def check_on(rule: Rule, on: date) -> list[FieldError]:
    """What stops ``rule`` from being evaluated on ``on``: not in force, or a parameter with no
    value that day."""
    where = f"{rule.path.name}: {rule.code}"
    problems = []
    if not rule.in_force(on):
        until = f" to {rule.valid_to}" if rule.valid_to else ""
        problems.append(
            FieldError(
                f"{where}.valid_from",
                Text(
                    f"{on} 不在这条规则的有效期内（{rule.valid_from}{until}）",
                    f"not in force on {on} ({rule.valid_from}{until})",
                ),
            )
        )
    for param in rule.parameters.values():
        if param.value_on(on) is None:
            problems.append(
                FieldError(
                    f"{where}.parameters.{param.name}.values",
                    Text(
                        f"{on} 时这一参数还没有生效的取值（最早从 {param.values[0].start} 起）",
                        f"no value in force on {on} (first value from {param.values[0].start})",
                    ),
                )
            )
    return problems


def require_on(rule: Rule, on: date) -> None:
    problems = check_on(rule, on)
    if problems:
        raise refused(problems)
