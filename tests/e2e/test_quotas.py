"""Tenants and quotas on real Kafka 4.3.1: the rendered ACLs refuse a tenant's user on another tenant's topic and on
the platform's names, the rendered quotas hold one tenant to its rate and leave the other alone, and MirrorMaker
under its replication quota copies everything in the time the arithmetic predicts.

Quotas are applied as rendered (the principals' ``Quotas``, through Kafka's ConfigCommand, as the User Operator
would). Figures go to ``tests/e2e/.cache/report.json``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from components.access import all_principals, principals_in
from components.engines.mirrormaker2 import plan as mirror_plan
from stacks.loader import validate_data
from stacks.model import Topology
from tests.e2e.cluster import ADMIN, CACHE, Broker, MirrorMaker, client_config, provision
from tests.e2e.conftest import start_brokers
from tests.e2e.test_replication import _read_all, _region

# Quotas on real Kafka run in `make test-all`.
pytestmark = pytest.mark.full

QUOTA = 200_000  # bytes/s per broker for tenant a's producer
REPLICATION = 400_000  # bytes/s per broker for the flow
RECORD = 10_000
SECONDS = 30.0
REPORT = CACHE / "report.json"


def _topology() -> Topology:
    return validate_data(
        {
            "environment": "e2e",
            "architecture": "active-passive",
            "protect": False,
            "regions": [_region("us-east-1", "primary"), _region("us-west-2", "secondary")],
            "tenants": {
                "a": {"prefix": "a.", "quotas": {"producer_byte_rate": QUOTA}},
                "b": {"prefix": "b."},
            },
            "topics": {
                "a.events": {"partitions": 3, "replication_factor": 1, "bytes_per_second": QUOTA},
                "b.events": {"partitions": 3, "replication_factor": 1, "replicated": False},
            },
            "users": {"a-app": {"tenant": "a"}, "b-app": {"tenant": "b"}},
            "replication": {"rpo_seconds": 30, "quota": {"byte_rate": REPLICATION}},
            "dns": {"zone": "kafka.example.com"},
        },
        "e2e-quotas",
    )


def _flood(broker: Broker, user: str, password: str, ca: Any, topic: str, out: dict[str, Any]) -> None:
    """Produce as fast as the client may for SECONDS; record acknowledged bytes, rate and the throttle it reports."""
    throttle: list[float] = []

    def stats(raw: str) -> None:
        for b in json.loads(raw).get("brokers", {}).values():
            if b.get("throttle", {}).get("cnt"):
                throttle.append(b["throttle"]["avg"])

    acked: list[float] = []
    producer = Producer(
        client_config(
            broker,
            user,
            password,
            ca,
            acks="all",
            **{
                "statistics.interval.ms": 1000,
                "stats_cb": stats,
                "linger.ms": 5,
                "batch.size": 4 * RECORD,
                "enable.idempotence": True,
                # A bounded queue (10 s at the quota): produce() waits while throttled, flush() ends with all acknowledged.
                "queue.buffering.max.messages": 200,
            },
        )
    )
    value = secrets.token_bytes(RECORD)
    start = time.monotonic()
    while time.monotonic() - start < SECONDS:
        try:
            producer.produce(topic, value=value, on_delivery=lambda err, _m: None if err else acked.append(time.monotonic()))
        except BufferError:
            producer.poll(0.05)
        producer.poll(0)
    producer.flush(120)
    # Kafka measures a quota over quota.window.num x quota.window.size.seconds (11 s): a client may burst before
    # its first throttle. The steady rate is what the quota promises: measured over the second half of the run,
    # with small batches (batch.size above) so acknowledgements are fine-grained enough to time.
    steady = [t for t in acked if t >= start + SECONDS / 2]
    out.update(
        bytes=len(acked) * RECORD,
        rate=(len(steady) - 1) * RECORD / max(1e-3, steady[-1] - steady[0]) if len(steady) > 1 else 0.0,
        throttle_ms=max(throttle, default=0.0),
    )


def _write_error(broker: Broker, user: str, password: str, ca: Any, topic: str) -> str | None:
    """What Kafka answers ``user`` writing one record to ``topic``: None when acknowledged, else the error's name."""
    answers: list[str | None] = []
    producer = Producer(client_config(broker, user, password, ca, acks="all", **{"message.timeout.ms": 20000}))
    producer.produce(topic, value=b"probe", on_delivery=lambda err, _m: answers.append(err.name() if err else None))
    producer.flush(30)
    return answers[0] if answers else "no answer"


def _end_offsets(broker: Broker, ca: Any, topic: str, partitions: int, password: str) -> int:
    consumer = Consumer(client_config(broker, ADMIN, password, ca, **{"group.id": "e2e-watch"}))
    try:
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions))
    finally:
        consumer.close()


def _arrival(
    broker: Broker, ca: Any, topic: str, partitions: int, expected: int, timeout: float, password: str
) -> tuple[float, float]:
    """When the first and the last of ``expected`` records arrived, watching the topic's end offsets."""
    consumer = Consumer(client_config(broker, ADMIN, password, ca, **{"group.id": "e2e-watch"}))
    first = last = 0.0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                total = sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1] for p in range(partitions))
            except KafkaException:
                total = 0  # the topic is not there yet
            now = time.monotonic()
            if total and not first:
                first = now
            if total >= expected:
                last = now
                break
            time.sleep(0.25)
    finally:
        consumer.close()
    assert last, f"only part of {expected} records arrived in {timeout:.0f} s"
    return first, last


def test_a_tenant_over_its_quota_is_throttled_the_other_keeps_its_rate_and_replication_fits_its_quota(estate):
    t = _topology()
    ca = estate["pki"].ca_file
    brokers = start_brokers(estate, t, list(t.region_names))
    pw = {p: secrets.token_urlsafe(18) for p in all_principals(t)}
    for region, broker in brokers.items():
        provision(t, region, broker, ca, pw, estate["libs"])
    primary, secondary = brokers["us-east-1"], brokers["us-west-2"]
    rendered = {p.name: p.quotas for p in principals_in(t, "us-east-1")}
    assert rendered["a-app"] is not None and rendered["a-app"].producer_byte_rate == QUOTA
    assert rendered["b-app"] is None

    # Isolation by Kafka's own matching of the ACLs as rendered: tenant a's user writes its own topic and is refused
    # on tenant b's and on names the platform owns (MirrorMaker 2's, Kafka's, the schema registry's journal), named
    # here as those systems name them.
    assert _write_error(primary, "a-app", pw["a-app"], ca, "a.events") is None
    others = [
        "b.events",
        "heartbeats",
        "mm2-offset-syncs.us-west-2.internal",
        "us-west-2.checkpoints.internal",
        "kafkasql-journal",
    ]
    refused = {topic: _write_error(primary, "a-app", pw["a-app"], ca, topic) for topic in others}
    assert set(refused.values()) == {"TOPIC_AUTHORIZATION_FAILED"}, refused

    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    threads = [
        threading.Thread(target=_flood, args=(primary, "a-app", pw["a-app"], ca, "a.events", a)),
        threading.Thread(target=_flood, args=(primary, "b-app", pw["b-app"], ca, "b.events", b)),
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert a["throttle_ms"] > 0, "the client reported no throttle time"
    assert abs(a["rate"] - QUOTA) <= 0.10 * QUOTA, f"tenant a produced {a['rate']:.0f} B/s against a quota of {QUOTA}"
    assert b["throttle_ms"] == 0 and b["rate"] > 5 * QUOTA, f"tenant b was held back: {b}"

    # MirrorMaker starts behind by everything tenant a wrote, and may fetch REPLICATION bytes/s (one broker).
    (plan,) = mirror_plan.flow_plans(t)
    mm = MirrorMaker(plan, estate["tmp"] / plan.name)
    mm.start(estate["libs"], t, brokers, ca, pw[plan.name])
    estate["started"].append(mm)
    expected = _end_offsets(primary, ca, "a.events", 3, estate["admin_password"])
    assert expected == a["bytes"] // RECORD + 1, "the source holds other than what was acknowledged (and the probe)"
    predicted = a["bytes"] / REPLICATION
    first, last = _arrival(secondary, ca, "a.events", 3, expected, 120 + 3 * predicted, estate["admin_password"])
    took = last - first
    copied = _read_all(secondary, ca, "a.events", expected, 60, estate["admin_password"])
    assert len(copied) == expected, f"{len(copied)} of {expected} replicated"
    # From the first record to the last on the target: the backlog at the quota's pace, no faster, not much slower.
    assert 0.8 * predicted <= took <= 1.25 * predicted + 3, f"replication took {took:.1f} s; the quota predicts {predicted:.1f} s"

    report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    report["quotas"] = {
        "tenant_a_quota_bytes_per_s": QUOTA,
        "tenant_a_measured_bytes_per_s": round(a["rate"]),
        "tenant_a_max_throttle_ms": round(a["throttle_ms"], 1),
        "tenant_b_measured_bytes_per_s": round(b["rate"]),
        "replication_quota_bytes_per_s": REPLICATION,
        "replicated_bytes": a["bytes"],
        "replication_predicted_s": round(predicted, 1),
        "replication_took_s": round(took, 1),
        "records": expected,
        "tenant_a_refused_on": sorted(refused),
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    print(json.dumps(report["quotas"], indent=1))
