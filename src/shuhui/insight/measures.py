"""The domains' figures an indicator may name as its formula (``measure: <domain>.<name>`` in
``content/<city>/insight/indicators/<map>.yaml``), where a SQL query over the data core would
not do: figures of the operational database (cases, alerts, calls, registrations), read through
each domain's ``service`` functions, never its tables.

Each :class:`Measure` says in words how it is computed (shown with the figure, beside the
indicator's 口径), which data-core tables it reads, and whether it reads the operational
database; the engine keeps its facts until one of those changes. The measures of each map live
in a module of their own (``measures_<map>``), gathered here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from shuhui.core.facts import Fact
from shuhui.core.i18n import Text
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore


@dataclass(frozen=True)
class Inputs:
    """What a measure may read: the operational database (a read-only use of the session: a
    measure writes nothing), the data core, the city's settings and content, and today."""

    db: Session
    core: DataCore
    settings: Settings
    today: date


@dataclass(frozen=True)
class Column:
    key: str
    title: Text


@dataclass(frozen=True)
class Listing:
    """The list behind a figure (drill-down): what each row is, its columns, its rows (at most
    ``limit``), and how many there are in all."""

    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    total: int
    personal: bool  # rows name people: shown masked, each view a ledger entry


@dataclass(frozen=True)
class Measure:
    name: str  # <domain>.<measure>, as indicators name it
    how: Text  # how the facts are computed, in plain words
    facts: Callable[[Inputs], list[Fact]]
    tables: tuple[str, ...] = ()  # data-core tables read ("*": every one)
    operational: bool = True  # reads the operational database
    listing: Callable[[Inputs, date | None, date | None, str | None, int], Listing] | None = None


def _gathered() -> dict[str, Measure]:
    from shuhui.insight import (
        measures_assets,
        measures_decisions,
        measures_operations,
        measures_plan,
        measures_risk,
        measures_services,
    )

    found: dict[str, Measure] = {}
    for module in (
        measures_assets,
        measures_services,
        measures_risk,
        measures_operations,
        measures_decisions,
        measures_plan,
    ):
        for m in module.MEASURES:
            if m.name in found:
                raise ValueError(f"measure {m.name} defined twice")
            found[m.name] = m
    return found


_all: dict[str, Measure] | None = None


def measures() -> dict[str, Measure]:
    global _all
    if _all is None:
        _all = _gathered()
    return _all
