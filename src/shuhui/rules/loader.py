"""Reading rule files and checking them before anything runs.

A rule book is a folder: ``entities.yaml`` (kind ``rule-entities``: what a person or an
enterprise is, and how the data core's tables join it) and one file per policy (kind ``rules``).
Both are ordinary city content (:mod:`shuhui.core.content`: code, bilingual name, validity dates,
reference); what a rule carries beyond that is checked here against the data core's real table
schemas. Every problem found is reported at once, each as a field path and a reason, and a book
with any problem is refused whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final, cast

from sqlglot import exp

from shuhui.core.content import ContentError, Item, load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.datacore.schema import TableSpec
from shuhui.rules.expressions import ExprError, check, parse
from shuhui.rules.language import (
    AGGREGATES,
    COLUMN_TYPES,
    EVAL_DATE,
    NUMERIC,
    Amount,
    Condition,
    ConditionKind,
    Entity,
    Lookup,
    Offset,
    Parameter,
    ParamValue,
    Rule,
    Source,
    Type,
    Variable,
    VariableKind,
    Window,
)

ENTITIES_FILE: Final = "entities.yaml"
ENTITIES_KIND: Final = "rule-entities"
RULES_KIND: Final = "rules"
TESTS_DIR: Final = "tests"
NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
OFFSET: Final = re.compile(r"^([+-]?\d+)\s*(day|days|month|months|year|years)$")
TYPES: Final[tuple[Type, ...]] = ("bool", "int", "number", "string", "date")
KINDS: Final[tuple[VariableKind, ...]] = (
    "column",
    "count",
    "count_distinct",
    "sum",
    "exists",
    "latest",
    "expr",
    "supplied",
)


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
                detail=f"no rule {code!r}; known: {', '.join(self.rules) or 'none'}",
                errors=[FieldError("rule", "unknown rule")],
            )
        return found


def refused(errors: list[FieldError]) -> Problem:
    return Problem(
        "validation",
        detail=f"规则校验未通过 rules refused: {len(errors)} problem(s)",
        errors=errors,
    )


class _Errors:
    """Collects problems so that one run of ``rules check`` reports all of them."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []
        self.failed: set[str] = set()  # variables refused already

    def add(self, where: str, reason: str) -> None:
        # A variable that was refused is not reported again by everything that uses it.
        if any(reason == f"unknown name {name!r}" for name in self.failed):
            return
        self.items.append(FieldError(where, reason))


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _table_env(spec: TableSpec) -> dict[str, Type]:
    return {c.name: COLUMN_TYPES[c.type] for c in spec.columns if c.type in COLUMN_TYPES}


# --- entities ------------------------------------------------------------------------------


def _entity(item: Item, where: str, specs: Mapping[str, TableSpec], errs: _Errors) -> Entity:
    attrs = item.attrs
    table = attrs.get("table")
    key = attrs.get("key")
    spec = specs.get(table) if isinstance(table, str) else None
    if spec is None:
        errs.add(f"{where}.table", f"no data-core table {table!r}")
    elif not isinstance(key, str) or key not in _table_env(spec):
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
        if column_ok and spec is not None and isinstance(key, str) and key in _table_env(spec):
            mine, theirs = spec.column(key).type, specs[name].column(source.key).type
            if mine != theirs:
                errs.add(
                    f"{where}.sources.{name}.key",
                    f"{name}.{source.key} is {theirs}, {table}.{key} is {mine}",
                )
        sources[name] = source
    return Entity(
        code=item.code,
        name_zh=item.name_zh,
        name_en=item.name_en,
        table=str(table),
        key=str(key),
        reference=item.reference,
        sources=sources,
        lookups=_lookups(attrs.get("lookups"), f"{where}.lookups", specs, errs),
    )


def _source(
    name: str, body: Any, here: str, specs: Mapping[str, TableSpec], errs: _Errors
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
    column_ok = isinstance(column, str) and column in _table_env(spec)
    if not column_ok:
        errs.add(f"{here}.key", f"{column!r} is not a column of {name}")
    complete = body.get("complete")
    if not isinstance(complete, bool):
        errs.add(f"{here}.complete", "must be true or false: is every row there?")
    note = _text(body.get("note"))
    if note is None:
        errs.add(f"{here}.note", "say what the table covers (why complete or not)")
    return Source(name, str(column), bool(complete), note or ""), column_ok


def _lookups(
    raw: Any, where: str, specs: Mapping[str, TableSpec], errs: _Errors
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


def _parameter(name: str, body: Any, where: str, errs: _Errors) -> Parameter | None:
    if not isinstance(body, dict):
        errs.add(where, "must be {zh, type, unit, reference, values: [{from, value}]}")
        return None
    zh = _text(body.get("zh"))
    reference = _text(body.get("reference"))
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
        en=_text(body.get("en")) or name,
        type=ptype,
        unit=_text(body.get("unit")) or "",
        reference=reference or "",
        values=tuple(values),
    )


# --- variables -----------------------------------------------------------------------------


def _offset(value: Any, where: str, errs: _Errors) -> Offset | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    found = OFFSET.match(text)
    if not found:
        errs.add(where, "an offset like '-12 months', '0 days' or '2 years'")
        return None
    n, unit = int(found.group(1)), found.group(2).rstrip("s")
    return Offset(**{f"{unit}s": n})


@dataclass
class _Draft:
    """A variable as written, before its type is known (it may depend on later ones)."""

    name: str
    where: str
    body: dict[str, Any]
    kind: VariableKind
    spec: dict[str, Any]
    deps: set[str]
    expr: exp.Expr | None = None


def _draft(name: str, body: Any, where: str, errs: _Errors) -> _Draft | None:
    if not isinstance(body, dict):
        errs.add(where, "must be a mapping with zh and one of " + ", ".join(KINDS))
        return None
    kinds = [k for k in KINDS if k in body]
    if len(kinds) != 1:
        errs.add(where, "needs exactly one of " + ", ".join(KINDS))
        return None
    kind = kinds[0]
    if _text(body.get("zh")) is None:
        errs.add(f"{where}.zh", "missing Chinese name")
    spec = body[kind]
    draft = _Draft(name, where, body, kind, spec if isinstance(spec, dict) else {}, set())
    if kind == "expr":
        try:
            draft.expr = parse(spec)
        except ExprError as exc:
            errs.add(f"{where}.expr", str(exc))
            return None
        draft.deps = {c.name for c in draft.expr.find_all(exp.Column)}
    elif kind in AGGREGATES:
        if not isinstance(spec, dict):
            errs.add(f"{where}.{kind}", "must be a mapping with at least `table`")
            return None
        window = spec.get("window")
        if isinstance(window, dict) and isinstance(window.get("anchor"), str):
            draft.deps = {window["anchor"]}
    elif kind == "column" and not isinstance(spec, str):
        errs.add(f"{where}.column", "must name a column of the entity's table")
        return None
    elif kind == "supplied" and not isinstance(spec, dict):
        errs.add(f"{where}.supplied", "must be {type: …, note: who holds this input}")
        return None
    return draft


def _order(drafts: dict[str, _Draft], errs: _Errors) -> list[_Draft]:
    """Drafts with inputs before what uses them; a cycle is reported with its path."""
    order: list[_Draft] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "open":
            cycle = [*path[path.index(name) :], name]
            errs.add(drafts[name].where, "cycle among variables: " + " → ".join(cycle))
            return
        state[name] = "open"
        for dep in sorted(drafts[name].deps):
            if dep in drafts:
                visit(dep, [*path, name])
        state[name] = "done"
        order.append(drafts[name])

    for name in drafts:
        visit(name, [])
    return order


def _variable(
    d: _Draft,
    entity: Entity,
    specs: Mapping[str, TableSpec],
    env: dict[str, Type],
    errs: _Errors,
) -> Variable | None:
    zh = _text(d.body.get("zh")) or d.name
    en = _text(d.body.get("en")) or d.name
    base: dict[str, Any] = {"name": d.name, "zh": zh, "en": en, "kind": d.kind}
    if d.kind == "column":
        spec = specs.get(entity.table)
        if spec is None:
            return None
        column = str(d.body["column"])
        columns = _table_env(spec)
        if column not in columns:
            errs.add(f"{d.where}.column", f"{column!r} is not a column of {entity.table}")
            return None
        return Variable(**base, type=columns[column], inputs=(), table=entity.table, column=column)
    if d.kind == "supplied":
        vtype = d.spec.get("type")
        note = _text(d.spec.get("note"))
        if vtype not in TYPES:
            errs.add(f"{d.where}.supplied.type", f"must be one of {', '.join(TYPES)}")
            return None
        if note is None:
            errs.add(f"{d.where}.supplied.note", "say who holds this input and how it comes")
        return Variable(**base, type=cast(Type, vtype), inputs=(), note=note or "")
    if d.kind == "expr":
        assert d.expr is not None
        try:
            checked = check(d.expr, env)
        except ExprError as exc:
            errs.add(f"{d.where}.expr", str(exc))
            return None
        inputs = tuple(sorted(n for n in checked.names if n in d.deps and n != EVAL_DATE))
        return Variable(
            **base,
            type=checked.type,
            inputs=tuple(i for i in inputs if i in env),
            expr=d.expr,
            expr_text=str(d.body["expr"]).strip(),
        )
    return _aggregate(d, base, entity, specs, env, errs)


def _aggregate(
    d: _Draft,
    base: dict[str, Any],
    entity: Entity,
    specs: Mapping[str, TableSpec],
    env: dict[str, Type],
    errs: _Errors,
) -> Variable | None:
    here = f"{d.where}.{d.kind}"
    table = d.spec.get("table")
    source = entity.sources.get(table) if isinstance(table, str) else None
    spec = specs.get(table) if isinstance(table, str) else None
    if source is None or spec is None:
        errs.add(
            f"{here}.table",
            f"{table!r} is not a source of {entity.code} (declare it in {ENTITIES_FILE})",
        )
        return None
    if not source.complete and d.kind != "exists":
        errs.add(
            f"{here}.table",
            f"{table} is incomplete for {entity.code}: only `exists` can be known from it "
            "(a count or a latest value over missing rows is unknown)",
        )
        return None
    columns = _table_env(spec)
    ok = True
    lookup = None
    if d.spec.get("lookup") is not None:
        lookup = _lookup(d, entity, specs, columns, errs)
        if lookup is None:
            return None
        register = _table_env(specs[lookup.table])
        columns = {**columns, **{n: register[n] for n in lookup.columns}, lookup.flag: "bool"}

    def column(key: str, want: tuple[Type, ...] | None = None) -> str | None:
        nonlocal ok
        name = d.spec.get(key)
        if not isinstance(name, str) or name not in columns:
            errs.add(f"{here}.{key}", f"{name!r} is not a column of {table}")
            ok = False
            return None
        if want is not None and columns[name] not in want:
            errs.add(f"{here}.{key}", f"{table}.{name} is {columns[name]}, needs {'/'.join(want)}")
            ok = False
            return None
        return name

    where_node: exp.Expr | None = None
    where_text = ""
    if d.spec.get("where") is not None:
        where_text = str(d.spec["where"]).strip()
        try:
            where_node = parse(d.spec["where"])
            if check(where_node, columns, rows=True).type != "bool":
                errs.add(f"{here}.where", "must be a condition on the table's columns")
                ok = False
        except ExprError as exc:
            errs.add(f"{here}.where", str(exc))
            ok = False
    window = _window(d.spec.get("window"), f"{here}.window", columns, env, errs)
    if d.spec.get("window") is not None and window is None:
        ok = False
    vtype: Type = "int"
    value_column = None
    of_node = None
    order_by = None
    if d.kind == "exists":
        vtype = "bool"
    elif d.kind == "count_distinct":
        value_column = column("column")
    elif d.kind == "latest":
        value_column = column("column")
        order_by = column("order_by", ("date", "int"))
        if value_column is not None:
            vtype = columns[value_column]
    elif d.kind == "sum":
        try:
            of_node = parse(d.spec.get("of"))
            of_type = check(of_node, columns).type
            if of_type not in NUMERIC:
                raise ExprError(f"sums a number, not {of_type}")
            vtype = of_type
        except ExprError as exc:
            errs.add(f"{here}.of", str(exc))
            ok = False
    if not ok:
        return None
    inputs = (window.anchor,) if window is not None and window.anchor != EVAL_DATE else ()
    return Variable(
        **base,
        type=vtype,
        inputs=inputs,
        table=str(table),
        column=value_column,
        of=of_node,
        where=where_node,
        where_text=where_text,
        window=window,
        order_by=order_by,
        lookup=lookup,
    )


# Aggregates whose value a row repeated by a lookup with several matches cannot change.
REPEAT_SAFE: Final[tuple[VariableKind, ...]] = ("exists", "count_distinct")


def _lookup(
    d: _Draft,
    entity: Entity,
    specs: Mapping[str, TableSpec],
    columns: dict[str, Type],
    errs: _Errors,
) -> Lookup | None:
    here = f"{d.where}.{d.kind}.lookup"
    raw = d.spec["lookup"]
    if not isinstance(raw, dict):
        errs.add(here, "must be {table: <register>, match: <column>, as: <name>}")
        return None
    table = raw.get("table")
    register = entity.lookups.get(table) if isinstance(table, str) else None
    if register is None:
        errs.add(
            f"{here}.table",
            f"{table!r} is not a lookup of {entity.code} (declare it in {ENTITIES_FILE})",
        )
        return None
    if not register.complete:
        errs.add(f"{here}.table", f"{table} is incomplete: no match would prove nothing")
        return None
    spec = specs[register.table]
    theirs = _table_env(spec)
    # `match`, not `on`: YAML 1.1 reads a bare `on` as the boolean true.
    on, flag = raw.get("match"), raw.get("as")
    if not isinstance(on, str) or on not in columns:
        errs.add(f"{here}.match", f"{on!r} is not a column of {d.spec.get('table')}")
        return None
    if columns[on] != theirs[register.key]:
        errs.add(
            f"{here}.match",
            f"{on} is {columns[on]}, {table}.{register.key} is {theirs[register.key]}",
        )
        return None
    if not isinstance(flag, str) or not NAME.match(flag) or flag in columns or flag in theirs:
        errs.add(f"{here}.as", "a new name (a-z, 0-9, _) for 'a match was found'")
        return None
    if tuple(spec.primary_key) != (register.key,) and d.kind not in REPEAT_SAFE:
        # Several matches repeat the row; a count or a sum would count it twice.
        errs.add(
            f"{here}.table",
            f"{table}.{register.key} is not its primary key: only exists and count_distinct "
            "can look rows up in it",
        )
        return None
    added = tuple(n for n in theirs if n not in columns)
    return Lookup(str(table), on, register.key, flag, added)


def _window(
    raw: Any, where: str, columns: dict[str, Type], env: dict[str, Type], errs: _Errors
) -> Window | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errs.add(where, "must be {date: <date column>, anchor?: <date variable>, from?, to?}")
        return None
    # The key is `date`, not `on`: YAML 1.1 reads a bare `on` as the boolean true.
    on = raw.get("date")
    if not isinstance(on, str) or columns.get(on) != "date":
        errs.add(f"{where}.date", f"{on!r} is not a date column of the table")
        return None
    anchor = raw.get("anchor", EVAL_DATE)
    if anchor != EVAL_DATE and env.get(anchor) != "date":
        errs.add(f"{where}.anchor", f"{anchor!r} is not a date variable defined before")
        return None
    start = _offset(raw.get("from"), f"{where}.from", errs)
    end = _offset(raw.get("to"), f"{where}.to", errs)
    if start is None and end is None:
        errs.add(where, "give from, to, or both")
        return None
    return Window(on=on, anchor=str(anchor), start=start, end=end)


# --- conditions and amount -----------------------------------------------------------------


def _condition(
    raw: Any,
    where: str,
    env: dict[str, Type],
    variables: Mapping[str, Variable],
    ids: set[str],
    errs: _Errors,
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
    zh = _text(raw.get("zh"))
    en = _text(raw.get("en")) or zh or cid
    reference = _text(raw.get("reference")) or ""
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
            en=_text(raw.get("en")) or default[1],
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
    raw: Any, where: str, env: dict[str, Type], variables: Mapping[str, Variable], errs: _Errors
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
    zh = _text(raw.get("zh"))
    if zh is None:
        errs.add(f"{where}.zh", "missing Chinese name")
    return Amount(
        zh=zh or "金额",
        en=_text(raw.get("en")) or "amount",
        unit=_text(raw.get("unit")) or "",
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
    errs: _Errors,
) -> Rule | None:
    attrs = item.attrs
    before = len(errs.items)
    department = _text(attrs.get("department"))
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
    raw_vars = attrs.get("variables") or {}
    if not isinstance(raw_vars, dict):
        errs.add(f"{where}.variables", "must be a mapping of name to variable")
        raw_vars = {}
    drafts: dict[str, _Draft] = {}
    for name, body in raw_vars.items():
        here = f"{where}.variables.{name}"
        if not isinstance(name, str) or not NAME.match(name) or name == EVAL_DATE:
            errs.add(here, "a name of a-z, 0-9 and _ (not eval_date)")
            continue
        if name in parameters:
            errs.add(here, "a parameter has this name already")
            continue
        draft = _draft(name, body, here, errs)
        if draft is not None:
            drafts[name] = draft
    env: dict[str, Type] = {EVAL_DATE: "date"}
    env.update({p.name: p.type for p in parameters.values()})
    variables: dict[str, Variable] = {}
    for draft in _order(drafts, errs):
        built = _variable(draft, entity, specs, env, errs)
        if built is None:
            errs.failed.add(draft.name)
        else:
            variables[built.name] = built
            env[built.name] = built.type
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
        summary=_text(attrs.get("summary")) or "",
        tables=tuple(tables),
    )


def rule_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if p.name != ENTITIES_FILE)


def load_book(directory: Path, specs: Mapping[str, TableSpec]) -> RuleBook:
    """Every rule in ``directory``, checked against ``specs`` (the data core's tables)."""
    errs = _Errors()
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
            FieldError(f"{where}.valid_from", f"not in force on {on} ({rule.valid_from}{until})")
        )
    for param in rule.parameters.values():
        if param.value_on(on) is None:
            problems.append(
                FieldError(
                    f"{where}.parameters.{param.name}.values",
                    f"no value in force on {on} (first value from {param.values[0].start})",
                )
            )
    return problems


def require_on(rule: Rule, on: date) -> None:
    problems = check_on(rule, on)
    if problems:
        raise refused(problems)
