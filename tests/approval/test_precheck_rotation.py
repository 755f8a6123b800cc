"""Pages uploaded on their side or upside down (issue 18): the pre-check reads the sample
documents turned by 90, 180 and 270 degrees as it reads them upright, an upright page costs one
OCR pass as before, and the search for the page's orientation never reads an orientation twice.

Passes are counted through ``ocr.recognise`` (the one call into the engine), never timed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from shuhui.approval import samples
from shuhui.approval.precheck import ocr, precheck, precheck_lines
from shuhui.approval.precheck.ocr import TURNS, OcrLine, PageReading, box_of
from tests.approval.precheck_docs import TODAY, document, lines, upload
from tests.approval.precheck_docs import page as page_of

# The two sample documents the tests turn: a card (landscape) and a certificate (portrait).
TURNED_KINDS = ("id-card", "medical-certificate")


@contextmanager
def counted_passes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The OCR passes made inside, as the sizes of the images read; nothing answered from
    the memory of uploads read."""
    passes: list[int] = []
    real: Callable[[Image.Image], PageReading] = ocr.recognise

    def counting(image: Image.Image) -> PageReading:
        passes.append(image.width)
        return real(image)

    ocr.forget()
    with monkeypatch.context() as patch:
        patch.setattr(ocr, "recognise", counting)
        yield passes
    ocr.forget()


@pytest.mark.parametrize("kind", TURNED_KINDS)
@pytest.mark.parametrize("angle", [90, 180, 270])
def test_a_page_uploaded_turned_reads_the_same_fields_as_upright(
    monkeypatch: pytest.MonkeyPatch, kind: str, angle: int
) -> None:
    upright = precheck_lines(lines(kind), kind, today=TODAY)
    turned = samples.png(page_of(kind).rotate(angle, expand=True))

    with counted_passes(monkeypatch) as passes:
        result = precheck(turned, kind, file_name="scan.png", today=TODAY)

    assert result.fields == upright.fields == document(kind).fields()
    assert result.issues == ()
    assert result.looks_like == kind
    # One pass to find which way up the page is, one to read it upright.
    assert len(passes) == 2


@pytest.mark.parametrize("kind", TURNED_KINDS)
def test_an_upright_page_costs_one_pass(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    with counted_passes(monkeypatch) as passes:
        result = precheck(upload(kind), kind, file_name="scan.png", today=TODAY)

    assert result.fields == document(kind).fields()
    assert len(passes) == 1


def test_a_page_without_text_costs_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    blank = Image.new("RGB", (600, 900), "white")

    with counted_passes(monkeypatch) as passes:
        assert ocr.read(samples.png(blank), "image/png") == []

    assert len(passes) == 1


# --- the search for the orientation, without OCR ------------------------------------------------


def _reading(kind: str, chars: int, confidence: float) -> PageReading:
    """A page's reading as it would look: its lines level or standing, the classifier's
    verdict on them."""
    text = "字" * chars
    if kind == "none":
        return PageReading([])
    tall = kind in ("left", "right")
    box = box_of(0, 0, 40, 40 * chars) if tall else box_of(0, 0, 40 * chars, 40)
    flipped = 1.0 if kind in ("left", "down") else 0.0
    return PageReading([OcrLine(text, box, confidence)], flipped)


# How a page reads in one orientation: upright, upside down, on its left side (its text read
# upside down once rapidocr stood it up), on its right side, or nothing read.
reading_kinds = st.sampled_from(["up", "down", "left", "right", "none"])


@given(
    st.fixed_dictionaries({turn: reading_kinds for turn in TURNS}),
    st.fixed_dictionaries({turn: st.integers(2, 30) for turn in TURNS}),
    st.fixed_dictionaries({turn: st.floats(0.3, 1.0) for turn in TURNS}),
)
def test_the_orientation_search_reads_each_orientation_at_most_once(
    kinds: dict[int, str], chars: dict[int, int], confidence: dict[int, float]
) -> None:
    """Whatever each orientation reads like, at most four passes, none twice; an upright
    first reading is the only pass; an upright reading found is the one kept, else the best."""
    readings = {turn: _reading(kinds[turn], chars[turn], confidence[turn]) for turn in TURNS}
    read: list[int] = []

    def recognise(image: int) -> PageReading:
        read.append(image)
        return readings[image]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ocr, "recognise", recognise)
        patch.setattr(ocr, "_turned", lambda image, turn: (image + turn) % 360)
        # An int stands for the image: the patched reader and turner know it by its turn.
        turn, reading = ocr.upright(cast(Any, 0))

    assert read[0] == 0 and len(read) == len(set(read)) <= 4
    assert reading is readings[turn] and turn in read
    if kinds[0] in ("up", "none"):
        assert read == [0] and turn == 0
    elif any(kinds[t] == "up" for t in read):
        assert kinds[turn] == "up" and read[-1] == turn
    else:
        assert len(read) == 4
        assert reading.score == max(r.score for r in readings.values())


@pytest.mark.parametrize(
    ("lies", "turn"), [("up", 0), ("down", 180), ("left", 270), ("right", 90), ("none", 0)]
)
def test_a_reading_says_which_way_to_turn_the_page(lies: str, turn: int) -> None:
    """A page turned counterclockwise (on its left side) reads upside down once rapidocr stands
    its lines up, and turns back by 270; one turned clockwise turns back by 90."""
    assert _reading(lies, 8, 0.9).turn == turn


def test_a_page_on_its_side_is_found_however_its_lines_are_turned_back() -> None:
    """The same page read sideways, its lines standing, then turned: the turn follows."""
    level = [OcrLine("姓名 张伟", box_of(70, 70, 400, 110), 0.99)]
    standing = [OcrLine("姓名 张伟", box_of(70, 70, 110, 400), 0.99)]

    assert PageReading(level, 0.02).turn == 0
    assert PageReading(level, 0.97).turn == 180
    assert PageReading(standing, 0.97).turn == 270
    assert PageReading(standing, 0.03).turn == 90
    # Without the classifier's verdicts a page on its side is still stood up.
    assert PageReading(standing, None).turn == 90
