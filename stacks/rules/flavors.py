"""The rules of the cluster flavors: what a topology may not ask of the flavor that runs its clusters.

Owns: per flavor (``FLAVORS``, by ``Topology.cluster_flavor``) what it cannot do, refused with the reason and the
alternative, including values its CRDs restrict more than Kubernetes: Confluent for Kubernetes runs controllers
apart, its own Kafka version, storage classes that are DNS labels, and load-balancer listeners only.

Deliberately not here: the flavors' facts (ports, broker ids, versions: ``stacks.flavors``), the resources each
flavor builds (``components.flavors``).
"""

from __future__ import annotations

from collections.abc import Callable

from stacks.flavors import CFK_STORAGE_CLASS_RE, CFK_VERSION, CP_VERSION
from stacks.model import Topology
from stacks.rules.base import Errors


def check(topology: Topology, errors: Errors) -> None:
    FLAVORS[topology.cluster_flavor](topology, errors)


def _no_rules(topology: Topology, errors: Errors) -> None:
    return None


def _confluent(topology: Topology, errors: Errors) -> None:
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


FLAVORS: dict[str, Callable[[Topology, Errors], None]] = {"strimzi": _no_rules, "confluent": _confluent}
