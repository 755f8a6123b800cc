"""Matching a need to solutions and platforms: only solutions that answer the need's kind,
scores within 0–100 and ranked, the enterprise's industry and the words it used raising a
solution, one it already uses lowered; the word pairs the text is compared on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from shuhui.core.content import DEFAULT_DIR
from shuhui.enterprise.matching import Enterprise, bigrams, match_solutions
from shuhui.enterprise.platforms import load
from shuhui.enterprise.schemas import NEED_KINDS

CITY = Path(DEFAULT_DIR) / "qingdao"
FACTORY = Enterprise("91370200MA3C4D5E6T", "C", "制造业")
TEXT = "设备联网，生产计划排产和质量追溯"


@given(st.text(max_size=200), st.text(max_size=200))
def test_word_pairs_of_a_text_are_kept_in_a_longer_text(a: str, b: str) -> None:
    pairs = bigrams(a)
    assert pairs <= bigrams(f"{a} {b}")
    assert all(len(p) == 2 or p.isascii() for p in pairs)


@given(st.sampled_from(NEED_KINDS), st.text(max_size=300))
def test_every_match_answers_the_kind_and_scores_within_bounds(kind: str, text: str) -> None:
    catalogue = load(CITY)
    solutions, platforms = match_solutions(catalogue, kind, text, FACTORY)
    for s in solutions:
        found = catalogue.solution(s.code)
        assert found is not None and kind in found.need_kinds
        assert 0 <= s.score <= 100 and s.reasons
    scores = [s.score for s in solutions]
    assert scores == sorted(scores, reverse=True)
    assert all(catalogue.platform(p.code) is not None for p in platforms)


def test_the_words_and_the_industry_raise_a_solution_and_use_lowers_it() -> None:
    catalogue = load(CITY)
    plain, _ = match_solutions(catalogue, "digital", "", FACTORY)
    worded, _ = match_solutions(catalogue, "digital", TEXT, FACTORY)
    assert worded[0].score > plain[0].score
    assert any("相关" in r for r in worded[0].reasons)
    elsewhere, _ = match_solutions(catalogue, "digital", TEXT, replace(FACTORY, industry_code="Q"))
    best = {s.code: s.score for s in worded}
    for s in elsewhere:
        if s.code in best:
            assert s.score <= best[s.code]
    top = worded[0].code
    using = replace(FACTORY, solutions_in_use=frozenset({top}))
    again, _ = match_solutions(catalogue, "digital", TEXT, using)
    lowered = {s.code: s for s in again}
    assert top not in lowered or (
        lowered[top].score < worded[0].score and "您已在使用这个方案" in lowered[top].reasons
    )
