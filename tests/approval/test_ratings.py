"""Service evaluation (好差评): the applicant, or the agent who applied, rates a finished case once;
a bad rating opens a follow-up only the case's department can answer and close."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.approval import ratings
from shuhui.approval.models import FollowUp, Rating
from shuhui.approval.schemas import RatingIn
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.trust.identity import service as identity
from shuhui.trust.identity.models import User
from shuhui.trust.ledger.models import LedgerEntry
from tests.approval.made_cases import APPROVAL_BUREAU, case, item

CITIZEN_ID = "370202199003151233"  # the demo citizen's
ENTERPRISE = "91370202MA3C4D5E6T"  # the demo enterprise's


@pytest.fixture
def db(app: FastAPI) -> Iterator[Session]:
    with transaction(app.state.session_factory) as session:
        yield session


def user(db: Session, name: str) -> User:
    found = identity.get_user_by_username(db, name)
    assert found is not None
    return found


def finished_case(db: Session, state: str = "issued", **columns: object) -> str:
    made = case(
        db,
        item(holder="person"),
        applicant_id=CITIZEN_ID,
        applicant_name="张小青",
        applicant_kind="person",
        created_by="citizen",
        state=state,
        **columns,  # type: ignore[arg-type]
    )
    return made.code


def actions(db: Session) -> list[tuple[str, str | None, str | None]]:
    return [
        (e.action, e.actor, e.subject)
        for e in db.scalars(select(LedgerEntry).order_by(LedgerEntry.seq))
        if e.action.startswith("approval.")
    ]


def test_a_good_rating_is_recorded_once(db: Session) -> None:
    code = finished_case(db)
    rating = ratings.rate(db, user(db, "citizen"), code, RatingIn(stars=5, comment=" 很快 "))
    assert (rating.stars, rating.comment, rating.department) == (5, "很快", APPROVAL_BUREAU)
    out = ratings.rating_out(db, rating)
    assert out.case_code == code and out.followup_id is None and out.followup_state is None
    assert db.scalar(select(FollowUp)) is None
    with pytest.raises(Problem) as again:
        ratings.rate(db, user(db, "citizen"), code, RatingIn(stars=1))
    assert again.value.slug == "conflict" and again.value.http_status == 409
    assert actions(db) == [("approval.rating.given", "citizen", CITIZEN_ID)]


def test_a_bad_rating_opens_a_follow_up_the_department_closes(db: Session) -> None:
    code = finished_case(db, state="rejected")
    rating = ratings.rate(db, user(db, "citizen"), code, RatingIn(stars=2, comment="跑了三次"))
    out = ratings.rating_out(db, rating)
    assert out.followup_state == "open" and out.followup_id is not None
    approver, health = user(db, "approver"), user(db, "health")
    assert ratings.followup_counts(db, approver).model_dump() == {"open": 1, "closed": 0}
    assert ratings.count_open_followups(db, approver) == 1
    assert ratings.count_open_followups(db, health) == 0
    assert ratings.count_open_followups(db, user(db, "citizen")) == 0
    listed = ratings.followups(db, approver, "open")
    assert [(f.case_code, f.stars, f.comment, f.state) for f in listed] == [
        (code, 2, "跑了三次", "open")
    ]
    assert ratings.followups(db, health) == []

    # Another department's officer does not see it; an applicant cannot answer at all.
    with pytest.raises(Problem) as other:
        ratings.reply_followup(db, health, out.followup_id, "已处理")
    assert other.value.slug == "not-found"
    with pytest.raises(Problem) as citizen:
        ratings.reply_followup(db, user(db, "citizen"), out.followup_id, "已处理")
    assert citizen.value.slug == "forbidden"
    with pytest.raises(Problem) as empty:
        ratings.reply_followup(db, approver, out.followup_id, "   ")
    assert empty.value.slug == "validation"

    closed = ratings.reply_followup(db, approver, out.followup_id, "已电话回访，说明了补正要求")
    assert (closed.state, closed.reply, closed.closed_by) == (
        "closed",
        "已电话回访，说明了补正要求",
        "approver",
    )
    with pytest.raises(Problem) as twice:
        ratings.reply_followup(db, approver, out.followup_id, "再次答复")
    assert twice.value.slug == "conflict"
    assert ratings.followup_counts(db, approver).model_dump() == {"open": 0, "closed": 1}
    assert [f.state for f in ratings.followups(db, approver)] == ["closed"]
    assert ratings.followups(db, approver, "open") == []
    assert actions(db) == [
        ("approval.rating.given", "citizen", CITIZEN_ID),
        ("approval.followup.opened", "citizen", CITIZEN_ID),
        ("approval.followup.replied", "approver", CITIZEN_ID),
    ]


@pytest.mark.parametrize("stars", [1, 2, 3])
def test_only_one_and_two_stars_open_a_follow_up(db: Session, stars: int) -> None:
    code = finished_case(db)
    ratings.rate(db, user(db, "citizen"), code, RatingIn(stars=stars))
    assert (db.scalar(select(FollowUp)) is not None) == (stars <= 2)


def test_who_may_rate_and_when(db: Session) -> None:
    code = finished_case(db)
    # Not the applicant's, nor the applying account's: the case is not shown to them.
    for stranger in ("enterprise", "approver", "officer"):
        with pytest.raises(Problem) as refused:
            ratings.rate(db, user(db, stranger), code, RatingIn(stars=5))
        assert refused.value.slug == "not-found"
    with pytest.raises(Problem) as unknown:
        ratings.rate(db, user(db, "citizen"), "NOPE", RatingIn(stars=5))
    assert unknown.value.slug == "not-found"
    # Not finished yet.
    for state in ("submitted", "review", "approved", "correction"):
        pending = finished_case(db, state=state)
        with pytest.raises(Problem) as early:
            ratings.rate(db, user(db, "citizen"), pending, RatingIn(stars=4))
        assert early.value.slug == "conflict"
    # An agent who applied for the enterprise (the demo citizen's account) may rate it too.
    agent_case = case(
        db,
        item(),
        applicant_id=ENTERPRISE,
        created_by="citizen",
        agent_id=CITIZEN_ID,
        state="issued",
    )
    assert ratings.rate(db, user(db, "citizen"), agent_case.code, RatingIn(stars=4)).stars == 4
    # And the enterprise itself could have, had the agent not rated first.
    own = case(db, item(), applicant_id=ENTERPRISE, created_by="citizen", state="issued")
    assert ratings.rate(db, user(db, "enterprise"), own.code, RatingIn(stars=3)).stars == 3
    assert db.scalar(select(Rating).where(Rating.case_id == agent_case.id)) is not None


def test_bounds_of_stars_and_comments(db: Session) -> None:
    for stars in (0, 6, -1):
        with pytest.raises(ValidationError):
            RatingIn(stars=stars)
    with pytest.raises(ValidationError):
        RatingIn(stars=3, comment="长" * 501)
    with pytest.raises(ValidationError):
        RatingIn(stars=3, surprise=True)  # type: ignore[call-arg]
    code = finished_case(db)
    # A value built without validation is still refused by the service, never stored.
    with pytest.raises(Problem) as bad:
        ratings.rate(db, user(db, "citizen"), code, RatingIn.model_construct(stars=9, comment=""))
    assert bad.value.errors[0].field == "stars"
    with pytest.raises(Problem) as control:
        ratings.rate(db, user(db, "citizen"), code, RatingIn(stars=3, comment="好\x00"))
    assert control.value.errors[0].field == "comment"
    assert db.scalar(select(Rating)) is None
