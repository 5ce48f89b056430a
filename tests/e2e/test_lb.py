"""The end-to-end estate's load balancer (``tests.e2e.lb``) closes the way a switch's ``clients-moved`` step needs:
from the moment it closes nothing more reaches the broker, and every connection it carried is cut.

Issue 31: its close used to leave the listening socket accepting until the thread blocked in ``accept()`` returned,
and forwarded that last connection for good. A Python consumer whose rebootstrap landed on it (its bootstrap name
still resolving to the old region for a moment) stayed on the fenced old primary: with no partitions assigned (its
session had expired under the fence of a resumed switch) it sent no metadata request that would have dropped its
bootstrap connection. No Kafka here: a plain TCP server stands for the broker.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.e2e.lb import Balancer
from tests.moto_server import free_port


class Backend:
    """A TCP server that accepts and holds every connection, counting them."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = self.server.getsockname()
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def wait_for(self, count: int) -> None:
        for _ in range(100):
            if len(self.accepted) >= count:
                return
            time.sleep(0.02)
        raise AssertionError(f"the backend has {len(self.accepted)} connection(s), expected {count}")


def _cut(conn: socket.socket) -> bool:
    conn.settimeout(2)
    try:
        return conn.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.mark.parametrize("rounds", [20])
def test_after_close_nothing_is_forwarded_and_every_connection_is_cut(rounds: int) -> None:
    backend = Backend()
    listen = ("127.0.0.1", free_port())
    lb = Balancer(listen, backend.address)
    for _ in range(rounds):
        lb.open()
        forwarded = len(backend.accepted) + 1
        before = socket.create_connection(listen, timeout=2)
        backend.wait_for(forwarded)
        lb.close()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(listen, timeout=2).close()
        assert _cut(before), "a connection made before the close still carries bytes"
        time.sleep(0.1)
        assert len(backend.accepted) == forwarded, "a connection made after the close reached the broker"
        before.close()


def test_a_close_that_keeps_connections_stops_new_ones_only() -> None:
    """``closed-keep``: what a security-group change does (the case ``clients-moved`` must detect and refuse)."""
    backend = Backend()
    listen = ("127.0.0.1", free_port())
    lb = Balancer(listen, backend.address)
    lb.open()
    before = socket.create_connection(listen, timeout=2)
    backend.wait_for(1)
    lb.close(keep=True)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(listen, timeout=2).close()
    assert not _cut(before)
    lb.close()
    assert _cut(before)
