"""The cluster-flavor seam: what every flavor answers, and what the estate hands it and reads back.

Owns: ``ClusterFlavor`` (the protocol), ``RegionContext`` (what a flavor gets to build a region), ``RegionalKafka``
(the outputs every flavor's cluster component has) and ``RegionBuilt``.

Deliberately not here: the flavors (``components.flavors.strimzi``, ``.confluent``), which module is which
(``components.variants``), each flavor's model facts and rules (``stacks.flavors``, ``stacks.rules.flavors``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi
import pulumi_kubernetes as k8s

from stacks.model import Region, Topology


@dataclass(frozen=True)
class RegionContext:
    topology: Topology
    region: str
    ca_cert_pem: pulumi.Input[str]
    listener_cert_chain_pem: pulumi.Input[str]
    listener_private_key_pem: pulumi.Input[str]  # a Pulumi secret
    passwords: dict[str, pulumi.Output[str]]  # secrets, one per principal
    in_namespace: Callable[[pulumi.Resource], list[pulumi.Resource]] | None
    # The stack setting naming this flavor's operator chart (``ClusterFlavor.chart_setting``): a chart repository
    # URL, a local chart directory or an OCI reference; empty for the chart the flavor pins.
    chart: str


class RegionalKafka(pulumi.ComponentResource):
    """What the estate reads from a region's cluster component, whatever the flavor: each flavor's cluster
    component is one, and sets these before it registers its outputs."""

    cluster_name: pulumi.Output[str]
    """Name of the Kafka resource (the region code)."""
    namespace: pulumi.Output[str]
    """Namespace holding Kafka and the operator."""
    internal_bootstrap: pulumi.Output[str]
    """In-cluster TLS bootstrap address."""
    external_bootstrap: pulumi.Output[str]
    """Public bootstrap address (TLS), the region's DNS name; resolvable once DNS exists."""
    kafka: k8s.apiextensions.CustomResource
    """The Kafka resource, for components that must wait for it."""


@dataclass(frozen=True)
class RegionBuilt:
    cluster: RegionalKafka
    users: pulumi.Resource


class ClusterFlavor(Protocol):
    name: str
    client_properties: dict[str, str]
    chart_setting: str  # the stack setting that overrides where its operator chart comes from

    def build_region(self, ctx: RegionContext, opts: pulumi.ResourceOptions) -> RegionBuilt: ...

    def bootstrap_service(self, region: Region) -> str: ...

    def broker_service(self, region: Region, broker: int) -> str: ...

    def pod_monitors(self, topology: Topology, region: Region) -> list[dict[str, Any]]: ...

    # What other parts reach the region's Kafka by (the schema registry's storage):
    def internal_bootstrap(self, region: Region) -> str: ...  # in-cluster TLS bootstrap, SCRAM

    def cluster_ca_secret(self, region: Region) -> str: ...  # the internal listener's CA (ca.p12, ca.password)

    def kafka_topic(
        self, topology: Topology, region: Region, name: str, component: str, spec: dict[str, Any]
    ) -> dict[str, Any]: ...  # a topic body as the flavor's operator takes it
