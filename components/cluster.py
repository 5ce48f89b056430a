"""One region's Kafka: namespace, Strimzi operator, certificates in Kubernetes, the Kafka cluster and its topics.

Owns: the Pulumi resources that wrap ``components.strimzi`` builders for a region, their ordering (custom
resources wait for the operator and the certificate Secrets) and their protection: the namespace, the Kafka
resource, its node pools and its topics hold data, so they are protected (``protect``, per stack) and retained
in the cluster if they ever leave the program (``retainOnDelete``).

Deliberately not here: users (``components.users``), MirrorMaker (``components.replication``), providers
(passed in through ``opts.providers``) and certificate issuance (``components.pki``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import strimzi
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


def custom_resource(name: str, body: dict[str, Any], opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """Wrap a builder's manifest as a CustomResource (type token kubernetes:<group/version>:<Kind>)."""
    extra = {k: v for k, v in body.items() if k not in ("apiVersion", "kind", "metadata")}
    return k8s.apiextensions.CustomResource(
        name, api_version=body["apiVersion"], kind=body["kind"], metadata=body["metadata"], opts=opts, **extra
    )


def secret_resource(
    name: str, body: dict[str, Any], data: dict[str, pulumi.Input[str]], opts: pulumi.ResourceOptions
) -> k8s.core.v1.Secret:
    """Wrap a builder's Secret shape, filling ``stringData`` with values kept secret end to end."""
    # The Secret class marks the whole of stringData (and data) secret itself; wrapping each value again would
    # only add Outputs.
    return k8s.core.v1.Secret(name, metadata=body["metadata"], type=body["type"], string_data=data, opts=opts)


class RegionalCluster(pulumi.ComponentResource):
    """A Strimzi-managed Kafka cluster in one region."""

    cluster_name: pulumi.Output[str]
    """Name of the Kafka resource (the region code)."""
    namespace: pulumi.Output[str]
    """Namespace holding Kafka and the operator."""
    internal_bootstrap: pulumi.Output[str]
    """In-cluster TLS bootstrap address (SCRAM-SHA-512)."""
    external_bootstrap: pulumi.Output[str]
    """Public bootstrap address (TLS, SCRAM-SHA-512), the region's DNS name; resolvable once DNS exists."""
    kafka: k8s.apiextensions.CustomResource
    """The Kafka resource, for components that must wait for it."""

    def __init__(self, name: str, args: RegionalClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kafka-multiregion:index:RegionalCluster", name, None, opts)
        t = args.topology
        region = t.region(args.region)
        # Deleting the namespace deletes the volumes in it; it is as precious as the cluster. A region being
        # decommissioned gives up both protections, so removing it afterwards really removes it.
        guarded = t.protect and not region.decommission
        precious = pulumi.ResourceOptions(parent=self, protect=guarded, retain_on_delete=guarded)
        ns_body = strimzi.namespace(t, region)
        ns = k8s.core.v1.Namespace(f"{name}-namespace", metadata=ns_body["metadata"], opts=precious)

        operator = k8s.helm.v3.Release(
            f"{name}-strimzi",
            k8s.helm.v3.ReleaseArgs(
                name="strimzi-cluster-operator",
                chart=args.strimzi_chart,
                version=strimzi.STRIMZI_VERSION,
                namespace=region.namespace,
                values=strimzi.operator_values(),
                # Wait for the operator Deployment (and its CRDs) before any custom resource is sent.
                skip_await=False,
                atomic=True,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns]),
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        ca_body = strimzi.secret(t, region, strimzi.env_ca_secret(), "pki", ("ca.crt",))
        k8s.core.v1.Secret(
            f"{name}-env-ca", metadata=ca_body["metadata"], type="Opaque", string_data={"ca.crt": args.ca_cert_pem}, opts=in_ns
        )
        cert_body = strimzi.secret(t, region, strimzi.listener_cert_secret(region), "pki", ("tls.crt", "tls.key"))
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
        self.external_bootstrap = pulumi.Output.from_input(strimzi.external_bootstrap(t, region.name))
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "namespace": self.namespace,
                "internal_bootstrap": self.internal_bootstrap,
                "external_bootstrap": self.external_bootstrap,
            }
        )
