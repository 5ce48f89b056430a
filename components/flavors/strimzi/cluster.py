"""One region's Kafka: namespace, Strimzi operator, certificates in Kubernetes, the Kafka cluster and its topics.

Owns: the Pulumi resources that wrap the Strimzi builders (``.bodies``) for a region, their ordering (custom
resources wait for the operator and the certificate Secrets) and their protection: the namespace, the Kafka
resource, its node pools and its topics hold data, so they are protected (``protect``, per stack) and retained
in the cluster if they ever leave the program (``retainOnDelete``).

Deliberately not here: users (``components.flavors.strimzi.users``), MirrorMaker (``components.engines.mirrormaker2.components``), providers
(passed in through ``opts.providers``) and certificate issuance (``components.pki``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components import kube
from components.flavors.base import RegionalKafka
from components.flavors.strimzi import bodies as strimzi
from components.kube import custom_resource, secret_resource
from stacks.model import Topology


@dataclass(frozen=True)
class RegionalClusterArgs:
    topology: Topology
    region: str
    ca_cert_pem: pulumi.Input[str]
    listener_cert_chain_pem: pulumi.Input[str]
    listener_private_key_pem: pulumi.Input[str]  # a Pulumi secret
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    # Builds another component's objects in the namespace once it exists (monitoring); the Kafka and its node
    # pools wait for what it returns (the exporter-rule ConfigMaps they reference).
    in_namespace: Callable[[pulumi.Resource], list[pulumi.Resource]] | None = None
    # Where Helm finds the operator chart: the OCI registry, or a local copy or mirror (air-gapped clusters).
    strimzi_chart: str = strimzi.STRIMZI_CHART


class RegionalCluster(RegionalKafka):
    """A Strimzi-managed Kafka cluster in one region (its outputs: ``RegionalKafka``; SCRAM-SHA-512 on both listeners)."""

    def __init__(self, name: str, args: RegionalClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kafka-multiregion:index:RegionalCluster", name, None, opts)
        t = args.topology
        region = t.region(args.region)
        precious = kube.protected(t, region, self)  # the namespace and what holds data: see kube.protected
        ns = kube.namespace_resource(name, t, region, precious)

        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        operator = kube.operator(
            f"{name}-strimzi", region, release="strimzi-cluster-operator", chart=args.strimzi_chart,
            version=strimzi.STRIMZI_VERSION, values=strimzi.operator_values(), opts=in_ns,
        )  # fmt: skip
        ca_body = kube.secret(t, region, strimzi.env_ca_secret(), "pki", ("ca.crt",))
        k8s.core.v1.Secret(
            f"{name}-env-ca", metadata=ca_body["metadata"], type="Opaque", string_data={"ca.crt": args.ca_cert_pem}, opts=in_ns
        )
        cert_body = kube.secret(t, region, strimzi.listener_cert_secret(region), "pki", ("tls.crt", "tls.key"))
        listener_secret = secret_resource(
            f"{name}-listener-cert",
            cert_body,
            {"tls.crt": args.listener_cert_chain_pem, "tls.key": args.listener_private_key_pem},
            in_ns,
        )
        in_namespace = args.in_namespace(ns) if args.in_namespace else []
        after_operator = [operator, listener_secret, *args.depends_on, *in_namespace]
        pools = [
            custom_resource(
                f"{name}-pool-{body['metadata']['name']}",
                body,
                pulumi.ResourceOptions.merge(precious, pulumi.ResourceOptions(depends_on=after_operator)),
            )
            for body in strimzi.node_pools(t, region)
        ]
        self.kafka = custom_resource(
            f"{name}-kafka",
            strimzi.kafka(t, region),
            pulumi.ResourceOptions.merge(precious, pulumi.ResourceOptions(depends_on=[*after_operator, *pools])),
        )
        for topic in t.topics_in(region.name):
            custom_resource(
                f"{name}-topic-{topic}",
                strimzi.topic(t, region, topic),
                pulumi.ResourceOptions.merge(precious, pulumi.ResourceOptions(depends_on=[self.kafka])),
            )
        self.cluster_name = pulumi.Output.from_input(region.cluster_name)
        self.namespace = pulumi.Output.from_input(region.namespace)
        self.internal_bootstrap = pulumi.Output.from_input(strimzi.internal_bootstrap(region))
        self.external_bootstrap = pulumi.Output.from_input(kube.external_bootstrap(t, region.name))
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "namespace": self.namespace,
                "internal_bootstrap": self.internal_bootstrap,
                "external_bootstrap": self.external_bootstrap,
            }
        )
