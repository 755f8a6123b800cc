"""Finding service items by what people type: Chinese words, the city's abbreviations, pinyin
and its initials — the catalog's search rules (:mod:`shuhui.catalog.search`), on a few dozen
items held in memory instead of an inverted index.

A query word matches an item whose text holds all its character bigrams (Chinese) or words
(Latin), or one of its synonyms' (``search-synonyms.yaml``: 社保 finds 社会保险, and the other
way round); or, typed in Latin letters, whose name, keywords or scenario sound like it, read as
two or more whole syllables (the last possibly only begun: ``shipinj``) or as initials
(``spjy``), or whose abbreviation it spells (``sb`` → 社保). Every word must match. Where a word
matches ranks the item: its name, then its keywords and the certificate it issues, then the rest
(department, domain, scenario, materials); a pinyin-only match ranks below any word match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final

from shuhui.catalog import pinyin
from shuhui.catalog.search import split_words, terms, word_terms
from shuhui.core.content import Items

if TYPE_CHECKING:
    from shuhui.approval.items import Domain, Scenario, ServiceItem

NAME_WEIGHT: Final = 10
KEYWORD_WEIGHT: Final = 4
WORD_WEIGHT: Final = 2  # a word anywhere: more than a pinyin match scores
SOUND_WEIGHT: Final = 1
QUERY_MAX: Final = 100  # characters of a query read; nobody types more into a search box


@dataclass(frozen=True)
class _Doc:
    name: frozenset[str]  # terms of the Chinese and English names
    keywords: frozenset[str]  # of the keywords and the certificate issued
    everything: frozenset[str]  # of all the item's searchable text
    sounds: frozenset[str]  # pinyin terms of the name, keywords and scenarios


@dataclass(frozen=True)
class ItemIndex:
    docs: Mapping[str, _Doc]
    synonyms: Mapping[str, tuple[str, ...]]
    by_sound: Mapping[str, tuple[str, ...]]  # an abbreviation's pinyin and initials → words
    syllables: frozenset[str]
    typed: frozenset[str]  # the beginnings of those syllables

    @classmethod
    def build(
        cls,
        items: Mapping[str, ServiceItem],
        domains: Mapping[str, Domain],
        scenarios: Mapping[str, Scenario],
        synonyms: Items | None,
    ) -> ItemIndex:
        listed: dict[str, list[str]] = {}
        for s in scenarios.values():
            for code in s.items:
                listed.setdefault(code, []).append(s.name_zh)
        docs = {}
        for code, item in items.items():
            keywords = [*(str(k) for k in item.attrs.get("keywords", [])), item.issues or ""]
            names = [item.name_zh, item.name_en]
            rest = [
                item.code,
                item.department,
                domains[item.domain].name_zh,
                *listed.get(code, []),
                *(m.name_zh for m in item.materials),
            ]
            docs[code] = _Doc(
                name=_terms(names),
                keywords=_terms(keywords),
                everything=_terms([*names, *keywords, *rest]),
                sounds=frozenset(
                    t
                    for text in (item.name_zh, *keywords, *listed.get(code, []))
                    for t in pinyin.terms(text)
                ),
            )
        expand = {
            s.code: tuple(str(x) for x in s.attrs.get("expands", [])) for s in (synonyms or [])
        }
        by_sound: dict[str, list[str]] = {}
        for word in {w for code, fulls in expand.items() for w in (code, *fulls)}:
            for sound in {pinyin.full(word), pinyin.initials(word)} - {""}:
                by_sound.setdefault(sound, []).append(word)
        syllables = frozenset(
            part
            for doc in docs.values()
            for term in doc.sounds
            if term.startswith(pinyin.SYLLABLES)
            for part in term[1:].split("'")
        )
        return cls(
            docs=docs,
            synonyms=expand,
            by_sound={k: tuple(sorted(v)) for k, v in by_sound.items()},
            syllables=syllables,
            typed=pinyin.prefixes(syllables),
        )

    def search(self, items: Iterable[ServiceItem], text: str) -> list[ServiceItem]:
        words = split_words(text[:QUERY_MAX])
        scored: list[tuple[int, int, ServiceItem]] = []
        for order, item in enumerate(items):
            doc = self.docs.get(item.code)
            if doc is None:
                continue
            score = 0
            for word in words:
                found = self._score(doc, word)
                if not found:
                    break
                score += found
            else:
                scored.append((-score, order, item))
        return [item for *_, item in sorted(scored, key=lambda s: (s[0], s[1]))]

    def _alternatives(self, word: str) -> list[str]:
        alts = [word, *self.synonyms.get(word, ())]
        alts += [abbr for abbr, fulls in self.synonyms.items() if word in fulls]
        return list(dict.fromkeys(alts))

    def _score(self, doc: _Doc, word: str) -> int:
        """What ``word`` adds to the item's score; 0 when it does not match."""
        best = 0
        for alt in self._alternatives(word):
            needed = word_terms(alt)
            if not needed or not set(needed) <= doc.everything:
                continue
            weight = WORD_WEIGHT
            if set(needed) <= doc.name:
                weight += NAME_WEIGHT
            elif set(needed) <= doc.keywords:
                weight += KEYWORD_WEIGHT
            best = max(best, weight)
        if best:
            return best
        return SOUND_WEIGHT if self._sounds_like(doc, word) else 0

    def _sounds_like(self, doc: _Doc, word: str) -> bool:
        letters = pinyin.latin_letters(word)
        if letters is None:
            return False
        if all(t in doc.sounds for t in pinyin.initials_terms(letters)):
            return True
        if any(self._score(doc, chinese) for chinese in self.by_sound.get(letters, ())):
            return True
        return self._syllables_match(doc, letters)

    def _syllables_match(self, doc: _Doc, letters: str) -> bool:
        """Whether ``letters`` splits into two or more syllables every neighbouring pair of
        which the item holds (the last syllable possibly only begun)."""
        ends, tail = pinyin.syllable_ends(letters, self.syllables, self.typed)
        n = len(letters)

        @cache
        def rest(i: int, j: int) -> bool:  # letters[i:j] is a syllable; does the rest follow?
            if j == n:
                return True
            if tail[j] and pinyin.begun_pair(letters[i:j], letters[j:]) in doc.sounds:
                return True
            return any(
                pinyin.pair(letters[i:j], letters[j:k]) in doc.sounds and rest(j, k)
                for k in ends[j]
            )

        return any(j < n and rest(0, j) for j in ends[0])


def _terms(texts: Iterable[str]) -> frozenset[str]:
    return frozenset(t for text in texts for t in terms(text))
