"""The schema registry of each registry region: builders and the component that registers them.

Owns: the bodies of the Apicurio Registry 3 objects in a region (the registry's storage topics as KafkaTopics,
the ``ApicurioRegistry3`` with KafkaSQL storage in the region's Kafka over its internal TLS listener as its own
SCRAM principal, read-only outside the writer region), that principal's least-privilege ACLs, the registry's
PodMonitor and alerts (registry up, the journal's replication against the RPO), the registry part of the
``clients`` output, and ``SchemaRegistryRegion``, the Pulumi component for one region.

Its Kafka is reached through the flavor (``components.variants``): its internal bootstrap, its CA and its
topics' bodies.

Deliberately not here: which regions run one and which writes (``stacks.model.registry``), the copying of the journal
(``components.engines.mirrormaker2``), names (``stacks.naming``), the Apicurio operator's own manifests (its pinned install
bundle, or the stack setting ``apicurioBundle``, applied as one ConfigFile).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import variants
from components.kube import Manifest, custom_resource, labels
from stacks import naming
from stacks.model import Topology, registry

APICURIO_API = "registry.apicur.io/v1"
APICURIO_VERSION = "3.3.1"
# The operator's install bundle at the release tag (CRD, RBAC, Deployment); the operator runs the registry image
# of the same version.
OPERATOR_BUNDLE = (
    "https://raw.githubusercontent.com/Apicurio/apicurio-registry/"
    f"v{APICURIO_VERSION}/operator/install/apicurio-registry-operator-{APICURIO_VERSION}.yaml"
)
API_PATH = "/apis/registry/v3"
# The operator's labels on the registry's pods (AppDeploymentDiscriminator).
POD_LABELS = {"app.kubernetes.io/name": "apicurio-registry", "app.kubernetes.io/component": "app"}
# What the registry checks at start on its journal and snapshots topics (it refuses to start otherwise).
STORAGE_TOPIC_CONFIG = {"cleanup.policy": "delete", "retention.bytes": -1, "retention.ms": -1}
READ = ["Describe", "DescribeConfigs", "Read"]


def _acl(rtype: str, name: str, pattern: str, ops: list[str]) -> dict[str, Any]:
    return {
        "type": "allow",
        "resource": {"type": rtype, "name": name, "patternType": pattern},
        "operations": sorted(ops),
        "host": "*",
    }


def principal_acls(topology: Topology, region: str) -> list[dict[str, Any]]:
    """What the registry's principal may do in ``region``; nothing more.

    Its topics exist as KafkaTopics, so it never creates one. It describes them and their configs (checked at
    start) and reads the journal and snapshots. Every registry writes a bootstrap marker into its journal at
    start and waits to read it back, so even a read-only one writes there (its copy of the journal goes nowhere:
    only flows leaving the writer carry it). Only the writer writes snapshots and events. Its consumer groups
    are a fresh UUID behind a fixed prefix on every start.
    """
    writer = not registry.read_only(topology, region)
    journal, snapshots, events = naming.REGISTRY_TOPICS
    return [
        _acl("topic", journal, "literal", [*READ, "Write"]),
        _acl("topic", snapshots, "literal", [*READ, "Write"] if writer else READ),
        _acl("topic", events, "literal", ["Describe", "DescribeConfigs", "Write"] if writer else ["Describe", "DescribeConfigs"]),
        _acl("group", naming.registry_group_prefix(), "prefix", ["Describe", "Read"]),
    ]


def topics(topology: Topology, region: str) -> list[Manifest]:
    """The registry's three topics in ``region``, one partition each (the journal is one ordered log)."""
    r = topology.region(region)
    replicas = min(3, r.kafka.brokers)
    out = []
    for name in naming.REGISTRY_TOPICS:
        spec: dict[str, Any] = {"partitions": 1, "replicas": replicas}
        if name in naming.REGISTRY_REPLICATED_TOPICS:
            spec["config"] = dict(STORAGE_TOPIC_CONFIG)
        out.append(variants.flavor(topology).kafka_topic(topology, r, name, "schema-registry", spec))
    return out


def host(topology: Topology, region: str) -> str:
    return registry.regional_dns_name(topology, region)


def apicurio_registry(topology: Topology, region: str) -> Manifest:
    """The region's ApicurioRegistry3: KafkaSQL in the region's Kafka, SCRAM-SHA-512 over TLS (by env vars, which
    the operator leaves alone), the topics pre-created, read-only outside the writer."""
    assert topology.schema_registry is not None
    r = topology.region(region)
    flavor = variants.flavor(topology)
    ca = flavor.cluster_ca_secret(r)
    journal, snapshots, events = naming.REGISTRY_TOPICS
    env: list[dict[str, Any]] = [
        {"name": "APICURIO_KAFKA_COMMON_SECURITY_PROTOCOL", "value": "SASL_SSL"},
        {"name": "APICURIO_KAFKA_COMMON_SASL_MECHANISM", "value": "SCRAM-SHA-512"},
        {
            # The User Operator writes sasl.jaas.config into the Secret named after the KafkaUser.
            "name": "APICURIO_KAFKA_COMMON_SASL_JAAS_CONFIG",
            "valueFrom": {"secretKeyRef": {"name": naming.REGISTRY_PRINCIPAL, "key": "sasl.jaas.config"}},
        },
        {"name": "APICURIO_KAFKASQL_TOPIC", "value": journal},
        {"name": "APICURIO_KAFKASQL_SNAPSHOTS_TOPIC", "value": snapshots},
        {"name": "APICURIO_EVENTS_KAFKA_TOPIC", "value": events},
        {"name": "APICURIO_KAFKASQL_TOPIC_AUTO_CREATE", "value": "false"},
        {"name": "APICURIO_KAFKASQL_CONSUMER_GROUP_PREFIX", "value": naming.registry_group_prefix()},
        {"name": "APICURIO_STORAGE_READ_ONLY_ENABLED", "value": str(registry.read_only(topology, region)).lower()},
    ]
    body: Manifest = {
        "apiVersion": APICURIO_API,
        "kind": "ApicurioRegistry3",
        "metadata": {
            "name": naming.REGISTRY_RESOURCE,
            "namespace": r.namespace,
            "labels": {**labels(topology, region, "schema-registry"), "kafka-multiregion.io/writer": registry.writer(topology)},
            # `pulumi up` waits until the operator reports the registry Ready (its Deployment available): what
            # reads its Ingress for DNS, and an operator reading the stack's outputs, see a running registry.
            "annotations": {"pulumi.com/waitFor": "condition=Ready"},
        },
        "spec": {
            "app": {
                "replicas": topology.schema_registry.replicas,
                "storage": {
                    "type": "kafkasql",
                    "kafkasql": {
                        "bootstrapServers": flavor.internal_bootstrap(r),
                        "tls": {
                            "truststoreSecretRef": {"name": ca, "key": "ca.p12"},
                            "truststorePasswordSecretRef": {"name": ca, "key": "ca.password"},
                        },
                    },
                },
                "env": env,
                "ingress": {"host": host(topology, region)},
            },
            "ui": {"enabled": False},
        },
    }
    if auth := app_auth(topology):
        body["spec"]["app"]["auth"] = auth
    return body


def app_auth(topology: Topology) -> dict[str, Any] | None:
    """``spec.app.auth`` with an ``auth`` section: OIDC bearer tokens from the declared realm, no anonymous calls,
    reads for every authenticated client and writes for the realm role ``sr-developer`` (roles from the token)."""
    assert topology.schema_registry is not None
    auth = topology.schema_registry.auth
    if auth is None:
        return None
    return {
        "enabled": True,
        "appClientId": auth.registry_client_id,
        "authServerUrl": auth.issuer,
        "anonymousReadsEnabled": False,
        "authz": {"enabled": True, "readAccessEnabled": True, "roles": {"source": "token"}},
    }


# ------------------------------------------------------------------------------------------ monitoring


def pod_monitor(topology: Topology, region: str) -> Manifest:
    r = topology.region(region)
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {
            "name": naming.REGISTRY_RESOURCE,
            "namespace": r.namespace,
            "labels": labels(topology, region, "monitoring"),
        },
        "spec": {
            "selector": {"matchLabels": dict(POD_LABELS)},
            "namespaceSelector": {"matchNames": [r.namespace]},
            "podMetricsEndpoints": [{"port": "http", "path": "/q/metrics", "interval": "30s"}],
        },
    }


def prometheus_rule(topology: Topology, region: str) -> Manifest:
    """Registry up; in a read-only region, the journal's copy from the writer against the RPO."""
    r = topology.region(region)
    job = f"{r.namespace}/{naming.REGISTRY_RESOURCE}"
    rpo_ms = topology.rpo_seconds * 1000
    rules = [
        {
            "alert": "SchemaRegistryDown",
            "expr": f'(sum(up{{job="{job}"}}) or vector(0)) == 0',
            "for": "2m",
            "labels": {"severity": "critical"},
            "annotations": {"summary": f"No schema registry pod of {region} answers its metrics endpoint"},
        }
    ]
    if registry.read_only(topology, region):
        topics = "|".join(naming.REGISTRY_REPLICATED_TOPICS)
        rules += [
            {
                "alert": "SchemaRegistryJournalAboveRpo",
                "expr": (
                    f'max by (topic) (kafka_connect_mirror_source_connector_replication_latency_ms_max{{target="{region}", '
                    f'topic=~"{topics}"}}) > {rpo_ms}'
                ),
                "for": "2m",
                "labels": {"severity": "critical"},
                "annotations": {
                    "summary": f"Schemas registered in {registry.writer(topology)} reach {region} later than the RPO "
                    f"({topology.rpo_seconds} s): its registry serves stale IDs"
                },
            },
            {
                "alert": "SchemaRegistryJournalNotCopied",
                "expr": f'absent(kafka_connect_mirror_source_connector_replication_latency_ms_max{{target="{region}", topic="{naming.REGISTRY_JOURNAL_TOPIC}"}})',
                "for": "10m",
                "labels": {"severity": "warning"},
                "annotations": {"summary": f"No copy of the registry journal into {region} has been measured for 10 minutes"},
            },
        ]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": naming.REGISTRY_RESOURCE,
            "namespace": r.namespace,
            "labels": labels(topology, region, "monitoring"),
        },
        "spec": {"groups": [{"name": f"schema-registry-{region}", "rules": rules}]},
    }


# ------------------------------------------------------------------------------------------ clients


def client_settings(topology: Topology, user: str) -> dict[str, Any] | None:
    """The registry ``user`` uses: under the shared name where it answers with the writer (active-passive, hub:
    it fails over with the cluster), else the writer's regional name (several regions answer the shared name
    there, and only the writer's registry accepts new schemas). Every registry region serves reads. With an
    ``auth`` section, the serdes' client-credentials settings too, but not the secret (the component adds it)."""
    if not registry.enabled(topology):
        return None
    name = registry.shared_dns_name(topology) or host(topology, registry.writer(topology))
    properties = {"apicurio.registry.url": f"https://{name}{API_PATH}"}
    if endpoint := registry.token_endpoint(topology):
        properties |= {"apicurio.registry.auth.service.token.endpoint": endpoint, "apicurio.registry.auth.client.id": user}
    return {
        "url": f"https://{name}{API_PATH}",
        "regional_urls": {r: f"https://{host(topology, r)}{API_PATH}" for r in registry.regions(topology)},
        "writer": registry.writer(topology),
        "properties": properties,
    }


class SettingError(ValueError):
    """A stack setting the topology needs is missing or unsafe (the program reports it without a traceback)."""


def client_secrets(topology: Topology, config: pulumi.Config) -> dict[str, pulumi.Output[str]]:
    """Each application user's client secret in the registry's realm, from the secret stack setting
    ``registryClientSecrets`` (a map user -> secret); {} without an ``auth`` section. Read once here, checked
    against the users, and held as Pulumi secrets from then on."""
    sr = topology.schema_registry
    if sr is None or sr.auth is None or not topology.users:
        return {}
    key = registry.CLIENT_SECRETS_SETTING
    how = f"pulumi config set --secret --path '{key}.<user>' <the client secret from the realm>"
    given = config.get_object(key)
    if given is None:
        raise SettingError(f"schema_registry.auth needs {key}: one client secret per application user; run `{how}`")
    if not isinstance(given, dict) or not all(isinstance(v, str) and v for v in given.values()):
        raise SettingError(f"{key} must map each application user to its client secret; run `{how}`")
    if not pulumi.runtime.is_config_secret(config.full_key(key)):
        raise SettingError(f"{key} is stored in plain text; remove it and set it again with `{how}`")
    missing, unknown = sorted(set(topology.users) - set(given)), sorted(set(given) - set(topology.users))
    if missing:
        raise SettingError(f"{key} has no client secret for {', '.join(missing)}; run `{how}`")
    if unknown:
        raise SettingError(
            f"{key} names {', '.join(unknown)}, not users of the topology; remove them (users: {sorted(topology.users)})"
        )
    return {u: pulumi.Output.secret(given[u]) for u in sorted(topology.users)}


# ------------------------------------------------------------------------------------------ component


@dataclass(frozen=True)
class SchemaRegistryRegionArgs:
    topology: Topology
    region: str
    depends_on: list[pulumi.Resource]  # the region's users (the registry's KafkaUser) and its Kafka
    operator_bundle: str = OPERATOR_BUNDLE  # the stack setting apicurioBundle: a local file or a mirror's URL


class SchemaRegistryRegion(pulumi.ComponentResource):
    """The Apicurio operator, the registry's topics, the ApicurioRegistry3 and its monitoring in one region."""

    url: pulumi.Output[str]
    """The region's registry API."""
    registry: pulumi.CustomResource
    """The ApicurioRegistry3 (Ready once the operator's Deployment is available and its Ingress exists)."""

    def __init__(self, name: str, args: SchemaRegistryRegionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kafka-multiregion:index:SchemaRegistryRegion", name, None, opts)
        t, region = args.topology, args.region
        r = t.region(region)
        guarded = t.protect and not r.decommission
        # The journal is the registry's whole state: as precious as the application topics.
        precious = pulumi.ResourceOptions(parent=self, protect=guarded, retain_on_delete=guarded, depends_on=args.depends_on)
        for body in topics(t, region):
            custom_resource(f"{name}-topic-{body['metadata']['name']}", body, precious)
        operator = k8s.yaml.v2.ConfigFile(f"{name}-operator", file=args.operator_bundle, opts=pulumi.ResourceOptions(parent=self))
        self.registry = custom_resource(
            f"{name}-registry",
            apicurio_registry(t, region),
            pulumi.ResourceOptions(parent=self, depends_on=[operator, *args.depends_on]),
        )
        if t.monitoring_enabled:
            # In the region's namespace: after it exists (the users wait for the Kafka, which waits for it).
            after = pulumi.ResourceOptions(parent=self, depends_on=args.depends_on)
            custom_resource(f"{name}-podmonitor", pod_monitor(t, region), after)
            custom_resource(f"{name}-rules", prometheus_rule(t, region), after)
        self.url = pulumi.Output.from_input(f"https://{host(t, region)}{API_PATH}")
        self.register_outputs({"url": self.url})
