"""What every cluster flavor answers (see ``components.flavors``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi

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
    strimzi_chart: str
    cfk_chart: str  # the stack setting cfkChart: a chart repository URL, a local chart directory or an OCI reference


class RegionalKafka(Protocol):
    """What the estate reads from a region's cluster component, whatever the flavor."""

    @property
    def kafka(self) -> pulumi.CustomResource: ...  # the Kafka resource, for what must wait for it

    cluster_name: pulumi.Output[str]
    namespace: pulumi.Output[str]
    internal_bootstrap: pulumi.Output[str]
    external_bootstrap: pulumi.Output[str]


@dataclass(frozen=True)
class RegionBuilt:
    cluster: RegionalKafka
    users: pulumi.Resource


class ClusterFlavor(Protocol):
    name: str
    client_properties: dict[str, str]

    def build_region(self, ctx: RegionContext, opts: pulumi.ResourceOptions) -> RegionBuilt: ...

    def bootstrap_service(self, region: Region) -> str: ...

    def broker_service(self, region: Region, broker: int) -> str: ...

    def pod_monitors(self, topology: Topology, region: Region) -> list[dict[str, Any]]: ...
