"""Documents for the pre-check's tests, rendered and read once per test process.

OCR of a page costs about a second, so each page is rendered, encoded and read at most once
(``functools.cache``) and the tests check what was read in as many ways as they need
(``precheck_lines``: the same extraction and checks ``precheck`` runs after reading).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Literal

from shuhui.approval import samples
from shuhui.approval.precheck import ocr

if TYPE_CHECKING:
    from PIL.Image import Image

    from shuhui.approval.precheck.ocr import OcrLine

# Every date the tests render and check against: documents are made "as of" this day.
TODAY = date(2025, 6, 16)

Variant = Literal["clean", "photo", "skew", "blur", "crop", "noise", "contrast", "jpeg"]


@cache
def documents() -> dict[str, samples.Document]:
    """One document of each kind, with city-like values (seed 18)."""
    made = samples.sample_set(random.Random(18), today=TODAY)
    return {doc.kind: doc for doc in made}


def document(kind: str) -> samples.Document:
    return documents()[kind]


@cache
def page(kind: str, variant: Variant = "clean") -> Image:
    image = samples.render(document(kind))
    if variant == "clean":
        return image
    if variant == "photo":
        return samples.photo(image, seed=3)
    return samples.degrade(image, variant, seed=3)


@cache
def upload(kind: str, variant: Variant = "clean") -> bytes:
    """The page as a file: PNG when clean, JPEG as a photo would be."""
    image = page(kind, variant)
    return samples.png(image) if variant == "clean" else samples.jpeg(image, quality=80)


@cache
def lines(kind: str, variant: Variant = "clean") -> tuple[OcrLine, ...]:
    """What OCR reads on the page (read once per process)."""
    return tuple(
        ocr.read(upload(kind, variant), "image/png" if variant == "clean" else "image/jpeg")
    )


@cache
def card_with(**changes: object) -> samples.IdCard:
    card = document("id-card")
    assert isinstance(card, samples.IdCard)
    return replace(card, **changes)  # type: ignore[arg-type]


@cache
def card_lines(**changes: object) -> tuple[OcrLine, ...]:
    """The identity card's portrait side with some values changed, as read."""
    return tuple(ocr.read(samples.png(samples.render(card_with(**changes))), "image/png"))


@cache
def back_lines(valid_from: date, valid_to: date | None) -> tuple[OcrLine, ...]:
    """The identity card's emblem side valid from ``valid_from`` to ``valid_to``, as read."""
    back = card_with(valid_from=valid_from, valid_to=valid_to)
    return tuple(ocr.read(samples.png(samples.render_back(back)), "image/png"))
