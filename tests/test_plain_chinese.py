"""Plain Chinese everywhere (issue 16): every page and problem a person can reach, rendered in
zh-CN, says things in Chinese. Each demo role walks the pages reachable by links from ``/`` (a
couple of each kind), then meets the error pages (404, 405, a forbidden page), sends every form it
found with bad values, and calls the API with bad input. The visible text of each answer (no
``<code>``, scripts or styles; of the attributes only ``title``, ``aria-label``, ``placeholder``
and ``alt``; not the language switch) must hold no developer English: no English words outside
the allowlist of names and abbreviations people use, no ``snake_case`` or ``kebab-case`` tokens,
no ``True``/``False``/``None``, no dotted action names like ``asset.valued``.

The walk is by links and forms, not a list of pages, so pages added later are walked too.
"""

from __future__ import annotations

import json
import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from tests.fixtures import DEMO_ACCOUNTS, login

# Names, abbreviations and units people read as they are in a Chinese interface.
ALLOWED = frozenset(
    [
        "API",
        "CSV",
        "JSON",
        "JSON-LD",
        "SM2",
        "SM3",
        "SM4",
        "CKAN",
        "DCAT",
        "DCAT-AP",
        "ID",
        "PDF",
        "URL",
        "URI",
        "Parquet",
        "PostgreSQL",
        "SQLite",
        "DuckDB",
        "SQL",
        "HTTP",
        "HTTPS",
        "HTML",
        "XML",
        "RDF",
        "Turtle",
        "TTL",
        "OpenAPI",
        "Swagger",
        "OK",
        "ZIP",
        "PNG",
        "SVG",
        "PEM",
        "GB",
        "GB/T",
        "RFC",
        "ISO",
        "IP",
        "Excel",
        "Shuhui",
        "Qingdao",
        "kWh",
        "km",
        "kg",
        "MB",
        "GB",
        "KB",
        "TB",
        "ms",
    ]
)
# Single letters stand as they are (a check character 'X', a size 'A').
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_./:'][A-Za-z0-9]+)*")
SNAKE = re.compile(r"^[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+$")
KEBAB = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$")
DOTTED = re.compile(r"^[a-z][a-z_]*(?:\.[a-z_]+)+$")
LITERALS = frozenset({"True", "False", "None", "null", "true", "false", "undefined", "NaN"})

SKIPPED_PREFIXES = ("/static/", "/api/", "/docs", "/redoc", "/openapi.json", "/logout")
SKIPPED = ("/healthz", "/readyz")
DOWNLOADS = re.compile(r"\.(json|jsonld|ttl|csv|rdf|xml|svg|png|pem|zip|parquet)$")
# The language and display switches: the walk stays in zh-CN.
SWITCHES = re.compile(r"(?:^|&)(?:lang|elder)=")
PER_KIND = 2
MAX_PAGES = 40
# Forms whose sending ends the walk or is not about input.
SKIPPED_FORMS = ("/logout", "/login")


class VisibleText(HTMLParser):
    """The text a person sees on a page, and its links and forms."""

    HIDDEN = frozenset({"script", "style", "code", "template", "kbd", "samp"})
    SHOWN_ATTRS = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._hidden = 0
        self._lang_switch = False
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "a":
            if "lang" in a.get("class", "").split():
                self._lang_switch = True
            if a.get("href"):
                self.links.append(a["href"])
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
        if self._form is not None:
            self._field(tag, a)
        if not self._hidden:
            self.texts += [a[name] for name in self.SHOWN_ATTRS if a.get(name)]

    def _field(self, tag: str, a: dict[str, str]) -> None:
        assert self._form is not None
        name = a.get("name")
        if tag == "select" and name:
            self._select = name
            self._form.fields.setdefault(name, ("select", ""))
        elif tag == "option" and self._select and self._form.fields[self._select][1] == "":
            self._form.fields[self._select] = ("select", a.get("value", ""))
        elif tag == "textarea" and name:
            self._form.fields[name] = ("textarea", "")
        elif tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                self._form.fields.setdefault(name, (kind, a.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                self._form.fields[name] = (kind, a.get("value", ""))
        elif tag == "button" and name:
            self._form.fields.setdefault(name, ("hidden", a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1
        if tag == "a":
            self._lang_switch = False
        if tag == "form":
            self._form = None
        if tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if not self._hidden and not self._lang_switch and data.strip():
            self.texts.append(data.strip())


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)

    def filled(self, bad: str) -> dict[str, str]:
        """The form as a careless person sends it: every field a person types in holds
        ``bad``, hidden fields and choices keep what the page put there."""
        out = {}
        for name, (kind, value) in self.fields.items():
            typed = kind not in ("hidden", "select", "checkbox", "radio")
            out[name] = bad if typed else value
        return out

    @property
    def typed(self) -> bool:
        return any(k not in ("hidden",) for k, _ in self.fields.values())


def offences(text: str) -> list[str]:
    """The developer English in one piece of visible text."""
    found = []
    for match in WORD.finditer(text):
        word = match.group(0).strip(".:/'-_")
        if not word or word in ALLOWED:
            continue
        if word in LITERALS or SNAKE.match(word) or KEBAB.match(word) or DOTTED.match(word):
            found.append(word)
        elif any(c.isdigit() for c in word) or len(word) < 2:
            continue  # a code (ZC-20260101-01, 9137…) or a check character
        elif word.isupper() and len(word) <= 5:
            continue  # an abbreviation
        else:
            found.append(word)
    return found


# In problem+json, where no <code> can be, a technical name stands in backquotes.
BACKQUOTED = re.compile(r"`[^`]*`")


def text_offences(where: str, texts: list[str]) -> list[str]:
    out = []
    for text in texts:
        bad = offences(BACKQUOTED.sub(" ", text))
        if bad:
            out.append(f"{where}: {', '.join(dict.fromkeys(bad))} in “{text[:120]}”")
    return out


def page_offences(where: str, response: Response) -> tuple[list[str], VisibleText]:
    parsed = VisibleText()
    parsed.feed(response.text)
    return text_offences(where, parsed.texts), parsed


def problem_offences(where: str, response: Response) -> list[str]:
    """A problem+json body's words for people: its title, detail and each field's reason."""
    assert response.headers["content-type"].startswith("application/problem+json"), (
        where,
        response.status_code,
        response.text[:200],
    )
    body: dict[str, Any] = response.json()
    texts = [str(body.get("title", "")), str(body.get("detail", ""))]
    texts += [str(e.get("reason", "")) for e in body.get("errors", [])]
    return text_offences(f"{where} ({response.status_code} problem+json)", [t for t in texts if t])


def one_account_per_role_set() -> list[str | None]:
    chosen: dict[frozenset[str], str] = {}
    for account in DEMO_ACCOUNTS:
        chosen.setdefault(frozenset(str(r) for r in account.roles), account.username)
    return [None, *chosen.values()]


def walk(client: TestClient) -> Iterator[tuple[str, Response, VisibleText, list[str]]]:
    """Pages reachable by links from ``/``, breadth first, a couple of each kind."""
    queue: deque[str] = deque(["/"])
    seen = {"/"}
    per_kind: Counter[str] = Counter()
    shown = 0
    while queue and shown < MAX_PAGES:
        path = queue.popleft()
        response = client.get(path)
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        shown += 1
        found, parsed = page_offences(f"{path} [{response.status_code}]", response)
        yield path, response, parsed, found
        for href in parsed.links:
            target = urlsplit(href)
            if target.netloc and target.netloc != "testserver":
                continue
            to = target.path or "/"
            if not to.startswith("/") or to in seen or to.startswith(SKIPPED_PREFIXES):
                continue
            if to in SKIPPED or DOWNLOADS.search(to) or SWITCHES.search(target.query):
                continue
            kind = to.rsplit("/", 1)[0]
            if to.count("/") >= 3 or kind == "/problems":
                if per_kind[kind] >= PER_KIND:
                    continue
                per_kind[kind] += 1
            seen.add(to)
            queue.append(to + (f"?{target.query}" if target.query else ""))


def send_bad_forms(client: TestClient, forms: dict[str, tuple[str, Form]]) -> list[str]:
    """Each form found, sent twice: every typed field blank, then every typed field nonsense."""
    out: list[str] = []
    for key, (page, form) in forms.items():
        action = form.action or page
        for bad in ("", "#!#"):
            data = form.filled(bad)
            where = f"form {key} on {page} sent with {bad or 'blanks'!r}"
            if form.method == "get":
                response = client.get(f"{action}?{urlencode(data)}")
            else:
                response = client.post(action, data=data)
            if response.headers.get("content-type", "").startswith("text/html"):
                out += page_offences(where, response)[0]
            elif "problem+json" in response.headers.get("content-type", ""):
                out += problem_offences(where, response)
    return out


# API calls with bad input, as a client would send them (JSON bodies, bad query values).
BAD_API_CALLS: list[tuple[str, str, Any]] = [
    ("post", "/api/v1/ids/check", {"values": "not a list"}),
    ("post", "/api/v1/admin/users", {"username": "", "password": "x", "roles": ["nobody"]}),
    ("post", "/api/v1/assets", {"kind": "dataset", "holder_code": "91370200MA3C2BX00X"}),
    ("post", "/api/v1/authorisations", {"kind": "mandate", "valid_to": "yesterday"}),
    ("get", "/api/3/action/package_search?sort=nonsense", None),
    ("post", "/api/v1/hrss/campaigns", {"rule": "no-such-policy"}),
    ("post", "/api/v1/me/password", {"current_password": "", "new_password": "short"}),
    ("get", "/api/v1/nowhere", None),
]


def api_offences(client: TestClient, who: str) -> list[str]:
    out = []
    # A check's reasons are for people too (the ID-check page shows them).
    checked = client.post(
        "/api/v1/ids/check", json={"values": ["110101199003071234", "91370200MA3C2BX00X", "12"]}
    )
    for result in checked.json():
        out += text_offences(f"{who} POST /api/v1/ids/check", [str(result["reason"] or "")])
    for method, path, body in BAD_API_CALLS:
        sent = json.dumps(body) if body is not None else None
        response = client.request(
            method,
            path,
            content=sent,
            headers={"accept": "application/json", "content-type": "application/json"},
        )
        if response.status_code < 400:
            continue
        out += problem_offences(f"{who} {method.upper()} {path}", response)
    # A body that is not JSON at all.
    malformed = client.post(
        "/api/v1/assets",
        content=b"{not json",
        headers={"accept": "application/json", "content-type": "application/json"},
    )
    out += problem_offences(f"{who} POST /api/v1/assets with broken JSON", malformed)
    return out


def error_page_offences(client: TestClient, who: str) -> list[str]:
    """404, 405 and a forbidden page, as a browser asks for them."""
    html = {"accept": "text/html"}
    out: list[str] = []
    missing = client.get("/no/such/page", headers=html)
    assert missing.status_code == 404
    out += page_offences(f"{who} 404 page", missing)[0]
    assert "返回首页" in missing.text, "the 404 page offers a way back"
    wrong = client.delete("/catalog", headers=html)
    assert wrong.status_code == 405
    out += page_offences(f"{who} 405 page", wrong)[0]
    for path in ("/admin/users", "/catalog/assets/new", "/hrss/campaigns"):
        refused = client.get(path, headers=html)
        if refused.status_code == 403:
            out += page_offences(f"{who} 403 page {path}", refused)[0]
    return out


def test_every_page_and_problem_a_role_reaches_speaks_plain_chinese(
    synced_city_app: FastAPI,
) -> None:
    problems: list[str] = []
    pages: set[str] = set()
    clients: list[tuple[str, TestClient, dict[str, tuple[str, Form]]]] = []
    for username in one_account_per_role_set():
        who = username or "visitor"
        client = TestClient(synced_city_app, raise_server_exceptions=False)
        if username is not None:
            login(client, username)
        forms: dict[str, tuple[str, Form]] = {}
        for path, _, parsed, found in walk(client):
            pages.add(path)
            problems += [f"{who} {p}" for p in found]
            for form in parsed.forms:
                key = f"{form.method} {form.action or path}"
                if form.typed and not (form.action or path).startswith(SKIPPED_FORMS):
                    forms.setdefault(key, (path, form))
        problems += error_page_offences(client, who)
        problems += api_offences(client, who)
        clients.append((who, client, forms))
    # Forms last, the admin's last of all: a form that takes its nonsense (disabling an
    # account, say) must not change what another role's walk sees.
    for who, client, forms in sorted(clients, key=lambda c: c[0] == "admin"):
        problems += [f"{who} {p}" for p in send_bad_forms(client, forms)]
        client.close()
    assert len(pages) >= 10, sorted(pages)
    assert not problems, f"{len(problems)} texts with developer English:\n" + "\n".join(
        dict.fromkeys(problems)
    )


def test_english_mode_still_speaks_english(app: FastAPI) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        missing = client.get("/no/such/page?lang=en", headers={"accept": "text/html"})
        assert "Not found" in missing.text and "Back to the home page" in missing.text


def test_the_checker_catches_developer_english() -> None:
    assert offences("check character is '0' but should be 'X'")
    assert offences("资产 asset.valued") == ["asset.valued"]
    assert offences("elderly-allowance") == ["elderly-allowance"]
    assert offences("registered_capital_fen") == ["registered_capital_fen"]
    assert offences("False") == ["False"]
    assert offences("Not Found") == ["Not", "Found"]
    assert offences("按 CSV 与 JSON 下载，SM3 摘要，ZC-20260101-01，9137020012") == []
