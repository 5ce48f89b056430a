"""Sustained load on one flow: replication latency and MirrorMaker's throughput against the source's own.

A producer writes as fast as it can into the primary for ``LOAD_SECONDS``; MirrorMaker 2 (from the rendered
``mm2.properties``) copies into the secondary, where a consumer notes, for every record, how long after its
creation it arrived. Figures per configuration: records produced a second on this machine, records MirrorMaker
appended a second over the same window and their ratio, and replication latency p50/p99. Run twice: with the
worker producer overrides we generated before (none: Connect's defaults), and with what we generate now
(``components.engines.mirrormaker2.bodies.WORKER_PRODUCER``, ``SOURCE_CONSUMER``); both printed, before and after, in ``tests/e2e/.cache/report.json``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import threading
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from components.access import all_principals
from components.engines.mirrormaker2 import plan as mirror_plan
from stacks.loader import validate_data
from tests.e2e.cluster import ADMIN, CACHE, MirrorMaker, client_config, provision
from tests.e2e.conftest import start_brokers
from tests.e2e.estate import PARTITIONS, PRIMARY, SECONDARY, TOPIC, stack

# Sustained load runs in `make test-all` (minutes of saturation; `make test` keeps the switchover proofs).
pytestmark = pytest.mark.full

LOAD_SECONDS = float(os.environ.get("KMR_LOAD_SECONDS", "60"))
VALUE = b"x" * 200
REPORT = CACHE / "report.json"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _measure(estate: dict[str, Any], brokers: dict[str, Any], admin: str) -> dict[str, Any]:
    ca = estate["pki"].ca_file
    source, target = brokers[PRIMARY], brokers[SECONDARY]

    def ends(broker: Any) -> int:
        c = Consumer(client_config(broker, ADMIN, admin, ca, **{"group.id": "load-ends"}))
        try:
            return sum(c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)[1] for p in range(PARTITIONS))
        finally:
            c.close()

    # MirrorMaker running and caught up first (a marker record copied): the window measures a flow that is
    # keeping up, not one starting or copying an old backlog.
    marker = Producer(client_config(source, ADMIN, admin, ca, acks="all"))
    marker.produce(TOPIC, b"marker")
    marker.flush(30)
    for _ in range(600):
        if ends(target) >= ends(source):
            break
        time.sleep(1)
    latencies: list[float] = []
    stop = threading.Event()

    def consume() -> None:
        c = Consumer(
            client_config(target, ADMIN, admin, ca, **{"group.id": f"load-{secrets.token_hex(3)}", "auto.offset.reset": "latest"})
        )
        c.subscribe([TOPIC])
        while not stop.is_set():
            for m in c.consume(num_messages=5000, timeout=0.2):
                if not m.error():
                    latencies.append(time.time() - m.timestamp()[1] / 1000)
        c.close()

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    time.sleep(5)  # the reader joins its group before the window opens
    producer = Producer(client_config(source, ADMIN, admin, ca, acks="all", **{"linger.ms": 5, "batch.size": 262144}))
    source_start, target_start = ends(source), ends(target)
    start = time.monotonic()
    while time.monotonic() - start < LOAD_SECONDS:
        try:
            producer.produce(TOPIC, VALUE)
        except BufferError:
            producer.poll(0.01)
    producer.flush(60)
    window = time.monotonic() - start
    produced, copied = ends(source) - source_start, ends(target) - target_start
    for _ in range(120):  # then let it finish, for the latencies of the last records
        if ends(target) >= ends(source):
            break
        time.sleep(1)
    time.sleep(2)
    stop.set()
    reader.join(30)
    return {
        "produced_per_second": round(produced / window),
        "copied_per_second_in_window": round(copied / window),
        "throughput_ratio": round(copied / produced, 3) if produced else None,
        "latency_p50_ms": round(_percentile(latencies, 0.50) * 1000),
        "latency_p99_ms": round(_percentile(latencies, 0.99) * 1000),
        "records_timed": len(latencies),
    }


def test_sustained_load_latency_and_throughput_before_and_after_tuning(estate):
    t = validate_data(stack(), "e2e")
    brokers = start_brokers(estate, t, list(t.region_names))
    passwords = {p: secrets.token_urlsafe(18) for p in all_principals(t)}
    for region, broker in brokers.items():
        provision(t, region, broker, estate["pki"].ca_file, passwords)
    (plan,) = mirror_plan.flow_plans(t)
    untuned = dataclasses.replace(
        plan,
        target_config={k: v for k, v in plan.target_config.items() if k not in mirror_plan.WORKER_PRODUCER},
        source_config={k: v for k, v in plan.source_config.items() if k not in mirror_plan.SOURCE_CONSUMER},
    )
    figures: dict[str, Any] = {
        "seconds": LOAD_SECONDS,
        "overrides": {**mirror_plan.WORKER_PRODUCER, **mirror_plan.SOURCE_CONSUMER},
    }
    for name, p in (("before", untuned), ("after", plan)):
        mm = MirrorMaker(p, estate["tmp"] / f"mm-{name}")
        mm.start(estate["libs"], t, brokers, estate["pki"].ca_file, passwords[plan.name])
        try:
            figures[name] = _measure(estate, brokers, estate["admin_password"])
        finally:
            mm.stop()
    data = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    data["sustained-load"] = figures
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"\n[e2e] sustained load before: {figures['before']}\n[e2e] sustained load after:  {figures['after']}")
    for name in ("before", "after"):
        assert figures[name]["produced_per_second"] > 0 and figures[name]["records_timed"] > 0
