"""The confluent flavor: one region run by Confluent for Kubernetes, as Pulumi resources.

Owns: ``ConfluentCluster`` (namespace, the CFK operator from its Helm chart, the listener certificate with the
environment CA, the listeners' SASL/PLAIN user list, the Admin REST credentials, the password encoder that cluster
links' credentials are stored with, the KRaftController, the Kafka, the KafkaRestClass and the hosted topics, with
the same protection as the Strimzi flavor) and ``ConfluentUsers``
(the ACL job of ``.bodies``). Topics a cluster link mirrors into the region are the link's (a mirror
topic cannot be created over an existing topic), so they get no KafkaTopic here.

Deliberately not here: the bodies (``.bodies``), who exists with which ACLs (``components.access``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import kube, variants
from components.access import principals_in
from components.flavors.base import RegionalKafka, RegionBuilt, RegionContext
from components.flavors.confluent import bodies as confluent
from components.kube import custom_resource, secret_resource
from stacks import naming
from stacks.model import ADMIN_USER, Region, Topology

# As the Strimzi flavor's (components.flavors.strimzi.flavor: why rebootstrap and nothing more), with this flavor's mechanism.
CLIENT_PROPERTIES = {
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "PLAIN",  # CFK 2.9.3 listeners have no SCRAM; PLAIN is only ever sent inside TLS
    "metadata.recovery.strategy": "rebootstrap",
    "client.dns.lookup": "use_all_dns_ips",
    "ssl.endpoint.identification.algorithm": "https",
}


def mirrored_into(topology: Topology, region: str) -> frozenset[str]:
    """Topic names a cluster link creates in ``region`` (as mirror topics)."""
    return frozenset(t for f in variants.engine(topology).flows(topology) if f.target == region for t in f.remote_topics)


def _secret(topology: Topology, region: Region, name: str, keys: tuple[str, ...]) -> dict[str, Any]:
    return kube.secret(topology, region, name, "pki" if name == naming.CFK_TLS_SECRET else "user", keys)


class ConfluentCluster(RegionalKafka):
    """A Confluent-for-Kubernetes-managed Kafka cluster in one region (its outputs: ``RegionalKafka``)."""

    def __init__(self, name: str, ctx: RegionContext, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kafka-multiregion:index:ConfluentCluster", name, None, opts)
        t = ctx.topology
        region = t.region(ctx.region)
        precious = kube.protected(t, region, self)  # the namespace and what holds data: see kube.protected
        ns = kube.namespace_resource(name, t, region, precious)
        chart, repo = confluent.chart_source(ctx.chart or confluent.CFK_REPO)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        operator = kube.operator(
            f"{name}-cfk", region, release="confluent-operator", chart=chart,
            version=confluent.CFK_CHART_VERSION_PINNED, values=confluent.operator_values(region), opts=in_ns, repo=repo,
        )  # fmt: skip
        pw = ctx.passwords
        admin = pw[ADMIN_USER]
        names = [p.name for p in principals_in(t, region.name)]
        # The key a cluster link's credentials are encrypted with on this cluster: stable in the state, never shown.
        encoder = random.RandomPassword(
            f"{name}-password-encoder",
            random.RandomPasswordArgs(length=32, special=False),
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["result"]),
        )
        secrets = [
            secret_resource(
                f"{name}-tls",
                _secret(t, region, naming.CFK_TLS_SECRET, ("fullchain.pem", "privkey.pem", "cacerts.pem")),
                {
                    "fullchain.pem": ctx.listener_cert_chain_pem,
                    "privkey.pem": ctx.listener_private_key_pem,
                    "cacerts.pem": ctx.ca_cert_pem,
                },
                in_ns,
            ),
            secret_resource(
                f"{name}-plain-users",
                _secret(t, region, naming.CFK_USERS_SECRET, ("plain-users.json",)),
                {
                    "plain-users.json": pulumi.Output.all(*(pw[n] for n in names)).apply(
                        lambda values: confluent.plain_users(dict(zip(names, values, strict=True)))
                    )
                },
                in_ns,
            ),
            secret_resource(
                f"{name}-rest-users",
                _secret(t, region, naming.CFK_REST_USERS_SECRET, ("basic.txt",)),
                {"basic.txt": admin.apply(confluent.basic_users)},
                in_ns,
            ),
            secret_resource(
                f"{name}-password-encoder",
                _secret(t, region, naming.CFK_PASSWORD_ENCODER_SECRET, ("password-encoder.txt",)),
                {"password-encoder.txt": encoder.result.apply(confluent.password_encoder)},
                in_ns,
            ),
            secret_resource(
                f"{name}-rest-client",
                _secret(t, region, naming.CFK_REST_CLIENT_SECRET, ("basic.txt",)),
                {"basic.txt": admin.apply(functools.partial(confluent.plain_login, ADMIN_USER))},
                in_ns,
            ),
        ]
        in_namespace = ctx.in_namespace(ns) if ctx.in_namespace else []
        after_operator = [operator, *secrets, *in_namespace]
        kraft = custom_resource(
            f"{name}-kraft",
            confluent.kraft_controller(t, region),
            pulumi.ResourceOptions.merge(precious, pulumi.ResourceOptions(depends_on=after_operator)),
        )
        self.kafka = custom_resource(
            f"{name}-kafka",
            confluent.kafka(t, region),
            pulumi.ResourceOptions.merge(precious, pulumi.ResourceOptions(depends_on=[*after_operator, kraft])),
        )
        rest = custom_resource(
            f"{name}-rest-class",
            confluent.kafka_rest_class(t, region),
            pulumi.ResourceOptions(parent=self, depends_on=[self.kafka]),
        )
        mirrors = mirrored_into(t, region.name)
        for topic in t.topics_in(region.name):
            if topic in mirrors:
                continue
            custom_resource(
                f"{name}-topic-{topic}",
                confluent.topic(t, region, topic),
                pulumi.ResourceOptions.merge(precious, pulumi.ResourceOptions(depends_on=[self.kafka, rest])),
            )
        self.cluster_name = pulumi.Output.from_input(region.cluster_name)
        self.namespace = pulumi.Output.from_input(region.namespace)
        self.internal_bootstrap = pulumi.Output.from_input(confluent.internal_bootstrap(region))
        self.external_bootstrap = pulumi.Output.from_input(kube.external_bootstrap(t, region.name))
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "namespace": self.namespace,
                "internal_bootstrap": self.internal_bootstrap,
                "external_bootstrap": self.external_bootstrap,
            }
        )


@dataclass(frozen=True)
class ConfluentUsersArgs:
    ctx: RegionContext
    kafka: pulumi.Resource


class ConfluentUsers(pulumi.ComponentResource):
    """Every principal's ACLs and quotas in one region, applied by a Job as the admin (CFK has neither resource without RBAC)."""

    def __init__(self, name: str, args: ConfluentUsersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kafka-multiregion:index:ConfluentUsers", name, None, opts)
        t = args.ctx.topology
        region = t.region(args.ctx.region)
        principals = principals_in(t, region.name)
        commands = [c for p in principals if p.acls for c in confluent.acl_commands(region, p.name, p.acls)]
        quotas = [confluent.quota_command(p.name, p.quotas) for p in principals if p.quotas is not None and not p.quotas.empty]
        script = confluent.acl_script(region, commands, quotas)
        after_kafka = pulumi.ResourceOptions(parent=self, depends_on=[args.kafka])
        body = confluent.acl_config_map(t, region, script)
        script_map = k8s.core.v1.ConfigMap(f"{name}-acls", metadata=body["metadata"], data=body["data"], opts=after_kafka)
        login = secret_resource(
            f"{name}-admin-client",
            _secret(t, region, naming.CFK_ADMIN_CLIENT_SECRET, ("client.properties",)),
            {"client.properties": args.ctx.passwords[ADMIN_USER].apply(confluent.admin_client_properties)},
            after_kafka,
        )
        job = confluent.acl_job(t, region, script)
        k8s.batch.v1.Job(
            f"{name}-acl-job",
            metadata=job["metadata"],
            spec=job["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.kafka, script_map, login], delete_before_replace=True),
        )
        self.register_outputs({})


class Confluent:
    name = "confluent"
    client_properties = CLIENT_PROPERTIES
    chart_setting = "cfkChart"

    def build_region(self, ctx: RegionContext, opts: pulumi.ResourceOptions) -> RegionBuilt:
        cluster = ConfluentCluster(ctx.region, ctx, opts)
        users = ConfluentUsers(f"{ctx.region}-users", ConfluentUsersArgs(ctx=ctx, kafka=cluster.kafka), opts)
        return RegionBuilt(cluster, users)

    def bootstrap_service(self, region: Region) -> str:
        return confluent.bootstrap_service(region)

    def broker_service(self, region: Region, broker: int) -> str:
        return confluent.broker_service(region, broker)

    def pod_monitors(self, topology: Topology, region: Region) -> list[dict[str, Any]]:
        relabel = [
            {"sourceLabels": ["__meta_kubernetes_namespace"], "targetLabel": "namespace", "action": "replace"},
            {"sourceLabels": ["__meta_kubernetes_pod_name"], "targetLabel": "kubernetes_pod_name", "action": "replace"},
            {"targetLabel": "kafka_region", "replacement": region.name, "action": "replace"},
        ]
        return [
            {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "PodMonitor",
                "metadata": {
                    "name": "confluent-kafka",
                    "namespace": region.namespace,
                    "labels": kube.labels(topology, region.name, "monitoring"),
                },
                "spec": {
                    "selector": {"matchLabels": {"platform.confluent.io/type": "kafka"}},
                    "namespaceSelector": {"matchNames": [region.namespace]},
                    "podMetricsEndpoints": [{"path": "/", "port": "prometheus", "relabelings": relabel}],
                },
            }
        ]

    def internal_bootstrap(self, region: Region) -> str:
        return confluent.internal_bootstrap(region)

    # The schema registry is the only reader of these two, and it runs on Strimzi only: it needs MirrorMaker 2
    # to copy its journal, and MirrorMaker 2 runs next to Strimzi clusters (the model refuses the rest).
    def cluster_ca_secret(self, region: Region) -> str:
        raise NotImplementedError("the schema registry runs on the strimzi flavor only (stacks rules refuse it here)")

    def kafka_topic(self, topology: Topology, region: Region, name: str, component: str, spec: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError("the schema registry runs on the strimzi flavor only (stacks rules refuse it here)")


FLAVOR = Confluent()
