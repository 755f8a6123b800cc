"""Catalog search without a search server: an in-process inverted index built from the
operational database, rebuilt when the catalog's revision changes (in the background, once
the catalog is large: see :class:`IndexCache`).

Chinese has no spaces, so text is indexed as character bigrams (and single characters, for
one-character queries); a query word matches a dataset that contains all its bigrams. City
abbreviations expand to their full forms (``content/<city>/search-synonyms.yaml``), so 社保 finds
社会保险. Latin text is indexed by lower-cased words and their prefixes. Facets, filters and sorts
run on numpy arrays over the whole catalog, so a search costs the same whether it matches ten
datasets or fifty thousand.

Pinyin. The titles and keywords are also indexed as pinyin, full syllables and initials
(:mod:`shuhui.catalog.pinyin`), so ``shebao``, ``sb``, ``gongjijin`` and ``gjj`` find what people
mean. The rule for a Latin query word:

- it matches a dataset whose words match it (as before) **or** whose title or keywords sound
  like it: read as two or more whole syllables, or as initials; a synonym whose pinyin is the
  word counts too (``sb`` → 社保 → 社会保险);
- a word hit always ranks above a pinyin-only hit (``WORD_FIRST``), so an English search
  (``enterprise``, ``health``) shows its English matches first and pinyin readings of it, if
  any, only after them; one letter, or one syllable alone, is never read as pinyin;
- a query word mixing Chinese and Latin letters (``市南shebao``) is taken as two words.

No result. :meth:`SearchIndex.suggest` offers near queries that do find something: a synonym,
a keyword or title sounding the same (a wrong character of the same pinyin), one edit away
(a typo, in characters, words or pinyin), or the query without one of its words.
"""

from __future__ import annotations

import gc
import json
import logging
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shuhui.catalog import pinyin, service
from shuhui.catalog.models import DataItem, Dataset, Distribution, Organisation, ResourceClass
from shuhui.core.content import Items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text, codes

IntArray = npt.NDArray[np.int32]
log = logging.getLogger(__name__)

CJK: Final = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
LATIN: Final = re.compile(r"[a-z0-9]+")
PREFIX_MIN: Final = 3
PREFIX_MAX: Final = 12
# Facets CKAN clients ask for, and the ones this catalog adds.
SINGLE_FACETS: Final = ("organization", "groups", "open_level", "frequency", "share_type")
MULTI_FACETS: Final = ("res_format", "tags")
FACETS: Final = SINGLE_FACETS + MULTI_FACETS
SORTS: Final = {
    "score desc": ("score", True),
    "metadata_modified desc": ("modified", True),
    "metadata_modified asc": ("modified", False),
    "name asc": ("name", False),
    "name desc": ("name", True),
    "title_string asc": ("title", False),
    "title_string desc": ("title", True),
    "num_rows desc": ("rows", True),
    "num_rows asc": ("rows", False),
}
TITLE_WEIGHT: Final = 10
MASKS_CACHED: Final = 256  # per postings; a mask is one byte per dataset
KEYWORD_WEIGHT: Final = 4
# Added for a word hit, more than a pinyin hit can score: word hits rank first.
WORD_FIRST: Final = 2
SUGGESTIONS: Final = 5
SUGGESTIONS_TRIED: Final = 40
MIXED: Final = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[^\u3400-\u9fff\uf900-\ufaff]+")


def cjk_terms(text: str) -> set[str]:
    out: set[str] = set()
    for run in CJK.findall(text):
        out.update(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


def latin_terms(text: str) -> set[str]:
    out: set[str] = set()
    for word in LATIN.findall(text.lower()):
        out.add(word)
        if word.isalpha():
            out.update(word[:n] for n in range(PREFIX_MIN, min(len(word), PREFIX_MAX)))
    return out


def terms(text: str) -> set[str]:
    return cjk_terms(text) | latin_terms(text)


def word_terms(word: str) -> list[str]:
    """The terms a document must all contain to match one query word."""
    found: list[str] = []
    for run in CJK.findall(word):
        found.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    found.extend(LATIN.findall(word.lower()))
    return found


@dataclass
class _Facet:
    values: list[str]
    codes: IntArray  # per document, index into values

    def counts(self, chosen: npt.NDArray[np.bool_]) -> dict[str, int]:
        tally = np.bincount(self.codes[chosen], minlength=len(self.values))
        return {self.values[i]: int(tally[i]) for i in np.flatnonzero(tally)}


@dataclass
class _MultiFacet:
    values: list[str]
    indptr: IntArray  # CSR: document d has values[ids[indptr[d]:indptr[d+1]]]
    ids: IntArray
    owners: IntArray = field(init=False)  # the document of each entry of ids

    def __post_init__(self) -> None:
        documents = len(self.indptr) - 1
        self.owners = np.repeat(np.arange(documents, dtype=np.int32), np.diff(self.indptr))

    def counts(self, chosen: npt.NDArray[np.bool_]) -> dict[str, int]:
        tally = np.bincount(self.ids[np.take(chosen, self.owners)], minlength=len(self.values))
        return {self.values[i]: int(tally[i]) for i in np.flatnonzero(tally)}

    def docs_with(self, value: str) -> npt.NDArray[np.bool_]:
        hit = np.zeros(len(self.indptr) - 1, dtype=bool)
        if value in self.values:
            hit[self.owners[self.ids == self.values.index(value)]] = True
        return hit


@dataclass
class _Postings:
    """Terms of datasets, and terms of their classes (shared by all a class's datasets, so they
    are indexed once per class, not once per dataset)."""

    docs: dict[str, IntArray]
    classes: dict[str, IntArray]
    doc_class: IntArray  # the class position of each dataset
    n_classes: int
    # The masks of recently used terms (read-only), like a search server's filter cache.
    cached: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)

    def mask(self, term: str) -> npt.NDArray[np.bool_] | None:
        hit = self.cached.get(term)
        if hit is not None:
            return hit
        in_docs, in_classes = self.docs.get(term), self.classes.get(term)
        if in_docs is None and in_classes is None:
            return None
        hit = np.zeros(len(self.doc_class), dtype=bool)
        if in_docs is not None:
            hit[in_docs] = True
        if in_classes is not None:
            chosen = np.zeros(self.n_classes, dtype=bool)
            chosen[in_classes] = True
            hit |= chosen[self.doc_class]
        hit.flags.writeable = False
        if len(self.cached) >= MASKS_CACHED:
            self.cached.clear()
        self.cached[term] = hit
        return hit


@dataclass(frozen=True)
class Query:
    q: str = ""
    fq: str = ""
    sort: str = "score desc"
    rows: int = 10
    start: int = 0
    facet_fields: tuple[str, ...] = ()
    facet_limit: int = 50


@dataclass(frozen=True)
class Result:
    count: int
    dataset_ids: list[int]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class SearchIndex:
    """Immutable once built; a new catalog revision builds a new one."""

    def __init__(self, revision: int, synonyms: dict[str, list[str]]) -> None:
        self.revision = revision
        self.synonyms = synonyms
        self.ids: IntArray = np.zeros(0, dtype=np.int32)
        self.names: list[str] = []
        empty = _Postings({}, {}, np.zeros(0, dtype=np.int32), 0)
        self.postings = empty
        self.title_postings = empty
        self.keyword_postings = empty
        self.sounds = empty  # pinyin of titles and keywords
        self.syllables: frozenset[str] = frozenset()
        self.typed: frozenset[str] = frozenset()  # the beginnings of those syllables
        # Chinese words people abbreviate, by their pinyin and initials (社保: shebao, sb).
        self.by_sound: dict[str, list[str]] = {}
        # Words a no-result search may suggest: keywords, class titles, synonyms, Latin words.
        self.vocabulary: list[str] = []
        self._vocabulary_sounds: list[tuple[str, str, str]] | None = None
        self.facets: dict[str, _Facet] = {}
        self.multi: dict[str, _MultiFacet] = {}
        self.modified: npt.NDArray[np.float64] = np.zeros(0)
        self.rows: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.name_rank: IntArray = np.zeros(0, dtype=np.int32)
        self.title_rank: IntArray = np.zeros(0, dtype=np.int32)
        # Every document in the order of a sort key (ties: catalog order), made on first use.
        self._orders: dict[str, IntArray] = {}

    @property
    def size(self) -> int:
        return len(self.names)

    # --- building ---------------------------------------------------------------------------

    @classmethod
    def build(cls, db: Session, synonyms: Items | None = None) -> SearchIndex:
        expand = {s.code: [str(x) for x in s.attrs.get("expands", [])] for s in (synonyms or [])}
        index = cls(service.revision(db), expand)
        index._load(db)
        pinyin.forget_terms()
        for word in {w for code, fulls in expand.items() for w in (code, *fulls)}:
            for sound in {pinyin.full(word), pinyin.initials(word)} - {""}:
                index.by_sound.setdefault(sound, []).append(word)
        index.vocabulary = sorted({*index.vocabulary, *index.by_sound_words()})
        return index

    def by_sound_words(self) -> set[str]:
        return {w for words in self.by_sound.values() for w in words}

    def _load(self, db: Session) -> None:
        orgs = {o.id: o for o in db.scalars(select(Organisation))}
        classes = list(db.scalars(select(ResourceClass).order_by(ResourceClass.id)))
        position = {c.id: i for i, c in enumerate(classes)}
        items_by_class: dict[int, list[str]] = defaultdict(list)
        for class_id, title, name in db.execute(
            select(DataItem.class_id, DataItem.title, DataItem.name)
        ):
            items_by_class[class_id].append(f"{title} {name}")
        formats_by_dataset: dict[int, set[str]] = defaultdict(set)
        for dataset_id, fmt in db.execute(select(Distribution.dataset_id, Distribution.format)):
            formats_by_dataset[dataset_id].add(fmt)

        class_all: dict[str, list[int]] = defaultdict(list)
        class_title: dict[str, list[int]] = defaultdict(list)
        class_keywords: dict[str, list[int]] = defaultdict(list)
        class_sounds: dict[str, list[int]] = defaultdict(list)
        sounds_of: list[set[str]] = []
        vocabulary: set[str] = set()
        keywords_of: list[list[str]] = []
        for i, c in enumerate(classes):
            org = orgs[c.organisation_id]
            keywords = service.keywords_of(c)
            keywords_of.append(keywords)
            title_terms = terms(f"{c.title} {c.title_en}")
            keyword_terms = terms(" ".join(keywords))
            sounds = pinyin.terms(" ".join([c.title, *keywords]))
            sounds_of.append(sounds)
            for term in sounds:
                class_sounds[term].append(i)
            vocabulary.update([c.title, *keywords])
            vocabulary.update(w for w in LATIN.findall(c.title_en.lower()) if w.isalpha())
            body = " ".join([c.summary, org.title, org.title_en, *items_by_class[c.id]])
            for term in title_terms:
                class_title[term].append(i)
            for term in keyword_terms:
                class_keywords[term].append(i)
            for term in title_terms | keyword_terms | terms(body):
                class_all[term].append(i)

        rows = db.execute(
            select(
                Dataset.id,
                Dataset.name,
                Dataset.title,
                Dataset.title_en,
                Dataset.description,
                Dataset.class_id,
                Dataset.modified,
                Dataset.rows,
            ).order_by(Dataset.id)
        ).all()
        doc_all: dict[str, list[int]] = defaultdict(list)
        doc_title: dict[str, list[int]] = defaultdict(list)
        doc_sounds: dict[str, list[int]] = defaultdict(list)
        single: dict[str, list[str]] = {f: [] for f in SINGLE_FACETS}
        multi: dict[str, list[list[str]]] = {f: [] for f in MULTI_FACETS}
        doc_class: list[int] = []
        modified: list[float] = []
        sizes: list[int] = []
        ids: list[int] = []
        titles: list[str] = []
        for doc, (ds_id, name, title, title_en, description, class_id, mod, n_rows) in enumerate(
            rows
        ):
            at = position[class_id]
            c = classes[at]
            title_terms = terms(f"{title} {title_en}")
            for term in title_terms:
                doc_title[term].append(doc)
            for term in title_terms | terms(f"{description} {name}"):
                doc_all[term].append(doc)
            # What the class's title and keywords already give every dataset is not repeated.
            for term in pinyin.terms(title) - sounds_of[at]:
                doc_sounds[term].append(doc)
            single["organization"].append(orgs[c.organisation_id].slug)
            single["groups"].append(c.category)
            single["open_level"].append(c.open_level)
            single["frequency"].append(c.frequency)
            single["share_type"].append(c.share_type)
            multi["res_format"].append(sorted(formats_by_dataset[ds_id]))
            multi["tags"].append(keywords_of[at])
            doc_class.append(at)
            modified.append(mod.timestamp())
            sizes.append(n_rows)
            ids.append(ds_id)
            titles.append(title)
            self.names.append(name)

        def frozen(postings: dict[str, list[int]]) -> dict[str, IntArray]:
            return {t: np.asarray(d, dtype=np.int32) for t, d in postings.items()}

        owner = np.asarray(doc_class, dtype=np.int32)
        n = len(classes)
        self.postings = _Postings(frozen(doc_all), frozen(class_all), owner, n)
        self.title_postings = _Postings(frozen(doc_title), frozen(class_title), owner, n)
        self.keyword_postings = _Postings({}, frozen(class_keywords), owner, n)
        self.sounds = _Postings(frozen(doc_sounds), frozen(class_sounds), owner, n)
        self.syllables = frozenset(
            part
            for term in (*doc_sounds, *class_sounds)
            if term.startswith(pinyin.SYLLABLES)
            for part in term[1:].split("'")
        )
        self.typed = pinyin.prefixes(self.syllables)
        self.vocabulary = sorted(vocabulary)
        self.ids = np.asarray(ids, dtype=np.int32)
        self.modified = np.asarray(modified, dtype=np.float64)
        self.rows = np.asarray(sizes, dtype=np.int64)
        self.name_rank = _ranks(self.names)
        self.title_rank = _ranks(titles)
        for name, values in single.items():
            vocab = sorted(set(values))
            lookup = {v: i for i, v in enumerate(vocab)}
            codes = np.asarray([lookup[v] for v in values], dtype=np.int32)
            self.facets[name] = _Facet(vocab, codes)
        for name, lists in multi.items():
            vocab = sorted({v for vs in lists for v in vs})
            lookup = {v: i for i, v in enumerate(vocab)}
            indptr = np.zeros(len(lists) + 1, dtype=np.int32)
            indptr[1:] = np.cumsum([len(vs) for vs in lists])
            flat = np.asarray([lookup[v] for vs in lists for v in vs], dtype=np.int32)
            self.multi[name] = _MultiFacet(vocab, indptr, flat)

    # --- searching --------------------------------------------------------------------------

    def _alternatives(self, word: str) -> list[str]:
        alts = [word, *self.synonyms.get(word, [])]
        # The other way round too: a full form also finds entries that use the abbreviation.
        alts += [abbr for abbr, full in self.synonyms.items() if word in full]
        return list(dict.fromkeys(alts))

    def _word_hits(self, word: str, postings: _Postings) -> npt.NDArray[np.bool_]:
        hit = np.zeros(self.size, dtype=bool)
        for alternative in self._alternatives(word):
            found = _holding_all(word_terms(alternative), postings)
            if found is not None:
                hit |= found
        return hit

    def _sound_hits(self, word: str) -> npt.NDArray[np.bool_]:
        """The datasets whose titles or keywords sound like ``word`` typed as pinyin."""
        hit = np.zeros(self.size, dtype=bool)
        letters = pinyin.latin_letters(word)
        if letters is None:
            return hit
        hit |= self._syllable_hits(letters)
        found = _holding_all(pinyin.initials_terms(letters), self.sounds)
        if found is not None:
            hit |= found
        for chinese in self.by_sound.get(letters, []):
            hit |= self._word_hits(chinese, self.postings)
        return hit

    def _syllable_hits(self, letters: str) -> npt.NDArray[np.bool_]:
        """The datasets holding every syllable pair of some way ``letters`` splits into two or
        more syllables. Walked as a graph: the datasets matching the rest of the word from the
        syllable letters[i:j] on are the union, over each next syllable letters[j:k], of those
        holding the pair and matching the rest from that syllable on (AND along a split
        distributes over OR between splits), so each (i, j) is worked out once. The last
        syllable may be only begun (``gongjij``)."""
        ends, tail = pinyin.syllable_ends(letters, self.syllables, self.typed)
        n = len(letters)
        nothing = np.zeros(self.size, dtype=bool)
        rest: dict[tuple[int, int], npt.NDArray[np.bool_] | None] = {}  # None: every dataset

        def matching(i: int, j: int) -> npt.NDArray[np.bool_] | None:
            if j == n:
                return None
            if (i, j) not in rest:
                union = nothing
                if tail[j]:  # the rest is a syllable being typed
                    begun = self.sounds.mask(pinyin.begun_pair(letters[i:j], letters[j:]))
                    union = nothing if begun is None else begun
                for k in ends[j]:
                    held = self.sounds.mask(pinyin.pair(letters[i:j], letters[j:k]))
                    if held is None:
                        continue
                    after = matching(j, k)
                    union = union | (held if after is None else held & after)
                rest[i, j] = union
            return rest[i, j]

        hit = nothing
        for j in ends[0]:
            found = matching(0, j) if j < n else nothing
            if found is not None:
                hit = hit | found
        return hit

    def _match(self, q: str, fq: str) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int32]]:
        mask = self._filters(fq)
        score = np.zeros(self.size, dtype=np.int32)
        for word in split_words(q):
            hit = self._word_hits(word, self.postings)
            sounds = self._sound_hits(word)
            mask &= hit | sounds
            score += (1 + WORD_FIRST) * hit.astype(np.int32) + sounds.astype(np.int32)
            score += TITLE_WEIGHT * self._word_hits(word, self.title_postings)
            score += KEYWORD_WEIGHT * self._word_hits(word, self.keyword_postings)
        return mask, score

    def _filters(self, fq: str) -> npt.NDArray[np.bool_]:
        mask = np.ones(self.size, dtype=bool)
        for name, value in parse_fq(fq):
            if name in self.facets:
                facet = self.facets[name]
                if value not in facet.values:
                    return np.zeros(self.size, dtype=bool)
                mask &= facet.codes == facet.values.index(value)
            elif name in self.multi:
                mask &= self.multi[name].docs_with(value)
            elif name == "name":
                mask &= np.asarray([n == value for n in self.names], dtype=bool)
            else:
                known = ", ".join((*FACETS, "name"))
                raise Problem(
                    "validation",
                    errors=[
                        FieldError(
                            "fq",
                            Text(
                                f"没有 `{name}` 这一项，可用：{codes([*FACETS, 'name'])}",
                                f"unknown field {name!r}; use {known}",
                            ),
                        )
                    ],
                )
        return mask

    def search(self, query: Query) -> Result:
        if query.sort not in SORTS:
            raise Problem(
                "validation",
                errors=[
                    FieldError("sort", Text(f"可用：{codes(SORTS)}", f"one of: {', '.join(SORTS)}"))
                ],
            )
        for name in query.facet_fields:
            if name not in FACETS:
                raise Problem(
                    "validation",
                    errors=[
                        FieldError(
                            "facet.field",
                            Text(
                                f"没有 `{name}` 这一分面，可用：{codes(FACETS)}",
                                f"unknown facet {name!r}; use {', '.join(FACETS)}",
                            ),
                        )
                    ],
                )
        mask, score = self._match(query.q, query.fq)
        docs = np.flatnonzero(mask).astype(np.int32)
        ordered = self._order(docs, score, query.sort, mask)
        page = ordered[query.start : query.start + query.rows]
        facets = {}
        for name in query.facet_fields:
            counts = (self.facets.get(name) or self.multi[name]).counts(mask)
            top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: query.facet_limit]
            facets[name] = dict(top)
        return Result(len(docs), [int(self.ids[d]) for d in page], facets)

    def suggest(self, query: Query) -> list[str]:
        """Near queries that find something, for a search that found nothing: one word
        replaced by a synonym, by a keyword or title sounding the same or one edit away, or
        left out."""
        words = split_words(query.q)
        tried: list[str] = []
        for i, word in enumerate(words):
            tried += [" ".join([*words[:i], near, *words[i + 1 :]]) for near in self._near(word)]
        if len(words) > 1:
            tried += [" ".join(words[:i] + words[i + 1 :]) for i in range(len(words))]
        found: list[str] = []
        for q in list(dict.fromkeys(tried))[:SUGGESTIONS_TRIED]:
            if q != " ".join(words) and self._match(q, query.fq)[0].any():
                found.append(q)
                if len(found) == SUGGESTIONS:
                    break
        return found

    def completions(self, typed: str, limit: int = SUGGESTIONS) -> list[str]:
        """Keywords and titles a half-typed Latin word may be the start of, by their pinyin or
        initials (``sheb`` → 社保), shortest first: what a search box offers before the word is
        finished, where the search itself reads only whole syllables."""
        lowered = typed.lower()
        if len(lowered) < 2 or pinyin.LETTERS.fullmatch(lowered) is None:
            return []
        found = [
            entry
            for entry, sound, initials in self._sounds_of_vocabulary()
            if sound.startswith(lowered) or initials.startswith(lowered)
        ]
        return sorted(found, key=lambda w: (len(w), w))[:limit]

    def _near(self, word: str) -> list[str]:
        lowered = word.lower()
        latin = pinyin.LETTERS.fullmatch(lowered) is not None
        sound = lowered if latin else pinyin.full(word)
        same_sound: list[str] = []
        one_edit: list[str] = []
        sounds_near: list[str] = []
        for entry, entry_sound, entry_initials in self._sounds_of_vocabulary():
            if entry == word:
                continue
            if sound and (entry_sound == sound or (latin and entry_initials == lowered)):
                same_sound.append(entry)
            elif len(word) >= 2 and _one_edit(lowered, entry.lower()):
                one_edit.append(entry)
            elif latin and len(word) >= 4 and _one_edit(lowered, entry_sound):
                sounds_near.append(entry)
        synonyms = [a for a in self._alternatives(word) if a != word]
        return [*synonyms, *same_sound, *one_edit, *sounds_near]

    def _sounds_of_vocabulary(self) -> list[tuple[str, str, str]]:
        if self._vocabulary_sounds is None:  # made on the first search that finds nothing
            self._vocabulary_sounds = [
                (w, pinyin.full(w), pinyin.initials(w)) for w in self.vocabulary
            ]
        return self._vocabulary_sounds

    def _order(
        self, docs: IntArray, score: IntArray, sort: str, mask: npt.NDArray[np.bool_]
    ) -> IntArray:
        key, _descending = SORTS[sort]
        if key == "score" and score.any():
            # Best match first, newest first among equals (CKAN's default order).
            rank = self._sorted("newest rank")
            combined = -score[docs].astype(np.int64) * max(self.size, 1) + rank[docs]
            return docs[np.argsort(combined, kind="stable")]
        order = self._sorted("metadata_modified desc" if key == "score" else sort)
        return order[mask[order]]

    def _sorted(self, sort: str) -> IntArray:
        """All documents in the order of ``sort`` (ties keep catalog order), or for "newest
        rank" each document's position in the newest-first order."""
        order = self._orders.get(sort)
        if order is None and sort == "newest rank":  # each document's place in that order
            newest = self._sorted("metadata_modified desc")
            order = np.empty(self.size, dtype=np.int32)
            order[newest] = np.arange(self.size, dtype=np.int32)
            self._orders[sort] = order
        elif order is None:
            key, descending = SORTS[sort]
            columns: dict[str, npt.NDArray[np.float64]] = {
                "modified": self.modified,
                "rows": self.rows.astype(np.float64),
                "name": self.name_rank.astype(np.float64),
                "title": self.title_rank.astype(np.float64),
            }
            values = columns[key]
            order = np.argsort(-values if descending else values, kind="stable").astype(np.int32)
            self._orders[sort] = order
        return order


def _holding_all(needed: Sequence[str], postings: _Postings) -> npt.NDArray[np.bool_] | None:
    """The documents holding every term of ``needed``; None when none can."""
    found: npt.NDArray[np.bool_] | None = None
    for term in needed:
        mask = postings.mask(term)
        if mask is None:
            return None
        found = mask if found is None else found & mask
    return found


def _one_edit(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one character changed, added or left out."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + 1 :] == b[i + 1 :] if len(a) == len(b) else a[i:] == b[i + 1 :]


def _ranks(values: Sequence[str]) -> IntArray:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = np.empty(len(values), dtype=np.int32)
    ranks[order] = np.arange(len(values), dtype=np.int32)
    return ranks


def split_words(q: str) -> list[str]:
    text = q.strip()
    if text in ("", "*:*", "*"):
        return []
    words: list[str] = []
    for w in re.split(r"[\s,，、]+", text):
        if not w or w in ("AND", "and"):
            continue
        # Chinese and Latin letters typed together (市南shebao) are two words.
        mixed = CJK.search(w) is not None and re.search(r"[A-Za-z]", w) is not None
        words += MIXED.findall(w) if mixed else [w]
    return words


FQ_PART: Final = re.compile(r'\+?([a-z_]+):("([^"]*)"|\S+)')


def parse_fq(fq: str) -> list[tuple[str, str]]:
    """CKAN/Solr filter queries of the form ``field:value field:"quoted value"`` (ANDed)."""
    parts: list[tuple[str, str]] = []
    rest = fq.strip()
    pos = 0
    while pos < len(rest):
        if rest[pos].isspace():
            pos += 1
            continue
        if rest.startswith("AND ", pos):
            pos += 4
            continue
        found = FQ_PART.match(rest, pos)
        if found is None:
            raise Problem(
                "validation",
                errors=[
                    FieldError(
                        "fq",
                        Text(
                            f"在 {rest[pos : pos + 20]!r} 处应写成“字段:值”",
                            f"expected field:value at {rest[pos : pos + 20]!r}",
                        ),
                    )
                ],
            )
        value = found.group(3) if found.group(3) is not None else found.group(2)
        parts.append((found.group(1), value))
        pos = found.end()
    return parts


class IndexCache:
    """One index per process, rebuilt when the catalog's revision has moved.

    A small catalog is rebuilt on the spot, so a search sees a change at once. Once a build has
    taken ``sync_limit`` seconds or more (tens of thousands of datasets), searches keep using
    the previous index while the next one builds in a background thread: a catalog change then
    shows in search a few seconds late, instead of holding every search for those seconds.
    """

    def __init__(self, sync_limit: float = 1.0) -> None:
        self.sync_limit = sync_limit
        self.build_seconds = 0.0
        self._index: SearchIndex | None = None
        self._lock = threading.Lock()
        self._building = threading.Lock()  # held by the one background build

    def get(self, db: Session, synonyms: Items | None) -> SearchIndex:
        current = service.revision(db)
        index = self._index
        if index is not None and index.revision == current:
            return index
        if index is not None and self.build_seconds >= self.sync_limit:
            self.build_later(sessionmaker(db.get_bind()), synonyms)
            return index
        with self._lock:
            if self._index is None or self._index.revision != current:
                self._build(db, synonyms)
            assert self._index is not None
            return self._index

    def build_later(self, sessions: Callable[[], Session], synonyms: Items | None) -> bool:
        """Builds the index in a background thread unless one is building; the server calls
        this at start, so the first visitor does not wait for it."""
        if not self._building.acquire(blocking=False):
            return False

        def run() -> None:
            try:
                with self._lock, sessions() as db:
                    if self._index is None or self._index.revision != service.revision(db):
                        self._build(db, synonyms)
            except Exception:  # the next search tries again, on the spot if there is no index
                log.exception("building the catalog search index failed")
            finally:
                self._building.release()

        threading.Thread(target=run, name="catalog-index", daemon=True).start()
        return True

    def _build(self, db: Session, synonyms: Items | None) -> None:
        began = time.perf_counter()
        self._index = SearchIndex.build(db, synonyms)
        self.build_seconds = time.perf_counter() - began
        # The index is millions of long-lived objects; a full collection scanning them paused
        # the server for 30-180 ms at 50,000 datasets. Frozen, the collector skips them (they
        # are freed by reference counting when the next index replaces this one).
        gc.freeze()
        log.info(
            "catalog search index built",
            extra={"revision": self._index.revision, "seconds": round(self.build_seconds, 2)},
        )


def package_ids_in_order(db: Session, ids: Iterable[int]) -> list[Dataset]:
    wanted = list(ids)
    found = {d.id: d for d in db.scalars(select(Dataset).where(Dataset.id.in_(wanted)))}
    return [found[i] for i in wanted if i in found]


def tags_of(datasets: Iterable[Dataset]) -> list[str]:
    out: set[str] = set()
    for d in datasets:
        out.update(json.loads(d.resource_class.keywords))
    return sorted(out)
