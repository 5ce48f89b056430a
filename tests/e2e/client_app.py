"""Test support: an application on the Python client (confluent-kafka), as a process configured from the stack's
``clients`` output: ``python -m tests.e2e.client_app produce|consume CONFIG LOG STOP``.

Owns: what an application does and writes down. The producer sends ids in order at a steady rate (acks=all,
idempotent); an id is *acknowledged* when its delivery report has no error; an id whose delivery failed is sent
again later (as an application retries), so no id is given up. The consumer reads in its group, commits each
batch synchronously, and writes every record it saw with whether that batch's commit succeeded. One line per
event: ``ack ID TIME PARTITION OFFSET``, ``fail ID TIME ERROR``, ``msg ID TIME PARTITION OFFSET COMMITTED``.
Runs until the STOP file exists (bounded by ``--max-seconds``).

Deliberately not here: judging the logs (the tests).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer


def _config(path: Path, debug: str | None = None) -> dict[str, Any]:
    c = json.loads(path.read_text())
    extra = {"debug": debug} if debug else {}
    return {
        **extra,
        "bootstrap.servers": c["bootstrap_servers"],
        **c["properties"],
        "sasl.username": c["username"],
        "sasl.password": c["password"],
        "ssl.ca.location": c["ca_file"],
        "broker.address.family": "v4",
    }


def produce(conf: dict[str, Any], topic: str, prefix: str, rate: float, log: Any, stop: Path, until: float) -> None:
    pending: list[str] = []

    def new_producer() -> Producer:
        return Producer({**conf, "acks": "all", "enable.idempotence": True, "linger.ms": 5, "message.timeout.ms": 10000})

    producer = new_producer()

    def report(err: Any, msg: Any) -> None:
        key = msg.key().decode()
        if err is None:
            log.write(f"ack {key} {time.time():.3f} {msg.partition()} {msg.offset()}\n")
        else:
            log.write(f"fail {key} {time.time():.3f} {err.name()}\n")
            pending.append(key)

    def send(key: str) -> bool:
        """Hand one id to the client; False when it refused it at once (sent again later, as a failed one)."""
        nonlocal producer
        try:
            producer.produce(topic, key=key, value=key, on_delivery=report)
            return True
        except BufferError:
            pending.append(key)
        except KafkaException as exc:
            # Refused before sending: a topic the last answer said we may not write (a fenced cluster) stays
            # refused until the client's next metadata, and an idempotent producer can fail for good. An
            # application retries, replacing a producer that failed for good.
            err = exc.args[0]
            log.write(f"fail {key} {time.time():.3f} {err.name()}\n")
            pending.append(key)
            if err.fatal():
                producer.flush(5)
                producer = new_producer()
        return False

    n = 0
    start = time.monotonic()
    retry_at = 0.0
    while not stop.exists() and time.monotonic() < until:
        due = int((time.monotonic() - start) * rate)
        if pending and time.monotonic() >= retry_at:
            # Failed ids are sent again at most every half second (an application's retry backoff).
            retry_at = time.monotonic() + 0.5
            for key in pending[:]:
                pending.remove(key)
                if not send(key):
                    break
        while n < due:
            key = f"{prefix}-{(n := n + 1):07d}"
            if not send(key):
                break
        producer.poll(0.05)
    # Send what failed once more, then wait for every answer (bounded).
    for _ in range(40):
        for key in pending[:]:
            pending.remove(key)
            if not send(key):
                break
        producer.poll(0.5)
        if not pending and not len(producer):
            break
    producer.flush(30)


def consume(conf: dict[str, Any], topic: str, group: str, log: Any, stop: Path, until: float) -> None:
    # A session longer than the default 45 s: the members a switchover leaves on the old primary are then always
    # still listed when the failback moves the groups back (tests/e2e/test_switchover.py waits for them).
    consumer = Consumer(
        {**conf, "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False, "session.timeout.ms": 75000}
    )
    consumer.subscribe([topic])
    while not stop.exists() and time.monotonic() < until:
        batch = [m for m in consumer.consume(num_messages=200, timeout=0.2) if not m.error()]
        if not batch:
            continue
        try:
            consumer.commit(asynchronous=False)
            ok = 1
        except KafkaException:
            ok = 0
        now = time.time()
        for m in batch:
            log.write(f"msg {m.key().decode()} {now:.3f} {m.partition()} {m.offset()} {ok}\n")
    consumer.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["produce", "consume"])
    p.add_argument("config", type=Path)
    p.add_argument("log", type=Path)
    p.add_argument("stop", type=Path)
    p.add_argument("--topic", default="orders")
    p.add_argument("--prefix", default="py")
    p.add_argument("--group", default="orders-app")
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--max-seconds", type=float, default=900.0)
    p.add_argument("--debug", help="librdkafka debug contexts (its log goes to stderr), e.g. broker,cgrp,metadata")
    a = p.parse_args()
    until = time.monotonic() + a.max_seconds
    with a.log.open("a", buffering=1) as log:
        if a.mode == "produce":
            produce(_config(a.config, a.debug), a.topic, a.prefix, a.rate, log, a.stop, until)
        else:
            consume(_config(a.config, a.debug), a.topic, a.group, log, a.stop, until)


if __name__ == "__main__":
    main()
