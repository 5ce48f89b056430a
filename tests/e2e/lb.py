"""Test support: a region's load balancer, as a process: TCP from ``LISTEN`` to the broker's external listener.

Owns: forwarding bytes both ways (TLS passes through untouched, as a cloud network load balancer does), and a
control file the hook writes: ``closed`` stops listening and cuts every connection (clients then find no broker
they know and rebootstrap), ``open`` listens again, ``closed-keep`` stops listening but keeps the connections
already made (what a security-group change or a target's deregistration delay does: the close a switch must not
take for a complete one). Bounded: the file is read every 0.1 s; the process exits when its parent test ends
(``--parent`` pid gone).

A close is atomic: from the moment it starts no connection is forwarded. Closing the listening socket alone is
not enough: the thread blocked in ``accept()`` keeps it listening until that call returns, and the connection it
returns would be forwarded to the broker and never cut (issue 31: a client that rebootstrapped at that moment,
through a name still resolving to the old region, stayed on the fenced old primary).

Deliberately not here: what closes it and when (``tests.e2e.hook``, ``tools.switchover``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import threading
import time
from pathlib import Path


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


class Balancer:
    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self.listen_at, self.target = listen, target
        self.server: socket.socket | None = None
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()

    def open(self) -> None:
        if self.server is not None:
            return
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(self.listen_at)
        server.listen(128)
        self.server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def close(self, keep: bool = False) -> None:
        with self.lock:
            server, self.server = self.server, None
            conns = [] if keep else self.conns
            if not keep:
                self.conns = []
        if server is not None:
            # shutdown() wakes the accept() blocked in the other thread at once and resets what waits in the
            # backlog; close() alone would leave the socket listening until that accept() returned.
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)
            server.close()
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()

    def _accept(self, server: socket.socket) -> None:
        while self.server is server:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                if self.server is not server:  # accepted while closing: cut, as every other connection was
                    for c in (client, upstream):
                        c.close()
                    return
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("listen")
    p.add_argument("target")
    p.add_argument("control", type=Path)
    p.add_argument("--parent", type=int, required=True)
    a = p.parse_args()
    lh, lp = a.listen.rsplit(":", 1)
    th, tp = a.target.rsplit(":", 1)
    lb = Balancer((lh, int(lp)), (th, int(tp)))
    state = ""
    while True:
        try:
            os.kill(a.parent, 0)
        except OSError:
            return
        want = a.control.read_text().strip() if a.control.exists() else "open"
        if want != state:
            if want == "open":
                lb.open()
            else:
                lb.close(keep=want == "closed-keep")
            state = want
            (a.control.parent / f"{a.control.name}.state").write_text(state)
        time.sleep(0.1)


if __name__ == "__main__":
    main()
