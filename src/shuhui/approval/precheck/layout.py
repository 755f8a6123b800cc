"""From OCR lines to labelled values: the page straightened, its lines grouped into rows, the
printed labels found in each row, and each label's value read to its right (or under it), on
as many following rows as the value runs.

OCR splits and merges lines as it pleases: a label printed spread out (名　　称) comes back as
two boxes, a label and its value as one box or two, the two columns of a licence as one line
when they are close. So values are read from rows, not from boxes: a row's text is its boxes'
text in order, each character placed at its approximate x, and labels are found in that text.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from shuhui.approval.precheck.ocr import OcrLine
from shuhui.approval.precheck.values import normalise

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Label:
    """A printed label: the field it names (None: a label whose value is not wanted, which
    still ends the value before it), the ways it is printed, and how its value runs."""

    field: str | None
    variants: tuple[str, ...]
    # The value goes on below, on rows that start under it (an address, a business scope).
    multiline: bool = False
    # The value may stand under the label rather than after it (统一社会信用代码 on a licence).
    below: bool = False
    # Found anywhere in a row, not only where OCR starts a box: labels that follow a short
    # value on the same line (性别 男 民族 汉) and come back merged with it.
    inline: bool = False
    # Texts that start like the label but are not it (诊断证明书 is not the label 诊断).
    not_before: tuple[str, ...] = ()
    # Printed spread out (名　　称): OCR returns its characters as boxes of their own and may
    # lose one, so a box holding one character of a two-character label alone stands for it.
    spread: bool = False


@dataclass
class Char:
    text: str
    x: float  # the approximate left edge of the character
    box_start: bool  # the first character of an OCR box
    y1: float  # the bottom of its box


@dataclass
class Row:
    chars: list[Char]
    y0: float
    y1: float

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.chars)

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass
class Found:
    """A label found on the page and the value read for it."""

    label: Label
    variant: str
    row: int
    x0: float  # where the label starts
    x1: float  # where the label ends
    value_x: float  # where its value starts
    y1: float  # where the label's box ends below
    limit: float  # where the next label on its row starts (the value stops there)
    parts: list[str] = field(default_factory=list)
    last_row: int = 0

    @property
    def value(self) -> str:
        return "".join(self.parts)


def _straightened(lines: Sequence[OcrLine]) -> list[tuple[OcrLine, Box]]:
    """Each line's box in the page's own frame: a photo taken a few degrees askew is turned
    back by the median slope of its long lines, so the rows of a page stay rows."""
    slopes = [line.angle for line in lines if line.x1 - line.x0 > 3 * (line.y1 - line.y0)]
    angle = statistics.median(slopes) if slopes else 0.0
    if abs(angle) > math.radians(20):  # not a skew: a page on its side is not read as rows
        angle = 0.0
    cos, sin = math.cos(-angle), math.sin(-angle)
    out = []
    for line in lines:
        xs, ys = [], []
        for x, y in line.box:
            xs.append(x * cos - y * sin)
            ys.append(x * sin + y * cos)
        out.append((line, (min(xs), min(ys), max(xs), max(ys))))
    return out


@dataclass
class _Band:
    """Boxes on one line: their mean top and bottom, and the boxes."""

    y0: float
    y1: float
    members: list[tuple[OcrLine, Box]]

    def takes(self, y0: float, y1: float) -> float:
        """How much a box from ``y0`` to ``y1`` lies on this line (0 when it does not): most
        of the smaller of the two heights overlapping, and heights alike (a large title is a
        line of its own beside the small print next to it)."""
        height, own = max(y1 - y0, 1.0), max(self.y1 - self.y0, 1.0)
        if max(height, own) > 2.2 * min(height, own):
            return 0.0
        ratio = (min(y1, self.y1) - max(y0, self.y0)) / min(height, own)
        return ratio if ratio > 0.5 else 0.0

    def add(self, item: tuple[OcrLine, Box]) -> None:
        n = len(self.members)
        self.y0 = (self.y0 * n + item[1][1]) / (n + 1)
        self.y1 = (self.y1 * n + item[1][3]) / (n + 1)
        self.members.append(item)


def rows(lines: Sequence[OcrLine]) -> list[Row]:
    """The lines of each page grouped into rows (top to bottom), each row's boxes left to
    right; pages follow one another."""
    result: list[Row] = []
    for page in sorted({line.page for line in lines}):
        placed = _straightened([line for line in lines if line.page == page])
        placed.sort(key=lambda item: (item[1][1] + item[1][3]) / 2)
        bands: list[_Band] = []
        for item in placed:
            _, (_, y0, _, y1) = item
            # Only the last few lines can still be beside this one: boxes come top down.
            scored = [(band.takes(y0, y1), band) for band in bands[-6:]]
            best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
            if best[1] is None or best[0] == 0.0:
                bands.append(_Band(y0, y1, [item]))
            else:
                best[1].add(item)
        for band in bands:
            band.members.sort(key=lambda item: item[1][0])
            chars: list[Char] = []
            for line, (x0, _, x1, y1) in band.members:
                text = normalise(line.text)
                width = (x1 - x0) / max(len(text), 1)
                chars.extend(
                    Char(c, x0 + i * width, box_start=i == 0, y1=y1) for i, c in enumerate(text)
                )
            if chars:
                top = min(box[1] for _, box in band.members)
                bottom = max(box[3] for _, box in band.members)
                result.append(Row(chars, top, bottom))
    return result


def _matches(text: str, at: int, variant: str, *, fuzzy: bool) -> bool:
    piece = text[at : at + len(variant)]
    if piece == variant:
        return True
    # One character misread in a long label (公民身份号玛) still names it.
    return (
        fuzzy
        and len(variant) >= 4
        and len(piece) == len(variant)
        and piece[0] == variant[0]
        and sum(a != b for a, b in zip(piece, variant, strict=True)) == 1
    )


def _box_length(row: Row, at: int) -> int:
    """How many characters the OCR box starting at ``at`` holds."""
    end = at + 1
    while end < len(row.chars) and not row.chars[end].box_start:
        end += 1
    return end - at


def find_labels(row: Row, labels: Sequence[Label]) -> list[tuple[int, Label, str]]:
    """The labels in a row: (position in the row's text, label, the text that printed it)."""
    text = row.text
    variants = sorted(
        ((variant, label) for label in labels for variant in label.variants),
        key=lambda item: -len(item[0]),
    )
    found: list[tuple[int, Label, str]] = []
    at = 0
    while at < len(text):
        start = row.chars[at].box_start or at == 0 or text[at - 1] in ";。)"
        hit = None
        for variant, label in variants:
            if not (start or label.inline):
                continue
            if not _matches(text, at, variant, fuzzy=start):
                continue
            if any(text.startswith(other, at) for other in label.not_before):
                continue
            hit = (at, label, text[at : at + len(variant)])
            break
        if hit is None and row.chars[at].box_start and _box_length(row, at) == 1:
            lone = text[at]
            hit = next(
                (
                    (at, label, lone)
                    for label in labels
                    if label.spread and any(len(v) == 2 and lone in v for v in label.variants)
                ),
                None,
            )
        if hit is None:
            at += 1
            continue
        found.append(hit)
        at += len(hit[2])
    return found


def read_labels(rows_: Sequence[Row], labels: Sequence[Label]) -> list[Found]:
    """Every label found on the page with its value: the rest of its row up to the next label,
    then for a multi-line label the text of the following rows that starts under the value
    (until a row holds a label in that column, or a gap of more than a line)."""
    found: list[Found] = []
    open_: list[Found] = []
    for index, row in enumerate(rows_):
        hits = find_labels(row, labels)
        text = row.text
        consumed = [False] * len(text)
        for n, (at, label, variant) in enumerate(hits):
            end = hits[n + 1][0] if n + 1 < len(hits) else len(text)
            value_start = at + len(variant)
            x0 = row.chars[at].x
            end = _column_end(row, value_start, end, x0, open_)
            if label.below and value_start < end:
                gap = row.chars[value_start].x - row.chars[value_start - 1].x
                if gap > 4 * row.height:  # not its value: something else on the line, far off
                    end = value_start
            limit = row.chars[end].x if end < len(text) else math.inf
            x1 = (
                row.chars[value_start].x
                if value_start < len(text)
                else row.chars[-1].x + row.height
            )
            value_x = x1 if value_start < end else x0
            for k in range(at, end):
                consumed[k] = True
            # A label in a column ends the values still running in that column.
            open_ = [f for f in open_ if not (f.x0 - row.height <= x0 < f.limit - row.height)]
            item = Found(
                label,
                variant,
                row=index,
                x0=x0,
                x1=x1,
                value_x=value_x,
                y1=row.chars[at].y1,
                limit=limit,
                last_row=index,
            )
            item.parts.append(text[value_start:end])
            found.append(item)
            if label.multiline or (label.below and not item.value.strip(":")):
                open_.append(item)
        # What no label on this row took: the next lines of values begun above.
        for start, end in _runs(consumed, row):
            piece = text[start:end]
            x = row.chars[start].x
            home = _home(open_, x, row, rows_)
            if home is not None:
                home.parts.append(piece)
                home.last_row = index
                if not home.label.multiline:
                    open_.remove(home)
        # A value more than a line below its last part has ended.
        open_ = [f for f in open_ if index - f.last_row < 2 or f.last_row == index]
    return found


def _column_end(row: Row, start: int, end: int, x0: float, open_: list[Found]) -> int:
    """Where a label's value on this row ends: at ``end``, or sooner at a box that starts in
    the column of a value still running from a row above, in a column to the right (two
    columns' lines read as one row: the right one's text is that value's next line)."""
    columns = [f.x0 for f in open_ if f.x0 > x0 + row.height]
    if not columns:
        return end
    edge = min(columns) - row.height
    for k in range(start + 1, end):
        if row.chars[k].box_start and row.chars[k].x >= edge:
            return k
    return end


def _runs(consumed: list[bool], row: Row) -> list[tuple[int, int]]:
    """The stretches of a row's text no label took, each within one OCR box (boxes apart on a
    line are apart on the page: two columns' next lines)."""
    runs, start = [], None
    for k, taken in enumerate([*consumed, True]):
        boundary = k < len(row.chars) and row.chars[k].box_start
        if start is not None and (taken or boundary):
            runs.append((start, k))
            start = None
        if not taken and start is None:
            start = k
    return runs


def _home(open_: list[Found], x: float, row: Row, rows_: Sequence[Row]) -> Found | None:
    """The running value a piece of text at ``x`` continues: the one whose column it starts
    in (rightmost first), not more than a line and a half below that value's last part."""
    best = None
    for item in open_:
        last = rows_[item.last_row]
        # The tolerance of the smaller print: a large title beside is no wider a column.
        tolerance = min(row.height, rows_[item.row].height)
        if row.y0 - last.y1 > 1.5 * max(last.height, row.height):
            continue
        if item.label.below and not item.value.strip(":"):
            # A value under its label starts under the label, and below it.
            below = row.y0 >= item.y1 - 0.3 * tolerance
            fits = below and item.x0 - tolerance <= x <= item.x1 + tolerance
        else:
            fits = item.value_x - tolerance <= x < item.limit
        if fits and (best is None or item.value_x > best.value_x):
            best = item
    return best


def page_text(rows_: Sequence[Row]) -> str:
    """The page's text in reading order, rows joined without a break (running text wraps
    anywhere: a name or a date may be split over two rows)."""
    return "".join(row.text for row in rows_)
