"""Reading a rule's variables, and an entity's shared ones, and checking them.

A variable is a column of the entity's table, an aggregate over one of its sources, an expression
over other variables, or an input ``supplied`` from outside the data core. Variables written once
for an entity in the entities file (``entities.yaml``, under the entity's ``variables``) are shared:
a rule takes one by writing ``name: shared`` among its own variables, and gets the very variable
the entity declares, checked once. Every problem is collected as a field path and a reason.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, cast

from sqlglot import exp

from shuhui.core.errors import FieldError
from shuhui.datacore.schema import TableSpec
from shuhui.rules.expressions import ExprError, check, parse
from shuhui.rules.language import (
    AGGREGATES,
    COLUMN_TYPES,
    EVAL_DATE,
    NUMERIC,
    Entity,
    Lookup,
    Offset,
    Type,
    Variable,
    VariableKind,
    Window,
)

ENTITIES_FILE: Final = "entities.yaml"
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

# A rule's variable written `name: shared` is its entity's shared variable of that name.
SHARED: Final = "shared"


class Errors:
    """Collects problems so that one run of ``rules check`` reports all of them."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []
        self.failed: set[str] = set()  # variables refused already
        self.shared_failed: set[tuple[str, str]] = set()  # (entity, name) refused in its file

    def add(self, where: str, reason: str) -> None:
        # A variable that was refused is not reported again by everything that uses it.
        if any(reason == f"unknown name {name!r}" for name in self.failed):
            return
        self.items.append(FieldError(where, reason))


def text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def table_env(spec: TableSpec) -> dict[str, Type]:
    return {c.name: COLUMN_TYPES[c.type] for c in spec.columns if c.type in COLUMN_TYPES}


def _offset(value: Any, where: str, errs: Errors) -> Offset | None:
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
    built: Variable | None = None  # a shared variable, built and checked with its entity


def _draft(name: str, body: Any, where: str, errs: Errors) -> _Draft | None:
    if not isinstance(body, dict):
        errs.add(where, "must be a mapping with zh and one of " + ", ".join(KINDS))
        return None
    kinds = [k for k in KINDS if k in body]
    if len(kinds) != 1:
        errs.add(where, "needs exactly one of " + ", ".join(KINDS))
        return None
    kind = kinds[0]
    if text(body.get("zh")) is None:
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


def _order(drafts: dict[str, _Draft], errs: Errors) -> list[_Draft]:
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
    errs: Errors,
) -> Variable | None:
    zh = text(d.body.get("zh")) or d.name
    en = text(d.body.get("en")) or d.name
    # A unit ("分", "分/月", "人") says how a number reads; money in fen is shown in 元.
    unit = text(d.body.get("unit")) or ""
    base: dict[str, Any] = {"name": d.name, "zh": zh, "en": en, "kind": d.kind, "unit": unit}
    if d.kind == "column":
        spec = specs.get(entity.table)
        if spec is None:
            return None
        column = str(d.body["column"])
        columns = table_env(spec)
        if column not in columns:
            errs.add(f"{d.where}.column", f"{column!r} is not a column of {entity.table}")
            return None
        return Variable(**base, type=columns[column], inputs=(), table=entity.table, column=column)
    if d.kind == "supplied":
        vtype = d.spec.get("type")
        note = text(d.spec.get("note"))
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
    errs: Errors,
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
    columns = table_env(spec)
    ok = True
    lookup = None
    if d.spec.get("lookup") is not None:
        lookup = _lookup(d, entity, specs, columns, errs)
        if lookup is None:
            return None
        register = table_env(specs[lookup.table])
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
    errs: Errors,
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
    theirs = table_env(spec)
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
    raw: Any, where: str, columns: dict[str, Type], env: dict[str, Type], errs: Errors
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


def _shared(name: str, where: str, entity: Entity, errs: Errors) -> _Draft | None:
    """The draft of a rule's ``name: shared``: the entity's variable, built and checked once."""
    found = entity.variables.get(name)
    if found is not None:
        return _Draft(name, where, {}, found.kind, {}, set(found.inputs), built=found)
    errs.failed.add(name)  # what uses it is not reported again
    if (entity.code, name) in errs.shared_failed:
        errs.add(
            where, f"the shared variable {name!r} of {entity.code} is refused in {ENTITIES_FILE}"
        )
    else:
        errs.add(
            where,
            f"{entity.code} shares no variable {name!r} (declare it under the entity's "
            f"variables in {ENTITIES_FILE})",
        )
    return None


def read_variables(
    raw: Any,
    where: str,
    entity: Entity,
    specs: Mapping[str, TableSpec],
    env: dict[str, Type],
    errs: Errors,
    *,
    taken: Collection[str] = (),
) -> dict[str, Variable]:
    """The variables written at ``where`` (``{where}.variables.<name>``), in dependency order,
    each checked against ``env`` (the names in scope), which gains each one built.

    ``name: shared`` takes the entity's shared variable, and with it the shared variables it is
    computed from, so the rule evaluates exactly what the entity declares. ``taken``: names in
    use already (the rule's parameters).
    """
    if not isinstance(raw, dict):
        errs.add(f"{where}.variables", "must be a mapping of name to variable")
        raw = {}
    drafts: dict[str, _Draft] = {}
    for name, body in raw.items():
        here = f"{where}.variables.{name}"
        if not isinstance(name, str) or not NAME.match(name) or name == EVAL_DATE:
            errs.add(here, "a name of a-z, 0-9 and _ (not eval_date)")
            continue
        if name in taken:
            errs.add(here, "a parameter has this name already")
            continue
        draft = (
            _shared(name, here, entity, errs) if body == SHARED else _draft(name, body, here, errs)
        )
        if draft is not None:
            drafts[name] = draft
    _add_shared_inputs(drafts, entity, errs)
    variables: dict[str, Variable] = {}
    for draft in _order(drafts, errs):
        built = (
            draft.built if draft.built is not None else _variable(draft, entity, specs, env, errs)
        )
        if built is None:
            errs.failed.add(draft.name)
        else:
            if built.kind == "expr" and any(i in taken for i in built.inputs):
                # A parameter read by a variable's expression is inlined with its value on the
                # date: it is no variable's input (the compiler orders variables by inputs).
                built = replace(built, inputs=tuple(i for i in built.inputs if i not in taken))
            variables[built.name] = built
            env[built.name] = built.type
    return variables


def _add_shared_inputs(drafts: dict[str, _Draft], entity: Entity, errs: Errors) -> None:
    """A shared variable's shared inputs join the rule too: the rule need not list them, and
    may not put its own variable of that name in their place."""
    todo = [d for d in drafts.values() if d.built is not None]
    while todo:
        user = todo.pop()
        for name in sorted(user.deps):
            if name not in entity.variables:
                continue
            have = drafts.get(name)
            if have is None:
                added = _shared(name, user.where, entity, errs)
                if added is not None:
                    drafts[name] = added
                    todo.append(added)
            elif have.built is None:
                errs.add(
                    have.where,
                    f"the shared {user.name} is computed from the shared {name}: write "
                    f"`{name}: shared`, or give this variable another name",
                )
