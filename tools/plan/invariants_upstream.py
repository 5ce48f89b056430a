"""Invariants judged by the receiving systems' own rules, read from the plan's objects and those systems' facts.

Owns: what Confluent for Kubernetes requires around what we render (a cluster link's destination Kafka stores the
source's credentials with a password encoder, and the Secrets every CFK object names exist with the keys CFK reads);
what a client is told to dial being served (every Route53 TCP health check probes the port its region's listener
serves: Strimzi's listener port, a node port, or the router's 443, per the listener's own type; CFK's 9092); and
every broker's advertised host being a name the plan publishes (a client connects to it after bootstrap).

Each check reads the Kubernetes objects and AWS resources as registered, not the model's answers, so a builder that
drifts from the model is caught. Deliberately not here: the invariants over names, residency, ownership and DNS
answers (``tools.plan.invariants``, which runs these too) and MirrorMaker 2's naming rules, which Kafka's own classes
judge in ``tests/e2e/test_kafka_facts.py``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tools.plan.harness import Recording, unwrap

HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
ROUTER_PORT = 443  # Strimzi: route and ingress listeners are reached through the router's TLS port
CFK_EXTERNAL_DEFAULT = 9092  # CFK 2.9.3: the external listener's port when the Kafka does not set one
ENCODER_KEY = "password-encoder.txt"  # CFK reads the encoder's password from this key


Placed = tuple[str, dict[str, Any]]  # (the Kubernetes provider, i.e. the cluster, that receives it; the body)
REGION_LABEL = "kafka-multiregion.io/region"


def check(recording: Recording, objects: list[Placed]) -> list[str]:
    """Every violated invariant, one line each; ``objects`` are the plan's Kubernetes bodies and their clusters."""
    return [
        *_cfk_prerequisites(objects),
        *_health_checks_probe_listeners(recording, objects),
        *_advertised_hosts_are_published(recording, objects),
    ]


def _by_namespace(objects: list[Placed], kind: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Bodies of ``kind`` per (cluster, namespace): regions may use the same namespace name on their own clusters."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for cluster, body in objects:
        if body.get("kind") == kind:
            out[(cluster, str((body.get("metadata") or {}).get("namespace", "default")))].append(body)
    return out


def _kafkas(objects: list[Placed]) -> list[dict[str, Any]]:
    return [body for _, body in objects if body.get("kind") == "Kafka"]


def _secret_keys(body: dict[str, Any]) -> set[str]:
    return set(body.get("stringData") or {}) | set(body.get("data") or {})


def _cfk_prerequisites(objects: list[Placed]) -> list[str]:
    out = []
    kafkas = {
        ns: bodies
        for ns, bodies in _by_namespace(objects, "Kafka").items()
        if any(str(b.get("apiVersion", "")).startswith("platform.confluent.io/") for b in bodies)
    }
    secrets = {
        ns: {str(b["metadata"]["name"]): _secret_keys(b) for b in bodies}
        for ns, bodies in _by_namespace(objects, "Secret").items()
    }
    for ns, links in _by_namespace(objects, "ClusterLink").items():
        for link in links:
            name = f"{ns[1]}/{link['metadata']['name']}"
            auth = (link.get("spec", {}).get("sourceKafkaCluster") or {}).get("authentication") or {}
            if not auth:
                continue
            ref = (auth.get("jaasConfig") or {}).get("secretRef")
            if ref is not None and ref not in secrets.get(ns, {}):
                out.append(f"ClusterLink {name}: its credentials Secret {ref!r} is not in the plan")
            encoders = [(k.get("spec") or {}).get("passwordEncoder") or {} for k in kafkas.get(ns, [])]
            if not encoders or not all(encoders):
                out.append(
                    f"ClusterLink {name} logs in to its source with {auth.get('type')}, but the destination Kafka in {ns[1]} sets no spec.passwordEncoder: CFK cannot store the source's credentials"
                )
                continue
            for encoder in encoders:
                ref = str(encoder.get("secretRef"))
                if ENCODER_KEY not in secrets.get(ns, {}).get(ref, set()):
                    out.append(
                        f"Kafka in {ns[1]}: passwordEncoder names Secret {ref!r}, which the plan has not with {ENCODER_KEY}"
                    )
    return out


def _serving_port(kafka: dict[str, Any]) -> int | None:
    """The port a client reaches the external listener on, by the flavor's own rules for the listener type."""
    spec = kafka.get("spec") or {}
    if str(kafka.get("apiVersion", "")).startswith("platform.confluent.io/"):
        external = (spec.get("listeners") or {}).get("external") or {}
        return int(external.get("port", CFK_EXTERNAL_DEFAULT))
    for listener in (spec.get("kafka") or {}).get("listeners") or []:
        kind = listener.get("type")
        if kind == "internal":
            continue
        if kind in ("route", "ingress"):
            return ROUTER_PORT
        if kind == "nodeport":
            node_port = ((listener.get("configuration") or {}).get("bootstrap") or {}).get("nodePort")
            return int(node_port) if node_port is not None else None  # Kubernetes picks one: nobody can probe it
        return int(listener["port"])
    return None


def _health_checks_probe_listeners(recording: Recording, objects: list[Placed]) -> list[str]:
    ports = {str(k["metadata"]["labels"][REGION_LABEL]): _serving_port(k) for k in _kafkas(objects)}
    out = []
    for reg in recording.of_type(HEALTH_CHECK):
        inputs = unwrap(reg.inputs)
        if inputs.get("type") != "TCP":
            continue
        region = str((inputs.get("tags") or {}).get("kafka-multiregion/region", ""))
        served = ports.get(region)
        if inputs.get("port") != served:
            out.append(f"health check {reg.name} probes port {inputs.get('port')}, but {region}'s listener serves {served}")
    for user, client in sorted((recording.outputs.get("clients") or {}).items()):
        for region, server in sorted((client.get("bootstrap_servers_by_region") or {}).items()):
            port = int(str(server).rsplit(":", 1)[1])
            if port != ports.get(region):
                out.append(f"client {user} is told {server} for {region}, whose listener serves {ports.get(region)}")
    return out


def advertised_hosts(kafka: dict[str, Any]) -> list[str]:
    """The host names a Kafka's brokers advertise on the external listener (CFK: ``<brokerPrefix><id>.<domain>``
    for ids 0..replicas-1)."""
    spec = kafka.get("spec") or {}
    if str(kafka.get("apiVersion", "")).startswith("platform.confluent.io/"):
        access = ((spec.get("listeners") or {}).get("external") or {}).get("externalAccess") or {}
        lb = access.get("loadBalancer") or {}
        if not lb:
            return []
        return [f"{lb.get('brokerPrefix', 'b')}{i}.{lb['domain']}" for i in range(int(spec.get("replicas", 0)))]
    hosts = []
    for listener in (spec.get("kafka") or {}).get("listeners") or []:
        for broker in (listener.get("configuration") or {}).get("brokers") or []:
            if broker.get("advertisedHost"):
                hosts.append(str(broker["advertisedHost"]))
    return hosts


def _advertised_hosts_are_published(recording: Recording, objects: list[Placed]) -> list[str]:
    records = {str(unwrap(r.inputs).get("name")) for r in recording.of_type(RECORD)}
    if not records:
        return []  # DNS managed elsewhere: the operator's DNS publishes the names (the README says so)
    out = []
    for kafka in _kafkas(objects):
        region = kafka["metadata"]["labels"][REGION_LABEL]
        out += [
            f"Kafka of {region} advertises {h}, which no planned record publishes"
            for h in advertised_hosts(kafka)
            if h not in records
        ]
    return out
