"""What an action runs with (:class:`Context`) and what outlives a call (:class:`PackageCache`:
encoded package dicts and whole ``package_search`` answers, kept per catalog revision)."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from shuhui.catalog import search
from shuhui.catalog.ckan.params import API_PATH, REVISION_CHECK
from shuhui.catalog.service import CityCatalog
from shuhui.core.content import Items
from shuhui.datacore.store import DataCore

# --- the context of a call -----------------------------------------------------------------


@dataclass
class Context:
    db: Session
    catalog: CityCatalog
    indexes: search.IndexCache
    datacore: DataCore
    cache: PackageCache
    base_url: str  # scheme://host[:port], no trailing slash
    path: str = API_PATH
    request_id: str | None = None

    def absolute(self, url: str) -> str:
        return self.base_url + url if url.startswith("/") else url

    def index(self) -> search.SearchIndex:
        return self.cache.index(self.indexes, self.db, self.catalog.synonyms)


class PackageCache:
    """Encoded package dicts, whole search answers and a few lookups of one catalog revision.

    Keyed by the site's base URL too, since resource URLs are absolute. Bounded: the least
    recently used entries go first (answers also by their total size).
    """

    def __init__(
        self,
        capacity: int = 20_000,
        max_age: float = REVISION_CHECK,
        answers: int = 2_000,
        answer_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.capacity = capacity
        self.max_age = max_age
        self.answers_max = answers
        self.answer_bytes_max = answer_bytes
        self.revision: int | None = None
        self._index: tuple[float, search.SearchIndex] | None = None
        self._lock = threading.Lock()
        self._packages: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._answers: OrderedDict[Hashable, bytes] = OrderedDict()
        self._answer_bytes = 0
        self._confirming = -math.inf  # when a caller last went to confirm the revision
        self._lookups: dict[str, Any] = {}

    def index(
        self, indexes: search.IndexCache, db: Session, synonyms: Items | None
    ) -> search.SearchIndex:
        """The search index, asking the database whether the catalog moved at most every
        ``max_age`` seconds: a search may lag a catalog change by that much."""
        now = time.monotonic()
        held = self._index
        if held is not None and now - held[0] < self.max_age:
            return held[1]
        index = indexes.get(db, synonyms)
        self.follow(index.revision)
        self._index = (now, index)
        return index

    def follow(self, revision: int) -> None:
        if revision != self.revision:
            with self._lock:
                if revision != self.revision:
                    self._packages.clear()
                    self._answers.clear()
                    self._answer_bytes = 0
                    self._lookups.clear()
                    self.revision = revision

    def answer(self, key: Hashable) -> bytes | None:
        """A kept answer, while the revision it was made at is known to be current.

        The revision is confirmed against the database every ``max_age`` seconds. When that is
        due, one caller is told "no answer", goes the long way and confirms it; the others keep
        being answered meanwhile (for at most another ``max_age``), rather than all of them
        queueing for the database at once. So an answer lags a catalog change by at most twice
        ``max_age``.
        """
        held = self._index
        if held is None:
            return None
        now = time.monotonic()
        age = now - held[0]
        if age >= self.max_age:
            with self._lock:
                if age >= 2 * self.max_age or now - self._confirming >= self.max_age:
                    self._confirming = now
                    return None
        with self._lock:
            body = self._answers.get(key)
            if body is not None:
                self._answers.move_to_end(key)
            return body

    def keep_answer(self, key: Hashable, body: bytes, revision: int) -> None:
        """Keeps an answer made at ``revision``, unless the catalog has moved on since."""
        if len(body) > self.answer_bytes_max // 16:
            return  # a few huge pages must not push out hundreds of ordinary ones
        with self._lock:
            if revision != self.revision or key in self._answers:
                return
            self._answers[key] = body
            self._answer_bytes += len(body)
            while (
                len(self._answers) > self.answers_max or self._answer_bytes > self.answer_bytes_max
            ):
                _, dropped = self._answers.popitem(last=False)
                self._answer_bytes -= len(dropped)

    def packages(self, base: str, ids: Sequence[int]) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        with self._lock:
            for i in ids:
                hit = self._packages.get((base, i))
                if hit is not None:
                    self._packages.move_to_end((base, i))
                    found[i] = hit
        return found

    def store(self, base: str, encoded: dict[int, bytes], revision: int | None) -> None:
        """Keeps what was read at ``revision``, unless the catalog has moved on since."""
        with self._lock:
            if revision != self.revision:
                return
            for i, body in encoded.items():
                self._packages[(base, i)] = body
            while len(self._packages) > self.capacity:
                self._packages.popitem(last=False)

    def lookup(self, name: str, build: Callable[[], Any]) -> Any:
        value = self._lookups.get(name)
        if value is None:
            revision = self.revision
            value = build()
            with self._lock:
                if revision == self.revision:
                    self._lookups[name] = value
        return value
