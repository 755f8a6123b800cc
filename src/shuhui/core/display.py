"""How pages show things to people: money, masked identifiers, a refusal next to its fields.

One place for each, so every domain's pages agree (a domain's pages call these, or use the Jinja
filters ``yuan`` and ``masked_id`` that the app factory registers from here)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from shuhui.core.errors import Problem
from shuhui.core.money import is_fen_unit, shown_unit

NONE_SHOWN = "—"


def yuan(fen: int | float | None) -> str:
    """Integer fen (分, how money is stored) as yuan with two decimals and thousands
    separators: 123456 -> "1,234.56"; nothing known -> "—"."""
    if fen is None:
        return NONE_SHOWN
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{'-' if fen < 0 else ''}{whole:,}.{cents:02d}"


def yuan_text(amount: str | Decimal | None) -> str:
    """An amount already in yuan (a valuation's decimal text, "1234567.8") as people read it:
    "1,234,567.80"; nothing known or not a number → "—"."""
    if amount is None:
        return NONE_SHOWN
    try:
        value = Decimal(str(amount))
        if not value.is_finite():
            return NONE_SHOWN
        return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    except InvalidOperation:  # not a number, or more digits than a decimal context holds
        return NONE_SHOWN


def quantity(value: float | None, unit: str | None = None) -> str:
    """A figure as people read it: thousands separated, one decimal below 100 and two below 1
    (shares, rates), none above; an amount in 元 as :func:`yuan` shows it; "—" if none."""
    if value is None:
        return NONE_SHOWN
    if unit in ("元", "yuan"):
        return yuan(round(value * 100))
    size = abs(value)
    if size >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.1f}" if size >= 1 else f"{value:,.2f}"


def with_unit(value: object, unit: str | None) -> str:
    """A value with its unit as people read it: an amount in a fen unit ("分", "分/月") in 元
    (``10000, "分/月"`` → "100.00 元/月"), anything else as it is with its unit."""
    if value is None:
        return NONE_SHOWN
    if (
        unit
        and is_fen_unit(unit)
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return f"{yuan(value)} {shown_unit(unit)}"
    return f"{value} {unit}" if unit else str(value)


def _as_date(value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value if len(value) > 7 else f"{value}-01")
    except ValueError:
        return None


def local_date(value: date | str | None) -> str:
    """A date as people write it here: 2024年5月1日 (an ISO string or a date); "—" if none."""
    day = _as_date(value)
    return NONE_SHOWN if day is None else f"{day.year}年{day.month}月{day.day}日"


def month_text(value: date | str | None) -> str:
    """A month (its first day, or ``YYYY-MM``) as people write it: 2024年5月; "—" if none."""
    day = _as_date(value)
    return NONE_SHOWN if day is None else f"{day.year}年{day.month}月"


def mask_citizen_id(value: str | None) -> str:
    """A citizen ID as lists show it to officers: enough to tell people apart, not to copy
    (``370202********123X``, the usual public form). A credit code (starting 9) or anything
    that is not an 18-character ID is shown as it is."""
    if value is None:
        return NONE_SHOWN
    if len(value) == 18 and value[:6].isdigit() and not value.startswith("9"):
        return value[:6] + "*" * 8 + value[14:]
    return value


Labeller = Callable[[str], tuple[str, str]]


def labels_from(table: Mapping[str, tuple[str, str]]) -> Labeller:
    """A labeller reading a field's (zh, en) label from a table, by the whole field name first,
    then by its first dotted part (``weights.0`` → ``weights``); unknown fields keep their
    name."""

    def label(field: str) -> tuple[str, str]:
        found = table.get(field) or table.get(field.split(".", 1)[0])
        return found if found is not None else (field, field)

    return label


def shown_errors(
    refusal: Problem | None, label: Labeller, failed: str | None = None
) -> dict[str, Any]:
    """A refusal as a page shows it: which form failed, a summary naming each field by its
    label, and each field's reasons (joined with "；") keyed by the field they go next to.
    The detail is shown as the summary only when no field says more."""
    if refusal is None:
        return {"failed": failed, "message": None, "errors": [], "field_errors": {}}
    listed: list[dict[str, str]] = []
    by_field: dict[str, str] = {}
    for e in refusal.errors:
        zh, en = label(e.field)
        listed.append({"field": e.field, "zh": zh, "en": en, "reason": e.reason})
        by_field[e.field] = f"{by_field[e.field]}；{e.reason}" if e.field in by_field else e.reason
    message = refusal.detail if refusal.slug != "validation" or not refusal.errors else None
    return {"failed": failed, "message": message, "errors": listed, "field_errors": by_field}


Placer = Callable[[str], tuple[str, str, str]]


def shown_errors_by_place(
    refusal: Problem | None, place: Placer, failed: str | None = None
) -> dict[str, Any]:
    """A refusal as a page shows it when one form field holds many values (a list of yearly
    incomes, lines of comparables): ``place`` says, for each refused field path, the form field
    its reason goes next to and the path's (zh, en) label. Each form field gets the list of its
    reasons; a reason about one value of it says ``which`` (its label names the value). The
    summary, the message and ``failed`` are as :func:`shown_errors` gives them."""
    if refusal is None:
        return {"failed": failed, "message": None, "errors": [], "field_errors": {}}
    listed: list[dict[str, Any]] = []
    by_field: dict[str, list[dict[str, Any]]] = {}
    for e in refusal.errors:
        key, zh, en = place(e.field)
        shown = {"field": e.field, "zh": zh, "en": en, "reason": e.reason, "which": key != e.field}
        listed.append(shown)
        by_field.setdefault(key, []).append(shown)
    message = refusal.detail if refusal.slug != "validation" or not refusal.errors else None
    return {"failed": failed, "message": message, "errors": listed, "field_errors": by_field}
