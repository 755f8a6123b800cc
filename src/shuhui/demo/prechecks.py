"""The demo's uploaded materials and their pre-checks, without reading a page at demo time.

The case history ``shuhui demo`` makes (:mod:`shuhui.demo.approval`) uploads materials, about
half of them pre-checked. Reading a page with OCR takes seconds (``docs/benchmarks.md``), so
the demo does not read a hundred: each material kind has one sample document (``samples``: the
same seed and day always draw the same page, byte for byte), read once with the real pre-check
when this file's results were made, and those real results are kept in ``prechecks.json``
beside this module. At demo time the page is drawn again (milliseconds), checked to be the one
that was read (its SHA-256), stored once, and every demo case that uploads that kind attaches
that file and that result. A wrong page is kept too (an identity card whose check character
does not fit), for the cases whose pre-check flagged the card and which the department sent
back for correction.

A material of no kind the pre-check reads (articles of association, a resolution…) is a plain
page naming it as demo material: uploaded, never pre-checked, as in the real flow.

Remake the results after changing the samples, the pre-check or Pillow (the test
``tests/test_demo_approval.py`` says when a page no longer matches)::

    .venv/bin/python -m shuhui.demo.prechecks
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Final

from shuhui.approval import samples
from shuhui.approval.precheck import KINDS, precheck

RESULTS: Final = Path(__file__).with_name("prechecks.json")
# The day the samples are drawn for, and their seed: fixed, so a page is the same every time.
SAMPLE_DAY: Final = date(2026, 12, 1)
SEED: Final = 18
WRONG_ID_CARD: Final = "id-card-wrong-check-char"


@dataclass(frozen=True)
class SamplePage:
    """One sample upload: its file name and bytes, and its real pre-check (None: not read)."""

    name: str
    kind: str | None
    content: bytes
    result: dict[str, Any] | None
    ok: bool | None


def _pages() -> dict[str, tuple[str, bytes]]:
    """Every sample page by its key: each kind's clean page, and the wrong identity card."""
    documents = samples.sample_set(random.Random(SEED), today=SAMPLE_DAY)  # noqa: S311
    out = {d.kind: (d.kind, samples.jpeg(samples.render(d))) for d in documents}
    card = next(d for d in documents if isinstance(d, samples.IdCard))
    wrong = replace(card, citizen_id=samples.wrong_check_char(card.citizen_id))
    out[WRONG_ID_CARD] = (card.kind, samples.jpeg(samples.render(wrong)))
    return out


def make_results(path: Path = RESULTS) -> dict[str, Any]:
    """Reads every sample page with the real pre-check (OCR; seconds a page) and writes the
    results with each page's SHA-256 to ``path``."""
    found: dict[str, Any] = {}
    for key, (kind, content) in _pages().items():
        result = precheck(content, kind, file_name=f"{key}.jpg", today=SAMPLE_DAY)
        found[key] = {
            "kind": kind,
            "sha256": hashlib.sha256(content).hexdigest(),
            "ok": result.ok,
            "result": result.as_json(),
        }
    stored = {"day": SAMPLE_DAY.isoformat(), "seed": SEED, "pages": found}
    path.write_text(json.dumps(stored, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return stored


@cache
def stored_results() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(RESULTS.read_text(encoding="utf-8"))
    return loaded


class StaleResults(RuntimeError):
    """A sample page is no longer the page whose pre-check is kept."""


@cache
def sample_pages() -> dict[str, SamplePage]:
    """Every sample page with its kept pre-check, by key (a kind, or ``WRONG_ID_CARD``).
    Raises ``StaleResults`` when a page drawn now is not the page that was read."""
    kept = stored_results()["pages"]
    out: dict[str, SamplePage] = {}
    for key, (kind, content) in _pages().items():
        entry = kept.get(key)
        if entry is None or entry["sha256"] != hashlib.sha256(content).hexdigest():
            raise StaleResults(
                f"the sample page {key} changed: run python -m shuhui.demo.prechecks"
            )
        out[key] = SamplePage(f"{key}.jpg", kind, content, entry["result"], bool(entry["ok"]))
    return out


def plain_page(code: str, name: str) -> SamplePage:
    """A page naming a material as demo material (a kind the pre-check does not read)."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    from shuhui.approval.sample_pages import font

    image = Image.new("L", (827, 585), 255)  # A5 landscape at 100 dpi: a small scan
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 806, 564), outline=90, width=3)
    draw.text((60, 200), name, fill=20, font=font(44))
    draw.text((60, 300), "演示材料（示例文件，非真实材料）", fill=80, font=font(28))
    out = BytesIO()
    image.save(out, "PNG")
    return SamplePage(f"{code}.png", None, out.getvalue(), None, None)


__all__ = [
    "KINDS",
    "RESULTS",
    "WRONG_ID_CARD",
    "SamplePage",
    "StaleResults",
    "make_results",
    "plain_page",
    "sample_pages",
    "stored_results",
]


if __name__ == "__main__":
    made = make_results()
    for key, entry in made["pages"].items():
        issues = "; ".join(f"{i['field']}: {i['reason']}" for i in entry["result"]["issues"])
        print(f"{key}: {'ok' if entry['ok'] else 'issues'} {issues}")
