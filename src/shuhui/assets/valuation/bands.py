"""Quality-adjustment bands (质量调整系数) as the city's content: a dataset's quality score
(0-100) turned into the coefficient the cost method applies (``content/<city>/valuation.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import (
    Decimal,
    InvalidOperation,
)
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

from shuhui.assets.valuation.common import (
    HUNDRED,
    ZERO,
    fields_as_dict,
)
from shuhui.core.content import ContentError, Item, Items, load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text

# The content this module reads: (file under content/<city>/, kind).
CONTENT: Final = ("valuation.yaml", "valuation-parameters")
PARAMETERS: Final = frozenset({"quality-bands"})


@dataclass(frozen=True)
class QualityBand:
    """Scores at or above ``min_score`` (0-100) take ``coefficient``."""

    min_score: Decimal
    coefficient: Decimal
    name_zh: str
    name_en: str

    def as_dict(self) -> dict[str, Any]:
        return fields_as_dict(self)


@dataclass(frozen=True)
class QualityBands:
    """A table of quality bands: the best band first, the last one starting at 0, and a better
    score never taking a smaller coefficient (so value never falls as quality rises)."""

    code: str
    reference: str
    bands: tuple[QualityBand, ...]

    def __post_init__(self) -> None:
        bands = tuple(sorted(self.bands, key=lambda b: b.min_score, reverse=True))
        object.__setattr__(self, "bands", bands)
        if not bands:
            raise ValueError("at least one band")
        for band in bands:
            if not ZERO <= band.min_score <= HUNDRED:
                raise ValueError(f"min_score {band.min_score}: must be between 0 and 100")
            if not band.coefficient > 0:
                raise ValueError(f"coefficient {band.coefficient}: must be greater than 0")
        for higher, lower in pairwise(bands):
            if higher.min_score == lower.min_score:
                raise ValueError(f"min_score {higher.min_score}: appears twice")
            if higher.coefficient < lower.coefficient:
                raise ValueError(
                    f"min_score {higher.min_score}: coefficient smaller than a lower band's"
                )
        if bands[-1].min_score != 0:
            raise ValueError("the lowest band must start at min_score 0")

    def band_for(self, score: Decimal) -> QualityBand:
        for band in self.bands:
            if score >= band.min_score:
                return band
        return self.bands[-1]  # unreachable: the last band starts at 0

    def as_dict(self) -> dict[str, Any]:
        return fields_as_dict(self)


def _content_decimal(path: Path, where: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ContentError(path, where, "write a decimal quoted, e.g. '0.95'")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ContentError(path, where, "not a number") from None
    if not number.is_finite():
        raise ContentError(path, where, "not a finite number")
    return number


def _bands_from_item(path: Path, item: Item) -> QualityBands:
    where = f"{item.code}.bands"
    raw = item.attrs.get("bands")
    if not isinstance(raw, list) or not raw:
        raise ContentError(path, where, "must be a non-empty list")
    bands: list[QualityBand] = []
    for index, entry in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(entry, dict):
            raise ContentError(path, at, "must be {min_score, coefficient, name}")
        name = entry.get("name")
        if not isinstance(name, dict) or not all(
            isinstance(name.get(k), str) and name[k].strip() for k in ("zh", "en")
        ):
            raise ContentError(path, f"{at}.name", "must be {zh: ..., en: ...}")
        bands.append(
            QualityBand(
                min_score=_content_decimal(path, f"{at}.min_score", entry.get("min_score")),
                coefficient=_content_decimal(path, f"{at}.coefficient", entry.get("coefficient")),
                name_zh=name["zh"].strip(),
                name_en=name["en"].strip(),
            )
        )
    try:
        return QualityBands(code=item.code, reference=item.reference, bands=tuple(bands))
    except ValueError as exc:
        raise ContentError(path, where, str(exc)) from None


def check_content(items: Items) -> None:
    """Checks a valuation-parameters file whole: known parameters, well-formed tables, and no
    two tables of one parameter in force on the same day. Call it at startup."""
    for item in items:
        parameter = item.attrs.get("parameter")
        if parameter not in PARAMETERS:
            raise ContentError(items.path, f"{item.code}.parameter", f"one of {sorted(PARAMETERS)}")
        _bands_from_item(items.path, item)
    for parameter in PARAMETERS:
        tables = sorted(
            (i for i in items if i.attrs.get("parameter") == parameter),
            key=lambda i: i.valid_from,
        )
        for earlier, later in pairwise(tables):
            if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
                raise ContentError(
                    items.path,
                    f"{later.code}.valid_from",
                    f"overlaps {earlier.code}; end it (valid_to) before this one starts",
                )


def quality_bands(items: Items, on: date) -> QualityBands:
    """The quality bands in force on the valuation base date ``on`` (评估基准日)."""
    check_content(items)
    found = [i for i in items.in_force(on) if i.attrs.get("parameter") == "quality-bands"]
    if not found:
        raise Problem(
            "validation",
            detail=Text(
                f"{on.isoformat()} 没有生效的质量调整系数表",
                f"no quality-adjustment bands in force on {on.isoformat()}",
            ),
            errors=[
                FieldError(
                    "on",
                    Text(
                        "这一天没有生效的质量调整系数表",
                        "no quality-adjustment bands in force on this date",
                    ),
                )
            ],
        )
    return _bands_from_item(items.path, found[0])


def load_quality_bands(city_content: Path, on: date) -> QualityBands:
    """Reads ``valuation.yaml`` under a city's content folder (e.g. ``settings.city_content``)."""
    return quality_bands(load_items(city_content / CONTENT[0], CONTENT[1]), on)
