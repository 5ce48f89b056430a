"""The cluster flavors' model facts and rules: how a regional cluster is run (Strimzi, or Confluent for Kubernetes).

Owns: per flavor, one ``FlavorFacts`` in ``FLAVORS``: the broker ids clients are told about (they name the
brokers' DNS records and certificate SANs), the port its external listener serves (clients, the listener and the
Route53 health checks all read it here), the Kafka each flavor runs, and the values its CRDs restrict more than
Kubernetes. The model reads these facts (``Topology.broker_ids``, ``Topology.client_port``).

Deliberately not here: what a topology may not ask of a flavor (``stacks.rules.flavors``), the resources each
flavor builds (``components.flavors``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stacks.model.clusters import KafkaCluster

# Confluent for Kubernetes 2.9.3 (Helm chart confluent-for-kubernetes 0.1033.33) runs Confluent Platform 7.7.
CFK_VERSION = "2.9.3"
CFK_CHART_VERSION = "0.1033.33"
CP_VERSION = "7.7.1"


@dataclass(frozen=True)
class FlavorFacts:
    broker_ids: Callable[[KafkaCluster], tuple[int, ...]]
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


FLAVORS: dict[str, FlavorFacts] = {
    "strimzi": FlavorFacts(broker_ids=_strimzi_ids, client_ports=STRIMZI_CLIENT_PORTS),
    "confluent": FlavorFacts(broker_ids=_confluent_ids, client_ports={"loadbalancer": CFK_EXTERNAL_PORT}),
}
