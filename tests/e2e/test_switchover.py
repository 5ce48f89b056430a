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
   kill; then us-east-1 comes back and ``failback`` returns to it: nothing written on us-west-2 is lost, the
   reverse flow copied no record us-east-1 already had (0 duplicates made by the failback), and the consumer
   groups' offsets are moved back (the consumers us-east-1 still lists from before the kill are waited out).
Figures go to ``tests/e2e/.cache/report.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition

from tests.e2e.cluster import CACHE, stop_process
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

    def acks_between(self, start: float, end: float) -> list[tuple[float, int, int]]:
        """(time, partition, offset) of every acknowledgement in [start, end)."""
        return [(float(e[2]), int(e[3]), int(e[4])) for log, _ in self.producers for e in _events(log)
                if e[0] == "ack" and start <= float(e[2]) < end]  # fmt: skip

    def failed(self) -> Counter[str]:
        return Counter(e[3] for log, _ in self.producers for e in _events(log) if e[0] == "fail")

    def unknown_outcome(self) -> set[str]:
        """Ids whose delivery failed with a timeout: they may have been written; the producer sent them again."""
        return {e[1] for log, _ in self.producers for e in _events(log) if e[0] == "fail" and "TIME" in e[3].upper()}

    def consumed(self, i: int) -> list[list[str]]:
        return [e for e in _events(self.consumers[i][0]) if e[0] == "msg"]


def _switch(estate, answering, *args):
    """Run ``tools.failover ARGS`` as an operator does; it succeeds and the shared name then answers with
    ``answering``. Its output and the time of each step."""
    rc, out, _ = estate.tool(*args)
    assert rc == 0, out
    assert estate.answering() == answering
    return out, _step_times(out)


def _settle(estate, traffic):
    """Let the clients run ``STEADY`` seconds more, stop them once each is idle, and read what the producers saw
    acknowledged and what the primary holds (key -> copies)."""
    time.sleep(STEADY)
    traffic.stop_producers()
    _wait_idle([log for log, _ in traffic.producers], 3, 60)
    _wait_idle([log for log, _ in traffic.consumers], 5, 90)
    traffic.stop_consumers()
    return traffic.acked(), Counter(_log_of(estate, PRIMARY))


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
    """Log-end offsets (retried for a minute: a broker that just restarted is not leader at once)."""
    consumer = Consumer(estate.admin_config(region, **{"group.id": "verify"}))
    try:
        for attempt in range(60):
            try:
                return {p: consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)[1] for p in range(PARTITIONS)}
            except KafkaException:
                if attempt == 59:
                    raise
                time.sleep(1)
        raise AssertionError("unreachable")
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


@pytest.fixture
def namespaces() -> None:
    """Client processes resolve names in a mount namespace of their own (``unshare -m``, root or user namespaces)."""
    ok = (
        subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False).returncode == 0
        if shutil.which("unshare")
        else False
    )
    if not ok:
        message = "the switchover test needs `unshare -m` (a mount namespace per client process)"
        if os.environ.get("KMR_REQUIRE_E2E"):
            pytest.fail(message + " (KMR_REQUIRE_E2E is set)")
        pytest.skip(message)


def test_switchover_and_back_loses_nothing_and_clients_follow(tmp_path, libs, namespaces):
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
        out, steps = _switch(estate, SECONDARY, "switchover", SECONDARY)
        time.sleep(STEADY)
        new_side = traffic.acks_between(steps["dns-moved"], time.time())
        assert new_side, "no record acknowledged after the switch"
        # Acknowledged after the fence was in place, by the clock of the client's callback: each must have been
        # appended before it (below every offset the new side gave out in its partition).
        first_new = {p: min(o for _, q, o in new_side if q == p) for _, p, _ in new_side}
        late = [
            (t, p, o) for t, p, o in traffic.acks_between(steps["fenced"], steps["dns-moved"]) if o >= first_new.get(p, o + 1)
        ]

        back = time.time()
        out_back, back_steps = _switch(estate, PRIMARY, "failback")
        # The consumers' last heartbeats on the primary were at its fence: while their session (75 s) has not run
        # out since, it still lists them, and the failback waits them out (before its fence: no write downtime).
        # Either way it moves both groups' offsets, rather than keep the ones from before the switchover. (On a
        # loaded machine the switchover's last step alone can outlast the session: then there is nothing to wait.)
        if back_steps["checked"] - steps["fenced"] < 60:
            assert "members that left fenced us-east-1" in out_back, out_back
        assert "offsets there are left" not in out_back and out_back.count(" committed {") == 2, out_back
        acked, on_primary = _settle(estate, traffic)
        lost = set(acked) - set(on_primary)
        duplicates = sum(n - 1 for n in on_primary.values())
        back_acks = sorted(t for t in acked.values() if t > back_steps["dns-moved"])
        figures = {
            "acknowledged": len(acked),
            "lost": len(lost),
            "duplicates_on_primary": duplicates,
            "duplicate_bound_unknown_outcome": len(traffic.unknown_outcome()),
            "failed_sends_by_error": dict(traffic.failed()),
            "seconds_to_first_ack_on_new_side": round(min(t for t, _, _ in new_side) - start, 2),
            "seconds_to_first_ack_back_on_primary": round(back_acks[0] - back, 2) if back_acks else None,
            "acks_by_old_primary_after_fence": len(late),
            "printed": [line for line in (out + out_back).splitlines() if line.startswith(("RPO", "RTO"))],
            "tool_seconds_per_step": {k: round(v - start, 2) for k, v in steps.items()},
            **_consumer_figures(traffic, set(acked)),
        }
        _report("switchover-and-back", figures)
        assert not lost, f"{len(lost)} acknowledged records lost, e.g. {sorted(lost)[:5]}"
        assert duplicates <= figures["duplicate_bound_unknown_outcome"]
        assert not late, "the old primary acknowledged a write after the fence"
        for kind in ("python", "java"):
            assert figures[f"{kind}_consumer_missed"] == 0
            assert figures[f"{kind}_consumer_duplicates"] <= figures[f"{kind}_consumer_duplicate_bound"]

        _failover_and_failback(estate)
    finally:
        estate.stop()


def _failover_and_failback(estate: Estate) -> None:
    """The primary is killed under load; failover; it comes back with its log; failback."""
    traffic = Traffic(estate, "b")
    time.sleep(2 * STEADY)
    primary = estate.brokers[PRIMARY]
    copied_before_kill = _ends(estate, SECONDARY)  # only grows after this: an upper bound of the lag at the kill
    stop_process(primary.process, hard=True)
    acked_by_primary = set(traffic.acked())
    start = time.time()
    out, steps = _switch(estate, SECONDARY, "failover", SECONDARY)
    time.sleep(STEADY)
    on_promoted = set(_log_of(estate, SECONDARY))
    lost = acked_by_primary - on_promoted

    primary.start(estate.libs)  # its log as it was at the kill
    at_kill = _ends(estate, PRIMARY)
    lag_at_kill = sum(max(0, at_kill[p] - copied_before_kill[p]) for p in at_kill)
    out_back, back_steps = _switch(estate, PRIMARY, "failback")
    # Back from the dead, the primary still lists the consumers it had at the kill: the failback fences it, waits
    # them out and moves the groups (left as they were, each would re-read everything since the kill).
    assert f"{PRIMARY} refuses application writes and commits until the failback opens it" in out_back, out_back
    assert "offsets there are left" not in out_back and out_back.count(" committed {") == 2, out_back
    acked, on_primary = _settle(estate, traffic)
    written_on_promoted = {k for k, t in acked.items() if steps["dns-moved"] <= t < back_steps["fenced"]}
    unknown = traffic.unknown_outcome()
    # A duplicate on the primary that the producer did not cause (by sending again an id whose outcome it did not
    # know) was made by the failback: the reverse flow copying something the primary already had.
    made_by_failback = {k for k, n in on_primary.items() if n > 1 and k not in unknown}
    figures = {
        "acknowledged_before_kill": len(acked_by_primary),
        "lag_at_kill": lag_at_kill,
        "lost_at_failover": len(lost),
        "failover_seconds_to_dns": round(steps["dns-moved"] - start, 2),
        "seconds_to_first_ack_on_promoted": round(
            min((t for t in acked.values() if t > steps["dns-moved"]), default=0) - start, 2
        ),
        "written_on_promoted": len(written_on_promoted),
        "failback_lost": len(written_on_promoted - set(on_primary)),
        "failback_duplicates_on_primary": len(made_by_failback),
        "producer_resends_of_unknown_outcome": len(unknown),
        "lost_overall_after_failback": len(set(acked) - set(on_primary)),
        "printed": [line for line in (out + out_back).splitlines() if line.startswith(("RPO", "RTO", "  estimated loss"))],
        **_consumer_figures(traffic, set(acked) - lost),
    }
    _report("failover-and-failback", figures)
    assert len(lost) <= lag_at_kill, (len(lost), lag_at_kill)
    assert figures["failback_lost"] == 0
    assert not made_by_failback, sorted(made_by_failback)[:5]
    assert figures["lost_overall_after_failback"] == 0
