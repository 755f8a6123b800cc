"""Offline OCR of uploaded materials: rapidocr (PP-OCR detection and recognition on ONNX Runtime,
its models shipped in the wheel, nothing fetched at run time), PDF pages rendered with pdfium.

One engine per process, made on first use under a lock. ONNX Runtime gets few threads on
purpose, and they sleep rather than spin while idle: the server's other requests and the
machine's other work share its cores, and a page is read in about a second with two
(``SHUHUI_OCR_THREADS``, default 2). Calls are serialised:
the engine's ``__call__`` rewrites its own settings on every call, and two pages read at once on
two cores would each take twice as long anyway.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
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
    return ocr


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


def read_image(image: Image, *, page: int = 0) -> list[OcrLine]:
    """The text lines of one page image."""
    import numpy as np

    rgb = _rgb(image)
    ocr = engine()
    with _lock:
        # rapidocr takes BGR arrays, as OpenCV reads them.
        result = ocr(np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1]))
    boxes, texts, scores = result.boxes, result.txts, result.scores
    if boxes is None or texts is None or scores is None:
        return []
    lines = []
    for box, text, score in zip(boxes, texts, scores, strict=True):
        corners = tuple((float(x), float(y)) for x, y in box.tolist())
        if len(corners) == 4 and text.strip():
            lines.append(OcrLine(text, corners, float(score), page))
    return lines


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
