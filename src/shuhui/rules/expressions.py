"""The small expression language of rules: SQL syntax, parsed by sqlglot, with a closed list of
operators and functions, a type checker, and a compiler that keeps unknown unknown.

Two things SQL would do silently are refused or rewritten, because each turns a missing input
into an answer: ``IS NULL``/``COALESCE`` and friends are refused outright, and ``CASE`` is
compiled so that a condition that is unknown makes the whole ``CASE`` unknown instead of falling
through to the next branch. Division by zero is unknown on every engine (DuckDB would say inf).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from shuhui.rules.language import NUMERIC, Type

# Functions a rule may call: argument types and result type. Calendar arithmetic is spelled out
# here because engines disagree on it (DuckDB's date_diff('year') counts boundaries, not ages).
FUNCTIONS: dict[str, tuple[tuple[Type, ...], Type]] = {
    "years_between": (("date", "date"), "int"),  # whole years from the first date to the second
    "months_between": (("date", "date"), "int"),
    "days_between": (("date", "date"), "int"),
    "add_days": (("date", "int"), "date"),
    "add_months": (("date", "int"), "date"),
    "add_years": (("date", "int"), "date"),
    "start_of_year": (("date",), "date"),
    "start_of_month": (("date",), "date"),
    # known(b): true where b is known to be true, false where b is false *or unknown*. The one
    # way a rule may read an unknown as something: counting evidence, where a sample that shows
    # nothing proves nothing but adds nothing either (a certification's score of the sources
    # found, ``policies/pension-certification.yaml``). Never unknown itself, so it never names a
    # missing input; use it for evidence that counts when found, not for conditions of a right.
    "known": (("bool",), "bool"),
}

_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div)
_HIDES_UNKNOWN = (exp.Is, exp.Coalesce, exp.Nvl2, exp.If)


class ExprError(ValueError):
    """A reason an expression is refused; the loader adds the field path."""


@dataclass(frozen=True)
class Checked:
    type: Type
    names: frozenset[str]  # every name the expression reads


def parse(text: object) -> exp.Expr:
    if not isinstance(text, str) or not text.strip():
        raise ExprError("must be an expression (text)")
    try:
        node = sqlglot.parse_one(text, dialect="duckdb")
    except ParseError as exc:
        raise ExprError(f"cannot parse: {str(exc).splitlines()[0]}") from None
    if node is None:
        raise ExprError("empty expression")
    return node.transform(_as_rule_function)


def _as_rule_function(node: exp.Expr) -> exp.Expr:
    # sqlglot reads some of the rule functions (months_between, add_months) as its own typed
    # nodes, whose meaning differs by engine; the rule language's are compiled from FUNCTIONS.
    if isinstance(node, exp.Func) and not isinstance(node, exp.Anonymous):
        name = node.sql_name().lower()
        if name in FUNCTIONS:
            args = [a for a in node.args.values() if isinstance(a, exp.Expr)]
            return exp.Anonymous(this=name, expressions=args)
    return node


def _compatible(a: Type, b: Type) -> bool:
    return a == b or (a in NUMERIC and b in NUMERIC)


def _unify(a: Type, b: Type) -> Type:
    return "number" if a != b else a


def check(node: exp.Expr, env: Mapping[str, Type], *, rows: bool = False) -> Checked:
    """The type of ``node`` where names have the types in ``env``; refuses anything else.

    ``rows`` is for filters on a source table's rows, where ``col IS [NOT] NULL`` may select
    rows by a column whose NULL has a meaning the table states (an employment with no end date
    is still going on). Over a rule's variables, NULL only ever means missing, so it is refused.
    """
    names: set[str] = set()

    def name_of(column: exp.Column) -> str:
        if column.table:
            raise ExprError(f"{column.sql()}: use a plain name, not a qualified one")
        return column.name

    def typed(n: exp.Expr) -> Type:
        if isinstance(n, exp.Paren):
            return typed(n.this)
        if isinstance(n, exp.Column):
            name = name_of(n)
            if name not in env:
                raise ExprError(f"unknown name {name!r}")
            names.add(name)
            return env[name]
        if isinstance(n, exp.Boolean):
            return "bool"
        if isinstance(n, exp.Literal):
            if n.is_string:
                return "string"
            return "int" if n.this.lstrip("-").isdigit() else "number"
        if isinstance(n, exp.Cast):
            # Only DATE '2024-01-01', the way to write a date literal.
            if not (n.is_type("date") and isinstance(n.this, exp.Literal) and n.this.is_string):
                raise ExprError(f"{n.sql()}: only DATE 'YYYY-MM-DD' literals may be cast")
            try:
                date.fromisoformat(n.this.this)
            except ValueError:
                raise ExprError(f"{n.sql()}: not a date") from None
            return "date"
        if rows and isinstance(n, exp.Is) and isinstance(n.expression, exp.Null):
            if not isinstance(n.this, exp.Column):
                raise ExprError(f"{n.sql()}: IS NULL applies to a column")
            typed(n.this)
            return "bool"
        if isinstance(n, _HIDES_UNKNOWN) or n.key in ("ifnull", "nvl", "nullif"):
            raise ExprError(
                f"{n.sql()}: not allowed, it would turn a missing input into a value "
                "(unknown must stay unknown)"
            )
        if isinstance(n, exp.Null):
            raise ExprError("NULL is not a value a rule may state; a missing input is unknown")
        if isinstance(n, exp.Neg):
            t = typed(n.this)
            if t not in NUMERIC:
                raise ExprError(f"{n.sql()}: minus needs a number, got {t}")
            return t
        if isinstance(n, _ARITHMETIC):
            a, b = typed(n.this), typed(n.expression)
            if a not in NUMERIC or b not in NUMERIC:
                raise ExprError(f"{n.sql()}: arithmetic needs numbers, got {a} and {b}")
            return "number" if isinstance(n, exp.Div) else _unify(a, b)
        if isinstance(n, _COMPARISONS):
            a, b = typed(n.this), typed(n.expression)
            if not _compatible(a, b):
                raise ExprError(f"{n.sql()}: cannot compare {a} with {b}")
            return "bool"
        if isinstance(n, exp.And | exp.Or):
            for side in (n.this, n.expression):
                if typed(side) != "bool":
                    raise ExprError(f"{side.sql()}: needs a condition (bool)")
            return "bool"
        if isinstance(n, exp.Not):
            if typed(n.this) != "bool":
                raise ExprError(f"{n.sql()}: NOT needs a condition (bool)")
            return "bool"
        if isinstance(n, exp.In):
            if n.args.get("query") or n.args.get("unnest") or n.args.get("field"):
                raise ExprError(f"{n.sql()}: IN takes a list of values")
            t = typed(n.this)
            for item in n.expressions:
                if not isinstance(item, exp.Literal | exp.Cast | exp.Boolean | exp.Neg):
                    raise ExprError(f"{item.sql()}: IN lists hold literal values")
                if not _compatible(t, typed(item)):
                    raise ExprError(f"{n.sql()}: {item.sql()} is not a {t}")
            return "bool"
        if isinstance(n, exp.Between):
            t = typed(n.this)
            for bound in (n.args["low"], n.args["high"]):
                if not _compatible(t, typed(bound)):
                    raise ExprError(f"{n.sql()}: bounds must be {t}")
            return "bool"
        if isinstance(n, exp.Case):
            if n.this is not None:
                raise ExprError(f"{n.sql()}: write CASE WHEN <condition> THEN …")
            default = n.args.get("default")
            if default is None:
                raise ExprError(f"{n.sql()}: CASE needs an ELSE (no branch must not mean NULL)")
            result = typed(default)
            for branch in n.args["ifs"]:
                if typed(branch.this) != "bool":
                    raise ExprError(f"{branch.this.sql()}: WHEN needs a condition (bool)")
                value = typed(branch.args["true"])
                if not _compatible(result, value):
                    raise ExprError(f"{n.sql()}: branches are {result} and {value}")
                result = _unify(result, value)
            return result
        if isinstance(n, exp.Round | exp.Abs):
            if isinstance(n, exp.Round) and n.args.get("decimals") is not None:
                raise ExprError(f"{n.sql()}: round() rounds to a whole number, no decimals")
            t = typed(n.this)
            if t not in NUMERIC:
                raise ExprError(f"{n.sql()}: needs a number, got {t}")
            return "int" if isinstance(n, exp.Round) else t
        if isinstance(n, exp.Anonymous):
            fname = str(n.this).lower()
            if fname not in FUNCTIONS:
                raise ExprError(f"unknown function {fname}(); known: {', '.join(FUNCTIONS)}")
            params, result = FUNCTIONS[fname]
            if len(n.expressions) != len(params):
                raise ExprError(f"{fname}() takes {len(params)} arguments")
            for arg, want in zip(n.expressions, params, strict=True):
                got = typed(arg)
                if not _compatible(got, want):
                    raise ExprError(f"{fname}(): {arg.sql()} is {got}, needs {want}")
            return result
        raise ExprError(f"{n.sql()}: not allowed in a rule ({n.key})")

    result = typed(node)
    return Checked(result, frozenset(names))


# --- compiling -----------------------------------------------------------------------------


def date_literal(value: date) -> exp.Expr:
    return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("date"))


def literal(value: bool | int | float | str | date) -> exp.Expr:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, date):
        return date_literal(value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(value)


def _as_date(node: exp.Expr) -> exp.Expr:
    # DuckDB's date ± interval is a timestamp; the language's dates stay dates everywhere.
    return exp.cast(node, exp.DataType.build("date"))


def _add(node: exp.Expr, n: exp.Expr, unit: str) -> exp.Expr:
    return _as_date(exp.DateAdd(this=node, expression=n, unit=exp.var(unit)))


def add_offset(node: exp.Expr, years: int, months: int, days: int) -> exp.Expr:
    out = node
    if years or months:
        out = _add(out, exp.Literal.number(years * 12 + months), "MONTH")
    if days:
        out = _add(out, exp.Literal.number(days), "DAY")
    return out if out is not node else _as_date(node)


def _whole(start: exp.Expr, end: exp.Expr, unit: str) -> exp.Expr:
    """Whole years or months from ``start`` to ``end``: an age is not a count of new years."""
    y = exp.Sub(this=exp.Year(this=end.copy()), expression=exp.Year(this=start.copy()))
    m = exp.Sub(this=exp.Month(this=end.copy()), expression=exp.Month(this=start.copy()))
    day_before = exp.LT(this=exp.Day(this=end.copy()), expression=exp.Day(this=start.copy()))
    if unit == "year":
        before = exp.or_(
            exp.LT(this=exp.Month(this=end.copy()), expression=exp.Month(this=start.copy())),
            exp.and_(
                exp.EQ(this=exp.Month(this=end.copy()), expression=exp.Month(this=start.copy())),
                day_before,
            ),
        )
        base: exp.Expr = y
    else:
        before = day_before
        base = exp.Add(
            this=exp.Mul(this=exp.paren(y), expression=exp.Literal.number(12)), expression=m
        )
    # An unknown date makes every part unknown, so the CASE's fall-through cannot hide it.
    return exp.Sub(
        this=exp.paren(base),
        expression=exp.Case(
            ifs=[exp.If(this=before, true=exp.Literal.number(1))],
            default=exp.Literal.number(0),
        ),
    )


def _trunc(node: exp.Expr, unit: str) -> exp.Expr:
    # exp.func builds the dialect-neutral DateTrunc node (its constructor is untyped).
    return exp.func("DATE_TRUNC", exp.Literal.string(unit), node)


def _function(name: str, args: list[exp.Expr]) -> exp.Expr:
    if name == "years_between":
        return _whole(args[0], args[1], "year")
    if name == "months_between":
        return _whole(args[0], args[1], "month")
    if name == "days_between":
        return exp.DateDiff(this=args[1], expression=args[0], unit=exp.var("DAY"))
    if name == "add_days":
        return _add(args[0], args[1], "DAY")
    if name == "add_months":
        return _add(args[0], args[1], "MONTH")
    if name == "add_years":
        return _add(args[0], exp.Mul(this=args[1], expression=exp.Literal.number(12)), "MONTH")
    if name == "start_of_year":
        return _as_date(_trunc(args[0], "YEAR"))
    if name == "start_of_month":
        return _as_date(_trunc(args[0], "MONTH"))
    if name == "known":
        # IS TRUE is never NULL (DuckDB and Spark alike): unknown and false both give false.
        return exp.paren(exp.Is(this=exp.paren(args[0]), expression=exp.true()))
    raise AssertionError(name)


def compile_expr(node: exp.Expr, resolve: Callable[[str], exp.Expr]) -> exp.Expr:
    """A checked expression as SQL, each name replaced by ``resolve(name)``."""

    def rewrite(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Column):
            return resolve(n.name)
        if isinstance(n, exp.Anonymous):
            return _function(str(n.this).lower(), [rewrite(a) for a in n.expressions])
        if isinstance(n, exp.Div):
            # x / 0 is unknown, on DuckDB (which says inf) as on Spark (which says NULL).
            divisor = rewrite(n.expression)
            return exp.Div(
                this=rewrite(n.this),
                expression=exp.Nullif(this=divisor, expression=exp.Literal.number(0)),
            )
        if isinstance(n, exp.Round):
            return exp.cast(exp.Round(this=rewrite(n.this)), exp.DataType.build("bigint"))
        if isinstance(n, exp.Case):
            # SQL's CASE treats an unknown WHEN as false and goes on to the next branch; here an
            # unknown WHEN makes the result unknown (a NULL THEN), so unknown is never a branch.
            ifs: list[exp.Expr] = []
            for branch in n.args["ifs"]:
                cond = rewrite(branch.this)
                ifs.append(exp.If(this=cond, true=rewrite(branch.args["true"])))
                ifs.append(
                    exp.If(
                        this=exp.Is(this=exp.paren(cond.copy()), expression=exp.Null()),
                        true=exp.Null(),
                    )
                )
            return exp.Case(ifs=ifs, default=rewrite(n.args["default"]))
        copied = n.copy()
        for key, value in list(copied.args.items()):
            if isinstance(value, exp.Expr):
                copied.set(key, rewrite(value))
            elif isinstance(value, list):
                copied.set(key, [rewrite(v) if isinstance(v, exp.Expr) else v for v in value])
        return copied

    return rewrite(node)
