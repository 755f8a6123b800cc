"""Offline OCR of uploaded materials: rapidocr (PP-OCR detection and recognition on ONNX Runtime,
its models shipped in the wheel, nothing fetched at run time), PDF pages rendered with pdfium.

One engine per process, made on first use under a lock. ONNX Runtime gets few threads on
purpose, and they sleep rather than spin while idle: the server's other requests and the
machine's other work share its cores, and a page is read in about a second with two
(``SHUHUI_OCR_THREADS``, default 2). Calls are serialised:
the engine's ``__call__`` rewrites its own settings on every call, and two pages read at once on
two cores would each take twice as long anyway.

Pages that lie on their side or upside down (issue 18): a scan or phone photo uploaded turned by
90°, 180° or 270° with no EXIF orientation to undo it is read on its side, and although rapidocr
recognises much of its text (a line's crop taller than wide is turned 90° counterclockwise, and
its text-line classifier, ``use_cls``, turns a line it finds upside down), the boxes run up the
page or from its bottom, so the labels and values are not found in their rows. rapidocr has no
whole-page orientation model, so :func:`upright` judges the page from what the pass it makes
anyway says (:class:`PageReading`): a page whose text lies mostly in boxes taller than wide lies
on its side, and the classifier's verdicts on those lines (upside down once rapidocr turned them,
or not) say which side; level lines mostly judged upside down are a page upside down. The page is
then turned (PIL's exact transposition) and read again, the reading the fields are extracted
from. Costs: an upright page is read once, as before (its boxes are level and the classifier
finds its lines the right way up; nothing else is computed); a turned page is read twice, the
first pass only to find which way up it is (1.7–1.9 times the CPU of an upright page; every
sample kind, clean and spoiled, turned each way read the same fields as upright); a second
reading that still does not look upright says where to turn next, each orientation being read at
most once (four passes at the most), and when none looks upright the one whose level lines read
best (mean confidence × characters, less the share found upside down) is kept. The verdicts are
taken by wrapping the engine's classifier (:class:`_Verdicts`, the one rapidocr internal this
relies on besides the sessions below); a rapidocr laid out otherwise gives none, and then a page
on its side is turned a quarter counterclockwise, right only half the time, and one upside down
is read as it lies.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

Point = tuple[float, float]

# PDF pages are rendered at this resolution: print at 150 dpi keeps 10.5 pt text about 22
# pixels high, which the recogniser reads well; more only costs time.
PDF_DPI = 150
# Phone photos are shrunk so their longer side is at most this many pixels before reading.
MAX_SIDE = 2400
# What the text detector sees: the page scaled so its longer side is this long. 1280 finds the
# small print of an A4 page at 150 dpi; 960 costs a quarter less CPU but lost a whole line of
# a diploma's text now and then in bench/bench_precheck.py.
DETECT_SIDE = 1280
# Pages of a PDF that are read: the material's content is on its first pages (a contract's
# parties, a diploma, a certificate); more would only cost time.
MAX_PAGES_READ = 2


@dataclass(frozen=True)
class OcrLine:
    """One line of text as the engine read it: the text, its box (four corners, clockwise from
    the top left, in page pixels), the recogniser's confidence, and its page (from 0)."""

    text: str
    box: tuple[Point, Point, Point, Point]
    score: float = 1.0
    page: int = 0

    @property
    def x0(self) -> float:
        return min(p[0] for p in self.box)

    @property
    def x1(self) -> float:
        return max(p[0] for p in self.box)

    @property
    def y0(self) -> float:
        return min(p[1] for p in self.box)

    @property
    def y1(self) -> float:
        return max(p[1] for p in self.box)

    @property
    def angle(self) -> float:
        """The slope of the box's top edge, in radians (positive: turned clockwise)."""
        (ax, ay), (bx, by) = self.box[0], self.box[1]
        return math.atan2(by - ay, bx - ax) if bx != ax else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "box": [list(p) for p in self.box],
            "score": round(self.score, 4),
            "page": self.page,
        }


def box_of(x0: float, y0: float, x1: float, y1: float) -> tuple[Point, Point, Point, Point]:
    """An upright box (for tests and for lines made by hand)."""
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


_lock = threading.Lock()
_engine: Any = None


def threads() -> int:
    """ONNX Runtime's intra-op threads: the setting ``ocr_threads`` (``SHUHUI_OCR_THREADS``,
    default 2; a bad value is refused when the settings are read), at most the cores."""
    from shuhui.core.settings import get_settings

    return max(1, min(get_settings().ocr_threads, os.cpu_count() or 1))


def _make_engine() -> Any:
    from rapidocr import RapidOCR

    ocr = RapidOCR(
        params={
            "Global.log_level": "warning",
            "Global.max_side_len": MAX_SIDE,
            "Det.limit_type": "max",
            "Det.limit_side_len": DETECT_SIDE,
            # Boxes the detector is less sure of are kept: a lone character of a spread label
            # (名　　称) on a blurred page scores about 0.45, and losing it loses the field.
            "Det.box_thresh": 0.4,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads(),
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )
    _without_spinning(ocr)
    _keep_verdicts(ocr)
    return ocr


def _keep_verdicts(ocr: Any) -> None:
    """The text-line classifier (loaded by now) wrapped to keep its verdicts on each page
    (:class:`_Verdicts`); another rapidocr layout keeps its own."""
    if getattr(ocr, "text_cls", None) is not None:
        ocr.text_cls = _Verdicts(ocr.text_cls)


def _without_spinning(ocr: Any) -> None:
    """The three models loaded now, each in a session whose idle threads sleep rather than
    spin: ONNX Runtime's threads otherwise busy-wait between operators, which on a machine whose
    cores are shared takes CPU from everything else (about 15 % more CPU a page here, for the
    same time). rapidocr has no setting for it, so its sessions are made again."""
    import onnxruntime as ort

    for model in (ocr._load_det_model(), ocr._load_cls_model(), ocr._load_rec_model()):
        holder = getattr(model, "session", None)
        session = getattr(holder, "session", None)
        path = getattr(session, "_model_path", None)
        if holder is None or not isinstance(session, ort.InferenceSession) or not path:
            continue  # another rapidocr layout: keep its own session
        options = ort.SessionOptions()
        options.log_severity_level = 4
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads()
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        holder.session = ort.InferenceSession(
            path, sess_options=options, providers=["CPUExecutionProvider"]
        )


def engine() -> Any:
    """This process's engine (models loaded on the first page read)."""
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = _make_engine()
    return _engine


def _rgb(image: Image) -> Image:
    """An RGB page: transparency laid on white (a scan saved with an alpha channel would
    otherwise read black on black), EXIF rotation applied, a huge photo shrunk."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = PILImage.new("RGBA", rgba.size, "white")
        image = PILImage.alpha_composite(background, rgba)
    image = image.convert("RGB")
    longest = max(image.size)
    if longest > MAX_SIDE:
        scale = MAX_SIDE / longest
        image = image.resize((round(image.width * scale), round(image.height * scale)))
    return image


# --- the page's orientation ---------------------------------------------------------------------

# Turns of a page, in degrees counterclockwise (as PIL turns): the orientations a page is read in.
TURNS = (0, 90, 180, 270)
# A page is read as it lies when at most this share of its text (characters weighed by the
# recogniser's confidence) is in boxes taller than wide, and at most this share of its lines
# (weighed by their length) is what the line classifier finds upside down.
UPRIGHT_SHARE = 0.5


@dataclass(frozen=True)
class PageReading:
    """One reading of a page image as it lay: its lines, and how upright they look. ``flipped``
    is the share of the lines (weighed by length) that rapidocr's text-line classifier judged
    upside down (the mean of its probability of 180°), ``None`` when the engine did not say."""

    lines: list[OcrLine]
    flipped: float | None = None

    @property
    def tall(self) -> float:
        """The share of the text (characters × confidence) in boxes taller than wide: lines
        that run up or down the image, as on a page lying on its side."""
        total = level = 0.0
        for line in self.lines:
            weight = _weight(line)
            total += weight
            if _level(line):
                level += weight
        return 1.0 - level / total if total else 0.0

    @property
    def turn(self) -> int:
        """The turn (counterclockwise) that would bring the page upright, judged from this
        reading: 0 when its lines are level and not upside down. A line lying on its side is
        turned upright by rapidocr (90° counterclockwise) before the classifier sees it, so the
        classifier's verdict also tells which side the page lies on."""
        sideways = self.tall > UPRIGHT_SHARE
        flipped = (self.flipped or 0.0) > UPRIGHT_SHARE
        if sideways:
            # Upside down once rapidocr turned it counterclockwise: the page lies turned 90°
            # counterclockwise, and turns back by 270.
            return 270 if flipped else 90
        return 180 if flipped else 0

    @property
    def score(self) -> float:
        """How well the page read upright: the mean confidence times the characters of its
        level lines, less the share the classifier found upside down."""
        level = [line for line in self.lines if _level(line)]
        if not level:
            return 0.0
        chars = sum(len(line.text.strip()) for line in level)
        mean = sum(line.score for line in level) / len(level)
        return float(mean * chars * (1.0 - (self.flipped or 0.0)))


def _level(line: OcrLine) -> bool:
    return line.y1 - line.y0 <= line.x1 - line.x0


def _weight(line: OcrLine) -> float:
    return len(line.text.strip()) * max(line.score, 0.0)


class _Verdicts:
    """rapidocr's text-line classifier, keeping what it found on the page being read: it turns a
    line it finds upside down before recognition, but reports only the text. Called like the
    classifier, everything else passed through."""

    def __init__(self, classifier: Any) -> None:
        self.classifier = classifier
        self.clear()

    def clear(self) -> None:
        self.weight = 0.0
        self.flipped = 0.0

    def __call__(self, crops: Any) -> Any:
        result = self.classifier(crops)
        verdicts = getattr(result, "cls_res", None) or []
        for crop, (label, score) in zip(crops, verdicts, strict=False):
            height, width = crop.shape[:2]
            weight = width / height if height else 0.0  # a line's length, about its characters
            self.weight += weight
            chance = float(score) if "180" in str(label) else 1.0 - float(score)
            self.flipped += weight * chance
        return result

    def __getattr__(self, name: str) -> Any:
        if name == "classifier":  # not made yet (a copy being made)
            raise AttributeError(name)
        return getattr(self.classifier, name)

    def share(self) -> float | None:
        return self.flipped / self.weight if self.weight else None


def recognise(image: Image) -> PageReading:
    """One OCR pass over an RGB page image as it lies (detection, line classifier,
    recognition): the one place the engine is called, and the unit of cost."""
    import numpy as np

    ocr = engine()
    verdicts = getattr(ocr, "text_cls", None)
    with _lock:
        if isinstance(verdicts, _Verdicts):
            verdicts.clear()
        # rapidocr takes BGR arrays, as OpenCV reads them.
        result = ocr(np.ascontiguousarray(np.asarray(image)[:, :, ::-1]))
        flipped = verdicts.share() if isinstance(verdicts, _Verdicts) else None
    boxes, texts, scores = result.boxes, result.txts, result.scores
    if boxes is None or texts is None or scores is None:
        return PageReading([], flipped)
    lines = []
    for box, text, score in zip(boxes, texts, scores, strict=True):
        corners = tuple((float(x), float(y)) for x, y in box.tolist())
        if len(corners) == 4 and text.strip():
            lines.append(OcrLine(text, corners, float(score)))
    return PageReading(lines, flipped)


def _turned(image: Image, turn: int) -> Image:
    from PIL import Image as PILImage

    if turn == 0:
        return image
    method = {
        90: PILImage.Transpose.ROTATE_90,
        180: PILImage.Transpose.ROTATE_180,
        270: PILImage.Transpose.ROTATE_270,
    }[turn]
    return image.transpose(method)


def upright(image: Image) -> tuple[int, PageReading]:
    """The page read upright: the turn it took (counterclockwise) and its reading.

    The page is read as it lies; when that reading's lines are level and the classifier found
    them the right way up (an upright scan), that is the reading: no other pass. Otherwise the
    page is turned as that reading says and read again, and so on, each orientation at most
    once: the first turned reading found upright (and not empty) is kept, and when none is, the
    one that read best upright (:attr:`PageReading.score`; the page as it lies on a tie)."""
    readings = {0: recognise(image)}
    turn = readings[0].turn
    while turn not in readings:
        reading = recognise(_turned(image, turn))
        readings[turn] = reading
        if reading.lines and reading.turn == 0:
            return turn, reading
        # The next guess: what this reading says, else an orientation not yet read.
        turn = (turn + reading.turn) % 360
        if turn in readings:
            turn = next((t for t in TURNS if t not in readings), turn)
    best = max(readings, key=lambda t: (readings[t].score, t == 0))
    return best, readings[best]


def read_image(image: Image, *, page: int = 0) -> list[OcrLine]:
    """The text lines of one page image, read upright (:func:`upright`): boxes are in the
    pixels of the page as turned upright."""
    _, reading = upright(_rgb(image))
    return [replace(line, page=page) for line in reading.lines]


class Unreadable(ValueError):
    """An upload whose header passed but whose body does not decode (a truncated JPEG, a PDF
    page pdfium cannot draw)."""


def page_images(
    content: bytes, content_type: str, *, max_pages: int = MAX_PAGES_READ
) -> list[Image]:
    """The pages of an upload as images: the image itself, or a PDF's first pages rendered."""
    from PIL import Image as PILImage

    if content_type != "application/pdf":
        try:
            image = PILImage.open(io.BytesIO(content))
            image.load()
        except (OSError, ValueError, SyntaxError) as exc:
            raise Unreadable(str(exc)) from exc
        return [image]
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(content)
    except pdfium.PdfiumError as exc:
        raise Unreadable(str(exc)) from exc
    try:
        pages = []
        for index in range(min(len(pdf), max_pages)):
            page = pdf[index]
            width, height = page.get_size()
            # A page drawn huge (a poster, a drawing at 1:1) is rendered no larger than a photo.
            scale = min(PDF_DPI / 72, MAX_SIDE / max(width, height, 1.0))
            pages.append(page.render(scale=scale).to_pil())
            page.close()
        return pages
    except pdfium.PdfiumError as exc:
        raise Unreadable(str(exc)) from exc
    finally:
        pdf.close()


# Uploads read lately, by their bytes: a material uploaded again (resubmitted after a correction
# request, one identity card for two items, the hall's sample documents) is answered from memory,
# since the same bytes read the same. 0 turns it off (bench/bench_precheck.py times the reading).
REMEMBER = 64
_remembered: OrderedDict[tuple[bytes, str, int], tuple[OcrLine, ...]] = OrderedDict()


def forget() -> None:
    """Empties the memory of uploads read."""
    with _lock:
        _remembered.clear()


def read(content: bytes, content_type: str, *, max_pages: int = MAX_PAGES_READ) -> list[OcrLine]:
    """Every text line of an upload whose type :func:`uploads.check_upload` established."""
    key = (hashlib.sha256(content).digest(), content_type, max_pages)
    with _lock:
        known = _remembered.get(key)
        if known is not None:
            _remembered.move_to_end(key)
            return list(known)
    lines: list[OcrLine] = []
    for number, image in enumerate(page_images(content, content_type, max_pages=max_pages)):
        lines.extend(read_image(image, page=number))
    if REMEMBER > 0:
        with _lock:
            _remembered[key] = tuple(lines)
            while len(_remembered) > REMEMBER:
                _remembered.popitem(last=False)
    return lines


def texts(lines: Sequence[OcrLine]) -> list[str]:
    return [line.text for line in lines]
