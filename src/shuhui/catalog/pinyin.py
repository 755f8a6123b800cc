"""Pinyin for search: people type ``shebao`` or ``sb`` for 社保, ``gongjijin`` or ``gjj`` for
公积金, because a Latin keyboard is quicker than an input method.

What is indexed. Each run of Chinese characters in a text is read with pypinyin (toneless, ü
as ``v``, the reading of a character chosen from its phrase, so 银行 is ``yinhang``); a
character without a reading breaks the run. A run gives three kinds of terms:

- full syllables: each pair of neighbouring syllables (``she'hui``, ``hui'bao``…);
- a syllable and the first one or two letters of the next (``she'h``, ``she'hu``), for a word
  still being typed;
- initials: every 2 or 3 consecutive first letters (``sh``, ``shb``, ``hbx``…); longer
  initials match as a word matches its bigrams, by all their 3-letter stretches.

How a Latin query word is read as pinyin. A word of two or more letters is read every way it
splits into two or more syllables of the index (``xian`` → ``xi an``; ``shehuibaoxian`` →
``she hui bao xian``; :func:`syllable_ends`), the last of which may be only begun, as while
typing, by its first one or two letters (``gongjij`` → ``gong ji j…``; ``gongjiji`` → ``gong
ji ji…`` as well as ``gong ji ji``), and once as initials (``sb``; :func:`initials_terms`).
A reading matches a text holding all its terms, as a Chinese word matches a text holding all
its bigrams. One syllable alone is not read (``an``, ``long``, ``men`` would match half the
catalog), nor one letter. The terms carry a prefix no word has, so they never meet the index's
Latin words.

These functions are pure; the catalog's :class:`~shuhui.catalog.search.SearchIndex` keeps the
terms and decides how pinyin hits rank against word hits (see its module docstring). A search
over other Chinese names (service items, say) reads them through the same functions.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache
from itertools import pairwise
from typing import Final

CJK: Final = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
LETTERS: Final = re.compile(r"[a-z]+")
SYLLABLES: Final = "\x01"  # the prefix of a full-syllable pair term
INITIALS: Final = "\x02"  # the prefix of an initials term
TYPING: Final = "\x03"  # the prefix of a syllable-then-first-letter term
INITIALS_MIN: Final = 2
INITIALS_MAX: Final = 3
BEGUN_MAX: Final = 2  # letters of a syllable being typed that the index holds
SYLLABLE_MAX: Final = 6  # the longest syllables (zhuang, shuang) have six letters


@lru_cache(maxsize=65_536)
def syllables(run: str) -> tuple[str, ...]:
    """The toneless syllable of each character of ``run`` ("" for a character without one).

    pypinyin cuts the run into the words whose reading it knows (银行, 行政) and reads each;
    reading a word is most of its cost and titles repeat their words, so each word is read
    once (:func:`_word`). It is imported on first use: it loads its phrase dictionary, which a
    command that never searches should not pay for."""
    from pypinyin.seg.mmseg import seg

    read = [s for word in seg.cut(run) for s in _word(word)]
    if len(read) != len(run):
        read = [s for c in run for s in _word(c)]
    return tuple(read)


@lru_cache(maxsize=65_536)
def _word(word: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    read = lazy_pinyin(word, style=Style.NORMAL)
    if len(read) != len(word):  # characters without a reading come back as one item
        read = [(lazy_pinyin(c, style=Style.NORMAL) or [""])[0] for c in word]
    return tuple(s if LETTERS.fullmatch(s) else "" for s in read)


def pieces(text: str) -> list[tuple[str, ...]]:
    """The syllables of each stretch of ``text`` read aloud without a break."""
    return [piece for run in CJK.findall(text) for piece in _run_pieces(run)]


@lru_cache(maxsize=65_536)
def _run_pieces(run: str) -> tuple[tuple[str, ...], ...]:
    out: list[tuple[str, ...]] = []
    piece: list[str] = []
    for syllable in syllables(run):
        if syllable:
            piece.append(syllable)
        elif piece:
            out.append(tuple(piece))
            piece = []
    if piece:
        out.append(tuple(piece))
    return tuple(out)


def full(text: str) -> str:
    """The syllables of the Chinese in ``text``, joined: 社保 → ``shebao``."""
    return "".join("".join(p) for p in pieces(text))


def initials(text: str) -> str:
    """The first letters of the syllables of the Chinese in ``text``: 社保 → ``sb``."""
    return "".join("".join(s[0] for s in p) for p in pieces(text))


def pair(a: str, b: str) -> str:
    return f"{SYLLABLES}{a}'{b}"


def begun_pair(a: str, b: str) -> str:
    """The term of syllable ``a`` followed by a longer syllable beginning with ``b``."""
    return f"{TYPING}{a}'{b}"


def initials_terms(letters: str) -> list[str]:
    """The initials terms a text must all hold to match ``letters`` read as initials."""
    if len(letters) <= INITIALS_MAX:
        return [INITIALS + letters]
    return [
        INITIALS + letters[i : i + INITIALS_MAX] for i in range(len(letters) - INITIALS_MAX + 1)
    ]


def terms(text: str) -> set[str]:
    """The pinyin terms of the Chinese in ``text``."""
    out: set[str] = set()
    for run in CJK.findall(text):
        out |= _run_terms(run)
    return out


@lru_cache(maxsize=65_536)
def _run_terms(run: str) -> frozenset[str]:
    # Titles repeat their words (a district, a subject), so a run's terms are worked out once.
    out: set[str] = set()
    for piece in _run_pieces(run):
        out.update(pair(a, b) for a, b in pairwise(piece))
        out.update(
            begun_pair(a, b[:m])
            for a, b in pairwise(piece)
            for m in range(1, min(len(b), BEGUN_MAX + 1))
        )
        letters = "".join(s[0] for s in piece)
        for size in range(INITIALS_MIN, INITIALS_MAX + 1):
            out.update(INITIALS + letters[i : i + size] for i in range(len(letters) - size + 1))
    return frozenset(out)


def forget_terms() -> None:
    """Drops the terms kept per run while an index was built: the index holds the ones it
    needs, and the rest would stay in memory until the next build (the syllables, slow to
    read, are kept)."""
    _run_terms.cache_clear()


def prefixes(known: Collection[str]) -> frozenset[str]:
    """What the last syllable may be while it is still being typed (``j``, ``ji`` of ``jin``)."""
    return frozenset(s[:n] for s in known for n in range(1, min(len(s), BEGUN_MAX + 1)))


def syllable_ends(
    word: str, known: Collection[str], typed: Collection[str] = ()
) -> tuple[list[list[int]], list[bool]]:
    """For each position of ``word``, where a syllable of ``known`` starting there may end so
    that the rest of the word still splits into syllables (empty where it cannot), and whether
    the rest from there is the start of a syllable of ``typed`` (a last syllable not yet
    typed out). The ways the word splits are the paths from 0 to its end; there may be very
    many (``xian`` is ``xian`` or ``xi an``), so a search walks them as a graph instead of
    listing them."""
    n = len(word)
    tail = [word[i:] in typed for i in range(n)] + [False]
    reaches = [False] * n + [True]
    ends: list[list[int]] = [[] for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, min(n, i + SYLLABLE_MAX) + 1):
            if reaches[j] and word[i:j] in known:
                ends[i].append(j)
        reaches[i] = bool(ends[i]) or tail[i]
    return ends, tail


def latin_letters(word: str) -> str | None:
    """The word lower-cased if it may be pinyin: two or more Latin letters and nothing else."""
    letters = word.lower()
    return letters if len(letters) >= 2 and LETTERS.fullmatch(letters) else None
