"""What the digital-level assessment's API and pages take and give: the answers an enterprise
submits (bounded here; whether each is a question of the questionnaire with one of its options
is the service's to say, in the question's own words), the pre-filled questionnaire, a result and
the history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

CODE_PATTERN = r"^PC-\d{8}-\d{6}$"
QuestionCode = Annotated[str, StringConstraints(min_length=1, max_length=16)]
OptionCode = Annotated[str, StringConstraints(min_length=1, max_length=16)]


class AssessmentIn(BaseModel):
    """The enterprise's answers: each question's code and the code of the option chosen. Every
    question that applies must be answered; an answer to one that does not apply (a production
    scenario, for an enterprise that is not a manufacturer) is set aside."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[QuestionCode, OptionCode] = Field(
        max_length=64, description='question code → option code, e.g. {"B1": "C"}'
    )


class SourceOut(BaseModel):
    kind: str = Field(description="capability | enabled | register | history")
    text: str = Field(description="where the answer came from, as the enterprise reads it")
    tables: dict[str, int] = Field(description="the data-core tables read, with their versions")
    assessment: str | None = Field(default=None, description="the earlier assessment it came from")


class OptionOut(BaseModel):
    code: str
    label: str
    score: float = Field(description="points, within the question's dimension")
    level: int | None = Field(default=None, description="a scenario's level 0-4")


class QuestionOut(BaseModel):
    code: str
    dimension: str
    title: str
    help: str
    options: list[OptionOut]
    applies_when: dict[str, list[str]] | None = Field(
        default=None, description="asked only when that question has one of these answers"
    )
    applicable: bool = Field(description="asked, given the pre-filled answers")
    prefilled: str | None = Field(description="the option the platform offers, if any")
    source: SourceOut | None


class DimensionOut(BaseModel):
    code: str
    name: str
    weight: int = Field(description="percent of the score (0: asked, not scored)")
    judged_by: str = Field(description="none | score | scenario")


class LevelOut(BaseModel):
    level: int
    name: str
    min_score: float
    description: str


class EditionOut(BaseModel):
    code: str
    edition: str
    name: str
    document: str
    number: str
    issuer: str
    issued: date
    reference: str
    unverified: list[str] = Field(description="what is still to be checked (待核实)")
    levels: list[LevelOut]


class SummaryOut(BaseModel):
    code: str
    edition: str
    score: float = Field(description="0-100")
    level: int = Field(description="0 (未达到一级) to 4")
    level_name: str
    submitted_at: datetime


class QuestionnaireOut(BaseModel):
    edition: EditionOut
    dimensions: list[DimensionOut]
    questions: list[QuestionOut]
    prefilled: int = Field(description="how many of the questions asked the platform pre-filled")
    asked: int = Field(description="how many questions are asked")
    latest: SummaryOut | None


class DimensionScoreOut(BaseModel):
    code: str
    name: str
    weight: int
    rate: float = Field(description="percent of the dimension's points earned")


class AnswerOut(BaseModel):
    question: str
    title: str
    option: str
    label: str
    prefilled: str | None = Field(description="the option the platform offered, if any")
    kept: bool | None = Field(description="whether the offered answer was kept")
    source: SourceOut | None


class GapOut(BaseModel):
    kind: str = Field(description="next | dimension | question | more")
    text: str
    dimension: str | None = None
    question: str | None = None
    gain: float | None = Field(default=None, description="points the step would add")
    solutions: list[dict[str, str]] = Field(default_factory=list)


class AssessmentOut(BaseModel):
    code: str
    edition: str
    score: float
    level: int
    level_name: str
    level_description: str
    dimensions: list[DimensionScoreOut]
    answers: list[AnswerOut]
    gaps: list[GapOut]
    submitted_at: datetime
    submitted_by: str


class HistoryOut(BaseModel):
    latest: SummaryOut | None
    assessments: list[SummaryOut]
