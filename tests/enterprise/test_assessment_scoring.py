"""Scoring the questionnaire: cases worked out by hand against the official thresholds (一级 20,
二级 40, 三级 60, 四级 80 points), the gaps to the next level, and properties over every answer
set: the score stays within 0-100, the level never falls as the score rises, and a better
answer never lowers the score."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuhui.core.content import DEFAULT_DIR
from shuhui.core.errors import Problem
from shuhui.enterprise import assessment
from shuhui.enterprise import assessment_content as content

Q = content.in_force(DEFAULT_DIR / "qingdao", date(2026, 12, 7))
assert Q is not None

# A manufacturer part of the way: worked out by hand below.
MIXED = {
    "P1": "manufacturing", "P2": "small", "P3": "B", "P4": "C",
    "B1": "C", "B2": "C", "B3": "B", "B4": "B",  # 3.5 + 3.5 + 2 + 2 = 11 of 20: 55 %
    "O1": "L0", "O2": "L0", "O3": "L2", "O4": "L0", "O5": "L0", "O6": "L0", "O7": "L0",
    "O8": "L2", "O9": "L1", "O10": "L2", "O11": "L1",  # 8 of 44 points: 18.18 %
    "M1": "B", "M2": "B", "M3": "B", "M4": "A",  # 3 of 16: 18.75 %
    "E1": "B", "E2": "B", "E3": "B", "E4": "B",  # 8 of 20: 40 %
}  # fmt: skip


def test_a_manufacturer_part_of_the_way() -> None:
    scored = content.score(Q, MIXED)
    # 20 × 55 % + 45 × 8/44 + 15 × 3/16 + 20 × 40 % = 11 + 8.1818 + 2.8125 + 8 = 29.994
    assert scored.score == 300
    assert scored.level == 1
    rates = {d.code: d.rate for d in scored.dimensions}
    assert rates == {"basis": 550, "operation": 182, "management": 188, "effect": 400}


def test_not_a_manufacturer_is_not_asked_the_production_scenarios() -> None:
    other = {**MIXED, "P1": "other"}
    scored = content.score(Q, other)
    # Operation: the four scenarios every enterprise has, 6 of 16 points (37.5 %); the seven
    # production ones (answered or not) are set aside.
    # 11 + 45 × 37.5 % + 2.8125 + 8 = 38.6875
    assert scored.score == 387
    assert scored.level == 1
    assert {x.code for x in Q.applicable(other)}.isdisjoint({f"O{i}" for i in range(1, 8)})
    # 1.3 points short of 二级. The weak dimensions are those under 40 %; one scenario one
    # level up (2.8125 points, the largest single step) closes it.
    following, needed = content.to_next_level(Q, other)
    assert following is not None and following.name == "二级" and needed == 13
    weak = content.weak_dimensions(Q, scored, following)
    assert [d.code for d in weak] == ["management", "operation"]
    (step,) = content.closing_steps(Q, other)
    assert step.question.code == "O8" and step.target.code == "L3"
    assert float(step.gain) == pytest.approx(28.125)


def test_the_thresholds_are_the_official_ones() -> None:
    assert [Q.level_of(s) for s in (0, 199, 200, 399, 400, 599, 600, 799, 800, 1000)] == [
        0, 0, 1, 1, 2, 2, 3, 3, 4, 4,
    ]  # fmt: skip


def test_everything_at_the_top_and_at_the_bottom() -> None:
    top = {x.code: x.options[-1].code for x in Q.questions} | {"P1": "manufacturing"}
    bottom = {x.code: x.options[0].code for x in Q.questions}
    assert content.score(Q, top).score == 1000 and content.score(Q, top).level == 4
    assert content.closing_steps(Q, top) == []
    assert assessment.gaps(Q, top, content.score(Q, top)) == []
    low = content.score(Q, bottom)
    assert (low.score, low.level) == (0, 0)
    gaps = assessment.gaps(Q, bottom, low)
    assert gaps[0]["kind"] == "next" and gaps[0]["needed"] == 200
    assert "一级" in gaps[0]["text"] and "20分" in gaps[0]["text"]
    assert {g["dimension"] for g in gaps if g["kind"] == "dimension"} == {
        "basis",
        "operation",
        "management",
        "effect",
    }
    steps = [g for g in gaps if g["kind"] == "question"]
    assert 1 <= len(steps) <= content.MOST_STEPS
    assert sum(g["gain"] for g in steps) >= 200


def test_the_gaps_are_plain_chinese_and_point_to_the_next_option() -> None:
    other = {**MIXED, "P1": "other"}
    gaps = assessment.gaps(Q, other, content.score(Q, other))
    (step,) = [g for g in gaps if g["kind"] == "question"]
    assert step["text"].startswith("采购与供应链协同：目前为“二级")
    assert "做到“三级" in step["text"] and "约可提高2.8分" in step["text"]
    assert (
        gaps[0]["text"].startswith("距离二级（利用信息技术手段") and "还差1.3分" in gaps[0]["text"]
    )


def test_answers_are_checked_in_the_questions_own_words() -> None:
    given_answers = {**MIXED, "B1": "Z", "X9": "A"}
    del given_answers["M2"]
    with pytest.raises(Problem) as refused:
        assessment.check_answers(Q, given_answers)
    reasons = {e.field: str(e.reason) for e in refused.value.errors}
    assert reasons == {
        "answers.X9": "问卷中没有这个问题",
        "answers.B1": "“生产经营设备的数字化与联网”没有这个选项，请从列出的选项中选择",
        "answers.M2": "请回答“数字化工作的组织”",
    }
    assert refused.value.http_status == 422
    # A question that does not apply may be left, or answered: its answer is set aside.
    other = {k: v for k, v in MIXED.items() if k not in {"O1", "O2"}} | {"P1": "other"}
    kept = assessment.check_answers(Q, other)
    assert "O3" not in kept and kept["O8"] == "L2"


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, str]:
    """Any answers: each question answered with any of its options, or left out."""
    out = {}
    for x in Q.questions:
        choice = draw(st.sampled_from([None, *(o.code for o in x.options)]))
        if choice is not None:
            out[x.code] = choice
    return out


@given(answer_sets(), answer_sets())
def test_every_answer_set_scores_within_bounds_and_the_level_follows_the_score(
    a: dict[str, str], b: dict[str, str]
) -> None:
    sa, sb = content.score(Q, a), content.score(Q, b)
    for s in (sa, sb):
        assert 0 <= s.score <= content.FULL
        assert s.level in (0, 1, 2, 3, 4)
        assert s.level == Q.level_of(s.score)
        assert all(0 <= d.rate <= content.FULL for d in s.dimensions)
    if sa.score <= sb.score:
        assert sa.level <= sb.level
    else:
        assert sa.level >= sb.level


@given(answer_sets(), st.data())
def test_a_better_answer_never_lowers_the_score(
    answers: dict[str, str], data: st.DataObject
) -> None:
    scored = [x for x in Q.applicable(answers) if Q.dimension(x.dimension).scored]
    x = data.draw(st.sampled_from(scored))
    current = x.option(answers.get(x.code))
    higher = [o for o in x.options if current is None or o.points >= current.points]
    better = data.draw(st.sampled_from(higher))
    lifted = {**answers, x.code: better.code}
    assert content.score(Q, lifted).score >= content.score(Q, answers).score
    # The steps offered each add what they say.
    for step in content.steps(Q, answers)[:3]:
        after = {**answers, step.question.code: step.target.code}
        exact = content._exact(Q, after)[0] - content._exact(Q, answers)[0]
        assert exact == step.gain > 0
