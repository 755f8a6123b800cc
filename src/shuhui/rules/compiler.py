"""A rule, on one evaluation date, as one set-based SQL query over every entity.

The query is built as a sqlglot tree, so the same rule is DuckDB SQL here and Spark SQL where
the city outgrows one machine. Its shape:

* ``s0``: the entity table, one row per entity (``k``), with the column variables;
* ``s1``, ``s2``…: one layer per dependency depth; a layer adds computed variables and, for each
  aggregate, a LEFT JOIN to the grouped source table (the window may be anchored on a variable
  of an earlier layer, such as a birthday);
* ``t1``, ``t2``…: the conditions, leaves first, each a column (``c_<id>``);
* the result: ``k``, ``v_<variable>``…, ``c_<condition>``…, ``outcome``, ``amount`` and
  ``m_<variable>``…, true where that variable is a missing input the outcome waits on.

Parameters are inlined with their value on the evaluation date, so a query is a rule *on a
date*. Unknown is SQL NULL throughout, and SQL's AND/OR/NOT are already Kleene's; what would
make NULL into a value is avoided or spelled out (see the comments at each place).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlglot import exp

from shuhui.rules.expressions import add_offset, compile_expr, date_literal, literal
from shuhui.rules.language import EVAL_DATE, Condition, Rule, Type, Variable, Window

KEY: Final = "k"
Joins = list[tuple[exp.Expr, str, exp.Expr]]  # LEFT JOINs: (subquery, alias, ON)
OUTCOMES: Final = ("eligible", "not_eligible", "undetermined")
SQL_TYPES: Final[dict[Type, str]] = {
    "bool": "boolean",
    "int": "bigint",
    "number": "double",
    "string": "varchar",
    "date": "date",
}


def v(name: str) -> str:
    return f"v_{name}"


def c(cid: str) -> str:
    return f"c_{cid}"


def m(name: str) -> str:
    return f"m_{name}"


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _null(kind: Type) -> exp.Expr:
    return exp.cast(exp.Null(), exp.DataType.build(SQL_TYPES[kind]))


def _is_null(node: exp.Expr) -> exp.Expr:
    # Parenthesised: `a <= b IS NULL` parses differently across engines.
    inner = node.copy() if isinstance(node, exp.Column) else exp.paren(node.copy())
    return exp.Is(this=inner, expression=exp.Null())


def _any(items: Sequence[exp.Expr]) -> exp.Expr:
    return exp.or_(*items) if items else exp.false()


def _all(items: Sequence[exp.Expr]) -> exp.Expr:
    return exp.and_(*items) if items else exp.true()


def _table(name: str, alias: str) -> exp.Table:
    return exp.Table(
        this=exp.to_identifier(name, quoted=True),
        alias=exp.TableAlias(this=exp.to_identifier(alias)),
    )


def _star(table: str) -> exp.Column:
    return exp.Column(this=exp.Star(), table=exp.to_identifier(table))


@dataclass(frozen=True)
class Compiled:
    rule: Rule
    on: date
    query: exp.Select

    def sql(self, dialect: str = "duckdb", *, pretty: bool = False) -> str:
        return self.query.sql(dialect=dialect, pretty=pretty)


class _Resolver:
    """Names in rule expressions: variables are columns of the layer below, parameters are their
    value on the date, ``eval_date`` is the date."""

    def __init__(self, rule: Rule, on: date, alias: str) -> None:
        self.rule, self.on, self.alias = rule, on, alias

    def __call__(self, name: str) -> exp.Expr:
        if name == EVAL_DATE:
            return date_literal(self.on)
        if name in self.rule.variables:
            return col(v(name), self.alias)
        param = self.rule.parameters[name].value_on(self.on)
        if param is None:  # the service checks dates before compiling; this is a bug guard
            raise ValueError(f"{self.rule.code}: parameter {name} has no value on {self.on}")
        return literal(param.value)


def _columns_of(node: exp.Expr, table_alias: str) -> exp.Expr:
    """An expression over a source table's columns, qualified with the table's alias."""

    def qualify(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Column):
            return col(n.name, table_alias)
        return n

    return compile_expr(node, lambda name: col(name, table_alias)).transform(qualify)


def window_predicate(window: Window, row: str, anchor: exp.Expr) -> list[exp.Expr]:
    """The window's bounds on rows of alias ``row``, both ends included."""
    on = col(window.on, row)
    bounds: list[exp.Expr] = []
    if window.start is not None:
        s = window.start
        bounds.append(
            exp.GTE(this=on, expression=add_offset(anchor.copy(), s.years, s.months, s.days))
        )
    if window.end is not None:
        e = window.end
        bounds.append(
            exp.LTE(this=on.copy(), expression=add_offset(anchor.copy(), e.years, e.months, e.days))
        )
    return bounds


def row_predicate(var: Variable, row: str, anchor: exp.Expr) -> exp.Expr:
    """Whether a row of the variable's table counts for it: true, false, or unknown (NULL)."""
    parts: list[exp.Expr] = []
    if var.where is not None:
        parts.append(exp.paren(_columns_of(var.where, row)))
    if var.window is not None:
        parts += window_predicate(var.window, row, anchor)
    return _all(parts)


def source_rows(var: Variable, alias: str = "t") -> exp.Expr:
    """The rows an aggregate reads, as ``alias``: its source table, or that table with a
    register looked up (LEFT JOIN: every source row stays, and the flag says if it matched)."""
    assert var.table is not None
    lookup = var.lookup
    if lookup is None:
        return _table(var.table, alias)
    found = exp.not_(_is_null(col(lookup.key, "l")))
    rows = (
        exp.select(
            _star("s"),
            *[col(name, "l") for name in lookup.columns],
            exp.alias_(found, lookup.flag, quoted=True, copy=False),
        )
        .from_(_table(var.table, "s"), copy=False)
        .join(
            _table(lookup.table, "l"),
            on=exp.EQ(this=col(lookup.on, "s"), expression=col(lookup.key, "l")),
            join_type="left",
            copy=False,
        )
    )
    return rows.subquery(alias, copy=False)


def _anchor(var: Variable, rule: Rule, on: date, alias: str) -> exp.Expr:
    if var.window is None or var.window.anchor == EVAL_DATE:
        return date_literal(on)
    return col(v(var.window.anchor), alias)


def _anchored_per_entity(var: Variable) -> bool:
    return var.window is not None and var.window.anchor != EVAL_DATE


def _aggregate(
    var: Variable, rule: Rule, on: date, below: str, alias: str, wanted: exp.Expr | None
) -> tuple[exp.Expr, Joins]:
    """The variable's value expression and the LEFT JOINs (subquery, alias, ON) it needs.

    ``wanted``, when the query is for one entity, is its key (a literal or the parameter)."""
    assert var.table is not None
    source = rule.entity.sources[var.table]
    # A window anchored on each entity's own date (a birthday) needs the entity's row beside its
    # source rows, and then every aggregate of the rule meets its entities the same way (the
    # layer is materialised for those readers anyway; an aggregate grouped on its own there
    # skews DuckDB's estimates so that it builds its hash joins on the big source instead,
    # 10x slower for 稳岗返还). In a rule without such windows the sources are grouped on
    # their own: joining the layer below would make DuckDB materialise it for two readers, the
    # costliest step of a run (高龄津贴).
    per_entity = any(_anchored_per_entity(x) for x in rule.variables.values())
    owner = col(KEY, "q") if per_entity else col(source.key, "t")
    mine: list[exp.Expr] = []
    if wanted is not None:  # one entity's rows only: the sorted source's row groups are skipped
        mine.append(exp.EQ(this=col(source.key, "t"), expression=wanted.copy()))
    pred = row_predicate(var, "t", _anchor(var, rule, on, "q"))
    matched = exp.Case(ifs=[exp.If(this=pred.copy(), true=exp.Literal.number(1))])
    # Rows that cannot be placed in or out of the count (a NULL in the filter, the window's date
    # or the summed value) make the aggregate unknown: dropping them would undercount silently.
    doubt: list[exp.Expr] = [_is_null(pred)]
    value: exp.Expr
    if var.kind == "count":
        value = exp.Count(this=matched)
    elif var.kind == "exists":
        value = exp.Max(
            this=exp.Case(
                ifs=[exp.If(this=pred.copy(), true=exp.Literal.number(1))],
                default=exp.Literal.number(0),
            )
        )
    elif var.kind == "count_distinct":
        assert var.column is not None
        picked = col(var.column, "t")
        value = exp.Count(
            this=exp.Distinct(expressions=[exp.Case(ifs=[exp.If(this=pred.copy(), true=picked)])])
        )
        doubt.append(exp.and_(pred.copy(), _is_null(picked)))
    elif var.kind == "sum":
        assert var.of is not None
        amount = exp.paren(_columns_of(var.of, "t"))
        value = exp.Sum(this=exp.Case(ifs=[exp.If(this=pred.copy(), true=amount)]))
        doubt.append(exp.and_(pred.copy(), _is_null(amount)))
    else:  # latest: whether anything matched here; the value comes from a second join
        assert var.order_by is not None
        value = exp.Max(
            this=exp.Case(
                ifs=[exp.If(this=pred.copy(), true=exp.Literal.number(1))],
                default=exp.Literal.number(0),
            )
        )
        doubt.append(exp.and_(pred.copy(), _is_null(col(var.order_by, "t"))))
    join_on = exp.EQ(this=col(source.key, "t"), expression=col(KEY, "q"))
    grouped = exp.select(
        exp.alias_(owner.copy(), KEY, quoted=True, copy=False),
        exp.alias_(
            exp.Count(this=exp.Case(ifs=[exp.If(this=_any(doubt), true=exp.Literal.number(1))])),
            "u",
            quoted=True,
        ),
        exp.alias_(value, "v", quoted=True, copy=False),
    )
    if per_entity:
        # The entities first: DuckDB then builds its hash table on them, not on the source (a
        # city's contributions), and filters the source's scan by their keys.
        grouped = grouped.from_(_table(below, "q"), copy=False).join(
            source_rows(var), on=join_on.copy(), copy=False
        )
    else:
        grouped = grouped.from_(source_rows(var), copy=False)
    if mine:
        grouped = grouped.where(*mine, copy=False)
    grouped = grouped.group_by(owner.copy(), copy=False)
    agg = f"a_{var.name}"
    joins: Joins = [
        (
            grouped.subquery(agg, copy=False),
            agg,
            exp.EQ(this=col(KEY, agg), expression=col(KEY, alias)),
        )
    ]
    a_v, a_u, a_k = col("v", agg), col("u", agg), col(KEY, agg)

    ifs: list[exp.Expr] = []
    if var.window is not None and var.window.anchor != EVAL_DATE:
        # Rows cannot be placed in a window around an unknown date, even when there are none.
        ifs.append(exp.If(this=_is_null(col(v(var.window.anchor), alias)), true=exp.Null()))
    source_complete = source.complete
    if var.kind == "exists":
        ifs.append(exp.If(this=exp.EQ(this=a_v, expression=exp.Literal.number(1)), true=exp.true()))
        ifs.append(exp.If(this=exp.GT(this=a_u, expression=exp.Literal.number(0)), true=exp.Null()))
        # Nothing found: false only where the source holds every row there is.
        default: exp.Expr = exp.false() if source_complete else _null("bool")
        return exp.Case(ifs=ifs, default=default), joins
    ifs.append(exp.If(this=exp.GT(this=a_u, expression=exp.Literal.number(0)), true=exp.Null()))
    if var.kind == "latest":
        assert var.column is not None and var.order_by is not None
        latest = f"l_{var.name}"
        order = exp.Order(
            expressions=[
                exp.Ordered(this=col(var.order_by, "t"), desc=True, nulls_first=False),
                exp.Ordered(this=col(var.column, "t"), desc=True, nulls_first=False),
            ]
        )
        ranked = exp.select(
            exp.alias_(owner.copy(), KEY, quoted=True, copy=False),
            exp.alias_(col(var.column, "t"), "v", quoted=True, copy=False),
            exp.alias_(
                exp.Window(this=exp.RowNumber(), partition_by=[owner.copy()], order=order),
                "rn",
                quoted=True,
            ),
        ).from_(source_rows(var), copy=False)
        if per_entity:
            ranked = ranked.join(_table(below, "q"), on=join_on.copy(), copy=False)
        ranked = ranked.where(pred.copy(), *(x.copy() for x in mine), copy=False)
        first = (
            exp.select(col(KEY), col("v"))
            .from_(ranked.subquery("r", copy=False), copy=False)
            .where(exp.EQ(this=col("rn"), expression=exp.Literal.number(1)), copy=False)
        )
        joins.append(
            (
                first.subquery(latest, copy=False),
                latest,
                exp.EQ(this=col(KEY, latest), expression=col(KEY, alias)),
            )
        )
        # No matching row: there is no latest value; a condition on it is unknown.
        return exp.Case(ifs=ifs, default=col("v", latest)), joins
    # A complete source with no rows for this entity: nothing happened, so 0 — the one place a
    # missing row means a value, and only because the entity says the source is complete.
    ifs.append(exp.If(this=_is_null(a_k), true=exp.Literal.number(0)))
    # SUM over rows none of which matched is NULL in SQL; no row was in doubt (u = 0), so it is 0.
    total = (
        exp.Coalesce(this=a_v, expressions=[exp.Literal.number(0)]) if var.kind == "sum" else a_v
    )
    sql_type = exp.DataType.build(SQL_TYPES[var.type])
    return exp.cast(exp.Case(ifs=ifs, default=total), sql_type), joins


def _depths(rule: Rule) -> dict[str, int]:
    depth: dict[str, int] = {}
    for name, var in rule.variables.items():  # dependency order: inputs come first
        if var.kind in ("column", "supplied"):
            depth[name] = 0
        else:
            depth[name] = 1 + max((depth[i] for i in var.inputs), default=0)
    return depth


def _heights(node: Condition, out: dict[str, int]) -> int:
    height = 1 + max((_heights(child, out) for child in node.children), default=-1)
    out[node.id] = height
    return height


def _leaf_paths(
    node: Condition, path: tuple[str, ...] = ()
) -> list[tuple[Condition, tuple[str, ...]]]:
    here = (*path, node.id)
    if node.kind == "test":
        return [(node, here)]
    found = []
    for child in node.children:
        found += _leaf_paths(child, here)
    return found


def closure(rule: Rule, names: tuple[str, ...]) -> set[str]:
    """The variables ``names`` are computed from, themselves included."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += rule.variables[name].inputs
    return seen


def _missing(rule: Rule, alias: str) -> dict[str, exp.Expr]:
    """Per variable: is it a missing input that the (undetermined) outcome waits on?

    A leaf counts when it and every condition above it are unknown (a known sibling would have
    decided). From it, blame follows unknown variables down to those whose own inputs are all
    known: a missing column or supplied value, an aggregate whose rows are in doubt, or a
    computation that is unknown by itself (a division by zero).
    """

    def null(name: str) -> exp.Expr:
        return _is_null(col(v(name), alias))

    users: dict[str, list[str]] = {name: [] for name in rule.variables}
    for name, var in rule.variables.items():
        for i in var.inputs:
            users[i].append(name)
    per_var: dict[str, list[exp.Expr]] = {name: [] for name in rule.variables}
    for leaf, path in _leaf_paths(rule.condition):
        reached = _all([_is_null(col(c(cid), alias)) for cid in path])
        within = closure(rule, leaf.refs)
        chain: dict[str, exp.Expr] = {}

        def along(
            name: str,
            leaf: Condition = leaf,
            within: set[str] = within,
            chain: dict[str, exp.Expr] = chain,
        ) -> exp.Expr:
            if name not in chain:
                ways = [along(u) for u in users[name] if u in within]
                if name in leaf.refs:
                    ways.append(exp.true())
                chain[name] = exp.and_(null(name), exp.paren(_any(ways)))
            return chain[name]

        for name in within:
            per_var[name].append(exp.and_(reached.copy(), along(name)))
    flags: dict[str, exp.Expr] = {}
    for name, var in rule.variables.items():
        if not per_var[name]:
            flags[name] = exp.false()
            continue
        own = exp.not_(exp.paren(_any([null(i) for i in var.inputs]))) if var.inputs else exp.true()
        flags[name] = exp.and_(exp.paren(_any(per_var[name])), own)
    return flags


def _given(var: Variable, value: Any) -> exp.Expr:
    return exp.cast(literal(value), exp.DataType.build(SQL_TYPES[var.type]))


def compile_rule(
    rule: Rule,
    on: date,
    *,
    key: str | None = None,
    by_key: bool = False,
    supplied: Mapping[str, Any] | None = None,
    among: exp.Query | None = None,
) -> Compiled:
    """The rule on ``on`` for every entity, or for the one whose key is ``key``; with
    ``by_key``, for the one whose key is the query's parameter (``$1``), so one compiled query
    serves every explanation on that date. ``supplied`` gives variables a value from outside
    the data core (an applicant's answers, checked by :func:`parse_value`): each replaces the
    variable's own value, and what depends on it follows. ``among`` (a query of keys) keeps
    only those entities from the first layer on, so a program's batch over part of the entity
    (the pensioners among the residents) carries its fewer rows through every layer."""
    entity = rule.entity

    def resolve_from(alias: str) -> _Resolver:
        return _Resolver(rule, on, alias)

    ctes: list[tuple[str, exp.Select]] = []

    # s0: the entity table's row per entity, its column variables, and the supplied inputs
    # (unknown here by definition: the data core does not hold them).
    given = {k: x for k, x in (supplied or {}).items() if x is not None}
    base = [exp.alias_(col(entity.key, "e"), KEY, quoted=True, copy=False)]
    for name, var in rule.variables.items():
        if name in given and var.kind in ("column", "supplied"):
            base.append(exp.alias_(_given(var, given[name]), v(name), quoted=True, copy=False))
        elif var.kind == "column":
            assert var.column is not None
            base.append(exp.alias_(col(var.column, "e"), v(name), quoted=True))
        elif var.kind == "supplied":
            base.append(exp.alias_(_null(var.type), v(name), quoted=True))
    s0 = exp.select(*base).from_(_table(entity.table, "e"), copy=False)
    wanted: exp.Expr | None = None
    if key is not None or by_key:
        # $1, not ?: the key is compared in s0 and again in every aggregate's source.
        wanted = exp.Placeholder(this="1") if by_key else exp.Literal.string(str(key))
        s0 = s0.where(exp.EQ(this=col(entity.key, "e"), expression=wanted.copy()), copy=False)
    if among is not None:
        subset = exp.Subquery(this=among.copy())
        s0 = s0.where(exp.In(this=col(entity.key, "e"), query=subset), copy=False)
    ctes.append(("s0", s0))

    depth = _depths(rule)
    for level in range(1, max(depth.values(), default=0) + 1):
        below = ctes[-1][0]
        layer = exp.select(_star("p")).from_(_table(below, "p"), copy=False)
        for name, var in rule.variables.items():
            if depth[name] != level:
                continue
            if name in given:
                value = _given(var, given[name])
                layer = layer.select(
                    exp.alias_(value, v(name), quoted=True, copy=False), copy=False
                )
            elif var.kind == "expr":
                assert var.expr is not None
                value = compile_expr(var.expr, resolve_from("p"))
                layer = layer.select(
                    exp.alias_(value, v(name), quoted=True, copy=False), copy=False
                )
            else:
                value, joins = _aggregate(var, rule, on, below, "p", wanted)
                for sub, _alias, on_clause in joins:
                    layer = layer.join(sub, on=on_clause, join_type="left", copy=False)
                layer = layer.select(
                    exp.alias_(value, v(name), quoted=True, copy=False), copy=False
                )
        ctes.append((f"s{level}", layer))

    heights: dict[str, int] = {}
    _heights(rule.condition, heights)
    nodes = {node.id: node for node in rule.condition.walk()}
    for level in range(max(heights.values()) + 1):
        below = ctes[-1][0]
        layer = exp.select(_star("p")).from_(_table(below, "p"), copy=False)
        for cid, node in nodes.items():
            if heights[cid] != level:
                continue
            kids: list[exp.Expr] = [col(c(child.id), "p") for child in node.children]
            if node.kind == "test":
                assert node.test is not None
                value = compile_expr(node.test, resolve_from("p"))
            elif node.kind == "all":
                value = _all(kids)
            elif node.kind == "any":
                value = _any(kids)
            else:
                value = exp.not_(kids[0])
            layer = layer.select(
                exp.alias_(exp.paren(value), c(cid), quoted=True, copy=False), copy=False
            )
        ctes.append((f"t{level + 1}", layer))

    last = ctes[-1][0]
    root = col(c(rule.condition.id), "p")
    outcome = exp.Case(
        ifs=[
            exp.If(this=root, true=exp.Literal.string("eligible")),
            exp.If(this=exp.not_(root.copy()), true=exp.Literal.string("not_eligible")),
        ],
        default=exp.Literal.string("undetermined"),
    )
    if rule.amount is not None:
        amount: exp.Expr = exp.Case(
            ifs=[exp.If(this=root.copy(), true=compile_expr(rule.amount.expr, resolve_from("p")))]
        )
    else:
        amount = _null("int")
    select: list[exp.Expr] = [col(KEY, "p")]
    select += [col(v(name), "p") for name in rule.variables]
    select += [col(c(cid), "p") for cid in nodes]
    select += [
        exp.alias_(outcome, "outcome", quoted=True, copy=False),
        exp.alias_(amount, "amount", quoted=True, copy=False),
    ]
    select += [
        exp.alias_(flag, m(name), quoted=True, copy=False)
        for name, flag in _missing(rule, "p").items()
    ]
    query = exp.select(*select).from_(_table(last, "p"), copy=False)
    for name, cte in ctes:
        query = query.with_(name, as_=cte, copy=False)
    return Compiled(rule, on, query)
