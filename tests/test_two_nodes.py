"""Several app nodes (issue 23): two ``shuhui serve`` processes, each with a memory of its own
as on two machines, over one PostgreSQL database and one data directory. What one node
changes, the other honours on its very next request: a revoked or rotated API key, a revoked
authorisation (用证授权 through the gateway, 委托授权 through its API), data hosted and
withdrawn (the catalog's search, CKAN, DCAT, the channel's products and its calls). The rate
limit counts the calls made on both nodes. The audit ledger, written by both at once, stays one
log without a gap under one Merkle tree: both nodes' proofs give the root the entries give, and
the ledger's own audit finds nothing wrong in the database or the checkpoints both published.

PostgreSQL only (``SHUHUI_TEST_POSTGRES_URL``; skipped when unset): nodes on several machines
share a database server, not a SQLite file. The nodes start once for the module, over the tests'
small city (``tests/fixtures.py``), with no ``SHUHUI_SECRET_KEY``: they share the data
directory's key, as nodes configured with none do. People act only through HTTP, each logged in
once and using either node with that one session.
"""

from __future__ import annotations

import base64
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import httpx2
import pytest

from shuhui.catalog.ckan.params import REVISION_CHECK
from shuhui.core.clock import utcnow
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.datacore.store import DataCore
from shuhui.trust.authorisations.terms import R_REVOKED
from shuhui.trust.crypto import keystore
from shuhui.trust.crypto.merkle import MerkleTree
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.ledger.audit import DATABASE, FILE, audit
from shuhui.trust.ledger.keys import KEY_FILE
from shuhui.trust.ledger.service import DEFAULT_NAME
from tests.browser.server import free_port, server_env, shuhui_command
from tests.channel.conftest import PURPOSE
from tests.enterprise.test_custody import API as CUSTODY
from tests.enterprise.test_custody import PURPOSE as HOSTED_PURPOSE
from tests.enterprise.test_custody import TABLE, csv_text, good_rows, hosting
from tests.fixtures import (
    CSRF_INPUT,
    POSTGRES_URL,
    Stage,
    Templates,
    add_account,
    copy_city,
    make_settings,
)

pytestmark = [
    # One worker makes the nodes once (tests/fixtures.py groups this module by its path too).
    pytest.mark.xdist_group("two_nodes"),
    pytest.mark.postgres,
    pytest.mark.skipif(POSTGRES_URL is None, reason="SHUHUI_TEST_POSTGRES_URL is not set"),
]

UNDERWRITING = "/api/v1/channel/products/underwriting-health-check"
HOSTED = f"/api/v1/channel/products/{TABLE}"
INSURER = "91370200MA3R7B9K1L"
CITIZEN_ID = "370202199003151233"  # the demo account "citizen"
DAIBAN_ID = "370203198607124510"  # the demo account "daiban", an agent
PENSION, UNEMPLOYMENT = "QD-RS-0001", "QD-RS-0002"
RATE = 8  # the insurer's calls a minute, per key
START_TIMEOUT = 120.0  # seconds for both to serve: two cold starts share the machine
CHECKPOINT_INTERVAL = 1.0  # seconds: both nodes' checkpointers sign while the tests write
SEARCH_LAG = 2 * REVISION_CHECK + 20  # seconds: the revision checks, and a slow rebuild


# --- two nodes ------------------------------------------------------------------------------


@dataclass
class Nodes:
    a: str
    b: str
    database_url: str
    data_dir: Path
    patients: list[str]  # the citizen IDs of the accounts patient1 and patient2


def _status(url: str) -> int | None:
    try:
        return httpx2.get(url, timeout=2, trust_env=False).status_code
    except httpx2.TransportError:
        return None


def _serve(
    data_dir: Path, env: dict[str, str], port: int, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    command = [*shuhui_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    # One process a node: each node's memory is its own, as on machines of their own.
    command += ["--workers", "1"]
    return subprocess.Popen(command, cwd=data_dir, env=env, stdout=log, stderr=subprocess.STDOUT)


def _patients(data_dir: Path, database_url: str) -> list[str]:
    """Accounts for two residents of the small city with medical visits, made as their holders
    would have them; returns their citizen IDs (patient1, patient2)."""
    core = DataCore.from_settings(make_settings(data_dir, database_url))
    con = core.connect()
    try:
        rows = con.execute(
            "SELECT citizen_id FROM medical_visits GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2"
        ).fetchall()
    finally:
        con.close()
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            for i, (citizen_id,) in enumerate(rows, 1):
                account = UserCreate(
                    username=f"patient{i}",
                    display_name=f"孙投保{i}",
                    password=DEMO_PASSWORD,
                    roles=[Role.citizen],
                    citizen_id=str(citizen_id),
                )
                add_account(db, account)
    finally:
        engine.dispose()
    return [str(row[0]) for row in rows]


@pytest.fixture(scope="module")
def nodes(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    postgres = templates.postgres()
    name = postgres.create(Stage.SYNCED)
    database_url = postgres.url(name)
    folder = tmp_path_factory.mktemp("two-nodes")
    data_dir = folder / "var"
    data_dir.mkdir()
    copy_city(templates.city(), data_dir)
    patients = _patients(data_dir, database_url)
    env = {k: v for k, v in server_env(data_dir).items() if k != "SHUHUI_SECRET_KEY"}
    env.update(
        SHUHUI_DATABASE_URL=database_url,
        SHUHUI_COOKIE_SECURE="false",  # plain http on loopback
        SHUHUI_LEDGER_CHECKPOINT_INTERVAL=str(CHECKPOINT_INTERVAL),
        SHUHUI_LEDGER_CHECKPOINT_EVERY="25",
    )
    ports = [free_port()]
    while len(ports) < 2:
        if (port := free_port()) not in ports:
            ports.append(port)
    processes: list[subprocess.Popen[bytes]] = []
    logs = [folder / "node-a.log", folder / "node-b.log"]
    try:
        for port, log_path in zip(ports, logs, strict=True):
            with log_path.open("wb") as log:
                processes.append(_serve(data_dir, env, port, log))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        deadline = time.monotonic() + START_TIMEOUT
        for url, process, log_path in zip(urls, processes, logs, strict=True):
            while _status(f"{url}/readyz") != 200:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = log_path.read_text(errors="replace")[-4000:]
                    pytest.fail(f"`shuhui serve` at {url} did not start:\n{output}")
                time.sleep(0.1)
        yield Nodes(urls[0], urls[1], database_url, data_dir, patients)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        postgres.drop_later(name)


# --- people and calls -------------------------------------------------------------------------


class Person:
    """Someone logged in once, acting on either node: the login session is the database's, and
    the CSRF token is an HMAC under the key both nodes read from the data directory, so what
    one node gave is good on the other. (The login form is read on A and posted to B.)"""

    def __init__(self, nodes: Nodes, username: str) -> None:
        self.username = username
        self.http = httpx2.Client(timeout=30, trust_env=False)
        form = self.http.get(f"{nodes.a}/login")
        token = CSRF_INPUT.search(form.text)
        assert token is not None, form.text
        answer = self.http.post(
            f"{nodes.b}/login",
            data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        self.http.headers["x-csrf-token"] = answer.headers["x-csrf-token"]

    def get(self, node: str, path: str, **params: Any) -> httpx2.Response:
        return self.http.get(node + path, params=params)

    def post(self, node: str, path: str, body: dict[str, Any] | None = None) -> httpx2.Response:
        return self.http.post(node + path, json=body or {})

    def ok(self, node: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.post(node, path, body)
        assert answer.status_code in (200, 201), f"{path}: {answer.status_code} {answer.text}"
        return answer.json()


GATEWAY = httpx2.Client(timeout=30, trust_env=False)  # keys, no cookies


def underwrite(node: str, key: str, citizen_id: str) -> httpx2.Response:
    body = {"purpose": PURPOSE, "params": {"citizen_id": citizen_id, "years": 5}}
    return GATEWAY.post(node + UNDERWRITING, json=body, headers={"X-API-Key": key})


def hosted_rows(node: str, key: str) -> httpx2.Response:
    body = {"purpose": HOSTED_PURPOSE, "params": {"region": "370203"}}
    return GATEWAY.post(node + HOSTED, json=body, headers={"X-API-Key": key})


def prefix(key: str) -> str:
    return key.split("_")[1]


def reason(answer: httpx2.Response) -> str:
    return str(answer.json().get("reason"))


@dataclass
class World:
    nodes: Nodes
    bureau: Person
    health: Person
    insurer: Person
    bank: Person
    enterprise: Person
    citizen: Person
    daiban: Person
    patients: list[tuple[Person, str]]
    grant: str  # the insurer's underwriting grant: RATE calls a minute per key

    def key(self, node: str) -> str:
        issued = self.insurer.ok(
            node, "/api/v1/channel/keys", {"grants": [self.grant], "label": "核保系统"}
        )
        return str(issued["secret"])

    def consent(self, patient: Person, node: str) -> str:
        """The patient authorises the insurer to use their medical records (用证授权), signed
        with their password on ``node``."""
        drafted = patient.ok(
            node,
            "/api/v1/authorisations/cert-uses",
            {
                "relying_party": {"kind": "enterprise", "id": INSURER, "name": "青岛示范人寿"},
                "certificate_types": ["就诊记录"],
                "purpose": PURPOSE,
                "valid_to": (utcnow() + timedelta(days=30)).isoformat(),
            },
        )
        code = str(drafted["code"])
        signed = patient.ok(
            node, f"/api/v1/authorisations/{code}/sign", {"password": DEMO_PASSWORD}
        )
        assert signed["status"] == "active"
        return code

    def mandate(self, node: str, matter: str) -> str:
        """The citizen's signed mandate for the agent daiban to apply for ``matter``."""
        drafted = self.citizen.ok(
            node,
            "/api/v1/authorisations/mandates",
            {
                "agent": {"kind": "person", "id": DAIBAN_ID, "name": "刘代办"},
                "scope": [matter],
                "actions": ["apply", "query"],
                "valid_to": (utcnow() + timedelta(days=30)).isoformat(),
            },
        )
        code = str(drafted["code"])
        path = f"/api/v1/authorisations/{code}/sign"
        assert self.citizen.ok(node, path, {"password": DEMO_PASSWORD})["status"] == "active"
        return code


def register(consumer: Person, name: str, kind: str, here: str, there: str, bureau: Person) -> None:
    """A consumer registers and asks to join the finance zone on one node; the bureau admits it
    on the other."""
    consumer.ok(
        here,
        "/api/v1/channel/consumers",
        {
            "name": name,
            "type": kind,
            "contact_name": "王经理",
            "contact_phone": "0532-88886666",
            "contact_email": "api@example.cn",
        },
    )
    joined = consumer.ok(
        here, "/api/v1/channel/memberships", {"zone": "finance", "statement": "线上核保、信贷审批"}
    )
    path = f"/api/v1/channel/memberships/{joined['id']}/review"
    assert bureau.ok(there, path, {"decision": "approve"})["status"] == "approved"


@pytest.fixture(scope="module")
def world(nodes: Nodes) -> World:
    """The people, logged in once each; the insurer and the bank admitted to the finance zone,
    the insurer granted the underwriting check, and patient1's consent to it signed."""
    a, b = nodes.a, nodes.b
    people = {
        name: Person(nodes, name)
        for name in ("operator", "health", "insurer", "bank", "enterprise", "citizen", "daiban")
    }
    bureau, insurer = people["operator"], people["insurer"]
    register(insurer, "青岛示范人寿保险股份有限公司", "insurer", a, b, bureau)
    register(people["bank"], "青岛示范银行", "bank", b, a, bureau)
    applied = insurer.ok(
        b,
        "/api/v1/channel/applications",
        {
            "products": ["underwriting-health-check"],
            "purpose": PURPOSE,
            "legal_basis": "《个人信息保护法》第十三条；投保人单独同意",
            "usage": "industry",
            "days": 365,
        },
    )
    review = f"/api/v1/channel/applications/{applied['code']}/review"
    assert people["health"].ok(a, review, {"decision": "approve"})["status"] == "bureau_review"
    granted = bureau.ok(b, review, {"decision": "approve", "rate_per_minute": RATE})
    assert granted["status"] == "approved"
    grants = insurer.get(a, "/api/v1/channel/grants").json()
    patients = [(Person(nodes, f"patient{i}"), cid) for i, cid in enumerate(nodes.patients, 1)]
    made = World(
        nodes,
        bureau,
        people["health"],
        insurer,
        people["bank"],
        people["enterprise"],
        people["citizen"],
        people["daiban"],
        patients,
        str(grants[0]["code"]),
    )
    made.consent(made.patients[0][0], a)
    return made


# --- revocations -----------------------------------------------------------------------------


def test_a_key_revoked_or_rotated_on_one_node_is_refused_by_the_other_at_once(
    world: World,
) -> None:
    a, b = world.nodes.a, world.nodes.b
    patient_id = world.patients[0][1]
    key = world.key(a)
    # B looks the key up and keeps what it found; A answers too.
    assert underwrite(b, key, patient_id).status_code == 200
    assert underwrite(a, key, patient_id).status_code == 200
    world.insurer.ok(a, f"/api/v1/channel/keys/{prefix(key)}/revoke")
    refused = underwrite(b, key, patient_id)
    assert refused.status_code == 401 and reason(refused) == "key-revoked", refused.text

    # Rotated on B: the old key stops on A at once, and A takes the new one.
    old = world.key(b)
    assert underwrite(a, old, patient_id).status_code == 200
    new = str(world.insurer.ok(b, f"/api/v1/channel/keys/{prefix(old)}/rotate")["secret"])
    stopped = underwrite(a, old, patient_id)
    assert stopped.status_code == 401 and reason(stopped) == "key-revoked", stopped.text
    assert underwrite(a, new, patient_id).status_code == 200


def test_an_authorisation_revoked_on_one_node_is_refused_by_the_other_at_once(
    world: World,
) -> None:
    a, b = world.nodes.a, world.nodes.b
    # 用证授权: signed on B, relied on by the gateway on B, revoked on A.
    patient, patient_id = world.patients[1]
    code = world.consent(patient, b)
    key = world.key(a)
    assert underwrite(b, key, patient_id).status_code == 200
    patient.ok(a, f"/api/v1/authorisations/{code}/revoke", {"reason": "不再投保"})
    refused = underwrite(b, key, patient_id)
    assert refused.status_code == 403 and reason(refused) == "consent-refused", refused.text
    assert refused.json()["authorisation"]["reason"] == R_REVOKED[0]

    # 委托授权: signed on B, used by the agent on A, revoked on B, refused on A.
    mandate = world.mandate(b, PENSION)
    use = {"principal_id": CITIZEN_ID, "matter": PENSION, "action": "apply"}
    allowed = world.daiban.ok(a, "/api/v1/authorisations/mandates/use", use)
    assert allowed["allowed"] and allowed["chain"] == [mandate]
    world.citizen.ok(b, f"/api/v1/authorisations/{mandate}/revoke", {"reason": "已自行办理"})
    stopped = world.daiban.post(a, "/api/v1/authorisations/mandates/use", use)
    assert stopped.status_code == 403 and reason(stopped) == R_REVOKED[0], stopped.text


# --- the catalog and the channel's hosted products --------------------------------------------


def test_data_hosted_and_withdrawn_on_one_node_shows_on_the_other(world: World) -> None:
    a, b = world.nodes.a, world.nodes.b
    web = httpx2.Client(timeout=30, trust_env=False)

    def search_page(node: str) -> str:
        return web.get(f"{node}/catalog", params={"q": "订单月度汇总"}).text

    def ckan(node: str, action: str, **params: str) -> httpx2.Response:
        return web.get(f"{node}/api/3/action/{action}", params=params)

    def ckan_found(node: str) -> bool:
        found = ckan(node, "package_search", q="数据托管").json()["result"]["results"]
        return TABLE in [p["name"] for p in found]

    link = f"/catalog/datasets/{TABLE}"
    # B has built its search index, its CKAN answers and its DCAT export before the change.
    assert link not in search_page(b)
    assert not ckan_found(b)
    assert TABLE not in web.get(f"{b}/catalog.jsonld").text
    assert ckan(b, "package_show", id=TABLE).status_code == 404

    hosted = world.enterprise.ok(a, f"{CUSTODY}/datasets", hosting(csv_text(good_rows())))
    # CKAN's dataset is read afresh, the DCAT export kept per catalog revision (read each time).
    shown = ckan(b, "package_show", id=TABLE)
    assert shown.status_code == 200 and shown.json()["result"]["name"] == TABLE
    assert TABLE in web.get(f"{b}/catalog.jsonld").text
    # Search, on one node as on two, trusts its index for REVISION_CHECK seconds between
    # revision reads (CKAN), and rebuilds an index that took a second or more to build in the
    # background while it answers from the last (a loaded machine): soon, not at once.
    deadline = time.monotonic() + SEARCH_LAG
    while link not in search_page(b) or not ckan_found(b):
        assert time.monotonic() < deadline, "B's search never found the hosted data"
        time.sleep(0.1)
    # The channel on B offers it at once; the bank applies there, the enterprise agrees on A,
    # the bureau grants on B, the key is issued on A and called on B.
    offered = world.bank.get(b, "/api/v1/channel/products").json()
    assert TABLE in [p["code"] for p in offered]
    applied = world.bank.ok(
        b,
        "/api/v1/channel/applications",
        {
            "products": [TABLE],
            "purpose": HOSTED_PURPOSE,
            "legal_basis": "《中华人民共和国商业银行法》第三十五条；借款人书面同意",
            "usage": "industry",
            "days": 90,
        },
    )
    code = applied["code"]
    world.enterprise.ok(a, f"{CUSTODY}/applications/{code}/review", {"decision": "approve"})
    review = f"/api/v1/channel/applications/{code}/review"
    assert world.bureau.ok(b, review, {"decision": "approve"})["status"] == "approved"
    grant = next(
        g["code"]
        for g in world.bank.get(b, "/api/v1/channel/grants").json()
        if TABLE in g["products"]
    )
    issued = world.bank.ok(a, "/api/v1/channel/keys", {"grants": [grant], "label": "信贷系统"})
    key = str(issued["secret"])
    answered = hosted_rows(b, key)
    assert answered.status_code == 200 and answered.json()["result"]["count"] == 10, answered.text
    assert hosted_rows(a, key).status_code == 200

    # Withdrawn on A: B refuses the next call, closes the catalog entry, offers it no more.
    withdraw = f"{CUSTODY}/datasets/{hosted['code']}/withdraw"
    assert world.enterprise.ok(a, withdraw, {"reason": "销售系统更换"})["state"] == "withdrawn"
    refused = hosted_rows(b, key)
    assert refused.status_code == 403 and reason(refused) == "product-withdrawn", refused.text
    closed = ckan(b, "package_show", id=TABLE).json()["result"]
    extras = {e["key"]: e["value"] for e in closed["extras"]}
    assert closed["resources"] == [] and extras["open_level"] == "closed"
    offered = world.bank.get(b, "/api/v1/channel/products").json()
    assert TABLE not in [p["code"] for p in offered]


# --- the rate limit -------------------------------------------------------------------------


def test_the_rate_limit_counts_the_calls_made_on_both_nodes(world: World) -> None:
    a, b = world.nodes.a, world.nodes.b
    patient_id = world.patients[0][1]

    def calls_on_both() -> list[httpx2.Response] | None:
        """RATE + 2 calls with a new key, alternately on B and A; None if they did not all fall
        in one minute (the limit is per minute)."""
        key = world.key(a)
        if time.time() % 60 > 55:
            time.sleep(60 - time.time() % 60 + 0.1)
        minute = int(time.time() // 60)
        answers = [underwrite((b, a)[i % 2], key, patient_id) for i in range(RATE + 2)]
        return answers if int(time.time() // 60) == minute else None

    answers = calls_on_both() or calls_on_both()
    assert answers is not None
    statuses = [r.status_code for r in answers]
    assert statuses == [200] * RATE + [429] * 2, [r.text for r in answers]
    remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in answers]
    assert remaining == [*range(RATE - 1, -1, -1), 0, 0]
    assert {r.headers["X-RateLimit-Limit"] for r in answers} == {str(RATE)}
    assert all(
        reason(r) == "rate-limited" and int(r.headers["Retry-After"]) <= 60 for r in answers[RATE:]
    )


# --- the audit ledger ---------------------------------------------------------------------------


def ledger_entries(world: World) -> list[dict[str, Any]]:
    """Every entry, a page at a time, the pages asked of A and B in turn."""
    found: list[dict[str, Any]] = []
    nodes = (world.nodes.a, world.nodes.b)
    while True:
        begin = len(found)
        node = nodes[begin // 1000 % 2]
        page = world.bureau.get(node, "/api/v1/ledger/entries", start=begin, end=begin + 1000)
        assert page.status_code == 200, page.text
        if not page.json():
            return found
        found += page.json()


def test_both_nodes_writing_at_once_make_one_ledger_one_tree(world: World) -> None:
    a, b = world.nodes.a, world.nodes.b
    patient_id = world.patients[0][1]
    keys = [world.key(a), world.key(b)]
    world.mandate(a, UNEMPLOYMENT)
    before = len(ledger_entries(world))

    # Gateway calls (recorded in groups by each node's writer) and an agent's uses of a mandate
    # (one transaction each), 40 requests at once, half on each node.
    gateway = [((a, b)[i % 2], keys[i // 2 % 2]) for i in range(24)]
    uses = [(a, b)[i % 2] for i in range(16)]
    start = threading.Barrier(len(gateway) + len(uses))
    use = {"principal_id": CITIZEN_ID, "matter": UNEMPLOYMENT, "action": "apply"}

    def call(node: str, key: str) -> int:
        start.wait(timeout=30)
        return underwrite(node, key, patient_id).status_code

    def act(node: str) -> int:
        with httpx2.Client(
            timeout=30,
            trust_env=False,
            cookies=world.daiban.http.cookies,
            headers=world.daiban.http.headers,
        ) as client:
            start.wait(timeout=30)
            return client.post(f"{node}/api/v1/authorisations/mandates/use", json=use).status_code

    with ThreadPoolExecutor(max_workers=len(gateway) + len(uses)) as pool:
        called = [pool.submit(call, node, key) for node, key in gateway]
        acted = [pool.submit(act, node) for node in uses]
        statuses = [f.result(timeout=60) for f in called], [f.result(timeout=60) for f in acted]
    assert set(statuses[0]) <= {200, 429} and statuses[1] == [200] * len(uses), statuses

    # One log: every index from 0 once, in order, each request's entry in it.
    entries = ledger_entries(world)
    size = len(entries)
    assert [e["index"] for e in entries] == list(range(size))
    new = entries[before:]
    ours = {prefix(k) for k in keys}
    assert sum(1 for e in new if (e["entry"]["detail"] or {}).get("key") in ours) == len(gateway)
    used = [
        e
        for e in new
        if e["entry"]["actor"] == "daiban" and e["entry"]["detail"].get("matter") == UNEMPLOYMENT
    ]
    assert len(used) == len(uses)

    # One tree: both nodes prove the root the entries give.
    checkpoint = world.bureau.get(a, "/api/v1/ledger/checkpoint").json()
    tree = MerkleTree(checkpoint["algorithm"])
    tree.extend([base64.b64decode(e["leaf_hash"]) for e in entries])
    for node in (a, b):
        proof = world.bureau.get(
            node, "/api/v1/ledger/proof/consistency", first=before, second=size
        )
        assert proof.status_code == 200, proof.text
        assert proof.json()["first_root"] == base64.b64encode(tree.root(before)).decode()
        assert proof.json()["second_root"] == base64.b64encode(tree.root()).decode()

    # Each node's checkpointer signs when one is due and publishes, one at a time under a lock
    # in the shared data directory: soon a checkpoint covers everything, signed over that root.
    deadline = time.monotonic() + 10 * CHECKPOINT_INTERVAL + 5
    while True:
        checkpoint = world.bureau.get(b, "/api/v1/ledger/checkpoint").json()
        if checkpoint["tree_size"] >= size:
            break
        assert time.monotonic() < deadline, checkpoint
        time.sleep(0.2)
    signed_root = base64.b64decode(checkpoint["root_hash"])
    assert checkpoint["tree_size"] == size and signed_root == tree.root()

    # The ledger's own audit: every entry recomputed, the tree rebuilt, each checkpoint in the
    # database and in the published file (appended to by both nodes) held against it.
    public = keystore.read(world.nodes.data_dir / KEY_FILE)
    assert public is not None
    engine = make_engine(world.nodes.database_url)
    try:
        with make_session_factory(engine)() as db:
            report = audit(db, public.public_key, world.nodes.data_dir, DEFAULT_NAME)
    finally:
        engine.dispose()
    assert report.issues == [] and report.size >= size, report.issues
    assert report.checkpoints[DATABASE] >= 2 and report.checkpoints[FILE] >= 2
