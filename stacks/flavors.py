"""The cluster flavors' model facts and rules: how a regional cluster is run (Strimzi, or Confluent for Kubernetes).

Owns: per flavor, one ``FlavorFacts`` in ``FLAVORS``: the broker ids clients are told about (they name the
brokers' DNS records and certificate SANs), the port its external listener serves (clients, the listener and the
Route53 health checks all read it here), the Kafka each flavor runs, and what a topology may not ask of it
(refused with the reason and the alternative, including values the flavor's CRDs restrict more than Kubernetes).

Deliberately not here: the resources each flavor builds (``components.flavors``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
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
    client_ports: Mapping[str, int]  # listener type -> the port clients dial (and the health checks probe)


STRIMZI_EXTERNAL_PORT = 9094  # the Strimzi external listener's port (its load balancers and cluster IPs listen here)
CFK_EXTERNAL_PORT = 9092  # CFK's external listener; its load balancers listen here
# Strimzi's route and ingress listeners are reached through the router / ingress controller's TLS port (passthrough,
# routed by SNI), not the listener's port.
ROUTER_PORT = 443
# A nodeport listener's bootstrap Service gets this node port (pinned, so clients and health checks know it; the
# brokers advertise their own node ports, which Strimzi fills in). In Kubernetes' default range 30000-32767.
NODEPORT_BOOTSTRAP = 31094
STRIMZI_CLIENT_PORTS = {
    "loadbalancer": STRIMZI_EXTERNAL_PORT,
    "nodeport": NODEPORT_BOOTSTRAP,
    "route": ROUTER_PORT,
    "ingress": ROUTER_PORT,
    "cluster-ip": STRIMZI_EXTERNAL_PORT,
}
# CFK 2.9.3's Kafka and KRaftController CRDs: spec.storageClass.name is a DNS label (Kubernetes allows dots).
CFK_STORAGE_CLASS_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


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
        storage_class = k.storage.storage_class
        if storage_class is not None and not CFK_STORAGE_CLASS_RE.fullmatch(storage_class):
            errors.append(
                (
                    (*path, "storage", "storage_class"),
                    f"storage class {storage_class!r}: CFK {CFK_VERSION}'s Kafka and KRaftController take a DNS label here (lowercase letters, digits and '-', no '.'); name a StorageClass without dots",
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
    "strimzi": FlavorFacts(broker_ids=_strimzi_ids, check=_no_rules, client_ports=STRIMZI_CLIENT_PORTS),
    "confluent": FlavorFacts(broker_ids=_confluent_ids, check=_confluent_rules, client_ports={"loadbalancer": CFK_EXTERNAL_PORT}),
}
