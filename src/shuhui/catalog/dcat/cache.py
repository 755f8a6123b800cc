"""Keeping each whole export, gzip-compressed, for the catalog revision it was made at."""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from shuhui.catalog.dcat.terms import Format

# --- caching the whole export -------------------------------------------------------------------


def tee_gzip(
    chunks: Iterable[bytes], keep: Callable[[bytes], None], *, send_gzip: bool
) -> Iterator[bytes]:
    """Passes ``chunks`` on (gzip-compressed if ``send_gzip``) while compressing them, and hands
    the whole gzip to ``keep`` once the last chunk has gone: a client that stops reading leaves
    nothing half-made behind."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    parts: list[bytes] = []
    for piece in chunks:
        packed = compressor.compress(piece)
        parts.append(packed)
        if not send_gzip:
            yield piece
        elif packed:
            yield packed
    tail = compressor.flush()
    parts.append(tail)
    if send_gzip and tail:
        yield tail
    keep(b"".join(parts))


def gunzip_chunks(data: bytes, *, step: int = 1 << 16) -> Iterator[bytes]:
    decompressor = zlib.decompressobj(31)
    for start in range(0, len(data), step):
        out = decompressor.decompress(data[start : start + step])
        if out:
            yield out
    tail = decompressor.flush()
    if tail:
        yield tail


@dataclass(frozen=True)
class CachedExport:
    revision: int
    gzipped: bytes


class ExportCache:
    """Whole-catalog exports, gzip-compressed, per format and base URL, for the catalog revision
    they were made at. At most ``capacity`` entries: the base URL comes from the request's Host
    header, so how many there are is not ours to bound."""

    def __init__(self, capacity: int = 4) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], CachedExport] = OrderedDict()

    def get(self, fmt: Format, base: str, revision: int) -> bytes | None:
        with self._lock:
            entry = self._entries.get((fmt, base))
            if entry is None or entry.revision != revision:
                return None
            self._entries.move_to_end((fmt, base))
            return entry.gzipped

    def put(self, fmt: Format, base: str, revision: int, gzipped: bytes) -> None:
        with self._lock:
            current = self._entries.get((fmt, base))
            if current is not None and current.revision > revision:
                return  # a newer export got here first
            self._entries[(fmt, base)] = CachedExport(revision, gzipped)
            self._entries.move_to_end((fmt, base))
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
