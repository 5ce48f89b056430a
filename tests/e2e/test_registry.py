"""The schema registry's storage on real Kafka: its KafkaSQL journal copied from the writer with our rendered
``mm2.properties``, under its own name and in the same order (so a registry rebuilding from it assigns the same
IDs), read by the registry principal with exactly its ACLs, before and after a switchover.

Apicurio Registry itself does not run here: its 3.3.x application is not runnable from Maven Central (3.3.3
depends on modules the repository does not serve, such as apicurio-registry-schema-util-provider and
apicurio-registry-contracts-rules 3.3.3; 3.3.2's parent POM is not served; the application jar is a plain,
unaugmented Quarkus jar). So this test writes journal records as the registry would, as its principal, and
checks what a registry in each region would read. Figures go to ``tests/e2e/.cache/report.json``.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from components import registry as builders
from components.access import all_principals
from components.engines.mirrormaker2 import plan as mirror_plan
from stacks import naming
from stacks.loader import validate_data
from stacks.model import Topology
from tests.e2e.cluster import ADMIN, Broker, MirrorMaker, client_config, provision
from tests.e2e.conftest import start_brokers
from tests.e2e.test_replication import _report
from tools.switchover.kafka_admin import Cluster, KafkaAccess, MirrorDeployment

# The registry journal on real Kafka runs in `make test-all`.
pytestmark = pytest.mark.full

PRIMARY, SECONDARY = "us-east-1", "us-west-2"
JOURNAL, SNAPSHOTS, _EVENTS = naming.REGISTRY_TOPICS
REGISTRY = naming.REGISTRY_PRINCIPAL
SCHEMAS = 20


def _topology(failback_from: str | None = None) -> Topology:
    replication: dict[str, Any] = {"rpo_seconds": 8}
    if failback_from:
        replication["failback_from"] = failback_from
    return validate_data(
        {
            "environment": "e2e",
            "architecture": "active-passive",
            "protect": False,
            "regions": [
                {
                    "name": r,
                    "role": role,
                    "kubernetes": {"kind": "context", "context": r},
                    "kafka": {"brokers": 1, "controllers": 1, "combined": True},
                }
                for r, role in ((PRIMARY, "primary"), (SECONDARY, "secondary"))
            ],
            "replication": replication,
            "schema_registry": {},
            "dns": {"zone": "kafka.example.com"},
        },
        "e2e",
    )


def _create_registry_topics(t: Topology, region: str, broker: Broker, ca: Any) -> None:
    """The registry's KafkaTopics as rendered (one partition, the retention settings it checks at start)."""
    admin = AdminClient(client_config(broker, ADMIN, broker.admin_password, ca))
    new = [
        NewTopic(
            b["metadata"]["name"],
            num_partitions=1,
            replication_factor=1,
            config={k: str(v) for k, v in b["spec"].get("config", {}).items()},
        )
        for b in builders.topics(t, region)
    ]
    for fut in admin.create_topics(new).values():
        fut.result(timeout=30)


def _write(broker: Broker, password: str, ca: Any, topic: str, records: list[tuple[str, str]]) -> list[Any]:
    """Produce as the registry principal (idempotent, acks=all, as KafkaSQL's producer); the delivery errors."""
    errors: list[Any] = []
    producer = Producer(client_config(broker, REGISTRY, password, ca, acks="all", **{"enable.idempotence": True}))
    for key, value in records:
        producer.produce(topic, key=key, value=value, on_delivery=lambda err, _m: errors.append(err) if err else None)
    producer.flush(30)
    return errors


def _read(broker: Broker, password: str, ca: Any, topic: str, expected: int, timeout: float = 90) -> list[tuple[int, str, str]]:
    """(offset, key, value) of every record, read as the registry does: its principal, a fresh prefixed group."""
    group = f"{naming.registry_group_prefix()}{secrets.token_hex(8)}"
    consumer = Consumer(client_config(broker, REGISTRY, password, ca, **{"group.id": group, "auto.offset.reset": "earliest"}))
    consumer.subscribe([topic])
    out: list[tuple[int, str, str]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(out) < expected:
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                out.append((msg.offset(), msg.key().decode(), msg.value().decode()))
        quiet = time.monotonic() + 3  # anything past the expected count would be a loop or a duplicate
        while time.monotonic() < quiet:
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                out.append((msg.offset(), msg.key().decode(), msg.value().decode()))
    finally:
        consumer.close()
    return out


def _wait(what: str, ok: Any, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.5)


def test_the_registry_journal_reaches_the_secondary_in_order_before_and_after_a_switchover(estate):
    ca = estate["pki"].ca_file
    t = _topology()
    brokers = start_brokers(estate, t, [PRIMARY, SECONDARY])
    pw = {p: secrets.token_urlsafe(18) for p in all_principals(t)}
    for region, broker in brokers.items():
        provision(t, region, broker, ca, pw)
        _create_registry_topics(t, region, broker, ca)
    (forward,) = mirror_plan.flow_plans(t)
    assert set(forward.topics) == {JOURNAL, SNAPSHOTS}
    mm = MirrorMaker(forward, estate["tmp"] / forward.name)
    mm.start(estate["libs"], t, brokers, ca, pw[forward.name])
    estate["started"].append(mm)

    # The writer registers schemas: each a journal record whose position is the order IDs are assigned in.
    started = time.monotonic()
    registered = [(f"schema-{i:03d}", f"id={i + 1}") for i in range(SCHEMAS)]
    assert _write(brokers[PRIMARY], pw[REGISTRY], ca, JOURNAL, registered) == []
    assert _write(brokers[PRIMARY], pw[REGISTRY], ca, SNAPSHOTS, [("snapshot", "at=20")]) == []
    on_primary = _read(brokers[PRIMARY], pw[REGISTRY], ca, JOURNAL, SCHEMAS)
    on_secondary = _read(brokers[SECONDARY], pw[REGISTRY], ca, JOURNAL, SCHEMAS)
    copied_s = time.monotonic() - started
    assert on_secondary == on_primary == [(i, k, v) for i, (k, v) in enumerate(registered)]

    # Least privilege, for real: the read-only region's registry writes its start-up marker into its journal copy,
    # and nothing else.
    assert _write(brokers[SECONDARY], pw[REGISTRY], ca, JOURNAL, [("bootstrap", SECONDARY)]) == []
    refused = _write(brokers[SECONDARY], pw[REGISTRY], ca, SNAPSHOTS, [("snapshot", "forbidden")])
    assert refused and all("AUTHORIZATION" in e.name() for e in refused), refused

    # Switchover (as tools.switchover does it): the forward flow has copied everything and stops; the reverse
    # flow starts at the promoted region's log ends, so nothing it already holds goes back (no loop).
    admin = KafkaAccess(ADMIN, brokers[PRIMARY].admin_password, str(ca), MirrorDeployment.DEDICATED,
                        {r: b.bootstrap for r, b in brokers.items()})  # fmt: skip
    src, dst = Cluster(admin, PRIMARY), Cluster(admin, SECONDARY)
    # What the tool's registry-writer step reads back before and after the platform makes the secondary the writer.
    assert src.registry_writer() and not dst.registry_writer()
    _wait("the forward flow to copy the journal", lambda: dst.copied(forward).get((JOURNAL, 0)) == SCHEMAS)
    mm.stop()
    t2 = _topology(failback_from=SECONDARY)
    (reverse,) = mirror_plan.flow_plans(t2)
    assert (reverse.source, reverse.target) == (SECONDARY, PRIMARY) and JOURNAL in reverse.topics
    pw.update({p: secrets.token_urlsafe(18) for p in all_principals(t2) if p not in pw})
    for region, broker in brokers.items():
        provision(t2, region, broker, ca, pw, topics=False)
    assert dst.registry_writer()
    src.set_start(reverse, dst.end_offsets(reverse.topics))
    back = MirrorMaker(reverse, estate["tmp"] / reverse.name)
    back.start(estate["libs"], t2, brokers, ca, pw[reverse.name])
    estate["started"].append(back)

    # The promoted region's registry is the writer now: its IDs continue the same sequence in both regions.
    more = [(f"schema-{i:03d}", f"id={i + 1}") for i in range(SCHEMAS, SCHEMAS + 5)]
    assert _write(brokers[SECONDARY], pw[REGISTRY], ca, JOURNAL, more) == []
    assert _write(brokers[SECONDARY], pw[REGISTRY], ca, SNAPSHOTS, [("snapshot", "at=25")]) == []
    after = _read(brokers[PRIMARY], pw[REGISTRY], ca, JOURNAL, SCHEMAS + len(more))
    assert [(k, v) for _, k, v in after] == registered + more, "the old primary holds the same journal, once"
    _report(
        "schema_registry_journal",
        {"schemas": SCHEMAS, "copied_within_s": round(copied_s, 1), "after_switchover": len(more), "duplicates": 0},
    )
