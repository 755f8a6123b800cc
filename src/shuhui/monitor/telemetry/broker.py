"""A Mosquitto of the platform's own, for the demo and the tests, where none listens.

``ensure(settings)`` starts ``mosquitto`` with a configuration written to
``<data dir>/mosquitto/mosquitto.conf`` when nothing listens at ``SHUHUI_MQTT_URL`` (the Debian
package ``mosquitto``, which ``scripts/system-deps.sh`` installs), and leaves a broker that
already listens alone. The configuration allows QoS 1 at rate: up to 1,000 unacknowledged
messages in flight per client (Mosquitto's default, 20, holds a consumer that acknowledges per
batch to 20 messages a round trip) and a million queued for a persistent session that is away
(the default, 1,000, would drop readings while a consumer restarts).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

MAX_INFLIGHT = 1_000
MAX_QUEUED = 1_000_000


def config_text(port: int, data: Path, *, host: str = "127.0.0.1", persist: bool = True) -> str:
    lines = [
        f"listener {port} {host}",
        "allow_anonymous true",
        f"max_inflight_messages {MAX_INFLIGHT}",
        f"max_queued_messages {MAX_QUEUED}",
        "max_queued_bytes 0",
        "set_tcp_nodelay true",
        f"persistence {'true' if persist else 'false'}",
        f"persistence_location {data}/",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
    ]
    return "\n".join(lines) + "\n"


def listening(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def executable() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()),
        None,
    )


@dataclass
class Broker:
    process: subprocess.Popen[bytes]
    host: str
    port: int
    config: Path

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(folder: Path, port: int, *, host: str = "127.0.0.1", persist: bool = True) -> Broker:
    """Starts a Mosquitto configured in ``folder`` and waits until it listens."""
    binary = executable()
    if binary is None:
        raise RuntimeError("mosquitto is not installed (scripts/system-deps.sh installs it)")
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "mosquitto.conf"
    config.write_text(config_text(port, folder, host=host, persist=persist), encoding="utf-8")
    log = (folder / "mosquitto.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own binary and configuration
        [binary, "-c", str(config)], stdout=log, stderr=log, start_new_session=True
    )
    deadline = time.monotonic() + 10
    while not listening(host, port, 0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"mosquitto did not start; see {folder / 'mosquitto.log'}")
        time.sleep(0.05)
    return Broker(process, host, port, config)


def ensure(mqtt_url: str, data_dir: Path) -> Broker | None:
    """A broker at ``mqtt_url``: None when one listens already, else one started here (on a
    loopback address only; a remote broker is the operator's)."""
    parts = urlsplit(mqtt_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 1883
    if listening(host, port):
        return None
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError(f"no MQTT broker answers at {mqtt_url}")
    return start(data_dir / "mosquitto", port, host="127.0.0.1")
