"""A real shuhui server and a real Chromium, shared by the browser tests and scripts/screenshot.py.

The server runs exactly as an operator would run it: ``shuhui demo`` prepares a fresh data
directory, then ``shuhui serve --workers 2`` (a process per core, as in production) listens on a
free loopback port until the block ends; consecutive requests may land in either process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

REPO_ROOT = Path(__file__).resolve().parents[2]

# Debian's Chromium headless shell (scripts/system-deps.sh installs it): Chromium's own engine
# without the desktop browser around it, as Playwright's headless mode uses by default. On two
# roles' crawl it drew the same pages with about a sixth less CPU, which the suite's two cores
# share with the servers under test (docs/benchmarks.md). Playwright's own builds are never used.
CHROMIUM = "/usr/bin/chromium-headless-shell"
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # WebRTC in the tests: a fake camera and microphone, and no permission prompt.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
SECRET_KEY = "test-secret"
# A served demo is ready in a few seconds on a quiet machine; on a loaded one (both test
# workers, Chromium, a JVM) importing the app and building its indexes took over 30 s.
READY_TIMEOUT = 90.0


class ServerError(RuntimeError):
    """The demo could not be prepared or the server never became ready."""


def shuhui_command() -> list[str]:
    """The ``shuhui`` console script of the running interpreter's environment."""
    script = Path(sys.executable).with_name("shuhui")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "shuhui.cli"]


def server_env(data_dir: Path) -> dict[str, str]:
    # The caller's own SHUHUI_* settings (a Postgres URL, say) must not leak into the test server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHUHUI_")}
    env.update(
        SHUHUI_DATA_DIR=str(data_dir),
        SHUHUI_SECRET_KEY=SECRET_KEY,
        SHUHUI_LOG_JSON="true",
        # The wall's points fetched again after 2 s, not 30: the live wall's test waits for it.
        SHUHUI_MONITOR_POINTS_EVERY="2",
    )
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(url: str) -> int | None:
    # No proxy: the server is on loopback, whatever http_proxy says.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def prepare_demo(data_dir: Path) -> None:
    """``shuhui demo`` in ``data_dir``, as an operator runs it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = server_env(data_dir)
    # The data directory as working directory: a developer's ./.env is not read either.
    demo = subprocess.run(
        [*shuhui_command(), "demo"],
        cwd=data_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # beside the tests it was made to wait for, on a loaded machine
        check=False,
    )
    if demo.returncode != 0:
        raise ServerError(f"`shuhui demo` exited {demo.returncode}:\n{demo.stdout}\n{demo.stderr}")
    demo_said(data_dir).write_text(demo.stderr, encoding="utf-8")


def demo_said(data_dir: Path) -> Path:
    """Where :func:`prepare_demo` keeps what ``shuhui demo`` told the operator (beside the data
    directory, which is copied whole for servers): tests/test_cli.py reads the first run's."""
    return data_dir.with_name(f"{data_dir.name}.said")


def prepare_shared_demo(shared: Path) -> Path:
    """The demo in ``shared/shuhui-demo``, made once for a whole xdist run: the first process
    to take the lock makes it (a worker's background thread as the run starts, or a test's
    fixture that got there first, or that finds the background attempt failed and makes it
    again, so the error reaches a test), the others find it made."""
    made = shared / "shuhui-demo"
    with (shared / "shuhui-demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "shuhui-demo.ready").exists():
            shutil.rmtree(made, ignore_errors=True)
            prepare_demo(made)
            (shared / "shuhui-demo.ready").touch()
    return made


def start_preparing_shared_demo(shared: Path) -> threading.Thread:
    """:func:`prepare_shared_demo` on a thread, so that the demo is made while the first tests
    run rather than while the browser tests wait for it (a failure is left to the fixture)."""

    def prepare() -> None:
        with contextlib.suppress(ServerError, OSError, subprocess.SubprocessError):
            prepare_shared_demo(shared)

    thread = threading.Thread(target=prepare, name="prepare-demo", daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def running_server(
    data_dir: Path, workers: int = 2, *, prepared: Path | None = None
) -> Iterator[str]:
    """Prepares the demo in ``data_dir`` — or copies ``prepared``, a data directory that
    ``prepare_demo`` made and nothing has served (a data directory holds no path of its own) —
    serves it, and yields the base URL."""
    if prepared is None:
        prepare_demo(data_dir)
    else:
        shutil.copytree(prepared, data_dir, dirs_exist_ok=True)
    with serving(data_dir, workers=workers) as (base_url, _):
        yield base_url


@contextlib.contextmanager
def serving(
    data_dir: Path, *, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``shuhui serve`` over a data directory whose database is migrated, until the block ends:
    the base URL and the server's process (with one worker, the process that serves)."""
    environment = {**server_env(data_dir), **(env or {})}
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                *shuhui_command(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            cwd=data_dir,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while _status(f"{base_url}/readyz") != 200:
            if server.poll() is not None or time.monotonic() > deadline:
                why = (
                    f"exited with {server.returncode}"
                    if server.returncode is not None
                    else f"not ready after {READY_TIMEOUT:.0f} s"
                )
                output = log_path.read_text(errors="replace")
                raise ServerError(f"`shuhui serve` {why}; its output:\n{output}")
            time.sleep(0.1)
        yield base_url, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def launch_chromium(playwright: Playwright) -> Browser:
    if not Path(CHROMIUM).exists():
        raise ServerError(f"{CHROMIUM} is missing: run `bash scripts/system-deps.sh`")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Logs in through the login form, the way a person does, and waits to be sent on."""
    page.goto(f"{base_url}/login")
    submit(page, username, password)
    page.wait_for_url(lambda url: "/login" not in url)


def submit(page: Page, username: str, password: str) -> None:
    """Fills in and submits the login form on the current page."""
    form = page.locator("main form")
    form.get_by_label("用户名").fill(username)
    form.get_by_label("密码").fill(password)
    form.get_by_role("button", name="登录").click()


def demo_identity(data_dir: Path, username: str) -> tuple[str, str | None, str | None]:
    """Whom a demo account is in the served demo city (``shuhui demo`` binds the citizen and the
    enterprise to members of it): its name, citizen ID and credit code, as the server stores
    them."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(data_dir / "shuhui.db", timeout=30)) as db:
        row = db.execute(
            "SELECT display_name, citizen_id, credit_code FROM users WHERE username = ?",
            (username,),
        ).fetchone()
    if row is None:
        raise ServerError(f"no account {username} in {data_dir}")
    return str(row[0]), row[1], row[2]
