"""Labour-capacity assessment (劳动能力鉴定), done remotely: after a work injury is recognised and
the worker's condition is stable, the city's assessment committee grades the disability 1-10
under GB/T 16180 (or finds no grade), and the benefits follow from the grade.

An application is an approval case of the content's item (``hrss/assessment.yaml``: QD-RS-0017),
filed and accepted as any other. From acceptance the committee's work runs here:

1. **the panel** (``draw_panel``): the office draws ``panel_size`` experts at random (the
   system's CSPRNG) from the committee's pool, those whose fields cover the application's part
   of the body first; the pool and the panel are kept, and the draw is an
   ``hrss.assessment_panel_drawn`` entry. The first drawn examines the worker;
2. **the video examination** (``schedule_exam``): a time, and a video session between the
   worker and the examining expert (the video help's signalling and call page, arranged rather
   than asked: ``help.schedule``); the worker is told in their message box with a link to join.
   The expert's call page records the worker's video and sends it when the call ends
   (``store_recording``), so the rest of the panel reviews the examination itself;
3. **the records**: each panel member's look at the application, its materials and the
   worker's medical records is an ``hrss.assessment_records_read`` entry;
4. **the findings** (``record_findings``), by the examining expert once the call has happened;
5. **the opinions** (``give_opinion``): every panel member signs a grade, a self-care level and
   the clauses of the standard it rests on, and may revise it until the conclusion;
6. **the conclusion** (``assessment_conclusion.conclude``), by the office once every member has
   given an opinion and a majority agrees (少数服从多数; without one the panel confers again): the
   one-time disability subsidy computed by the rule book (``injury.disability_benefits``), the
   conclusion as a PDF under the committee's e-seal (``assessment_pdf``), the approval case
   ended approved (``approval.service.finish_approved``), the worker and the employer told.

The conclusion is due ``conclusion_days`` calendar days after acceptance (the regulation counts
from receiving the complete application); the office's list warns ``warn_days`` before.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.approval import licences
from shuhui.approval import service as approval
from shuhui.approval.items import Catalogue
from shuhui.core.clock import SHANGHAI, as_utc, local_today, utcnow
from shuhui.core.content import DEFAULT_DIR, load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.hrss import help
from shuhui.hrss.models import Assessment, AssessmentOpinion
from shuhui.programs import messages
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger import service as ledger

FILE: Final = Path("hrss") / "assessment.yaml"
KIND: Final = "hrss-assessment"
FOLDER: Final = Path("hrss") / "assessments"
PANEL, SCHEDULED, EXAMINED, CONCLUDED = "panel", "scheduled", "examined", "concluded"
STATE_NAMES: Final = {
    "pending": "待组建专家组",
    PANEL: "待安排视频检查",
    SCHEDULED: "待视频检查",
    EXAMINED: "专家出具意见",
    CONCLUDED: "已作出结论",
}
# GB/T 16180-2014 4.2: 生活自理障碍 — none, partial, most, complete.
SELF_CARE: Final = ("无", "部分", "大部分", "完全")
ACCEPTED: Final = ("accepted", "review", "approved")


@dataclass(frozen=True)
class Expert:
    username: str
    name: str
    speciality: str
    fields: tuple[str, ...]

    @property
    def shown(self) -> str:
        return f"{self.name}（{self.speciality}）"


@dataclass(frozen=True)
class Rules:
    item: str
    name: str
    committee: str
    prefix: str
    panel_size: int
    conclusion_days: int
    extension_days: int
    warn_days: int
    standard: str
    experts: tuple[Expert, ...]
    reference: str

    def expert(self, username: str) -> Expert | None:
        return next((e for e in self.experts if e.username == username), None)


def rules(city_content: Path | None = None) -> Rules:
    path = (city_content or DEFAULT_DIR / "qingdao") / FILE
    entry = load_items(path, KIND).by_code["initial"]
    a = entry.attrs
    experts = tuple(
        Expert(
            username=str(e["username"]),
            name=str(e["name"]),
            speciality=str(e["speciality"]),
            fields=tuple(str(f) for f in e.get("fields", ())),
        )
        for e in a["experts"]
    )
    size = int(a["panel_size"])
    if size not in (3, 5) or len(experts) < size:
        raise ValueError(f"{path}: a panel of 3 or 5 drawn from a pool at least that large")
    return Rules(
        item=str(a["item"]),
        name=entry.name_zh,
        committee=str(a["committee"]),
        prefix=str(a["prefix"]),
        panel_size=size,
        conclusion_days=int(a["conclusion_days"]),
        extension_days=int(a["extension_days"]),
        warn_days=int(a["warn_days"]),
        standard=str(a["standard"]),
        experts=experts,
        reference=entry.reference,
    )


# --- who may ------------------------------------------------------------------------------------


def _not_found(code: str) -> Problem:
    return Problem(
        "not-found",
        detail=Text(f"没有劳动能力鉴定申请 {code}", f"no assessment application {code}"),
    )


def _case(db: Session, code: str, r: Rules) -> Any:
    case = approval.case_by_code(db, code)
    if case is None or case.item_code != r.item:
        raise _not_found(code)
    return case


def is_office(user: User, case: Any) -> bool:
    """The deciding department's officers run the committee's office."""
    return Role.officer in user.role_set and user.department == case.department


def is_panel(user: User, found: Assessment | None) -> bool:
    return found is not None and Role.officer in user.role_set and user.username in found.panel


def is_worker(user: User, case: Any) -> bool:
    return (
        Role.citizen in user.role_set
        and bool(user.citizen_id)
        and (user.citizen_id == case.applicant_id)
    )


def is_expert(user: User, r: Rules) -> bool:
    return Role.officer in user.role_set and r.expert(user.username) is not None


def _forbidden(zh: str, en: str) -> Problem:
    return Problem("forbidden", detail=Text(zh, en))


def conflict(zh: str, en: str, field: str = "state") -> Problem:
    return Problem("conflict", detail=Text(zh, en), errors=[FieldError(field, Text(zh, en))])


def office_case(
    db: Session, case_code: str, officer: User, city_content: Path | None, doing: str
) -> tuple[Rules, Any]:
    """The rules and the application, for an officer of its deciding department (the
    committee's office) about to do ``doing``; a 403 saying so for anyone else."""
    r = rules(city_content)
    case = _case(db, case_code, r)
    if not is_office(officer, case):
        raise _forbidden(f"只有鉴定委员会办公室的工作人员可以{doing}", "the office only")
    return r, case


# --- reading --------------------------------------------------------------------------------------


def get(db: Session, case_code: str) -> Assessment | None:
    return db.scalar(select(Assessment).where(Assessment.case_code == case_code))


def opinions_of(db: Session, found: Assessment) -> list[AssessmentOpinion]:
    return list(
        db.scalars(
            select(AssessmentOpinion)
            .where(AssessmentOpinion.assessment_id == found.id)
            .order_by(AssessmentOpinion.id)
        )
    )


@dataclass(frozen=True)
class Row:
    """One application as the office's and the experts' lists show it."""

    case_code: str
    worker_name: str
    site: str
    state: str
    state_name: str
    accepted: date | None
    due: date | None
    days_left: int | None
    warning: bool
    overdue: bool
    panel: tuple[str, ...]
    exam_at: datetime | None
    opinions: int


def _row(case: Any, found: Assessment | None, r: Rules, today: date, opinions: int) -> Row:
    accepted = local_today(case.accepted_at) if case.accepted_at else None
    due = accepted + timedelta(days=r.conclusion_days) if accepted else None
    concluded = found is not None and found.state == CONCLUDED
    left = None if due is None or concluded else (due - today).days
    state = found.state if found is not None else "pending"
    return Row(
        case_code=case.code,
        worker_name=case.applicant_name,
        site=str((case.form or {}).get("injury_site", "")),
        state=state,
        state_name=STATE_NAMES[state],
        accepted=accepted,
        due=due,
        days_left=left,
        warning=left is not None and 0 <= left <= r.warn_days,
        overdue=left is not None and left < 0,
        panel=tuple(found.panel) if found is not None else (),
        exam_at=found.exam_at if found is not None else None,
        opinions=opinions,
    )


def worklist(
    db: Session, user: User, city_content: Path | None = None, today: date | None = None
) -> list[Row]:
    """The office's applications (accepted and not yet concluded, and those concluded), or an
    expert's (those whose panel they sit on), the nearest deadline first."""
    r = rules(city_content)
    today = today or local_today()
    found_cases = approval.cases_of_item(db, r.item, (*ACCEPTED, "issued"))
    codes = [c.code for c in found_cases]
    by_code = {
        a.case_code: a
        for a in db.scalars(select(Assessment).where(Assessment.case_code.in_(codes)))
    }
    counts = dict(
        db.execute(
            select(AssessmentOpinion.assessment_id, func.count())
            .where(AssessmentOpinion.assessment_id.in_([a.id for a in by_code.values()]))
            .group_by(AssessmentOpinion.assessment_id)
        ).all()
    )
    rows = []
    for case in found_cases:
        found = by_code.get(case.code)
        if case.state == "issued" and found is None:
            continue  # ended at the desk without an assessment here
        if not is_office(user, case) and not is_panel(user, found):
            continue
        given = counts.get(found.id, 0) if found is not None else 0
        rows.append(_row(case, found, r, today, int(given)))
    return sorted(rows, key=lambda x: (x.days_left is None, x.days_left or 0, x.case_code))


@dataclass(frozen=True)
class View:
    """One application as its page shows it to the office, a panel member or the worker."""

    case: Any
    row: Row
    assessment: Assessment | None
    panel: tuple[Expert, ...]
    opinions: tuple[AssessmentOpinion, ...]
    mine: AssessmentOpinion | None
    majority: tuple[int, str] | None
    fields: tuple[tuple[str, str], ...]  # the application's form: (title, value)
    materials: tuple[tuple[str, str], ...]  # (name, file or certificate)
    side: str  # office | panel | worker


def view(
    db: Session,
    catalogue: Catalogue,
    case_code: str,
    user: User,
    *,
    city_content: Path | None = None,
    now: datetime | None = None,
) -> View:
    """The page's view; a panel member's or the office's look at the records is an
    ``hrss.assessment_records_read`` entry (the worker reading their own writes none)."""
    r = rules(city_content)
    case = _case(db, case_code, r)
    found = get(db, case_code)
    if is_office(user, case):
        side = "office"
    elif is_panel(user, found):
        side = "panel"
    elif is_worker(user, case):
        side = "worker"
    else:
        raise _not_found(case_code)
    item = approval.item_of(catalogue, case)
    form = case.form or {}
    fields = tuple(
        (f.title_zh, str(form.get(f.name, ""))) for f in item.form.fields if f.name in form
    )
    names = {m.code: m.name_zh for m in item.materials}
    materials = tuple(
        (names.get(m.material, m.material), m.file_name or m.certificate_no or "")
        for m in approval.materials_of(db, case)
    )
    opinions = tuple(opinions_of(db, found)) if found is not None else ()
    if side != "worker":
        ledger.record(
            db,
            user.username,
            "hrss.assessment_records_read",
            subject=case.applicant_id,
            purpose="劳动能力鉴定：查阅申请材料和病历资料",
            detail={"case": case.code, "as": side},
        )
    today = local_today(now)
    panel = tuple(e for u in (found.panel if found else ()) if (e := r.expert(u)) is not None)
    return View(
        case=case,
        row=_row(case, found, r, today, len(opinions)),
        assessment=found,
        panel=panel,
        opinions=opinions if side != "worker" else (),
        mine=next((o for o in opinions if o.expert == user.username), None),
        majority=majority(opinions, found.panel) if found is not None else None,
        fields=fields,
        materials=materials,
        side=side,
    )


def of_worker(db: Session, citizen_id: str) -> list[Assessment]:
    return list(
        db.scalars(
            select(Assessment)
            .where(Assessment.citizen_id == citizen_id)
            .order_by(Assessment.id.desc())
            .limit(20)
        )
    )


# --- the panel ------------------------------------------------------------------------------------


def draw(
    pool: Sequence[Expert], site: str, size: int, rng: random.Random | None = None
) -> list[Expert]:
    """``size`` experts at random, those whose fields cover ``site`` first."""
    rng = rng or random.SystemRandom()
    matching = [e for e in pool if site in e.fields]
    rest = [e for e in pool if site not in e.fields]
    first = rng.sample(matching, min(size, len(matching)))
    return first + rng.sample(rest, size - len(first))


def draw_panel(
    db: Session,
    case_code: str,
    *,
    officer: User,
    city_content: Path | None = None,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> Assessment:
    r, case = office_case(db, case_code, officer, city_content, "组建专家组")
    if case.state not in ACCEPTED or case.accepted_at is None:
        raise conflict("申请受理后才能组建专家组", "the application is not accepted")
    if get(db, case_code) is not None:
        raise conflict("该申请已组建专家组", "a panel was drawn already")
    site = str((case.form or {}).get("injury_site", ""))
    panel = draw(r.experts, site, r.panel_size, rng)
    at = as_utc(now or utcnow())
    made = Assessment(
        case_code=case.code,
        citizen_id=case.applicant_id,
        worker_name=case.applicant_name,
        state=PANEL,
        pool=[e.username for e in r.experts],
        panel=[e.username for e in panel],
        drawn_by=officer.username,
        drawn_at=at,
    )
    try:
        with db.begin_nested():
            db.add(made)
            db.flush()
    except IntegrityError:
        raise conflict("该申请已组建专家组", "a panel was drawn already") from None
    ledger.record(
        db,
        officer.username,
        "hrss.assessment_panel_drawn",
        subject=case.applicant_id,
        purpose="劳动能力鉴定：从专家库随机抽取专家组",
        detail={"case": case.code, "site": site, "pool": made.pool, "panel": made.panel},
    )
    return made


def schedule_exam(
    db: Session,
    case_code: str,
    at: datetime,
    *,
    officer: User,
    city_content: Path | None = None,
    now: datetime | None = None,
) -> Assessment:
    """Arranges (or moves) the video examination; the worker is told with a link to join."""
    r, case = office_case(db, case_code, officer, city_content, "安排视频检查")
    found = get(db, case_code)
    if found is None or found.state not in (PANEL, SCHEDULED):
        raise conflict("组建专家组后、检查完成前才能安排视频检查", "not in a state to schedule")
    current = as_utc(now or utcnow())
    at = as_utc(at)
    if at < current - timedelta(minutes=5) or at > current + timedelta(days=r.conclusion_days):
        raise Problem(
            "validation",
            errors=[
                FieldError(
                    "exam_at",
                    Text(
                        f"检查时间应在现在之后的{r.conclusion_days}日内",
                        f"within {r.conclusion_days} days from now",
                    ),
                )
            ],
        )
    if found.exam_session is not None:
        help.cancel_arranged(db, found.exam_session, outcome="已改期", now=current)
    session = help.schedule(
        db,
        citizen_id=case.applicant_id,
        username=case.created_by,
        agent=found.panel[0],
        page=f"/hrss/assessments/{case.code}",
        topic=f"劳动能力鉴定视频检查 {case.code}",
        at=at,
        now=current,
    )
    found.exam_at, found.exam_session, found.state = at, session.code, SCHEDULED
    db.flush()
    shown = f"{local_today(at):%Y年%m月%d日} {at.astimezone(SHANGHAI):%H:%M}"
    messages.send(
        db,
        case.applicant_id,
        "劳动能力鉴定视频检查已安排",
        f"您的劳动能力鉴定申请（{case.code}）已安排视频检查，时间：{shown}。请届时登录本平台，"
        "在鉴定页面进入视频检查，并准备好身份证件和近期病历。",
        link=(f"/hrss/assessments/{case.code}", "进入视频检查"),
        now=current,
    )
    ledger.record(
        db,
        officer.username,
        "hrss.assessment_exam_scheduled",
        subject=case.applicant_id,
        purpose="劳动能力鉴定：安排视频检查",
        detail={"case": case.code, "at": at.isoformat(), "session": session.code},
    )
    return found


def record_findings(
    db: Session,
    case_code: str,
    findings: str,
    *,
    expert: User,
    city_content: Path | None = None,
    now: datetime | None = None,
) -> Assessment:
    """The examining expert's findings after the video examination, which ends its session."""
    r = rules(city_content)
    case = _case(db, case_code, r)
    found = get(db, case_code)
    if found is None or not is_panel(expert, found) or found.panel[0] != expert.username:
        raise _forbidden("只有主检专家可以填写检查所见", "the examining expert only")
    if found.state != SCHEDULED or found.exam_session is None:
        raise conflict("安排视频检查后才能填写检查所见", "no examination arranged")
    session = help.get(db, found.exam_session)
    if session is None or session.picked_at is None:
        raise conflict("视频检查尚未开始：请先进入视频检查", "the examination has not begun")
    at = as_utc(now or utcnow())
    if session.state != help.CLOSED:
        help.close(db, expert, session.code, outcome="视频检查完成", now=at)
    found.findings, found.examined_at, found.state = findings, at, EXAMINED
    db.flush()
    ledger.record(
        db,
        expert.username,
        "hrss.assessment_examined",
        subject=case.applicant_id,
        purpose="劳动能力鉴定：视频检查",
        detail={"case": case.code, "session": session.code},
    )
    return found


# A WebM file starts with the EBML header's magic number.
WEBM_MAGIC: Final = b"\x1a\x45\xdf\xa3"
MAX_RECORDING: Final = 64 * 2**20  # a quarter of an hour at a modest bitrate
RECORDINGS: Final = FOLDER / "recordings"


def store_recording(
    db: Session,
    data_dir: Path,
    case_code: str,
    content: bytes,
    *,
    expert: User,
    city_content: Path | None = None,
) -> Assessment:
    """The examination's recording (WebM, the worker as the examining expert saw them), sent by
    the examining expert's call page when the call ends, kept owner-only with its hash for the
    panel's review. Refused past the findings (the record is then closed), when it is not WebM
    or larger than :data:`MAX_RECORDING`."""
    r = rules(city_content)
    case = _case(db, case_code, r)
    found = get(db, case_code)
    if found is None or not is_panel(expert, found) or found.panel[0] != expert.username:
        raise _forbidden("只有主检专家可以上传检查录像", "the examining expert only")
    if found.state != SCHEDULED:
        raise conflict("视频检查进行中才能上传录像", "only during the examination")
    if len(content) > MAX_RECORDING:
        raise Problem(
            "content-too-large",
            errors=[FieldError("recording", Text("录像超过 64 MiB 的上限", "over 64 MiB"))],
        )
    if not content.startswith(WEBM_MAGIC):
        raise Problem(
            "unsupported-media-type",
            errors=[FieldError("recording", Text("录像应为 WebM 视频", "a WebM video"))],
        )
    digest = hashlib.sha256(content).hexdigest()
    name = f"{case.code}.webm"
    licences.write_owner_only(data_dir / RECORDINGS / name, content)
    found.recording_as = str(RECORDINGS / name)
    found.recording_sha256, found.recording_bytes = digest, len(content)
    db.flush()
    ledger.record(
        db,
        expert.username,
        "hrss.assessment_recorded",
        subject=case.applicant_id,
        purpose="劳动能力鉴定：保存视频检查录像，供专家组评定",
        detail={"case": case.code, "bytes": len(content), "sha256": digest},
    )
    return found


def recording(
    db: Session,
    data_dir: Path,
    case_code: str,
    user: User,
    *,
    city_content: Path | None = None,
) -> bytes:
    """The stored recording, checked against its hash, for the panel, the office or the worker;
    a look by the panel or the office is an ``hrss.assessment_recording_viewed`` entry."""
    r = rules(city_content)
    case = _case(db, case_code, r)
    found = get(db, case_code)
    if not (is_office(user, case) or is_panel(user, found) or is_worker(user, case)):
        raise _not_found(case_code)
    if found is None or found.recording_as is None or found.recording_sha256 is None:
        raise Problem("not-found", detail=Text("没有视频检查录像", "no recording"))
    content = licences.read_checked(
        data_dir / RECORDINGS,
        Path(found.recording_as).name,
        found.recording_sha256,
        f"检查录像 {case.code}",
    )
    if not is_worker(user, case):
        ledger.record(
            db,
            user.username,
            "hrss.assessment_recording_viewed",
            subject=case.applicant_id,
            purpose="劳动能力鉴定：观看视频检查录像",
            detail={"case": case.code},
        )
    return content


def give_opinion(
    db: Session,
    case_code: str,
    *,
    expert: User,
    grade: int,
    self_care: str,
    basis: str,
    city_content: Path | None = None,
    now: datetime | None = None,
) -> AssessmentOpinion:
    """A panel member's signed opinion, given (or revised) after the examination."""
    r = rules(city_content)
    case = _case(db, case_code, r)
    found = get(db, case_code)
    if found is None or not is_panel(expert, found):
        raise _forbidden("只有专家组成员可以出具鉴定意见", "panel members only")
    if found.state != EXAMINED:
        raise conflict("视频检查完成后、作出结论前才能出具意见", "not in a state for opinions")
    if not 0 <= grade <= 10:
        raise Problem(
            "validation",
            errors=[FieldError("grade", Text("伤残等级应为1至10级，或未达到等级", "0 to 10"))],
        )
    if self_care not in SELF_CARE:
        raise Problem(
            "validation",
            errors=[FieldError("self_care", Text("生活自理障碍程度无效", "unknown level"))],
        )
    at = as_utc(now or utcnow())
    mine = db.scalar(
        select(AssessmentOpinion).where(
            AssessmentOpinion.assessment_id == found.id,
            AssessmentOpinion.expert == expert.username,
        )
    )
    if mine is None:
        mine = AssessmentOpinion(assessment_id=found.id, expert=expert.username)
        db.add(mine)
    mine.grade, mine.self_care, mine.basis, mine.given_at = grade, self_care, basis, at
    db.flush()
    ledger.record(
        db,
        expert.username,
        "hrss.assessment_opinion",
        subject=case.applicant_id,
        purpose="劳动能力鉴定：专家出具鉴定意见并签名",
        detail={"case": case.code, "grade": grade, "self_care": self_care},
    )
    return mine


def majority(opinions: Sequence[AssessmentOpinion], panel: Sequence[str]) -> tuple[int, str] | None:
    """The grade and self-care level more than half the panel gave (少数服从多数), once every
    member has given an opinion; None otherwise."""
    members = set(panel)
    given = [o for o in opinions if o.expert in members]
    if len(given) < len(members) or not members:
        return None
    grade, votes = Counter(o.grade for o in given).most_common(1)[0]
    care, care_votes = Counter(o.self_care for o in given).most_common(1)[0]
    half = len(members) / 2
    if votes <= half or care_votes <= half:
        return None
    return grade, care
