"""The whole multi-region estate of one environment: the top component the program builds.

Owns: the composition: credentials and PKI once per environment; per region a cluster and its users (with
that region's providers), built by the topology's cluster flavor (``components.flavors``); the replication
engine's flows (``components.engines``: MirrorMaker 2 or Cluster Linking); and the outputs a platform team
needs (per region bootstrap addresses, the CA, per user connection settings).
Logical names come from the topology (region, flow, user names), so adding a region, topic or user never
changes the URN of anything that exists.

Deliberately not here: building providers (``components.providers``, called by ``__main__``), resource
bodies (the builder modules).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import registry, variants
from components.credentials import Credentials, CredentialsArgs
from components.dns import Dns, DnsArgs
from components.engines.base import BuildContext
from components.flavors.base import RegionalKafka, RegionContext
from components.observability import Observability, ObservabilityArgs
from components.pki import Pki, PkiArgs
from components.providers import Providers
from stacks.model import Topology
from stacks.model import registry as registry_model

__all__ = ["KafkaEstate", "KafkaEstateArgs", "client_settings"]


@dataclass(frozen=True)
class KafkaEstateArgs:
    topology: Topology
    providers: Providers
    # The stack settings naming the operator charts (see __main__); empty: the chart the flavor pins.
    strimzi_chart: str = ""  # strimziChart
    apicurio_bundle: str = registry.OPERATOR_BUNDLE  # the stack setting apicurioBundle (see __main__)
    cfk_chart: str = ""  # cfkChart
    # User -> its client secret in the registry's OIDC realm (Pulumi secrets; registry.client_secrets), with
    # schema_registry.auth; empty otherwise.
    registry_client_secrets: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)


def client_settings(topology: Topology, user: str) -> dict[str, Any]:
    """Connection settings of an application user (no password, no CA: the component adds both as outputs).

    The bootstrap names are ``Topology.client_bootstrap``'s and ``client_bootstrap_by_region``'s: each names one
    cluster (the shared name DNS gates, or one region's), and only names that reach regions where the user exists.
    """
    schema_registry = registry.client_settings(topology, user)
    flavor = variants.flavor(topology)  # the SASL mechanism its listeners take
    port = topology.client_port
    return {
        "bootstrap_servers": f"{topology.client_bootstrap(user)}:{topology.shared_client_port}",
        "bootstrap_servers_by_region": {r: f"{n}:{port(r)}" for r, n in topology.client_bootstrap_by_region(user).items()},
        "regions": list(topology.user_regions(user)),
        "username": user,
        "properties": dict(flavor.client_properties),
        **({"schema_registry": schema_registry} if schema_registry else {}),
    }


class KafkaEstate(pulumi.ComponentResource):
    """Every region's Kafka, users, certificates and replication for one environment."""

    ca_cert_pem: pulumi.Output[str]
    """The environment CA (PEM): the one bundle clients and MirrorMaker trust in every region."""
    regions: dict[str, dict[str, pulumi.Output[str]]]
    """Per region: cluster name, namespace, internal and external bootstrap addresses."""
    clients: dict[str, dict[str, Any]]
    """Per application user: its bootstrap (one cluster: the name DNS gates, or one region's), one bootstrap per
    region, SASL settings, client properties, CA, and the password as a
    secret. A plain mapping of outputs, so only the password is secret, not the whole entry."""
    flows: pulumi.Output[list[str]]
    """Replication flows as 'source -> target'."""
    endpoints: dict[str, pulumi.Output[str]]
    """Region → the load-balancer hostname its DNS names point at (known once the cluster is up)."""

    def __init__(
        self,
        name: str,
        args: KafkaEstateArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("kafka-multiregion:index:KafkaEstate", name, None, opts)
        self._compose(args)
        self.register_outputs(
            {
                "ca_cert_pem": self.ca_cert_pem,
                "regions": self.regions,
                "clients": self.clients,
                "flows": self.flows,
            }
        )

    def _compose(self, args: KafkaEstateArgs) -> None:
        """Everything the estate holds, as children of this (registered) component, and its outputs. Apart from
        ``__init__`` for the component package (``components.package``), which registers the component, then its
        providers as its children, then composes exactly this."""
        t = args.topology
        credentials = Credentials(
            "credentials",
            CredentialsArgs(topology=t),
            pulumi.ResourceOptions(parent=self),
        )
        pki = Pki("pki", PkiArgs(topology=t), pulumi.ResourceOptions(parent=self))
        clusters: dict[str, RegionalKafka] = {}
        users: dict[str, pulumi.Resource] = {}
        observability: dict[str, Observability] = {}
        flavor = variants.flavor(t)
        for region in t.region_names:
            p = args.providers.regions[region]
            in_region = pulumi.ResourceOptions(parent=self, providers=p.all)

            def observe(
                namespace: pulumi.Resource, region: str = region, in_region: pulumi.ResourceOptions = in_region
            ) -> list[pulumi.Resource]:
                # Built once the region's namespace exists: its objects live in it (the API server refuses them
                # before), and the Kafka waits for the exporter-rule ConfigMaps it references.
                observability[region] = Observability(
                    f"{region}-monitoring", ObservabilityArgs(topology=t, region=region, namespace=namespace), in_region
                )
                return list(observability[region].metrics_config_maps)

            cert = pki.listener_certs[region]
            built = flavor.build_region(
                RegionContext(
                    topology=t,
                    region=region,
                    ca_cert_pem=pki.ca_cert_pem,
                    listener_cert_chain_pem=cert.cert_chain_pem,
                    listener_private_key_pem=cert.private_key_pem,
                    passwords=credentials.passwords,
                    in_namespace=observe if t.monitoring_enabled else None,
                    chart={"strimziChart": args.strimzi_chart, "cfkChart": args.cfk_chart}.get(flavor.chart_setting, ""),
                ),
                in_region,
            )
            clusters[region], users[region] = built.cluster, built.users
        engine = variants.engine(t)
        engine.build(
            t,
            BuildContext(
                parent=self,
                providers={r: args.providers.regions[r].all for r in t.region_names},
                users=users,
                metrics={r: list(o.metrics_config_maps) for r, o in observability.items()},
                clusters={r: c.kafka for r, c in clusters.items()},
                passwords=credentials.passwords,
            ),
        )
        registries: dict[str, pulumi.CustomResource] = {}
        for region in registry_model.regions(t):
            registries[region] = registry.SchemaRegistryRegion(
                f"{region}-schema-registry",
                registry.SchemaRegistryRegionArgs(
                    topology=t, region=region, depends_on=[users[region]], operator_bundle=args.apicurio_bundle
                ),
                pulumi.ResourceOptions(parent=self, providers=args.providers.regions[region].all),
            ).registry
        runs = engine.flows(t)
        if t.dns is not None:
            dns = Dns(
                "dns",
                DnsArgs(
                    topology=t,
                    providers=args.providers,
                    kafkas={r: c.kafka for r, c in clusters.items()},
                    registries=registries,
                ),
                pulumi.ResourceOptions(parent=self),
            )
            self.endpoints = dns.endpoints
        else:
            # DNS managed elsewhere: the names it publishes (the model requires one per region).
            self.endpoints = {r: pulumi.Output.from_input(t.region_dns_name(r)) for r in t.region_names}
        self.ca_cert_pem = pki.ca_cert_pem
        self.regions = {
            r: {
                "cluster_name": c.cluster_name,
                "namespace": c.namespace,
                "internal_bootstrap": c.internal_bootstrap,
                "external_bootstrap": c.external_bootstrap,
            }
            for r, c in clusters.items()
        }
        self.clients = {}
        for u in sorted(t.users):
            entry = {**client_settings(t, u), "ca_cert_pem": pki.ca_cert_pem, "password": credentials.passwords[u]}
            if u in args.registry_client_secrets:
                entry["schema_registry"] = {**entry["schema_registry"], "client_secret": args.registry_client_secrets[u]}
            self.clients[u] = entry
        self.flows = pulumi.Output.from_input([f"{r.source} -> {r.target}" for r in runs])
