"""Uploaded materials: what a file is (told by its first bytes, never by its name), whether it
may be read at all, and where it is kept.

Only PNG, JPEG and PDF are taken. An image is opened as far as its header to learn its size: a
picture of more pixels than Pillow's ``Image.MAX_IMAGE_PIXELS`` (a decompression bomb: a few
kilobytes that unpack into gigabytes) is refused before any pixel is decoded. A PDF must open
and have at most ``MAX_PDF_PAGES`` pages. Refusals are problems a person can act on: 413 for
too large, 415 for anything that is not a readable PNG, JPEG or PDF.

Stored files live under ``<data dir>/approval/uploads/<case>/``, named by material and SHA-256,
written whole or not at all.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

from shuhui.core.errors import FieldError, Problem

PNG = "image/png"
JPEG = "image/jpeg"
PDF = "application/pdf"
EXTENSIONS = {PNG: "png", JPEG: "jpg", PDF: "pdf"}

MAX_BYTES = 10 * 2**20
# A material of more pages than this is not one document: a contract's annex or a scanned
# folder is uploaded as what it is, not as the material asked for.
MAX_PDF_PAGES = 50
# An image this small holds no legible document.
MIN_SIDE = 32

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"%PDF-", PDF),
)
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _mib(size: int) -> str:
    return f"{size / 2**20:.0f} MB" if size >= 2**20 else f"{size // 1024} KB"


def _refuse(slug: str, detail: str, reason: str) -> Problem:
    return Problem(slug, detail, errors=[FieldError("file", reason)])


def sniff(content: bytes) -> str | None:
    """The type the first bytes say: PNG, JPEG or PDF, else None. A PDF may have a few bytes
    before its header (some writers put a BOM or white space there; readers accept 1 KB)."""
    for magic, kind in _MAGIC:
        if content.startswith(magic):
            return kind
    if b"%PDF-" in content[:1024]:
        return PDF
    return None


def check_upload(content: bytes, file_name: str, *, max_bytes: int = MAX_BYTES) -> str:
    """The upload's media type (``image/png``, ``image/jpeg`` or ``application/pdf``), or a
    problem: 413 when it is larger than ``max_bytes`` or decodes into too many pixels, 415 when
    it is not a PNG, JPEG or PDF that opens. ``file_name`` only names the file in the message."""
    shown = display_name(file_name)
    if len(content) > max_bytes:
        raise Problem(
            "content-too-large",
            f"文件“{shown}”有 {_mib(len(content))}，超过了 {_mib(max_bytes)} 的上限。",
            errors=[FieldError("file", f"文件不能超过 {_mib(max_bytes)}")],
            extra={"max_bytes": max_bytes},
        )
    if not content:
        raise _refuse("unsupported-media-type", f"文件“{shown}”是空的。", "文件是空的")
    kind = sniff(content)
    if kind is None:
        raise _refuse(
            "unsupported-media-type",
            f"文件“{shown}”不是 PNG、JPEG 图片或 PDF 文件（按文件内容判断，与扩展名无关）。",
            "只接受 PNG、JPEG 图片或 PDF 文件",
        )
    if kind == PDF:
        _check_pdf(content, shown)
    else:
        _check_image(content, shown, kind)
    return kind


def _check_image(content: bytes, shown: str, kind: str) -> None:
    from PIL import Image

    with warnings.catch_warnings():
        # Past MAX_IMAGE_PIXELS Pillow only warns (it raises past twice that): both refuse here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(content)) as image:
                width, height = image.size
                image.verify()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(shown) from None
        except Exception:  # any decoder's error means the same to the person
            raise _damaged(shown, kind) from None
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and width * height > limit:
        raise _too_many_pixels(shown)
    if min(width, height) < MIN_SIDE:
        raise _refuse(
            "unsupported-media-type",
            f"图片“{shown}”只有 {width}×{height} 像素，太小，看不清内容。",
            f"图片至少应为 {MIN_SIDE}×{MIN_SIDE} 像素",
        )
    if kind == JPEG:
        # verify() reads a JPEG's header only: the whole stream is decoded, at an eighth of
        # its size (cheap in time and memory), so a file cut short is refused here, not kept.
        try:
            with Image.open(io.BytesIO(content)) as image:
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
        except Exception:  # any decoder's error means the same to the person
            raise _damaged(shown, kind) from None


def _damaged(shown: str, kind: str) -> Problem:
    return _refuse(
        "unsupported-media-type",
        f"文件“{shown}”无法作为{EXTENSIONS[kind].upper()}图片打开（文件可能已损坏或不完整）。",
        "图片已损坏或不完整",
    )


def _too_many_pixels(shown: str) -> Problem:
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS or 0
    return Problem(
        "content-too-large",
        f"图片“{shown}”的像素太多（超过 {limit // 1_000_000} 百万像素），无法处理；"
        "请缩小后重新上传。",
        errors=[FieldError("file", f"图片不能超过 {limit // 1_000_000} 百万像素")],
    )


def _check_pdf(content: bytes, shown: str) -> None:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(content)
    except pdfium.PdfiumError as exc:
        encrypted = "password" in str(exc).lower()
        raise _refuse(
            "unsupported-media-type",
            f"PDF 文件“{shown}”"
            + (
                "有密码保护，无法读取；请上传未加密的文件。"
                if encrypted
                else "无法打开（文件可能已损坏）。"
            ),
            "PDF 有密码保护" if encrypted else "PDF 已损坏或不完整",
        ) from None
    try:
        pages = len(pdf)
    finally:
        pdf.close()
    if pages == 0:
        raise _refuse("unsupported-media-type", f"PDF 文件“{shown}”没有页面。", "PDF 没有页面")
    if pages > MAX_PDF_PAGES:
        raise Problem(
            "content-too-large",
            f"PDF 文件“{shown}”有 {pages} 页，一份材料最多 {MAX_PDF_PAGES} 页。",
            errors=[FieldError("file", f"PDF 不能超过 {MAX_PDF_PAGES} 页")],
        )


def display_name(file_name: str) -> str:
    """A file name fit to show and keep: its last path part, no control characters, at most
    100 characters."""
    base = re.split(r"[\\/]", file_name)[-1]
    cleaned = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return (cleaned or "未命名文件")[:100]


@dataclass(frozen=True)
class StoredUpload:
    """A kept upload: ``stored_as`` is relative to the data directory (what a case keeps)."""

    stored_as: str
    path: Path
    file_name: str
    content_type: str
    size: int
    sha256: str


def store_upload(
    data_dir: Path, case_code: str, material: str, content: bytes, file_name: str
) -> StoredUpload:
    """Keeps an upload under ``<data dir>/approval/uploads/<case>/<material>-<sha256>.<ext>``
    (checked first: the same refusals as :func:`check_upload`). The same content for the same
    material is kept once; a file is written to a temporary name and renamed, so a reader never
    sees half of it."""
    content_type = check_upload(content, file_name)
    for field, part in (("case", case_code), ("material", material)):
        if not _SAFE_PART.match(part) or ".." in part:
            raise Problem(
                "validation",
                "办件编号或材料代码含有不允许的字符。",
                errors=[FieldError(field, "只能包含字母、数字、点、连字符和下划线")],
            )
    digest = hashlib.sha256(content).hexdigest()
    relative = Path(
        "approval", "uploads", case_code, f"{material}-{digest}.{EXTENSIONS[content_type]}"
    )
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return StoredUpload(
        stored_as=relative.as_posix(),
        path=target,
        file_name=display_name(file_name),
        content_type=content_type,
        size=len(content),
        sha256=digest,
    )
