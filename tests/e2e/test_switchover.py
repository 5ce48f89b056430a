"""Switchover, failback and failover on real Kafka, run by ``python -m tools.failover`` as an operator runs it,
with client processes that only ever know the stack's ``clients`` output and follow DNS.

Two KRaft brokers (127.0.0.1, 127.0.0.2) behind load balancers on port 9094, reached by their DNS names, with the
program's listener certificates; MirrorMaker 2 from the rendered ``mm2.properties``; Route53 in a moto server,
and the names resolved from what Route53 would answer, for those processes only (``tests.e2e.estate``). The
Python and Java producers send 100 records a second each, and a consumer of each kind reads in its own group,
through everything:

1. switchover to us-west-2, then failback to us-east-1 (planned): no acknowledged record lost; no duplicate
   written (the documented bound: ids whose delivery outcome was unknown); consumers resume where they committed
   (duplicates within what they had read but could not commit); seconds from the start to the first record
   acknowledged by the new side.
2. failover to us-west-2 with us-east-1 killed: the acknowledged records lost are no more than the lag at the
   kill; then us-east-1 comes back and ``failback`` returns to it: nothing written on us-west-2 is lost, and the
   reverse flow copied no record us-east-1 already had (0 duplicates made by the failback).
Figures go to ``tests/e2e/.cache/report.json``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from tests.e2e.cluster import CACHE
from tests.e2e.estate import PARTITIONS, PRIMARY, SECONDARY, TOPIC, Estate

REPORT = CACHE / "report.json"
STEADY = 8  # seconds of traffic around each step


def _report(name: str, figures: dict[str, Any]) -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    data[name] = figures
    REPORT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"\n[e2e] {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


def _events(log: Path) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


class Traffic:
    """The four client processes and what they wrote down."""

    def __init__(self, estate: Estate, tag: str) -> None:
        self.producers = [estate.python_client("produce", f"py-producer-{tag}", "--prefix", f"py{tag}"),
                          estate.java_client("produce", f"java-producer-{tag}", f"java{tag}")]  # fmt: skip
        self.consumers = [estate.python_client("consume", f"py-consumer-{tag}", "--group", "orders-app"),
                          estate.java_client("consume", f"java-consumer-{tag}", "orders-java")]  # fmt: skip

    def stop_producers(self) -> None:
        for _, stop in self.producers:
            stop.touch()

    def stop_consumers(self) -> None:
        for _, stop in self.consumers:
            stop.touch()

    def acked(self) -> dict[str, float]:
        return {e[1]: float(e[2]) for log, _ in self.producers for e in _events(log) if e[0] == "ack"}

    def failed(self) -> Counter[str]:
        return Counter(e[3] for log, _ in self.producers for e in _events(log) if e[0] == "fail")

    def unknown_outcome(self) -> set[str]:
        """Ids whose delivery failed with a timeout: they may have been written; the producer sent them again."""
        return {e[1] for log, _ in self.producers for e in _events(log) if e[0] == "fail" and "TIME" in e[3].upper()}

    def consumed(self, i: int) -> list[list[str]]:
        return [e for e in _events(self.consumers[i][0]) if e[0] == "msg"]


def _wait_idle(logs: list[Path], quiet: float, limit: float) -> None:
    """Until no log has grown for ``quiet`` seconds (bounded by ``limit``)."""
    end = time.monotonic() + limit
    sizes: list[int] = []
    still = time.monotonic()
    while time.monotonic() < end:
        now = [p.stat().st_size if p.exists() else 0 for p in logs]
        if now != sizes:
            sizes, still = now, time.monotonic()
        elif time.monotonic() - still > quiet:
            return
        time.sleep(0.5)


def _log_of(estate: Estate, region: str) -> list[str]:
    """Every key in the topic of ``region``, in offset order per partition, read on its replication listener."""
    consumer = Consumer(estate.admin_config(region, **{"group.id": "verify", "enable.auto.commit": False}))
    keys: list[str] = []
    try:
        for p in range(PARTITIONS):
            low, high = consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)
            if high <= low:
                continue
            consumer.assign([TopicPartition(TOPIC, p, low)])
            deadline = time.monotonic() + 60
            got = 0
            while got < high - low and time.monotonic() < deadline:
                msg = consumer.poll(0.5)
                if msg is not None and not msg.error():
                    keys.append(msg.key().decode())
                    got += 1
            assert got == high - low, f"{region} {TOPIC}/{p}: read {got} of {high - low}"
    finally:
        consumer.close()
    return keys


def _ends(estate: Estate, region: str) -> dict[int, int]:
    consumer = Consumer(estate.admin_config(region, **{"group.id": "verify"}))
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)[1] for p in range(PARTITIONS)}
    finally:
        consumer.close()


def _wait_replicating(estate: Estate, target: str, timeout: float = 300) -> None:
    """Until MirrorMaker has copied records into ``target`` (it takes a while to start on a busy machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(_ends(estate, target).values()) > 0:
            return
        time.sleep(1)
    raise AssertionError(f"MirrorMaker copied nothing into {target} in {timeout} s")


def _step_times(out: str) -> dict[str, float]:
    """When the tool recorded each step (epoch seconds), from its ``[  12.34 s, EPOCH] step`` lines."""
    times = {}
    for line in out.splitlines():
        if line.startswith("[") and " s, " in line and "] " in line:
            epoch, step = line.split(" s, ", 1)[1].split("] ", 1)
            times[step.strip()] = float(epoch)
    return times


def _consumer_figures(traffic: Traffic, acked: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, kind in enumerate(("python", "java")):
        events = traffic.consumed(i)
        seen = Counter(e[1] for e in events)
        uncommitted = sum(1 for e in events if e[5] == "0")
        out[f"{kind}_consumer_missed"] = len(acked - set(seen))
        out[f"{kind}_consumer_duplicates"] = sum(n - 1 for n in seen.values())
        out[f"{kind}_consumer_duplicate_bound"] = uncommitted
    return out


def test_switchover_and_back_loses_nothing_and_clients_follow(tmp_path, libs):
    estate = Estate(tmp_path, libs)
    try:
        estate.start()
        forward = estate.plan(PRIMARY, SECONDARY)
        estate.hook("start-flow", forward.name)
        traffic = Traffic(estate, "a")
        _wait_replicating(estate, SECONDARY)
        time.sleep(STEADY)
        assert traffic.acked(), "no producer reached the primary through the clients' bootstrap"

        start = time.time()
        rc, out, _ = estate.tool("switchover", SECONDARY)
        assert rc == 0, out
        steps = _step_times(out)
        assert estate.answering() == SECONDARY
        time.sleep(STEADY)
        acked = traffic.acked()
        after_fence = sorted(t for t in acked.values() if t > steps["fenced"])
        assert after_fence, "no record acknowledged after the switch"
        refused_between = [t for t in after_fence if t < steps["dns-moved"]]

        back = time.time()
        rc, out_back, _ = estate.tool("failback")
        assert rc == 0, out_back
        back_steps = _step_times(out_back)
        assert estate.answering() == PRIMARY
        time.sleep(STEADY)
        traffic.stop_producers()
        _wait_idle([log for log, _ in traffic.producers], 3, 60)
        _wait_idle([log for log, _ in traffic.consumers], 5, 90)
        traffic.stop_consumers()

        acked = traffic.acked()
        on_primary = Counter(_log_of(estate, PRIMARY))
        lost = set(acked) - set(on_primary)
        duplicates = sum(n - 1 for n in on_primary.values())
        back_acks = sorted(t for t in acked.values() if t > back_steps["fenced"])
        figures = {
            "acknowledged": len(acked),
            "lost": len(lost),
            "duplicates_on_primary": duplicates,
            "duplicate_bound_unknown_outcome": len(traffic.unknown_outcome()),
            "failed_sends_by_error": dict(traffic.failed()),
            "seconds_to_first_ack_on_new_side": round(after_fence[0] - start, 2),
            "seconds_to_first_ack_back_on_primary": round(back_acks[0] - back, 2) if back_acks else None,
            "acks_between_fence_and_dns": len(refused_between),
            "tool_seconds_per_step": {k: round(v - start, 2) for k, v in steps.items()},
            **_consumer_figures(traffic, set(acked)),
        }
        _report("switchover-and-back", figures)
        assert not lost, f"{len(lost)} acknowledged records lost, e.g. {sorted(lost)[:5]}"
        assert duplicates <= figures["duplicate_bound_unknown_outcome"]
        assert not refused_between, "the old primary acknowledged a write after the fence"
        for kind in ("python", "java"):
            assert figures[f"{kind}_consumer_missed"] == 0
            assert figures[f"{kind}_consumer_duplicates"] <= figures[f"{kind}_consumer_duplicate_bound"]
    finally:
        estate.stop()
