"""The Kafka calls of a switch on a Cluster Linking stack, through each region's Admin REST API (v3).

Owns: ``Links``: whether a region answers, its mirror topics' state and lag on a link, promoting them (Confluent
stops mirroring only once the mirror has caught up with the source, so nothing acknowledged is lost) or failing
them over (mirroring stops at once), and the write fence as DENY ACLs for the application principals (the same
entries as the MirrorMaker 2 stacks' fence; ``aclFilters`` copy only ALLOW ACLs, so a fence never travels to the
other side). Every call is bounded by the tool's ``--call-timeout``; a region's cluster is named by its pinned
KRaft cluster id (``stacks.naming.kraft_cluster_id``).

REST endpoints (Confluent Server's ``/kafka/v3``): ``GET clusters/{id}``, ``GET clusters/{id}/links/{link}/mirrors``,
``POST clusters/{id}/links/{link}/mirrors:promote`` and ``:failover`` (``{"mirror_topic_names": [...]}``),
``GET/POST/DELETE clusters/{id}/acls``.

Deliberately not here: the order of the steps (``components.engines.cluster_linking.switchover``), Route53 (``tools.failover.actions``).
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from components.access import principals_in
from stacks import naming
from stacks.model import Topology
from tools.switchover.kafka_admin import KafkaAccess, KafkaError

STOPPED = "STOPPED"


@dataclass(frozen=True)
class Mirror:
    topic: str
    status: str  # ACTIVE, PAUSED, PENDING_STOPPED, STOPPED, FAILED, ...
    lag: int  # messages behind the source, summed over partitions, as the destination last saw


class Links:
    """One Admin REST client per run, for every region of the stack."""

    def __init__(self, access: KafkaAccess, topology: Topology) -> None:
        self.access, self.t = access, topology
        context = ssl.create_default_context(cafile=access.ca_file)
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
        token = base64.b64encode(f"{access.username}:{access.password}".encode()).decode()
        self._auth = f"Basic {token}"

    def _url(self, region: str, path: str, query: dict[str, str] | None = None) -> str:
        base = self.access.rest.get(region)
        if not base:
            raise KafkaError(f"--kafka: no rest endpoint for {region} (the Admin REST API, e.g. https://host:8090)")
        cluster = naming.kraft_cluster_id(self.t.environment, region)
        q = f"?{urllib.parse.urlencode(query)}" if query else ""
        return f"{base.rstrip('/')}/kafka/v3/clusters/{cluster}{path}{q}"

    def _call(self, method: str, region: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self._url(region, path, query), data=data, method=method)
        req.add_header("Authorization", self._auth)
        req.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(req, timeout=self.access.timeout) as resp:
                text = resp.read().decode() or "null"
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:200]
            raise KafkaError(f"{region}: {method} {path} answered {exc.code}: {detail}") from None
        except (OSError, ValueError) as exc:
            raise KafkaError(f"{region}: {method} {path}: {type(exc).__name__}: {exc}") from None
        try:
            return json.loads(text)
        except ValueError:
            raise KafkaError(f"{region}: {method} {path} did not answer JSON") from None

    # ------------------------------------------------------------------------------------------ clusters

    def reachable(self, region: str) -> bool:
        try:
            self._call("GET", region, "")
            return True
        except KafkaError:
            return False

    # ------------------------------------------------------------------------------------------ mirrors

    def mirrors(self, region: str, link: str) -> dict[str, Mirror]:
        found = self._call("GET", region, f"/links/{link}/mirrors")
        out = {}
        for m in found.get("data", []):
            lag = sum(int(p.get("lag", 0)) for p in m.get("mirror_lags", []))
            out[m["mirror_topic_name"]] = Mirror(m["mirror_topic_name"], str(m.get("mirror_status", "")), lag)
        return out

    def promote(self, region: str, link: str, topics: tuple[str, ...]) -> None:
        self._change(region, link, "promote", topics)

    def failover(self, region: str, link: str, topics: tuple[str, ...]) -> None:
        self._change(region, link, "failover", topics)

    def _change(self, region: str, link: str, verb: str, topics: tuple[str, ...]) -> None:
        answer = self._call("POST", region, f"/links/{link}/mirrors:{verb}", {"mirror_topic_names": sorted(topics)})
        refused = [m for m in (answer or {}).get("data", []) if m.get("error_message")]
        if refused:
            said = "; ".join(f"{m.get('mirror_topic_name')}: {m['error_message']}" for m in refused)
            raise KafkaError(f"{region}: {verb} of the mirror topics of {link} refused: {said}")

    # ------------------------------------------------------------------------------------------ the fence

    def _fence_entries(self, region: str, topics: tuple[str, ...]) -> list[dict[str, str]]:
        out = []
        for p in principals_in(self.t, region):
            if p.kind != "application":
                continue
            who = {"principal": f"User:{p.name}", "host": "*", "permission": "DENY"}
            out += [
                {**who, "resource_type": "TOPIC", "resource_name": t, "pattern_type": "LITERAL", "operation": "WRITE"}
                for t in topics
            ]
            out.append({**who, "resource_type": "GROUP", "resource_name": "*", "pattern_type": "LITERAL", "operation": "READ"})
        return out

    def fenced(self, region: str, topics: tuple[str, ...]) -> bool | None:
        """Whether every fence entry is in place (None: some are), read back from the cluster."""
        wanted = self._fence_entries(region, topics)
        present = [bool(self._call("GET", region, "/acls", query=e).get("data")) for e in wanted]
        if all(present):
            return True
        return False if not any(present) else None

    def fence(self, region: str, topics: tuple[str, ...], on: bool) -> None:
        for entry in self._fence_entries(region, topics):
            if on:
                self._call("POST", region, "/acls", entry)
            else:
                self._call("DELETE", region, "/acls", query=entry)
