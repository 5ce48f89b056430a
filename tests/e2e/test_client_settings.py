"""The client settings the ``clients`` output gives (``CLIENT_PROPERTIES`` of each cluster flavor) are read by
both clients they configure: librdkafka 2.16 (confluent-kafka, as pinned) refuses a key it does not know, so each
flavor's settings must build a consumer and a producer; Kafka's Java client only warns about one, so each key
must be among the keys its ``ConsumerConfig`` and ``ProducerConfig`` define in the jars the estate runs (4.3.1).

Deliberately not here: what the settings make a client do at a switch (``test_clients_moved.py``, and why no
rebootstrap setting can replace a complete close there: its docstring).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from components.flavors.confluent import flavor as confluent
from components.flavors.strimzi import flavor as strimzi

HERE = Path(__file__).resolve().parent
FLAVORS = {"strimzi": strimzi.CLIENT_PROPERTIES, "confluent": confluent.CLIENT_PROPERTIES}
# What every application adds to the output's settings (its own identity and trust); librdkafka needs them to build.
IDENTITY = {"bootstrap.servers": "localhost:9", "sasl.username": "app", "sasl.password": "secret"}


@pytest.mark.parametrize("flavor", sorted(FLAVORS))
def test_librdkafka_builds_a_consumer_and_a_producer_from_them(flavor: str) -> None:
    props = {**FLAVORS[flavor], **IDENTITY}
    Consumer({**props, "group.id": "settings-check"}).close()
    Producer(props).flush(0)


def test_the_java_client_defines_every_key(libs: Path) -> None:
    listed = subprocess.run(
        ["java", "-cp", f"{libs}/*", str(HERE / "ClientConfigKeys.java")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr[-2000:]
    keys: dict[str, set[str]] = {"consumer": set(), "producer": set()}
    for line in listed.stdout.splitlines():
        kind, key = line.split(" ", 1)
        keys[kind].add(key)
    assert "metadata.recovery.strategy" in keys["consumer"], "not the 4.x client"
    for flavor, props in FLAVORS.items():
        for kind, known in keys.items():
            assert not set(props) - known, f"{flavor}: unknown to the Java {kind}: {sorted(set(props) - known)}"
