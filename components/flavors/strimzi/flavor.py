"""The Strimzi flavor: the regional cluster and users components as they were before the flavor seam (same
names, parents and types, so no URN moves).

Deliberately not here: the bodies (``.bodies``) and the components (``.cluster``, ``.users``).
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.flavors.base import RegionBuilt, RegionContext
from components.flavors.strimzi import bodies as strimzi
from components.flavors.strimzi.cluster import RegionalCluster, RegionalClusterArgs
from components.flavors.strimzi.users import RegionalUsers, RegionalUsersArgs
from stacks.model import Region, Topology

# What makes a client follow DNS failover (field notes: DNS only steers the bootstrap). A client goes back to its
# bootstrap name only when none of the brokers it knows answers (librdkafka 2.16 and the 4.x Java client alike):
# `clients-moved` provides that by closing the old primary's listener and seeing the connections it carried cut
# (tools.switchover). No setting can stand in for that close: the fenced old primary answers metadata, so a client
# still connected to it would never reach `metadata.recovery.rebootstrap.trigger.ms` (issue 31: measured stuck with
# it at 10 s). Every key here is one both clients define (tests/e2e/test_client_settings.py).
CLIENT_PROPERTIES = {
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "SCRAM-SHA-512",
    "metadata.recovery.strategy": "rebootstrap",
    "client.dns.lookup": "use_all_dns_ips",
    "ssl.endpoint.identification.algorithm": "https",
}


class Strimzi:
    name = "strimzi"
    client_properties = CLIENT_PROPERTIES
    chart_setting = "strimziChart"

    def build_region(self, ctx: RegionContext, opts: pulumi.ResourceOptions) -> RegionBuilt:
        cluster = RegionalCluster(
            ctx.region,
            RegionalClusterArgs(
                topology=ctx.topology,
                region=ctx.region,
                ca_cert_pem=ctx.ca_cert_pem,
                listener_cert_chain_pem=ctx.listener_cert_chain_pem,
                listener_private_key_pem=ctx.listener_private_key_pem,
                in_namespace=ctx.in_namespace,
                strimzi_chart=ctx.chart or strimzi.STRIMZI_CHART,
            ),
            opts,
        )
        users = RegionalUsers(
            f"{ctx.region}-users",
            RegionalUsersArgs(topology=ctx.topology, region=ctx.region, passwords=ctx.passwords, kafka=cluster.kafka),
            opts,
        )
        return RegionBuilt(cluster, users)

    def bootstrap_service(self, region: Region) -> str:
        return strimzi.external_bootstrap_service(region)

    def broker_service(self, region: Region, broker: int) -> str:
        return strimzi.external_broker_service(region, broker)

    def pod_monitors(self, topology: Topology, region: Region) -> list[dict[str, Any]]:
        return strimzi.pod_monitors(topology, region)

    def internal_bootstrap(self, region: Region) -> str:
        return strimzi.internal_bootstrap(region)

    def cluster_ca_secret(self, region: Region) -> str:
        return strimzi.cluster_ca_secret(region)

    def kafka_topic(self, topology: Topology, region: Region, name: str, component: str, spec: dict[str, Any]) -> dict[str, Any]:
        return strimzi.kafka_topic(topology, region, name, component, spec)


FLAVOR = Strimzi()
