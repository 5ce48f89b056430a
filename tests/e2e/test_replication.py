"""What we generate, run for real: Kafka brokers with our listener rules, users and ACLs, and MirrorMaker 2 from
our ``mm2.properties``, logging in as each flow's least-privilege principal.

1. Active-passive: 10,000 keyed records on the primary, a group reads 60 % and commits; MirrorMaker copies
   everything under the same name and translates the group's offset; the primary dies; the group resumes on
   the secondary with no record lost and duplicates within the documented bound. Records carrying the
   residency header never leave the primary.
2. Active-active: both regions produce; each sees the other's records under the prefixed name; nothing loops.
3. Refusals: a user without ACLs cannot produce.
Figures go to ``tests/e2e/.cache/report.json`` and to the terminal.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from components.access import all_principals
from components.engines.mirrormaker2 import plan as mirror_plan
from stacks.loader import validate_data
from stacks.model import Topology
from tests.e2e.cluster import ADMIN, CACHE, Broker, MirrorMaker, client_config, provision, stop_process
from tests.e2e.conftest import start_brokers

# The longer drills on real Kafka (all four flows, ACL refusals) run in `make test-all`.
pytestmark = pytest.mark.full

RECORDS = 10_000
LOCAL_RECORDS = 100
PARTITIONS = 3
OFFSET_LAG_MAX = mirror_plan.OFFSET_LAG_MAX
REPORT = CACHE / "report.json"


def _region(name: str, role: str) -> dict[str, Any]:
    return {
        "name": name,
        "role": role,
        "kubernetes": {"kind": "context", "context": name},
        "kafka": {"brokers": 1, "controllers": 1, "combined": True},
    }


def _topology(architecture: str, roles: tuple[str, str], topic: str) -> Topology:
    acl_topic = {"resource": {"type": "topic", "name": topic}, "operations": ["Read", "Write", "Describe"]}
    return validate_data(
        {
            "environment": "e2e",
            "architecture": architecture,
            "protect": False,
            "regions": [_region("us-east-1", roles[0]), _region("us-west-2", roles[1])],
            "topics": {topic: {"partitions": PARTITIONS, "replication_factor": 1}},
            "users": {
                "orders-app": {
                    "groups": ["orders-app"],
                    "acls": [
                        acl_topic,
                        {"resource": {"type": "group", "name": "orders-app"}, "operations": ["Read", "Describe"]},
                    ],
                },
                "no-rights": {},
            },
            "replication": {"rpo_seconds": 8, "filters": [{"header": "x-residency-local"}]},
            "dns": {"zone": "kafka.example.com"},
        },
        "e2e",
    )


def _report(name: str, figures: dict[str, Any]) -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    data[name] = figures
    REPORT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"\n[e2e] {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


def _setup(estate: dict[str, Any], topology: Topology) -> tuple[dict[str, Broker], dict[str, str]]:
    brokers = start_brokers(estate, topology, list(topology.region_names))
    passwords = {p: secrets.token_urlsafe(18) for p in all_principals(topology)}
    for region, broker in brokers.items():
        provision(topology, region, broker, estate["pki"].ca_file, passwords)
    return brokers, passwords


def _start_mirrors(
    estate: dict[str, Any], topology: Topology, brokers: dict[str, Broker], passwords: dict[str, str]
) -> list[MirrorMaker]:
    mms = []
    for plan in mirror_plan.flow_plans(topology):
        mm = MirrorMaker(plan, estate["tmp"] / plan.name)
        mm.start(estate["libs"], topology, brokers, estate["pki"].ca_file, passwords[plan.name])
        estate["started"].append(mm)
        mms.append(mm)
    return mms


def _produce(
    broker: Broker, user: str, password: str, ca: Any, topic: str, keys: list[str], headers: list[tuple[str, bytes]] | None = None
) -> list[Any]:
    errors: list[Any] = []
    producer = Producer(client_config(broker, user, password, ca, acks="all", **{"enable.idempotence": True}))
    for key in keys:
        producer.produce(
            topic, key=key, value=f"value-{key}", headers=headers, on_delivery=lambda err, _m: errors.append(err) if err else None
        )
        producer.poll(0)
    producer.flush(60)
    return errors


def _app_group(broker: Broker, password: str, ca: Any) -> Consumer:
    """The application's consumer group, committing by hand."""
    conf = {"group.id": "orders-app", "auto.offset.reset": "earliest", "enable.auto.commit": False}
    return Consumer(client_config(broker, "orders-app", password, ca, **conf))


def _read_all(broker: Broker, ca: Any, topic: str, expected: int, timeout: float, admin_password: str) -> list[Any]:
    """Every record of a topic, read by the admin without a group commit, until ``expected`` arrive or time is up."""
    consumer = Consumer(
        client_config(
            broker,
            ADMIN,
            admin_password,
            ca,
            **{"group.id": f"verify-{secrets.token_hex(4)}", "auto.offset.reset": "earliest", "enable.auto.commit": False},
        )
    )
    consumer.subscribe([topic])
    out: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and len(out) < expected:
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                out.append(msg)
        # A little longer: anything beyond the expected count would be a leak or a loop.
        quiet = time.monotonic() + 3
        while time.monotonic() < quiet:
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                out.append(msg)
    finally:
        consumer.close()
    return out


def test_active_passive_failover_loses_nothing_and_keeps_marked_records_home(estate):
    t = _topology("active-passive", ("primary", "secondary"), "orders")
    ca = estate["pki"].ca_file
    brokers, pw = _setup(estate, t)
    primary, secondary = brokers["us-east-1"], brokers["us-west-2"]
    mms = _start_mirrors(estate, t, brokers, pw)
    keys = [f"key-{i:05d}" for i in range(RECORDS)]
    started = time.monotonic()
    assert _produce(primary, "orders-app", pw["orders-app"], ca, "orders", keys) == []
    local = [f"local-{i:03d}" for i in range(LOCAL_RECORDS)]
    assert _produce(primary, "orders-app", pw["orders-app"], ca, "orders", local, [("x-residency-local", b"1")]) == []
    produced_at = time.monotonic()

    # The application's group reads 60 % on the primary and commits, then stops (an inactive group is synced).
    group = _app_group(primary, pw["orders-app"], ca)
    group.subscribe(["orders"])
    consumed_before: list[str] = []
    deadline = time.monotonic() + 60
    while len(consumed_before) < RECORDS * 6 // 10 and time.monotonic() < deadline:
        msg = group.poll(0.5)
        if msg is not None and not msg.error():
            consumed_before.append(msg.key().decode())
    group.commit(asynchronous=False)
    # The documented bound: per partition, offset.lag.max plus the group's lag behind the log end.
    ends = {p: group.get_watermark_offsets(TopicPartition("orders", p), timeout=10)[1] for p in range(PARTITIONS)}
    # Partitions the group never read from have no committed offset, and so nothing to translate.
    committed = {
        tp.partition: tp.offset
        for tp in group.committed([TopicPartition("orders", p) for p in range(PARTITIONS)], timeout=10)
        if tp.offset >= 0
    }
    group.close()
    assert len(consumed_before) == RECORDS * 6 // 10

    # Everything arrives under the same name; nothing marked x-residency-local does.
    mirrored = _read_all(secondary, ca, "orders", RECORDS, 120, estate["admin_password"])
    replicated_at = time.monotonic()
    mirrored_keys = [m.key().decode() for m in mirrored]
    assert sorted(mirrored_keys) == keys, f"{len(mirrored_keys)} of {RECORDS} arrived"
    assert not any(m.headers() for m in mirrored), "a record marked to stay in its region left it"

    # The group's offset is translated onto the secondary, never ahead of what was committed.
    # Kafka's OffsetSyncStore keeps syncs exponentially spaced (its invariants B and C), so the sync that
    # precedes a committed offset lies at most 4x the group's distance from the newest sync behind it; the
    # newest sync is within offset.lag.max of the log end. Under load the spacing, not the lag, dominates.
    bound = {p: OFFSET_LAG_MAX + 4 * (ends[p] - committed.get(p, 0)) for p in range(PARTITIONS)}
    duplicate_bound = sum(bound[p] for p in committed)
    admin = AdminClient(client_config(secondary, ADMIN, estate["admin_password"], ca))
    translated: dict[int, int] = {}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions("orders-app")])["orders-app"].result(timeout=10)
        translated = {tp.partition: tp.offset for tp in result.topic_partitions if tp.offset >= 0}
        if set(translated) == set(committed) and all(committed[p] - translated[p] <= bound[p] for p in translated):
            break
        time.sleep(1)
    synced_at = time.monotonic()
    assert committed and set(translated) == set(committed), f"offsets not synced: {translated} (committed {committed})"
    gap = {p: committed[p] - translated[p] for p in translated}
    assert all(0 <= gap[p] <= bound[p] for p in gap), (gap, bound)

    # The primary dies; MirrorMaker for its flow is stopped; the same group resumes on the secondary.
    stop_process(primary.process, hard=True)
    for mm in mms:
        mm.stop()
    failed_at = time.monotonic()
    resumed = _app_group(secondary, pw["orders-app"], ca)  # same group, same credentials, other region
    resumed.subscribe(["orders"])
    consumed_after: list[str] = []
    idle_until = time.monotonic() + 60
    while time.monotonic() < idle_until:
        msg = resumed.poll(0.5)
        if msg is not None and not msg.error():
            consumed_after.append(msg.key().decode())
            if len(set(consumed_before) | set(consumed_after)) == RECORDS:
                idle_until = min(idle_until, time.monotonic() + 3)
    resumed.close()
    resumed_at = time.monotonic()
    lost = set(keys) - set(consumed_before) - set(consumed_after)
    duplicates = len(consumed_after) - len(set(consumed_after) - set(consumed_before))
    _report(
        "active-passive",
        {
            "records": RECORDS,
            "lost": len(lost),
            "duplicates": duplicates,
            "duplicate_bound": duplicate_bound,
            "offset_gap_per_partition": gap,
            "local_records_kept_home": LOCAL_RECORDS,
            "replication_seconds": round(replicated_at - produced_at, 2),
            "produce_seconds": round(produced_at - started, 2),
            "offset_sync_seconds_after_replication": round(synced_at - replicated_at, 2),
            "resume_seconds": round(resumed_at - failed_at, 2),
        },
    )
    assert not lost, f"{len(lost)} records lost"
    assert duplicates <= duplicate_bound


def test_active_active_each_region_sees_the_other_prefixed_and_nothing_loops(estate):
    t = _topology("active-active", ("active", "active"), "events")
    ca = estate["pki"].ca_file
    brokers, pw = _setup(estate, t)
    _start_mirrors(estate, t, brokers, pw)
    count = 1000
    for region, broker in brokers.items():
        assert _produce(broker, "orders-app", pw["orders-app"], ca, "events", [f"{region}-{i}" for i in range(count)]) == []
    start = time.monotonic()
    figures: dict[str, Any] = {}
    for region, broker in brokers.items():
        other = next(r for r in brokers if r != region)
        remote = _read_all(broker, ca, f"{other}.events", count, 120, estate["admin_password"])
        assert sorted(m.key().decode() for m in remote) == sorted(f"{other}-{i}" for i in range(count))
        figures[f"{other}_to_{region}_seconds"] = round(time.monotonic() - start, 2)
    time.sleep(10)  # more than a topic refresh interval: a loop would have shown by now
    for region, broker in brokers.items():
        local = _read_all(broker, ca, "events", count, 30, estate["admin_password"])
        assert len(local) == count, f"{region}.events grew to {len(local)}: records came back"
        admin = AdminClient(client_config(broker, ADMIN, estate["admin_password"], ca))
        names = set(admin.list_topics(timeout=10).topics)
        assert f"{region}.events" not in names, "a region's own records came back prefixed"
        assert not [n for n in names if n.count(".events") and n.count(".") > 1 and not n.endswith(".internal")], names
    _report("active-active", {"records_per_region": count, "looped": 0, **figures})


def test_a_user_without_acls_is_refused(estate):
    t = _topology("active-passive", ("primary", "secondary"), "orders")
    brokers, pw = _setup(estate, t)
    errors = _produce(brokers["us-east-1"], "no-rights", pw["no-rights"], estate["pki"].ca_file, "orders", ["k"])
    assert errors and errors[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    auth_errors: list[KafkaError] = []
    conf = client_config(brokers["us-east-1"], "orders-app", "not-the-password", estate["pki"].ca_file)
    # log_level 0: the refusals are expected; error_cb still receives them.
    producer = Producer({**conf, "message.timeout.ms": 5000, "error_cb": auth_errors.append, "log_level": 0})
    producer.produce("orders", key="k", value="v")
    producer.flush(15)
    assert any(e.code() == KafkaError._AUTHENTICATION for e in auth_errors), auth_errors
    _report("refusals", {"no_acl_user": errors[0].name(), "wrong_password": "_AUTHENTICATION"})


@pytest.fixture(autouse=True)
def _fresh_report_section() -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
