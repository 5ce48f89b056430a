"""Test support: an HTTP proxy between ``tools.failover`` and the moto server that injects faults.

Owns: forwarding each request to the server (loopback only, every upstream call with a timeout), and per rule
doing something else with the Nth matching request: ``lose`` (forward it, so the server applies it, then close
the connection without an answer), ``refuse`` (answer with a Route53 error without forwarding), ``hang`` (never
answer; held at most ``HANG_SECONDS``), ``garbage`` (answer 200 with a body that is not XML), ``html`` (answer
``page_status``, 200 by default, with a well-formed HTML page without forwarding, as a proxy or captive portal
does: botocore parses it into an empty result, or an error without a code), ``ack`` (answer 200 with an empty body without forwarding, the way moto answers a tag change:
an answer that looks like Route53's for a change never made), ``die`` (stop the whole proxy: the server is gone,
later connections are refused). ``down`` lists health checks whose
checkers report failure, the way Route53 answers GetHealthCheckStatus for an endpoint that is really down
(moto always reports success). Each request is logged as "METHOD path".

Deliberately not here: the server (``tests.moto_server``), what the tests expect.
"""

from __future__ import annotations

import http.client
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG_SECONDS = 30.0

UPDATE_CHECK = r"POST /2013-04-01/healthcheck/[^/]+$"
TAG_CHECK = r"POST /2013-04-01/tags/healthcheck/[^/]+$"
LIST_CHECKS = r"GET /2013-04-01/healthcheck(\?.*)?$"
ANY_READ = r"GET "
ANY_CALL = r"^"

# Well-formed, so it parses as XML: what a proxy's or captive portal's page looks like to botocore.
HTML_PAGE = b"<html><head><title>Sign in</title></head><body><p>Sign in to the guest network</p></body></html>"


def error_xml(code: str, message: str) -> bytes:
    return (
        '<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>fault-proxy</RequestId></ErrorResponse>"
    ).encode()


@dataclass
class Rule:
    action: str  # lose | refuse | hang | garbage | html | ack | die
    pattern: str  # matched against "METHOD path"
    nth: int = 1  # the first matching request it applies to
    times: int = 1  # how many matching requests from there on (0: all)
    status: int = 403
    code: str = "AccessDenied"
    page_status: int = 200  # html
    seen: int = 0

    def applies(self, line: str) -> bool:
        if not re.search(self.pattern, line):
            return False
        self.seen += 1
        return self.seen >= self.nth and (self.times == 0 or self.seen < self.nth + self.times)


@dataclass
class FaultProxy:
    upstream_port: int
    rules: list[Rule] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self, *rules: Rule, down: set[str] | None = None) -> None:
        with self.lock:
            self.rules, self.down, self.log = list(rules), set(down or ()), []

    def rule_for(self, line: str) -> Rule | None:
        with self.lock:
            self.log.append(line)
            return next((r for r in self.rules if r.applies(line)), None)

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            line = f"{self.command} {self.path}"
            rule = proxy.rule_for(line)
            action = rule.action if rule else "forward"
            if action == "die":
                self.close_connection = True
                threading.Thread(target=proxy.stop, daemon=True).start()
                return
            if action == "hang":
                proxy.release.wait(HANG_SECONDS)
                self.close_connection = True
                return
            if action == "refuse":
                assert rule is not None
                self._answer(rule.status, error_xml(rule.code, f"refused by the fault proxy ({rule.code})"))
                return
            if action == "garbage":
                self._answer(200, b"<html><body>502 Bad Gateway from a captive portal</body></html", "text/html")
                return
            if action == "html":
                assert rule is not None
                self._answer(rule.page_status, HTML_PAGE, "text/html; charset=utf-8")
                return
            if action == "ack":
                self._answer(200, b"")
                return
            status, payload, ctype = self._forward(body)
            if action == "lose":
                self.close_connection = True  # applied upstream; the answer never arrives
                return
            if re.search(r"/healthcheck/([^/]+)/status$", self.path) and self.path.split("/")[-2] in proxy.down:
                payload = payload.replace(b"Success:", b"Failure:")
            self._answer(status, payload, ctype)

        def _forward(self, body: bytes) -> tuple[int, bytes, str]:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=10)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                answer = conn.getresponse()
                return answer.status, answer.read(), answer.getheader("Content-Type") or "text/xml"
            finally:
                conn.close()

        def _answer(self, status: int, payload: bytes, ctype: str = "text/xml") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

    return Handler
