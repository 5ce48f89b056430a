"""``switchover``, ``failover`` and ``failback`` of a Cluster Linking stack, run as the operator runs them (a process,
Route53 in a moto server) against a fake of Confluent Server's Admin REST API (``/kafka/v3``): the tool promotes the
mirror topics on a switchover (stopped only once caught up), fails them over on a failover (stopped at once), fences
the old primary through the REST ACL API, and waits for the reverse link. There is no Confluent Server here (its jars
are not on Maven Central), so the fake keeps the state those endpoints describe and records every call.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

import pytest

from stacks import naming
from tests.e2e.cluster import Pki
from tests.failover_zone import Zone
from tests.moto_server import free_port

STACK = "examples/cluster-linking-active-passive.yaml"
PRIMARY, SECONDARY = "eu-west-1", "eu-central-1"
TOPICS = ["ledger", "payments"]


def _cid(region: str) -> str:
    return naming.kraft_cluster_id("payments", region)


class FakeRest:
    """The mirror topics and ACLs of both regions, and every call received (method, region, path, body)."""

    def __init__(self) -> None:
        self.up = {PRIMARY: True, SECONDARY: True}
        # region -> link -> topic -> [status, lag]; the reverse link appears once the platform has set it up.
        self.links: dict[str, dict[str, dict[str, list[Any]]]] = {
            SECONDARY: {naming.cluster_link(PRIMARY): {t: ["ACTIVE", 3] for t in TOPICS}},
            PRIMARY: {},
        }
        self.acls: dict[str, list[dict[str, str]]] = {PRIMARY: [], SECONDARY: []}
        self.calls: list[tuple[str, str, str, Any]] = []
        self.promote_polls = 0  # a promotion is PENDING_STOPPED for a poll, then STOPPED once the lag is 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                url = urlparse(self.path)
                parts = url.path.split("/")  # '', kafka, v3, clusters, id, ...
                region = {_cid(r): r for r in (PRIMARY, SECONDARY)}.get(parts[4])
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                rest = "/" + "/".join(parts[5:])
                fake.calls.append((method, region or "?", rest, body))
                if region is None or not fake.up[region]:
                    self._answer(503, {"message": "unavailable"})
                    return
                query = dict(parse_qsl(url.query))
                self._answer(200, fake.answer(method, region, rest, body, query))

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, method: str, region: str, rest: str, body: Any, query: dict[str, str]) -> Any:
        if rest == "/":
            return {"cluster_id": _cid(region)}
        if rest.startswith("/links/"):
            link = rest.split("/")[2]
            verb = rest.rsplit(":", 1)[-1] if ":" in rest else None
            mirrors = self.links[region].setdefault(link, {})
            if method == "POST":
                for t in body["mirror_topic_names"]:
                    if verb == "promote":
                        mirrors[t] = ["PENDING_STOPPED", mirrors[t][1]]
                    else:
                        mirrors[t] = ["STOPPED", mirrors[t][1]]
                return {"data": [{"mirror_topic_name": t, "error_message": None} for t in body["mirror_topic_names"]]}
            for t, m in mirrors.items():
                if m[0] == "PENDING_STOPPED":  # caught up on the next look, then stopped
                    self.promote_polls += 1
                    mirrors[t] = ["STOPPED", 0]
            return {
                "data": [
                    {"mirror_topic_name": t, "mirror_status": s, "mirror_lags": [{"partition": 0, "lag": lag}]}
                    for t, (s, lag) in sorted(mirrors.items())
                ]
            }
        if rest == "/acls":
            if method == "POST":
                self.acls[region].append(body)
                return None
            if method == "DELETE":
                self.acls[region] = [a for a in self.acls[region] if a != query]
                return {"data": []}
            return {"data": [a for a in self.acls[region] if a == query]}
        raise AssertionError(rest)

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def rest() -> Iterator[FakeRest]:
    fake = FakeRest()
    yield fake
    fake.stop()


@pytest.fixture
def kafka_file(tmp_path: Path, rest: FakeRest) -> Iterator[Path]:
    """Access to both regions' REST APIs through the fake; the secondary's listener open, the primary's closed."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    (tmp_path / "pw").write_text("secret")
    (tmp_path / "ca.crt").write_text(Pki(tmp_path).ca_cert)
    path = tmp_path / "kafka.json"
    path.write_text(
        json.dumps(
            {
                "password_file": str(tmp_path / "pw"),
                "ca_file": str(tmp_path / "ca.crt"),
                "rest": {PRIMARY: rest.url, SECONDARY: rest.url},
                "clients": {SECONDARY: f"127.0.0.1:{listener.getsockname()[1]}", PRIMARY: f"127.0.0.1:{free_port()}"},
            }
        )
    )
    yield path
    listener.close()


def _calls(rest: FakeRest, method: str, path_part: str) -> list[tuple[str, str, str, Any]]:
    return [c for c in rest.calls if c[0] == method and path_part in c[2]]


def test_failover_fails_the_mirror_topics_over_at_once(zone: Callable[..., Zone], rest: FakeRest, kafka_file: Path) -> None:
    rest.up[PRIMARY] = False  # the primary is gone: no fence, and the loss is what the mirrors lagged
    z = zone(STACK)
    code, text, _ = z.run("failover", SECONDARY, "--kafka", str(kafka_file), "--hook", "true", "--wait", "5")
    assert code == 0, text
    (failover,) = _calls(rest, "POST", ":failover")
    assert failover[1:] == (SECONDARY, f"/links/{naming.cluster_link(PRIMARY)}/mirrors:failover", {"mirror_topic_names": TOPICS})
    assert not _calls(rest, "POST", ":promote")
    assert "eu-west-1 does not answer: not fenced" in text
    assert "estimated loss 6 message(s)" in text, text
    assert all(m[0] == "STOPPED" for m in rest.links[SECONDARY][naming.cluster_link(PRIMARY)].values())
    code, text, _ = z.run("status")
    assert "payments.kafka.example.com answers with eu-central-1" in text, text


def test_switchover_fences_then_promotes_and_waits_for_the_reverse_link(
    zone: Callable[..., Zone], rest: FakeRest, kafka_file: Path
) -> None:
    # The platform step (the hook) sets the reverse link up; the fake shows it mirroring into the old primary.
    rest.links[PRIMARY][naming.cluster_link(SECONDARY)] = {t: ["ACTIVE", 0] for t in TOPICS}
    z = zone(STACK)
    code, text, _ = z.run("switchover", SECONDARY, "--kafka", str(kafka_file), "--hook", "true", "--wait", "5")
    assert code == 0, text
    fence = [c for c in _calls(rest, "POST", "/acls") if c[1] == PRIMARY]
    promote = _calls(rest, "POST", ":promote")
    assert len(promote) == 1 and promote[0][1] == SECONDARY and promote[0][3] == {"mirror_topic_names": TOPICS}
    # The fence (DENY Write on each mirrored topic, DENY Read on groups, per application user) comes first.
    assert {(a["resource_name"], a["operation"], a["permission"]) for _, _, _, a in fence} == {
        ("ledger", "WRITE", "DENY"),
        ("payments", "WRITE", "DENY"),
        ("*", "READ", "DENY"),
    }
    assert rest.calls.index(fence[-1]) < rest.calls.index(promote[0])
    assert not _calls(rest, "POST", ":failover")
    for step in ("fenced", "drained", "forward-stopped", "target-open", "dns-moved", "clients-moved", "reverse-started"):
        assert f"] {step}" in text, (step, text)
    assert "RPO: 0 messages" in text


def test_a_link_too_far_behind_is_refused_before_anything_changes(
    zone: Callable[..., Zone], rest: FakeRest, kafka_file: Path
) -> None:
    z = zone(STACK)
    code, text, _ = z.run("switchover", SECONDARY, "--kafka", str(kafka_file), "--hook", "true", "--max-lag", "1")
    assert code == 4 and "more than --max-lag 1 messages behind" in text, text
    assert not [c for c in rest.calls if c[0] != "GET"]


def test_failback_after_a_failover_waits_for_the_link_into_the_primary_then_promotes_there(
    zone: Callable[..., Zone], rest: FakeRest, kafka_file: Path, tmp_path: Path
) -> None:
    rest.up[PRIMARY] = False
    z = zone(STACK)
    code, text, _ = z.run("failover", SECONDARY, "--kafka", str(kafka_file), "--hook", "true", "--wait", "5")
    assert code == 0, text
    # The primary is back; its listener answers clients again, and the platform step (the hook) has set up the link
    # from the promoted secondary into it, and later the forward link again.
    rest.up[PRIMARY] = True
    back, forward = naming.cluster_link(SECONDARY), naming.cluster_link(PRIMARY)
    rest.links[PRIMARY][back] = {t: ["ACTIVE", 0] for t in TOPICS}
    rest.links[SECONDARY][forward] = {t: ["ACTIVE", 0] for t in TOPICS}
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    access = json.loads(kafka_file.read_text())
    access["clients"] = {PRIMARY: f"127.0.0.1:{listener.getsockname()[1]}", SECONDARY: f"127.0.0.1:{free_port()}"}
    kafka_file.write_text(json.dumps(access))
    rest.calls.clear()
    try:
        code, text, _ = z.run("failback", "--kafka", str(kafka_file), "--hook", "true", "--wait", "5")
    finally:
        listener.close()
    assert code == 0, text
    (promote,) = _calls(rest, "POST", ":promote")
    assert promote[1:] == (PRIMARY, f"/links/{back}/mirrors:promote", {"mirror_topic_names": TOPICS})
    assert {c[1] for c in _calls(rest, "POST", "/acls")} == {SECONDARY}  # the promoted side is fenced, not the primary
    code, text, _ = z.run("status")
    assert "payments.kafka.example.com answers with eu-west-1" in text, text
