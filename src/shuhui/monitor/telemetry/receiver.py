"""The consumer's receiving process: paho's network loop on a core of its own.

The consumer (``consumer.Consumer``) starts this in a process of its own (``multiprocessing``,
spawned) and talks to it over one duplex pipe. Here paho only receives: each message's topic,
payload, packet id and QoS go into a deque, and every few milliseconds what has come is sent
to the consumer as one list. The consumer parses, stores, evaluates and commits, then sends back
the packet ids of the batch's QoS 1 messages; a thread here reads them and acknowledges each
(paho's manual acks), so a message is acknowledged only after its batch committed.

Why a process: in one process paho's thread and the storing thread share one interpreter lock,
so a message's receiving (~40 µs of Python in paho) and its storing ran one after the other on
one core. Here they run side by side.

paho reads each packet with at least three ``recv`` calls (the command byte, the length, the
body) and one ``select`` per packet; :class:`_BufferedClient` reads up to 256 KiB a call and
serves paho's small reads from that buffer (about a quarter less CPU a message). It overrides
two private methods of paho-mqtt 2 (``_sock_recv``, ``_create_socket``); the consumer's tests
run through it, so a paho release that changes them shows there.

Messages on the pipe, to the consumer: ``("messages", [(topic, payload, mid, qos), …])``,
``("connected", bool)``, ``("closed", cpu seconds)`` (the last one: nothing follows). From
the consumer: ``("ack", [(mid, qos), …])`` and ``("stop", None)``. When the consumer's process
dies the pipe ends, and this process disconnects and exits (unacknowledged QoS 1 messages stay
with the broker for the persistent session).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

log = logging.getLogger(__name__)

# topic, payload, packet id, QoS
Raw = tuple[str, bytes, int, int]
# How often what has arrived is handed over: a bound on the latency it adds.
FLUSH_SECONDS = 0.003
# At most this many messages a hand-over (a pickle of ~1 MB at the most).
CHUNK = 5_000
READ_SIZE = 256 * 1024


@dataclass(frozen=True)
class Link:
    """What the receiving process needs to connect (picklable: it crosses to the process)."""

    host: str
    port: int
    client_id: str
    topic: str
    qos: int
    keepalive: int


class _BufferedClient(mqtt.Client):
    """A paho client whose small reads come from one large read."""

    _rbuf: bytes = b""
    _rpos: int = 0

    def _create_socket(self) -> Any:
        # A new connection: bytes left from the old one belong to no packet.
        self._rbuf, self._rpos = b"", 0
        return super()._create_socket()

    def _sock_recv(self, bufsize: int) -> bytes:
        buf, pos = self._rbuf, self._rpos
        if pos >= len(buf):
            buf = super()._sock_recv(READ_SIZE)
            if not buf:
                return buf
            self._rbuf, pos = buf, 0
        end = pos + bufsize
        self._rpos = end
        return buf[pos:end]

    def loop_read(self, max_packets: int = 1) -> Any:
        # paho reads one packet per select(); the buffer may hold hundreds: read them all.
        rc = super().loop_read(max_packets)
        while (
            rc == mqtt.MQTT_ERR_SUCCESS and self._sock is not None and self._rpos < len(self._rbuf)
        ):
            rc = super().loop_read(max_packets)
        return rc


def run(link: Link, conn: Connection, parent: int) -> None:
    """The process's body: receive until told to stop or until the consumer is gone."""
    # Ctrl-C reaches the whole process group; the consumer decides when this stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inbox: deque[Raw] = deque()
    events: deque[tuple[str, Any]] = deque()
    stop = threading.Event()
    send_lock = threading.Lock()

    def on_connect(client: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT connection refused: %s", reason)
            return
        client.subscribe(link.topic, qos=link.qos)
        events.append(("connected", True))

    def on_disconnect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        events.append(("connected", False))
        if not stop.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", reason)

    def on_message(_c: Any, _u: Any, message: Any) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = ""
        inbox.append((topic, message.payload, message.mid, message.qos))

    client = _BufferedClient(
        CallbackAPIVersion.VERSION2,
        client_id=link.client_id,
        clean_session=False,
        protocol=mqtt.MQTTv311,
    )
    client.manual_ack_set(True)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.on_message = on_message

    def read_acks() -> None:
        try:
            while True:
                kind, body = conn.recv()
                if kind == "ack":
                    for mid, qos in body:
                        client.ack(mid, qos)
                elif kind == "stop":
                    break
        except (EOFError, OSError):
            pass  # the consumer is gone
        stop.set()

    def send(kind: str, body: Any) -> bool:
        try:
            with send_lock:
                conn.send((kind, body))
        except (BrokenPipeError, OSError):
            stop.set()
            return False
        return True

    def flush() -> bool:
        while events:
            if not send(*events.popleft()):
                return False
        while inbox:
            n = min(len(inbox), CHUNK)
            if not send("messages", [inbox.popleft() for _ in range(n)]):
                return False
        return True

    acks = threading.Thread(target=read_acks, name="telemetry-acks", daemon=True)
    acks.start()
    client.connect_async(link.host, link.port, keepalive=link.keepalive)
    client.loop_start()
    try:
        while not stop.wait(FLUSH_SECONDS):
            if not flush() or os.getppid() != parent:
                break
    finally:
        client.disconnect()
        client.loop_stop()
        if flush():
            send("closed", time.process_time())
        conn.close()
