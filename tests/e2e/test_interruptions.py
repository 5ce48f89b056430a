"""Every switch operation interrupted at every step, on real Kafka, with clients running through DNS the whole
time, then resumed; judged from the clients' own records (issue 31). Marked ``full``: ``make test-all`` only.

The estate is ``tests.e2e.estate``'s (two KRaft brokers behind load balancers, MirrorMaker 2 from the rendered
properties, Route53 in moto, names resolved from what Route53 answers). One round runs, in order:

1. ``switchover us-west-2`` (primary to standby), 2. ``switchover us-east-1`` (back), 3. ``failover us-west-2``
   with us-east-1 up (it is fenced), 4. ``failback`` (after that failover);

each with a Python and a Java producer (100 records a second each) and a Python and a Java consumer (each in its
group), all configured from the ``clients`` output, started for the operation and stopped after it. The operation
is killed with SIGKILL (``tests.e2e.interrupt``) at every step in turn, in the middle of the step and right after it
is recorded, each time resumed by the next run of the same command (which is killed at the next point), then run to
its end; after the kill that follows ``target-open`` the next run waits longer than the consumers' session timeout
(the resumed switch of issue 31, whose consumers' sessions had expired under the fence). After every kill
``status`` must name the operation, the last step recorded and the exact command that continues it.

Judged per operation, from the producers' acknowledgements and the consumers' records:

- acknowledged records lost: 0 (on the target's log; a failover may leave on the old primary what it had not
  copied, no more than the loss it printed, and the failback after it must find all of it on the primary);
- records a consumer group never processed, or processed later than ``BACK_WITHIN`` seconds after both their
  acknowledgement and the tool's done: 0 (the stranded records of a failover excepted, by design);
- every consumer and producer working on the target within ``BACK_WITHIN`` seconds of done;
- re-reads per consumer within the README's bound (the records it had read but could not commit), for the
  planned operations; a failover's are MirrorMaker's checkpoints' and are reported;
- duplicates written: only ids whose delivery outcome the producer did not know (it sent them again);
- Route53 answers with the target; the old primary fenced, the target not; the flow into the target stopped, the
  flow out of it running (none after a failover); the resumed run prints RPO only if it measured it.

``KMR_INTERRUPT_ROUNDS`` (default 3) sets how many rounds; figures go to ``tests/e2e/.cache/report.json``.
"""

from __future__ import annotations

import os
import re
import shlex
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from components.engines.mirrormaker2.switchover import STEPS
from tests.e2e.estate import PARTITIONS, PRIMARY, SECONDARY, TOPIC, Estate
from tests.e2e.test_clients_moved import BACK_WITHIN
from tests.e2e.test_switchover import (  # noqa: F401 (namespaces is a fixture)
    STEADY,
    Traffic,
    _ends,
    _report,
    _step_times,
    _wait_idle,
    _wait_replicating,
    namespaces,
)
from tools.switchover.kafka_admin import Cluster, KafkaAccess
from tools.switchover.steps import Step

pytestmark = pytest.mark.full

ROUNDS = int(os.environ.get("KMR_INTERRUPT_ROUNDS", "3"))
SESSION = 75  # the consumers' session.timeout.ms (client_app.py, ClientApp.java), in seconds
RATE = 200  # records a second, both producers together


@dataclass(frozen=True)
class Op:
    name: str
    args: tuple[str, ...]
    source: str
    target: str

    @property
    def kind(self) -> str:
        return self.args[0]

    @property
    def steps(self) -> tuple[Step, ...]:
        return STEPS[self.kind]

    def points(self) -> list[tuple[str, str]]:
        """(kill point, the last step recorded once killed there), in the order they are run."""
        out, last = [], Step.STARTED.value
        for s in self.steps:
            out += [(f"mid:{s.value}", last), (f"after:{s.value}", s.value)]
            last = s.value
        return out


ROUND = (
    Op("switchover", ("switchover", SECONDARY), PRIMARY, SECONDARY),
    Op("switchover-back", ("switchover", PRIMARY), SECONDARY, PRIMARY),
    Op("failover", ("failover", SECONDARY), PRIMARY, SECONDARY),
    Op("failback", ("failback",), SECONDARY, PRIMARY),
)


def _log_since(estate: Estate, region: str, start: dict[int, int]) -> list[tuple[str, int, int]]:
    """(key, partition, offset) of every record of the topic in ``region`` from ``start`` to its end now."""
    consumer = Consumer(estate.admin_config(region, **{"group.id": "verify", "enable.auto.commit": False}))
    out: list[tuple[str, int, int]] = []
    try:
        for p in range(PARTITIONS):
            low, high = consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)
            first = max(low, start.get(p, 0))
            if high <= first:
                continue
            consumer.assign([TopicPartition(TOPIC, p, first)])
            deadline = time.monotonic() + 120
            while len([r for r in out if r[1] == p]) < high - first and time.monotonic() < deadline:
                for msg in consumer.consume(num_messages=500, timeout=0.5):
                    if not msg.error() and msg.offset() < high:
                        out.append((msg.key().decode(), p, msg.offset()))
            got = len([r for r in out if r[1] == p])
            assert got == high - first, f"{region} {TOPIC}/{p}: read {got} of {high - first}"
    finally:
        consumer.close()
    return out


def _interrupt_all(estate: Estate, op: Op) -> tuple[list[str], dict[str, float], int]:
    """Kill ``op`` at every point, checking ``status`` after each, then run it to its end: every run's output (the
    final one last), when each step was recorded (whichever run did it), and the number of kills."""
    expected = "python -m tools.failover " + shlex.join(estate.tool_args(*op.args))
    recorded: dict[str, float] = {}
    outs: list[str] = []
    kills = 0
    for point, last in op.points():
        rc, out, _ = estate.tool(*op.args, interrupt=point)
        assert rc == -9 and "[interrupt] killed" in out, f"{op.name} at {point}: exit {rc}\n{out}"
        outs.append(out)
        kills += 1
        recorded.update(_step_times(out))
        rc, status, _ = estate.tool("status")
        assert rc == 0, status
        assert f"operation: {op.kind} {op.source} -> {op.target}: step {last} (" in status, (point, status)
        assert f"  continue it: {expected}\n" in status, (point, status)
        if point == f"after:{Step.TARGET_OPEN.value}":
            # The resumed switch of issue 31: the fence held longer than the consumers' sessions.
            time.sleep(SESSION + 10)
    rc, out, _ = estate.tool(*op.args)
    assert rc == 0, f"{op.name}: the last run: exit {rc}\n{out}"
    recorded.update(_step_times(out))
    return [*outs, out], recorded, kills


def _check_estate(estate: Estate, op: Op) -> None:
    """Route53, the fences and the flows as the operation leaves them."""
    assert estate.answering() == op.target
    access = KafkaAccess.load(str(estate.kafka_file()), estate.topology, 10.0)
    src, dst = Cluster(access, op.source), Cluster(access, op.target)
    forward, reverse = estate.plan(op.source, op.target), estate.plan(op.target, op.source)
    assert src.fenced(estate.topology, forward) is True, f"{op.source} is not fenced"
    assert dst.fenced(estate.topology, reverse) is False, f"{op.target} is still fenced"
    assert not dst.worker_members(forward), f"{forward.name} still runs"
    assert src.worker_members(reverse) is (op.kind != "failover"), f"{reverse.name}: workers as they should not be"


def _mm2(estate: Estate, op: Op, key: str) -> int:
    """A setting of the operation's forward flow, as rendered into its mm2.properties."""
    props = (estate.run_dir / "flows" / estate.plan(op.source, op.target).name / "mm2.properties").read_text()
    (value,) = {line.split("=", 1)[1] for line in props.splitlines() if line.split("=", 1)[0].endswith(f".{key}")}
    return int(value)


def _judge(
    traffic: Traffic, on_target: list[tuple[str, int, int]], stranded: set[str], done: float, moved: float
) -> dict[str, Any]:
    acked = traffic.acked()
    keys = Counter(k for k, _, _ in on_target)
    unknown = traffic.unknown_outcome()
    figures: dict[str, Any] = {
        "acknowledged": len(acked),
        "lost": len(set(acked) - set(keys) - stranded),
        "stranded_on_old_primary": len(stranded),
        "duplicates_written": sum(n - 1 for n in keys.values()),
        "duplicates_not_explained": len({k for k, n in keys.items() if n > 1 and k not in unknown}),
        "producer_back_s": round(min((t for t in acked.values() if t > moved), default=float("inf")) - done, 2),
    }
    due = {k: max(t, done) + BACK_WITHIN for k, t in acked.items() if k not in stranded}
    for i, kind in enumerate(("python", "java")):
        events = traffic.consumed(i)
        first: dict[str, float] = {}
        for e in events:
            first.setdefault(e[1], float(e[2]))
        after_move = [first[k] for k, t in acked.items() if t > moved and k in first]
        figures[f"{kind}_back_after_clients_moved_s"] = round(min(after_move) - moved, 2) if after_move else None
        figures[f"{kind}_never_processed"] = len(set(due) - set(first))
        figures[f"{kind}_processed_late"] = len([k for k, d in due.items() if k in first and first[k] > d])
        figures[f"{kind}_back_s"] = round(min(after_move) - done, 2) if after_move else None
        figures[f"{kind}_rereads"] = sum(n - 1 for n in Counter(e[1] for e in events).values())
        figures[f"{kind}_reread_bound"] = sum(1 for e in events if e[5] == "0")
    return figures


def _run_op(estate: Estate, op: Op, tag: str, carried: dict[str, Any]) -> dict[str, Any]:
    wall = time.monotonic()
    start_target = _ends(estate, op.target)
    traffic = Traffic(estate, tag)
    time.sleep(STEADY)
    try:
        outs, recorded, kills = _interrupt_all(estate, op)
        out = outs[-1]
        time.sleep(STEADY)
        _check_estate(estate, op)
    finally:
        traffic.stop_producers()
        _wait_idle([log for log, _ in traffic.producers], 3, 60)
        _wait_idle([log for log, _ in traffic.consumers], 5, 120)
        traffic.stop_consumers()
    on_target = _log_since(estate, op.target, start_target)
    stranded: set[str] = set()
    if op.kind == "failover":
        # What the failover did not copy stays on the old primary: no more than it printed, and found there by
        # the failback that follows.
        stranded = set(traffic.acked()) - {k for k, _, _ in on_target}
        carried["stranded"], carried["failover_acked"] = stranded, set(traffic.acked())
    figures = _judge(traffic, on_target, stranded, recorded["done"], recorded["clients-moved"])
    estimates = [int(n) for n in re.findall(r"estimated loss: (\d+) record", "\n".join(outs))]
    figures.update(kills=kills, wall_s=round(time.monotonic() - wall), printed=[
        line for line in out.splitlines() if line.startswith(("RPO", "RTO", "  estimated loss"))
    ])  # fmt: skip
    assert figures["lost"] == 0, figures
    assert figures["duplicates_not_explained"] == 0, figures
    if op.kind == "failover":
        assert estimates and len(stranded) <= max(estimates), (len(stranded), estimates)
    else:
        assert "RPO: not measured by this run" in out, out  # the drain was a killed run's
    assert "RTO: " in out, out
    assert figures["producer_back_s"] <= BACK_WITHIN, figures
    for kind in ("python", "java"):
        assert figures[f"{kind}_never_processed"] == 0, figures
        assert figures[f"{kind}_processed_late"] == 0, figures
        assert figures[f"{kind}_back_s"] is not None and figures[f"{kind}_back_s"] <= BACK_WITHIN, figures
        bound = figures[f"{kind}_reread_bound"]
        if op.kind == "failover":
            # No groups-moved step: the offsets on the target are MirrorMaker's, synced from its checkpoints, so
            # MirrorMaker's rule bounds the re-reads: up to offset.lag.max records per partition between offset
            # syncs, and what the group committed in the last checkpoint and sync intervals before the flow stopped.
            checkpoints = _mm2(estate, op, "emit.checkpoints.interval.seconds")
            bound += _mm2(estate, op, "offset.lag.max") * PARTITIONS + RATE * (
                checkpoints + _mm2(estate, op, "sync.group.offsets.interval.seconds")
            )
        assert figures[f"{kind}_rereads"] <= bound, (kind, bound, figures)
    if op.kind == "failback" and "stranded" in carried:
        # Everything acknowledged during the failover is on the primary now: what it had not copied never left
        # it, and what was written on the promoted side came back with the reverse flow.
        on_primary = {k for k, _, _ in _log_since(estate, PRIMARY, carried["primary_at_failover"])}
        figures["failover_records_on_primary"] = len(carried["failover_acked"] & on_primary)
        missing = carried["failover_acked"] - on_primary
        assert not missing, f"{len(missing)} records acknowledged during the failover are not on the primary"
    return figures


def test_every_step_interrupted_and_resumed(tmp_path, libs, namespaces):  # noqa: F811
    estate = Estate(tmp_path, libs)
    rounds: list[dict[str, Any]] = []
    began = time.monotonic()
    try:
        estate.start()
        estate.hook("start-flow", estate.plan(PRIMARY, SECONDARY).name)
        warm = Traffic(estate, "w")
        _wait_replicating(estate, SECONDARY)
        warm.stop_producers()
        warm.stop_consumers()
        for r in range(ROUNDS):
            carried: dict[str, Any] = {}
            figures: dict[str, Any] = {}
            for i, op in enumerate(ROUND):
                if op.kind == "failover":
                    carried["primary_at_failover"] = _ends(estate, PRIMARY)
                figures[op.name] = _run_op(estate, op, f"r{r}o{i}", carried)
                print(f"\n[e2e] interruptions round {r + 1}/{ROUNDS} {op.name}: {figures[op.name]}", flush=True)
            rounds.append(figures)
    finally:
        estate.stop()
        _report(
            "interruptions",
            {"rounds": len(rounds), "asked": ROUNDS, "wall_s": round(time.monotonic() - began), "per_round": rounds},
        )
    assert len(rounds) == ROUNDS
