"""The cluster flavors' model facts and rules: how a regional cluster is run (Strimzi, or Confluent for Kubernetes).

Owns: per flavor, one ``FlavorFacts`` in ``FLAVORS``: the broker ids clients are told about (they name the
brokers' DNS records and certificate SANs), the Kafka each flavor runs, and what a topology may not ask of it
(refused with the reason and the alternative).

Deliberately not here: the resources each flavor builds (``components.flavors``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stacks.model import KafkaCluster, Topology

Errors = list[tuple[tuple[str | int, ...], str]]

# Confluent for Kubernetes 2.9.3 (Helm chart confluent-for-kubernetes 0.1033.33) runs Confluent Platform 7.7.
CFK_VERSION = "2.9.3"
CFK_CHART_VERSION = "0.1033.33"
CP_VERSION = "7.7.1"


@dataclass(frozen=True)
class FlavorFacts:
    broker_ids: Callable[[KafkaCluster], tuple[int, ...]]
    check: Callable[[Topology, Errors], None]


def _strimzi_ids(k: KafkaCluster) -> tuple[int, ...]:
    return k.broker_ids  # Strimzi numbers controllers first unless the pool is combined


def _confluent_ids(k: KafkaCluster) -> tuple[int, ...]:
    return tuple(range(k.brokers))  # CFK: broker N is pod N of the Kafka StatefulSet; controllers are apart


def _no_rules(topology: Topology, errors: Errors) -> None:
    return None


def _confluent_rules(topology: Topology, errors: Errors) -> None:
    for i, region in enumerate(topology.regions):
        k = region.kafka
        path = ("regions", i, "kafka")
        if k.combined:
            errors.append(
                (
                    (*path, "combined"),
                    "Confluent for Kubernetes runs KRaft controllers as their own KRaftController, never in the brokers' pods; set combined: false",
                )
            )
        if "version" in k.model_fields_set:
            errors.append(
                (
                    (*path, "version"),
                    f"kafka.version picks Strimzi's Kafka; the confluent flavor runs Confluent Platform {CP_VERSION} (what CFK {CFK_VERSION} supports); remove version",
                )
            )
        if k.listener_type.value != "loadbalancer":
            errors.append(
                (
                    (*path, "listener_type"),
                    f"the confluent flavor gives each broker a load balancer (CFK externalAccess loadBalancer); {k.listener_type.value} is not built; use loadbalancer",
                )
            )


FLAVORS: dict[str, FlavorFacts] = {
    "strimzi": FlavorFacts(broker_ids=_strimzi_ids, check=_no_rules),
    "confluent": FlavorFacts(broker_ids=_confluent_ids, check=_confluent_rules),
}
