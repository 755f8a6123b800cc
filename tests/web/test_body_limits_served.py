"""Big bodies against the real server (``shuhui serve``, uvicorn): a burst of 200 MB posts,
with a length and chunked, is refused with 413 before it is read, and the server's memory stays
where it was. (The adversarial test took a server from 294 MB to 2,065 MB with four of them.)"""

from __future__ import annotations

import select
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.browser.server import serving
from tests.fixtures import Stage, Templates

MiB = 1024 * 1024
SIZE = 200 * MiB
TARGETS = (
    "/api/v1/channel/products/underwriting-health-check",
    "/api/v1/session",
    "/api/3/action/package_search",
    "/login",
)


@pytest.fixture
def served(tmp_path: Path, templates: Templates) -> Iterator[tuple[int, int]]:
    """A server over a migrated database, with one worker: its port and its process id."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    templates.sqlite.copy(Stage.MIGRATED, data_dir / "shuhui.db")
    url = f"sqlite:///{data_dir / 'shuhui.db'}"
    with serving(data_dir, workers=1, env={"SHUHUI_DATABASE_URL": url}) as (base, server):
        yield int(base.rsplit(":", 1)[1]), server.pid


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def blast(port: int, path: str, *, chunked: bool) -> tuple[int | None, int]:
    """Posts 200 MB as fast as the server takes it, stopping when it answers: the status it
    answered, and how many bytes of body went out before that."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {SIZE}"
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{framing}\r\n\r\n".encode()
    )
    chunk = b" " * MiB
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
    sent = 0
    answer = b""
    try:
        while sent < SIZE and not select.select([sock], [], [], 0)[0]:
            sock.sendall(frame)
            sent += len(chunk)
    except OSError:
        pass  # the server closed the connection on its answer
    try:
        answer = sock.recv(4096)
    except OSError:
        pass
    finally:
        sock.close()
    status = int(answer.split()[1]) if answer.startswith(b"HTTP/1.1 ") else None
    return status, sent


def warm_up(port: int) -> None:
    """One small post to each target, so the first use of each route is not counted."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for path in TARGETS:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}",
            data=b"{}",
            headers={"content-type": "application/json"},
        )
        try:
            opener.open(request, timeout=15).close()
        except urllib.error.HTTPError as answered:
            assert answered.code < 500
    blast(port, TARGETS[0], chunked=True)


def test_a_burst_of_200_mb_posts_leaves_memory_flat(served: tuple[int, int]) -> None:
    port, pid = served
    warm_up(port)
    before = rss_mib(pid)
    burst = [(path, chunked) for path in TARGETS for chunked in (False, True)]
    with ThreadPoolExecutor(len(burst)) as pool:
        answers = list(pool.map(lambda job: blast(port, job[0], chunked=job[1]), burst))
    after = rss_mib(pid)
    for (path, chunked), (status, sent) in zip(burst, answers, strict=True):
        assert status == 413, (path, chunked, status)
        # What went out before the answer is what the sockets buffer, not the body.
        assert sent < 32 * MiB, (path, chunked, sent)
    assert after - before < 50, (before, after)
    # And the server serves on.
    assert blast(port, "/api/v1/session", chunked=False)[0] == 413
