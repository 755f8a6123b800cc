"""Schemathesis runs every check it has (``--checks all``) over the API, from the OpenAPI
document, logged out and as each kind of account: no 500, every status and content type
documented, a 405 with its ``Allow``, input the schema allows accepted and input it forbids
refused, each refusal problem+json.

Each role fuzzes the operations it can get into (an administrator the accounts, ledger and
seals; a citizen the authorisations and offers; a consumer the gateway with its API key...), so
the requests reach the validation and the services behind the login and role checks. Examples
are few per operation (Schemathesis's examples, coverage and fuzzing phases; no stateful
phase), so the whole file stays quick in CI.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.engine import events, from_schema

from shuhui.core.http import CSRF_COOKIE, SESSION_COOKIE
from tests.channel.conftest import Channel, channel, city  # noqa: F401 (fixtures)
from tests.fixtures import login

MAX_EXAMPLES = 3
PHASES = ("examples", "coverage", "fuzzing")


@dataclass(frozen=True)
class Waived:
    """A check that does not apply to an operation, and why."""

    operation: str  # a regular expression over "METHOD /path"
    check: str
    why: str


# The examination's recording is a WebM video: bodies that are one (its magic number first) and
# bodies that are anything at all, which the route refuses in words.
schemathesis.openapi.media_type(
    "video/webm",
    st.one_of(st.binary(max_size=256).map(lambda b: b"\x1a\x45\xdf\xa3" + b), st.binary()),
)

WAIVED = (
    # CKAN's action API is lenient as CKAN is (a string for a list, null for a default):
    # clients written for CKAN rely on it, so a schema-violating body is not refused.
    Waived(r"(GET|POST) /api/3/action/", "negative_data_rejection", "CKAN coerces parameters"),
    # A range that depends on the ledger's size now, or on another parameter (end ≥ start,
    # at most 1,000 entries): the schema bounds each number, the service the rest.
    Waived(r"GET /api/v1/ledger/", "positive_data_acceptance", "depends on the ledger's size"),
    # The password policy (two kinds of character, not a common password, not the username)
    # is more than JSON Schema can say; the schema says the length.
    Waived(
        r"POST /api/v1/(admin/users|admin/users/\{username\}/password-reset|me/password)$",
        "positive_data_acceptance",
        "the password policy",
    ),
    # valid_to after valid_from, and an envelope that is a signed one: relations and content
    # a schema cannot state.
    Waived(r"POST /api/v1/seals(/verify)?$", "positive_data_acceptance", "cross-field rules"),
    # What only the platform's data can say: a party's ID with its region code and check digit,
    # the city's certificate types and service items, a registered key, a signature that
    # verifies, a dataset that is catalogued.
    Waived(
        r"POST /api/v1/authorisations/(mandates|cert-uses|keys|\{code\}/sign)$",
        "positive_data_acceptance",
        "IDs, codes, keys and signatures the platform checks",
    ),
    Waived(r"POST /api/v1/assets$", "positive_data_acceptance", "a catalogued dataset"),
    # An enterprise's file is opened by its credit code, with its registration authority,
    # division and check character (GB 32100), of an enterprise the data core holds.
    Waived(
        r"POST /api/v1/enterprise/profiles$",
        "positive_data_acceptance",
        "a credit code's check character, of an enterprise the city has",
    ),
    # A binding names a citizen ID or a credit code (one at least) with its check digit, and a
    # rejection of one says why: IDs the platform checks and a rule across two fields.
    Waived(
        r"POST /api/v1/admin/(users/\{username\}/bindings|bindings/\{request_id\}/decision)$",
        "positive_data_acceptance",
        "IDs the platform checks; a rejection's reason",
    ),
    # Smart approval: what a case's form, its process and a document's content decide — the
    # fields an item's form has, a correction list only with a correction request, a file
    # that is an image or PDF the pre-check can read.
    Waived(
        r"(PUT /api/v1/approval/cases/\{code\}/form|POST /api/v1/approval/submissions)$",
        "positive_data_acceptance",
        "the fields of the item's form",
    ),
    Waived(
        r"POST /api/v1/approval/tasks/\{task_id\}$",
        "positive_data_acceptance",
        "a correction list goes with a correction request only",
    ),
    Waived(
        r"POST /api/v1/approval/(precheck|cases/\{code\}/materials/\{material\})$",
        "positive_data_acceptance",
        "an image or PDF the pre-check can read",
    ),
    # Pension certification: a cycle's or a recovery's date that has come (which depends on
    # today), a recovery no larger than what remains, a death found on a visit with its date,
    # a declaration signed with a password or a signature (one of them) that verifies.
    Waived(
        r"POST /api/v1/programs/certification/(cycles|overpayments/\{overpayment_id\}/recoveries"
        r"|visits/\{visit_id\}|mine/certify)$",
        "positive_data_acceptance",
        "today, what remains, cross-field rules, a signature",
    ),
    # Statements are issued for a month that is over: which months those are depends on today.
    Waived(
        r"POST /api/v1/channel/statements/\{month\}/issue$",
        "positive_data_acceptance",
        "a month that is over",
    ),
    # The difficulty score runs on a day not after today and within its rule's validity (from
    # 2022), and a measure starts once a run found enterprises it suits: today and the content.
    Waived(
        r"POST /api/v1/programs/distress/(runs|measures/\{measure\}/start)$",
        "positive_data_acceptance",
        "a day the score is in force and not in the future; a run with enterprises to reach",
    ),
    # A reminder runs on a day not after today and within its rule's validity (from 2025).
    Waived(
        r"POST /api/v1/hrss/reminders/\{code\}/runs$",
        "positive_data_acceptance",
        "a day the reminder is in force and not in the future",
    ),
    # Hosting a file: the city's catalog categories and channel zones, and a file whose header
    # and rows fit the declared columns — the content's and the file's, not the schema's.
    Waived(
        r"POST /api/v1/enterprise/custody/datasets$",
        "positive_data_acceptance",
        "the city's categories and zones; a file that fits its declared columns",
    ),
    # A direct-link batch needs the enterprise system's key and an SM2 signature over its body.
    Waived(
        r"POST /api/v1/hrss/link/batches$",
        "positive_data_acceptance",
        "a key and an SM2 signature over the body",
    ),
    # A citizen ID's last character is a check digit (GB 11643) no schema pattern expresses.
    Waived(
        r"(GET /api/v1/hrss/(people/\{citizen_id\}/record|injury/benefits)"
        r"|POST /api/v1/hrss/certificates)$",
        "positive_data_acceptance",
        "a citizen ID's check digit",
    ),
    # The digital-level assessment's answers: a question of the questionnaire each, with one of
    # its options, every question that applies answered — the content's, not the schema's.
    Waived(
        r"POST /api/v1/enterprise/assessment$",
        "positive_data_acceptance",
        "the questionnaire's questions and their options",
    ),
    # The registry's filters: a box is given whole or not at all, a span of months runs forwards
    # and lasts at most ten years; an NGSI-LD query needs one of type, id, idPattern, q or
    # attrs, and its q is a language of its own (its parser has a hypothesis test).
    Waived(
        r"GET /(api/v1/monitor/infrastructure/(assets|progress/\{code\})|ngsi-ld/v1/entities)$",
        "positive_data_acceptance",
        "cross-field rules; the NGSI-LD query language",
    ),
)


def waived(label: str, check: str) -> bool:
    return any(w.check == check and re.match(w.operation, label) for w in WAIVED)


@dataclass(frozen=True)
class Role:
    username: str | None  # None: logged out
    paths: str  # the operations this role fuzzes: a regular expression over the path
    phases: tuple[str, ...] = PHASES
    examples: int = MAX_EXAMPLES
    # Schema-violating requests too; logged out, the login check answers before validation.
    negative: bool = True


# Each operation is fuzzed whole (examples, coverage, fuzzing) by one role that can get into
# it, and logged out by a few fuzzed calls (which a login or role check answers).
ROLES = {
    "logged out": Role(None, r"^/", ("fuzzing",), 1, negative=False),
    "public": Role(
        None,
        r"^/(healthz|readyz|catalog|api/"
        r"(3/|v1/(catalog|regions|session|ledger/(checkpoint|proof))))",
    ),
    "admin": Role("admin", r"^/api/v1/(admin|seals|me|ids|ledger/entries)"),
    "operator": Role("operator", r"^/api/v1/channel/(?!products|applications)"),
    "officer": Role(
        "officer",
        r"^/api/v1/(programs/(campaigns|candidates|policies|distress/(?!mine)"
        r"|certification/(cycles|dashboard|recipients|overpayments))"
        r"|channel/app|approval/(tasks|metrics|counter)"
        r"|hrss/(people|certificates|reminders|injury|assessments|help/(queue|\{code\}/take))"
        # background jobs: the officer's own and the department's
        r"|jobs)",
    ),
    "citizen": Role(
        "citizen",
        r"^/api/v1/(authorisations|programs/(offers|grants|certification/mine)|messages"
        r"|approval/(items|cases|precheck|licences|submissions)"
        r"|hrss/(me|bundles|bundle-cases|help$|help/\{code\}/close))",
    ),
    "enterprise": Role("enterprise", r"^/api/v1/(assets|programs/distress/mine|hrss/link)"),
    # The enterprise platform, as an enterprise: its file and needs (enterprise.routes), its
    # digital-level assessment (assessment_routes), its data custody (custody_routes).
    "enterprise platform": Role(
        "enterprise",
        r"^/api/v1/enterprise/(me/|needs(/preview)?$|needs/\{code\}(/rating)?$"
        r"|assessment|custody)",
    ),
    # The industry and IT bureau: files opened with a purpose, needs worked, the console.
    "industry": Role(
        "industry",
        r"^/api/v1/enterprise/(profiles|platforms|enablement|industry"
        r"|needs/\{code\}/(take|close))",
    ),
    # A street office's officer: the home visits of pension certification.
    "street": Role("street", r"^/api/v1/programs/certification/visits"),
    "auditor": Role("auditor", r"^/api/v1/fundrisk"),
    # The monitoring centre's duty officer: telemetry (ingest, series, rejections), the alarm
    # queue and its steps; a responder unit's officer: its inbox.
    "duty": Role("duty", r"^/api/v1/monitor/(?!inbox|infrastructure)"),
    "fire": Role("fire", r"^/api/v1/monitor/inbox"),
    # The development and reform commission's planner: the infrastructure registry, NGSI-LD.
    "planner": Role("ndrc", r"^/(api/v1/monitor/infrastructure|ngsi-ld/v1)"),
    # A city leader: the maps, the indicators and the dashboard (insight), aggregates only.
    "leader": Role("leader", r"^/api/v1/insight"),
}


def session_headers(app: FastAPI, username: str) -> dict[str, str]:
    with TestClient(app) as browser:
        token = login(browser, username)
        cookies = {name: browser.cookies[name] for name in (SESSION_COOKIE, CSRF_COOKIE)}
    return {
        "x-csrf-token": token,
        "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
    }


def conformance_failures(
    app: FastAPI, headers: dict[str, str], role: Role, seed: int = 2026
) -> list[str]:
    """Every distinct failure of every check over the role's operations, as "operation: check:
    title (status and the fields at fault)"."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # An account the fuzzer edits is one no role here uses.
    schema.config.update(headers=headers, parameters={"username": "civil"})
    schema.config.checks.update(included_check_names=["all"])
    schema.config.phases.update(phases=list(role.phases))
    # An undocumented method must get a 405 naming the allowed ones: two methods say so (OPTIONS
    # is the one whose Allow is compared with the document), not all eight.
    schema.config.phases.coverage.unexpected_methods = {"options", "put"}
    modes = list(GenerationMode) if role.negative else [GenerationMode.POSITIVE]
    # The same cases on every run (no example database carried between runs): CI stays stable,
    # and a search with more examples or another seed finds what this one misses.
    schema.config.generation.update(max_examples=role.examples, modes=modes, database="none")
    schema.config.seed = seed
    chosen = schema.include(path_regex=role.paths)
    if role.username:
        # Requests as one account: it must not log itself out or change its password midway.
        chosen = chosen.exclude(method="DELETE", path="/api/v1/session").exclude(
            path="/api/v1/me/password"
        )
    found: set[str] = set()
    for event in from_schema(chosen).execute():
        if isinstance(event, events.ScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    info = check.failure_info
                    if info is None or waived(event.recorder.label, check.name):
                        continue
                    exchange = event.recorder.interactions.get(case_id)
                    answer = exchange.response if exchange else None
                    found.add(
                        f"{event.recorder.label}: {check.name}: {info.failure.title} "
                        f"({answer_of(answer)})"
                    )
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            found.add(f"error: {event}")
    return sorted(found)


def answer_of(response: Any) -> str:
    """The status, and for a problem the fields at fault and why."""
    if response is None:
        return "no response"
    try:
        body = json.loads(response.content or b"")
    except ValueError:
        return str(response.status_code)
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return str(response.status_code)
    return f"{response.status_code} " + "; ".join(
        f"{e.get('field')}: {e.get('reason')}" for e in errors[:3] if isinstance(e, dict)
    )


@pytest.fixture
def quiet() -> Iterator[None]:
    # Thousands of requests: the access log of each is not what a failure report needs.
    logger = logging.getLogger("shuhui")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


GATEWAY = Role("insurer", r"^/api/v1/channel/products")


def test_every_operation_is_fuzzed_whole_by_a_role(app: FastAPI) -> None:
    whole = [r.paths for r in (*ROLES.values(), GATEWAY) if "coverage" in r.phases]
    for path in app.openapi()["paths"]:
        assert any(re.match(paths, path) for paths in whole), path


@pytest.mark.parametrize("role", list(ROLES))
def test_api_conforms(synced_city_app: FastAPI, quiet: None, role: str) -> None:
    who = ROLES[role]
    headers = session_headers(synced_city_app, who.username) if who.username else {}
    found = conformance_failures(synced_city_app, headers, who)
    assert found == [], "\n".join(found)


def test_gateway_conforms_for_a_consumer(channel: Channel, quiet: None) -> None:  # noqa: F811
    # The insurer's key holds a grant of the health check: calls reach the purpose, consent
    # and parameter checks of a product, and the consumer's own console API.
    headers = session_headers(channel.app, "insurer") | {"X-API-Key": channel.key}
    assert conformance_failures(channel.app, headers, GATEWAY) == []
