"""The typed topology model: what one environment's declaration may say, and every rule it must obey.

Owns: the pydantic v2 classes that a stack file is read into, their defaults, and all cross-field rules
(roles versus architecture, replication factors versus broker counts, residency, RPO arithmetic, DNS zone
containment, names that must be valid in Kubernetes and Strimzi). Derived facts that several components
need (which regions host a topic, which replication flows exist) live here too, as pure methods, so the
program, the tools and the tests agree on them.

Deliberately not here: reading files and turning errors into messages (``stacks.loader``), and anything
that knows about Pulumi or deploy-time values. A model instance is plain, frozen data.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from enum import StrEnum
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from stacks import naming, ownership
from stacks.base import CPU_RE, QUANTITY_RE, ReplicationPolicy, Resources, Strict
from stacks.registry import SchemaRegistry
from stacks.replication import (
    DEFAULT_RPO_SECONDS,
    DEFAULT_RTO_SECONDS,
    ClusterLinkingReplication,
    Flow,
    HeaderFilter,
    MirrorMaker2Replication,
    Objectives,
    OffsetSync,
    Replication,
    ReplicationQuota,
)

# Re-exported: the replication section and the shared shapes moved to their own modules.
__all__ = [
    "CPU_RE",
    "QUANTITY_RE",
    "ClusterLinkingReplication",
    "Flow",
    "HeaderFilter",
    "MirrorMaker2Replication",
    "Objectives",
    "OffsetSync",
    "Replication",
    "ReplicationPolicy",
    "ReplicationQuota",
    "Resources",
    "Strict",
]

# Strimzi 1.2.0 runs these Kafka versions (kafka-versions.yaml at tag 1.2.0).
KAFKA_VERSIONS = ("4.2.0", "4.2.1", "4.3.0", "4.3.1")
DEFAULT_KAFKA_VERSION = "4.3.1"

# Principals the project creates itself; an application user may not take these names.
ADMIN_USER = naming.ADMIN_USER
OPERATOR_USER = naming.OPERATOR_USER
SUPER_USERS = naming.SUPER_USERS
RESERVED_USER_PREFIXES = ("mirrormaker-", "mm2-", "strimzi-", "kafka-")

AWS_REGION_RE = re.compile(
    r"^(us|eu|ap|sa|ca|me|af|il|mx)(-gov)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9]$"
)
DNS1123_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Kafka topic names: legal characters, at most 249; Strimzi also needs a DNS-1123 resource name, which
# we derive from it (see ``Topic.resource_name``), so only the Kafka rule applies to the name itself.
TOPIC_NAME_RE = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
DNS_NAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


# Kafka's own configuration keys, read from the 4.3.1 jars by tests/kafka_facts/KafkaConfigKeys.java
# (``make kafka-keys``); a test holds the file equal to what the jars say. Kafka refuses a topic with an unknown
# key and silently ignores an unknown broker key, so both are checked here, where the typo can still be named.
KAFKA_KEYS_FILE = Path(__file__).with_name("kafka_config_keys.json")
# Broker keys read by plugins rather than Kafka's own ConfigDef: not checkable against it, so let through.
BROKER_PLUGIN_PREFIXES = ("remote.log.storage.", "remote.log.metadata.", "config.providers.", "client.quota.callback.")


@cache
def kafka_config_keys(kind: Literal["topic", "broker"]) -> frozenset[str]:
    data = json.loads(KAFKA_KEYS_FILE.read_text())
    return frozenset(k["name"] for k in data[kind])


def unknown_key_hint(key: str, kind: Literal["topic", "broker"]) -> str:
    close = difflib.get_close_matches(key, sorted(kafka_config_keys(kind)), n=1, cutoff=0.75)
    return f"did you mean {close[0]!r}?" if close else f"see the {kind} configs of Kafka {DEFAULT_KAFKA_VERSION}"


class Architecture(StrEnum):
    ACTIVE_PASSIVE = "active-passive"
    ACTIVE_ACTIVE = "active-active"
    AGGREGATION_HUB = "aggregation-hub"
    PARTITIONED_DOMAIN = "partitioned-domain"


class Role(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    ACTIVE = "active"
    HUB = "hub"
    EDGE = "edge"
    DOMAIN = "domain"


ROLES_BY_ARCHITECTURE: dict[Architecture, frozenset[Role]] = {
    Architecture.ACTIVE_PASSIVE: frozenset({Role.PRIMARY, Role.SECONDARY}),
    Architecture.ACTIVE_ACTIVE: frozenset({Role.ACTIVE}),
    Architecture.AGGREGATION_HUB: frozenset({Role.HUB, Role.EDGE}),
    Architecture.PARTITIONED_DOMAIN: frozenset({Role.DOMAIN}),
}


class Tier(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class ListenerType(StrEnum):
    LOADBALANCER = "loadbalancer"
    NODEPORT = "nodeport"
    ROUTE = "route"
    INGRESS = "ingress"
    CLUSTER_IP = "cluster-ip"


class KeyAlgorithm(StrEnum):
    ECDSA = "ECDSA"
    RSA = "RSA"


class AclResourceType(StrEnum):
    TOPIC = "topic"
    GROUP = "group"
    CLUSTER = "cluster"
    TRANSACTIONAL_ID = "transactionalId"


class PatternType(StrEnum):
    LITERAL = "literal"
    PREFIX = "prefix"


class AclOperation(StrEnum):
    READ = "Read"
    WRITE = "Write"
    CREATE = "Create"
    DELETE = "Delete"
    ALTER = "Alter"
    DESCRIBE = "Describe"
    CLUSTER_ACTION = "ClusterAction"
    ALTER_CONFIGS = "AlterConfigs"
    DESCRIBE_CONFIGS = "DescribeConfigs"
    IDEMPOTENT_WRITE = "IdempotentWrite"
    ALL = "All"


class AclEffect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class HealthCheckKind(StrEnum):
    TCP = "tcp"
    CLOUDWATCH = "cloudwatch"


# --------------------------------------------------------------------------------------------- regions


class KubeconfigAccess(Strict):
    """Reach the region's Kubernetes cluster with a kubeconfig held in a Pulumi secret config key."""

    kind: Literal["kubeconfig"] = "kubeconfig"
    secret_key: str = Field(
        pattern=r"^[a-zA-Z][a-zA-Z0-9_.-]{0,99}$",
        description="Pulumi config key (set with `pulumi config set --secret KEY`) holding the kubeconfig.",
    )


class ContextAccess(Strict):
    """Reach the region's Kubernetes cluster through a named context of the operator's kubeconfig."""

    kind: Literal["context"] = "context"
    context: str = Field(min_length=1, max_length=253, description="kubeconfig context name.")


KubernetesAccess = Annotated[KubeconfigAccess | ContextAccess, Field(discriminator="kind")]


class Storage(Strict):
    size: str = Field(default="100Gi", pattern=QUANTITY_RE.pattern, description="Persistent volume size per broker.")
    storage_class: str | None = Field(
        default=None,
        max_length=253,
        pattern=DNS1123_SUBDOMAIN_RE.pattern,
        description="StorageClass of the broker volumes (a Kubernetes object name); the cluster default when unset.",
    )


class KafkaCluster(Strict):
    """One region's Kafka cluster, in KRaft mode, run by Strimzi."""

    version: str = Field(
        default=DEFAULT_KAFKA_VERSION, description=f"Kafka version; Strimzi 1.2.0 runs {', '.join(KAFKA_VERSIONS)}."
    )
    brokers: int = Field(default=3, ge=1, le=100, description="Number of broker nodes.")
    controllers: int = Field(default=3, ge=1, le=9, description="Number of KRaft controller nodes (odd).")
    combined: bool = Field(
        default=False,
        description="Run controllers and brokers in one node pool (small dev stacks); then brokers == controllers.",
    )
    storage: Storage = Field(default_factory=Storage)
    zones: tuple[str, ...] = Field(default=(), max_length=6, description="Availability zones for rack awareness.")
    resources: Resources = Field(default_factory=Resources)
    listener_type: ListenerType = Field(default=ListenerType.LOADBALANCER, description="Type of the external listener.")
    private: bool = Field(
        default=False, description="The external endpoint is not reachable from the internet (health checks via CloudWatch)."
    )
    config: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Extra broker configuration (spec.kafka.config)."
    )
    capacity_bytes_per_second: int | None = Field(
        default=None, ge=1, description="What one broker is sized to take in, bytes/s; replication quotas take a share of it."
    )

    @field_validator("version")
    @classmethod
    def _known_version(cls, v: str) -> str:
        if v not in KAFKA_VERSIONS:
            raise ValueError(f"Kafka {v!r} is not run by Strimzi 1.2.0; use one of {', '.join(KAFKA_VERSIONS)}")
        return v

    @field_validator("controllers")
    @classmethod
    def _odd_controllers(cls, v: int) -> int:
        if v % 2 == 0:
            raise ValueError(
                f"{v} controllers cannot form a majority quorum safely; use an odd number such as {v - 1} or {v + 1}"
            )
        return v

    @field_validator("zones")
    @classmethod
    def _unique_zones(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError(f"zones {list(v)} repeat a zone; list each availability zone once")
        for zone in v:
            if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-[1-9][a-z]", zone):
                raise ValueError(f"{zone!r} is not an availability zone name such as 'us-east-1a'")
        return v

    @field_validator("config")
    @classmethod
    def _not_forbidden(cls, v: dict[str, object]) -> dict[str, object]:
        for key in v:
            for prefix in FORBIDDEN_BROKER_PREFIXES:
                if key.startswith(prefix) and key not in FORBIDDEN_BROKER_EXCEPTIONS:
                    raise ValueError(
                        f"broker config key {key!r} is managed by Strimzi and would be dropped silently; "
                        "remove it and use the topology's own fields (listeners, security) instead"
                    )
            if key not in kafka_config_keys("broker") and not key.startswith(BROKER_PLUGIN_PREFIXES):
                raise ValueError(
                    f"broker config key {key!r} is not a Kafka setting, so Kafka would ignore it silently; "
                    f"{unknown_key_hint(key, 'broker')}"
                )
        return v

    @model_validator(mode="after")
    def _combined_pool(self) -> KafkaCluster:
        if self.combined and self.brokers != self.controllers:
            raise ValueError(
                f"combined node pool needs brokers == controllers (got {self.brokers} and {self.controllers}); "
                "set both to the same odd number or set combined: false"
            )
        return self

    @property
    def broker_ids(self) -> tuple[int, ...]:
        """Node ids Strimzi assigns to brokers: controllers first (0..c-1) unless the pool is combined."""
        start = 0 if self.combined else self.controllers
        return tuple(range(start, start + self.brokers))


# Strimzi 1.2.0 drops these from spec.kafka.config (strimzi-forbidden-config.json, KafkaClusterSpec.java).
FORBIDDEN_BROKER_PREFIXES = (
    "listeners", "advertised.", "broker.", "listener.", "host.name", "port", "inter.broker.listener.name",
    "sasl.", "ssl.", "security.", "password.", "log.dir", "zookeeper.connect", "zookeeper.set.acl",
    "zookeeper.ssl", "zookeeper.clientCnxnSocket", "authorizer.", "super.user", "cruise.control.metrics.topic",
    "cruise.control.metrics.reporter.bootstrap.servers", "node.id", "process.roles", "controller.",
    "metadata.log.dir", "zookeeper.metadata.migration.enable", "client.quota.callback.static.",
    "prometheus.metrics.reporter.", "cordoned.log.dirs",
)  # fmt: skip
FORBIDDEN_BROKER_EXCEPTIONS = frozenset({
    "zookeeper.connection.timeout.ms", "sasl.server.max.receive.size", "ssl.cipher.suites", "ssl.protocol",
    "ssl.enabled.protocols", "ssl.secure.random.implementation", "broker.session.timeout.ms",
    "broker.heartbeat.interval.ms", "controller.socket.timeout.ms", "controller.quorum.election.backoff.max.ms",
    "controller.quorum.election.timeout.ms", "controller.quorum.fetch.timeout.ms",
})  # fmt: skip


class Region(Strict):
    """A region: an AWS region code, its role in the architecture, its Kubernetes cluster and its Kafka."""

    name: str = Field(description="AWS region code, e.g. 'eu-west-1'. Also the MirrorMaker alias of its cluster.")
    role: Role = Field(description="Role in the architecture: primary/secondary, active, hub/edge, or domain.")
    domains: tuple[str, ...] = Field(default=(), description="Partitioned domain: the domains this region serves.")
    kubernetes: KubernetesAccess = Field(description="How to reach the region's Kubernetes cluster.")
    namespace: str = Field(default="kafka", max_length=63, description="Namespace for Kafka and the operator.")
    kafka: KafkaCluster = Field(default_factory=KafkaCluster)
    endpoint_override: str | None = Field(
        default=None,
        description="Hostname DNS records point at instead of the load balancer read from the cluster.",
    )
    decommission: bool = Field(
        default=False,
        description=(
            "Step one of removing a region: its resources lose their protection, no flow or shared DNS name "
            "involves it any more. Remove the region from the file only after this has been applied."
        ),
    )

    @field_validator("name")
    @classmethod
    def _aws_region(cls, v: str) -> str:
        if not AWS_REGION_RE.fullmatch(v):
            raise ValueError(f"{v!r} is not an AWS region code; write it like 'us-east-1' or 'eu-west-1'")
        return v

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        _dns_label(v, "namespace")
        if v in naming.SYSTEM_NAMESPACES:
            raise ValueError(f"namespace {v!r} belongs to Kubernetes itself; give Kafka its own namespace such as 'kafka'")
        return v

    @field_validator("endpoint_override")
    @classmethod
    def _hostname(cls, v: str | None) -> str | None:
        # It becomes a CNAME value and a health check's FQDN: a bare hostname, no scheme, port or path.
        if v is not None and not naming.HOSTNAME_RE.fullmatch(v.rstrip(".")):
            raise ValueError(
                f"endpoint_override {v!r} is not a hostname; write the bare name clients reach the region by, "
                "such as 'kafka.eu-west-1.example.net' (lowercase, no scheme, port or path)"
            )
        return v.rstrip(".") if v else v

    @property
    def cluster_name(self) -> str:
        """The Strimzi Kafka resource name: the region code is already a DNS-1123 label."""
        return self.name


# --------------------------------------------------------------------------------------------- domains


class Domain(Strict):
    """Partitioned domain: a slice of data owned by a geography or workload, with residency rules."""

    allowed_regions: tuple[str, ...] = Field(
        min_length=1, description="Regions where this domain's data may be stored (data residency)."
    )
    dns_name: str | None = Field(default=None, description="Bootstrap name for this domain; defaults from the DNS section.")
    geolocation: str | None = Field(
        default=None,
        pattern=r"^([A-Z]{2}|EU|NA|SA|AS|AF|OC|AN|\*)$",
        description="Route53 geolocation (continent code such as 'EU' or a country code) that resolves to this domain.",
    )

    @field_validator("dns_name")
    @classmethod
    def _dns_name(cls, v: str | None) -> str | None:
        if v is not None and not DNS_NAME_RE.fullmatch(v.rstrip(".")):
            raise ValueError(
                f"{v!r} is not a DNS name; use lowercase labels of letters, digits and '-' such as 'eu.kafka.example.com'"
            )
        return v.rstrip(".") if v else v


# --------------------------------------------------------------------------------------------- topics


ConfigValue = str | int | float | bool


class Topic(Strict):
    partitions: int = Field(default=6, ge=1, le=10000, description="Partition count.")
    replication_factor: int = Field(default=3, ge=1, le=100, description="Replicas of each partition.")
    config: dict[str, ConfigValue] = Field(
        default_factory=dict,
        description="Topic configuration (min.insync.replicas, retention.ms, cleanup.policy, ...).",
    )
    domain: str | None = Field(default=None, description="Partitioned domain: the domain that owns this topic.")
    regions: tuple[str, ...] | None = Field(
        default=None, description="Regions that host the topic; by default the architecture decides."
    )
    replicated: bool = Field(default=True, description="Whether MirrorMaker 2 replicates this topic.")
    replicate_to: tuple[str, ...] = Field(
        default=(), description="Partitioned domain: regions this domain's topic is copied to (must respect residency)."
    )
    bytes_per_second: int | None = Field(
        default=None, ge=1, description="Declared write rate; a replication quota must carry it within the RPO."
    )

    @property
    def min_insync_replicas(self) -> int | None:
        value = self.config.get("min.insync.replicas")
        return int(value) if value is not None else None

    @field_validator("config")
    @classmethod
    def _known_keys(cls, v: dict[str, ConfigValue]) -> dict[str, ConfigValue]:
        for key in v:
            if key not in kafka_config_keys("topic"):
                raise ValueError(
                    f"topic config key {key!r} is not a Kafka topic setting, so Kafka would refuse the topic; "
                    f"{unknown_key_hint(key, 'topic')}"
                )
        return v

    @model_validator(mode="after")
    def _min_isr(self) -> Topic:
        isr = self.min_insync_replicas
        if isr is not None and self.replication_factor > 1 and isr >= self.replication_factor:
            raise ValueError(
                f"min.insync.replicas {isr} must be below replication_factor {self.replication_factor}, "
                "or one broker down stops all writes; lower min.insync.replicas or raise the replication factor"
            )
        cleanup = self.config.get("cleanup.policy")
        if cleanup is not None and str(cleanup) not in {"delete", "compact", "compact,delete", "delete,compact"}:
            raise ValueError(f"cleanup.policy {cleanup!r} is not one of delete, compact, 'compact,delete'")
        return self


# --------------------------------------------------------------------------------------------- users


class AclResource(Strict):
    type: AclResourceType
    name: str = Field(default="*", min_length=1, max_length=249, description="Resource name or prefix; '*' for all.")
    pattern: PatternType = Field(default=PatternType.LITERAL, description="literal or prefix match.")


class Acl(Strict):
    resource: AclResource
    operations: tuple[AclOperation, ...] = Field(min_length=1, description="Kafka operations granted or denied.")
    effect: AclEffect = Field(default=AclEffect.ALLOW)
    host: str = Field(default="*", description="Client host the rule applies to.")

    @model_validator(mode="after")
    def _not_everything(self) -> Acl:
        if AclOperation.ALL in self.operations and self.resource.name == "*" and self.effect is AclEffect.ALLOW:
            raise ValueError(
                f"granting All on every {self.resource.type.value} is super-user power; "
                "list the operations the application needs on named resources or prefixes"
            )
        return self


class Quotas(Strict):
    """Kafka client quotas (enforced by every broker on its own: a byte rate is per broker)."""

    producer_byte_rate: int | None = Field(
        default=None, ge=1, description="Bytes/s per broker a client may produce before it is throttled."
    )
    consumer_byte_rate: int | None = Field(
        default=None, ge=1, description="Bytes/s per broker a client may fetch before it is throttled."
    )
    request_percentage: int | None = Field(
        default=None,
        ge=1,
        le=10000,
        description="Share of the broker's network and I/O thread time, in percent (100 = one thread).",
    )
    controller_mutation_rate: float | None = Field(
        default=None, gt=0, description="Partitions a second the client may create or delete."
    )

    def over(self, defaults: Quotas | None) -> Quotas:
        """These quotas, with every unset one taken from ``defaults`` (a tenant's)."""
        if defaults is None:
            return self
        mine = self.model_dump(exclude_none=True)
        return Quotas(**{**defaults.model_dump(exclude_none=True), **mine})

    @property
    def empty(self) -> bool:
        return not self.model_dump(exclude_none=True)


class Tenant(Strict):
    """A team or workload sharing the regional clusters: it owns a topic and group prefix, its users, the regions
    its data may live in, and its users' default quotas."""

    prefix: str = Field(
        pattern=r"^[a-zA-Z0-9._-]{1,100}$",
        description="Topic and consumer-group prefix the tenant owns, e.g. 'payments.'; its topics must start with it.",
    )
    regions: tuple[str, ...] | None = Field(default=None, description="Regions where its data may live; all by default.")
    quotas: Quotas = Field(default_factory=Quotas, description="Quotas of each of its users unless the user sets its own.")
    default: bool = Field(default=False, description="Owns every topic that carries no tenant's prefix (one tenant at most).")
    throttle_alert_minutes: int = Field(
        default=10, ge=1, le=1440, description="Alert when one of its users has been throttled this long."
    )


class User(Strict):
    """An application principal: SCRAM-SHA-512 credentials in every region it uses, with its ACLs."""

    regions: tuple[str, ...] | None = Field(default=None, description="Regions the user exists in; all by default.")
    groups: tuple[str, ...] = Field(default=(), description="Consumer groups the application uses.")
    acls: tuple[Acl, ...] = Field(
        default=(), description="What the user may do; a tenant's user without ACLs gets its tenant's prefixes."
    )
    tenant: str | None = Field(default=None, description="The tenant the user belongs to.")
    quotas: Quotas | None = Field(default=None, description="Its quotas; unset ones come from its tenant.")


# --------------------------------------------------------------------------------------------- dns, security


class HealthCheck(Strict):
    interval_seconds: Literal[10, 30] = Field(default=30, description="Route53 request interval (10 or 30).")
    failure_threshold: int = Field(default=3, ge=1, le=10, description="Failures before a check turns unhealthy.")


class Dns(Strict):
    zone: str = Field(description="Route53 public hosted zone name, e.g. 'kafka.example.com'.")
    bootstrap: str | None = Field(
        default=None, description="The failover bootstrap name clients use; '<environment>.<zone>' when unset."
    )
    ttl: int = Field(default=30, ge=1, le=86400, description="Record TTL in seconds; failover records need ≤ 60.")
    health_check: HealthCheck = Field(default_factory=HealthCheck)
    failover_secondary: str | None = Field(
        default=None,
        description=(
            "Active-passive: the secondary the failover record sends clients to (Route53 allows one). "
            "Needed when there are several secondaries, so adding a region never retargets failover."
        ),
    )

    @field_validator("zone", "bootstrap")
    @classmethod
    def _dns_name(cls, v: str | None) -> str | None:
        if v is not None and not DNS_NAME_RE.fullmatch(v.rstrip(".")):
            raise ValueError(f"{v!r} is not a DNS name; use lowercase labels such as 'kafka.example.com'")
        return v.rstrip(".") if v else v


class Security(Strict):
    ca_validity_days: int = Field(default=3650, ge=30, le=36500, description="Validity of the environment CA.")
    cert_validity_days: int = Field(default=365, ge=7, le=3650, description="Validity of listener certificates.")
    early_renewal_days: int = Field(default=30, ge=1, le=365, description="Renew certificates this long before expiry.")
    key_algorithm: KeyAlgorithm = Field(default=KeyAlgorithm.ECDSA, description="ECDSA (P-256) or RSA (3072 bits).")

    @model_validator(mode="after")
    def _renewal(self) -> Security:
        if self.early_renewal_days >= self.cert_validity_days:
            raise ValueError(
                f"early_renewal_days {self.early_renewal_days} ≥ cert_validity_days {self.cert_validity_days} "
                "would renew on every run; keep it below the validity"
            )
        if self.cert_validity_days > self.ca_validity_days:
            raise ValueError("cert_validity_days may not exceed ca_validity_days: a certificate cannot outlive its CA")
        return self


class Monitoring(Strict):
    enabled: bool | None = Field(default=None, description="Metrics and alerts; on for prod when unset.")
    kafka_exporter: bool = Field(default=True, description="Kafka Exporter for consumer-group lag.")
    cruise_control: bool = Field(default=False, description="Cruise Control for rebalancing.")
    dashboards: bool = Field(default=True, description="Grafana dashboards as ConfigMaps.")


# --------------------------------------------------------------------------------------------- topology


class Flavor(StrEnum):
    STRIMZI = "strimzi"
    CONFLUENT = "confluent"


class Topology(Strict):
    """One environment's whole multi-region Kafka estate."""

    environment: str = Field(max_length=20, description="Environment name; part of DNS names and labels.")
    tier: Tier = Field(
        default=Tier.DEV, description="dev, staging or prod: prod turns heartbeats and monitoring on unless they are set."
    )
    architecture: Architecture
    protect: bool = Field(default=True, description="Protect Kafka clusters, node pools and topics from deletion.")
    regions: tuple[Region, ...] = Field(max_length=32, description="At least two regions (checked with the other rules).")
    domains: dict[str, Domain] = Field(default_factory=dict, description="Partitioned domains keyed by name.")
    topics: dict[str, Topic] = Field(default_factory=dict, description="Topics keyed by name.")
    users: dict[str, User] = Field(default_factory=dict, description="Application users keyed by name.")
    tenants: dict[str, Tenant] = Field(default_factory=dict, description="Tenants sharing the clusters, keyed by name.")
    flavor: Flavor | None = Field(
        default=None,
        description="How each regional cluster is run: strimzi (Strimzi) or confluent (Confluent for Kubernetes); the engine's when unset.",
    )
    replication: Replication = Field(default_factory=MirrorMaker2Replication)
    objectives: Objectives | None = Field(
        default=None, description="Recovery objectives of the estate; replication.rpo_seconds/rto_seconds are the old place."
    )
    dns: Dns | None = Field(
        default=None,
        description=(
            "Route53 records and health checks. Leave out when DNS is managed elsewhere (external-dns, an internal "
            "zone): nothing is created in AWS, each region's endpoint_override is the name it is reached by (and "
            "broker-N.<that name> each broker's), and there is no environment-wide failover name."
        ),
    )
    security: Security = Field(default_factory=Security)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    schema_registry: SchemaRegistry | None = Field(
        default=None,
        description="A schema registry in the registry regions, one writer (see stacks/registry.py); off when unset.",
    )

    @field_validator("environment")
    @classmethod
    def _env_name(cls, v: str) -> str:
        return _dns_label(v, "environment")

    # -------------------------------------------------------------- derived facts

    @cached_property
    def region_names(self) -> tuple[str, ...]:
        return tuple(sorted(r.name for r in self.regions))

    def region(self, name: str) -> Region:
        return next(r for r in self.regions if r.name == name)

    def regions_with(self, *roles: Role) -> tuple[Region, ...]:
        return tuple(sorted((r for r in self.regions if r.role in roles), key=lambda r: r.name))

    def live(self, region: str) -> bool:
        """Not being decommissioned: takes part in replication and shared DNS names."""
        return not self.region(region).decommission

    @property
    def mm2(self) -> MirrorMaker2Replication:
        """The MirrorMaker 2 section, for MirrorMaker 2's own code; everything else asks ``replication``."""
        assert isinstance(self.replication, MirrorMaker2Replication)
        return self.replication

    @property
    def cluster_flavor(self) -> str:
        """How regional clusters are run: declared, or the one the replication engine runs on."""
        return self.flavor.value if self.flavor is not None else self.replication.default_flavor

    @property
    def rpo_seconds(self) -> int:
        """The estate's RPO: ``objectives``, else the old ``replication.rpo_seconds``, else the default."""
        if self.objectives is not None:
            return self.objectives.rpo_seconds
        return getattr(self.replication, "rpo_seconds", None) or DEFAULT_RPO_SECONDS

    @property
    def rto_seconds(self) -> int:
        if self.objectives is not None:
            return self.objectives.rto_seconds
        return getattr(self.replication, "rto_seconds", None) or DEFAULT_RTO_SECONDS

    @property
    def policy(self) -> ReplicationPolicy:
        if self.replication.policy is not None:
            return self.replication.policy
        return ReplicationPolicy.IDENTITY if self.architecture is Architecture.ACTIVE_PASSIVE else ReplicationPolicy.PREFIXED

    @property
    def heartbeats(self) -> bool:
        return self.replication.runs_heartbeats(self.tier is Tier.PROD)

    @property
    def monitoring_enabled(self) -> bool:
        return self.monitoring.enabled if self.monitoring.enabled is not None else self.tier is Tier.PROD

    @property
    def route53(self) -> Dns:
        """The dns section, for code that only runs with one (Route53 records, the failover tool)."""
        if self.dns is None:
            raise ValueError(f"{self.environment} has no dns section: its DNS is managed elsewhere, not in Route53")
        return self.dns

    @property
    def failover_secondary(self) -> str:
        """Active-passive: the region the SECONDARY failover record points at."""
        chosen = self.dns.failover_secondary if self.dns is not None else None
        return chosen or next(r.name for r in self.regions_with(Role.SECONDARY) if not r.decommission)

    @property
    def bootstrap_name(self) -> str | None:
        """The environment-wide failover name; None when DNS is managed elsewhere (nothing publishes one)."""
        if self.dns is None:
            return None
        return self.dns.bootstrap or naming.bootstrap_name(self.environment, self.dns.zone)

    def region_dns_name(self, region: str) -> str:
        if self.dns is None:
            # DNS managed elsewhere: the name it publishes for the region (the rules require one).
            override = self.region(region).endpoint_override
            if override is None:
                raise ValueError(f"{region} has no endpoint_override and the topology has no dns section")
            return override
        return naming.region_dns_name(region, self.environment, self.dns.zone)

    def broker_ids(self, region: str) -> tuple[int, ...]:
        """The ids the region's brokers advertise themselves by (their DNS names and certificate SANs)."""
        from stacks.flavors import FLAVORS

        return FLAVORS[self.cluster_flavor].broker_ids(self.region(region).kafka)

    def client_port(self, region: str) -> int:
        """The port clients dial for ``region`` (its flavor and listener type say which); its health check probes it."""
        from stacks.flavors import FLAVORS

        ports = FLAVORS[self.cluster_flavor].client_ports
        return ports.get(self.region(region).kafka.listener_type.value, min(ports.values()))  # others: refused

    @property
    def shared_client_port(self) -> int:
        """The one port of every region (a rule): a client failing over by DNS keeps its port."""
        return self.client_port(self.regions[0].name)

    def broker_dns_name(self, region: str, broker_id: int) -> str:
        return naming.broker_dns_name(self.region_dns_name(region), broker_id)

    def domain_dns_name(self, domain: str) -> str | None:
        if self.domains[domain].dns_name or self.dns is None:
            return self.domains[domain].dns_name
        return naming.domain_dns_name(domain, self.environment, self.dns.zone)

    def serving_regions(self, domain: str) -> tuple[str, ...]:
        return tuple(r.name for r in self.regions_with(Role.DOMAIN) if domain in r.domains and not r.decommission)

    @cached_property
    def dns_answers(self) -> dict[str, frozenset[str]]:
        """Every DNS name the estate declares → the regions Route53 may answer it with (through any record).

        The records (``components.dns_records``) must agree, which the plan invariant checker verifies; the
        ``clients`` output picks from these names, so a user is never handed a name that reaches a region
        where that user does not exist.
        """
        answers: dict[str, frozenset[str]] = {}
        for region in self.regions:
            answers[self.region_dns_name(region.name)] = frozenset({region.name})
        if self.dns is None:
            return answers  # DNS managed elsewhere: no Route53 name of ours answers anything else
        live = frozenset(r for r in self.region_names if self.live(r))
        shared: frozenset[str] = frozenset()
        if self.architecture is Architecture.ACTIVE_PASSIVE:
            shared = frozenset({self.regions_with(Role.PRIMARY)[0].name, self.failover_secondary})
        elif self.architecture is Architecture.ACTIVE_ACTIVE:
            shared = live
        elif self.architecture is Architecture.AGGREGATION_HUB:
            shared = frozenset(r.name for r in self.regions_with(Role.HUB))
        else:
            for d in self.domains:
                if (name := self.domain_dns_name(d)) is not None:
                    answers[name] = frozenset(self.serving_regions(d))
            located = [d for d, domain in sorted(self.domains.items()) if domain.geolocation]
            if located:
                # Geolocation answers each declared location, and everyone else from the default record.
                default = next((d for d in located if self.domains[d].geolocation == "*"), sorted(self.domains)[0])
                shared = frozenset(r for d in {*located, default} for r in self.serving_regions(d))
        if shared and self.bootstrap_name is not None:
            answers[self.bootstrap_name] = shared
        return answers

    def client_bootstrap(self, user: str) -> str:
        """The one name a user's clients bootstrap from, naming one cluster at a time (a client takes every address
        of ``bootstrap.servers`` for one cluster, and with ``metadata.recovery.strategy=rebootstrap`` would jump to
        any of them, standbys and other regions' clusters included, with no health gate): the shared name when
        everything it answers hosts the user (DNS gates it), else a domain's name on the same terms, else the user's
        first region that takes writes (secondaries are standbys)."""
        regions = frozenset(self.user_regions(user))
        shared = [self.bootstrap_name, *(self.domain_dns_name(d) for d in sorted(self.domains))]
        for name in filter(None, shared):
            answer = self.dns_answers.get(name)
            if answer and answer <= regions:
                return name
        own = self._own_regions(user)
        writable = [r for r in own if self.region(r).role is not Role.SECONDARY] or own
        return self.region_dns_name(writable[0])

    def client_bootstrap_by_region(self, user: str) -> dict[str, str]:
        """Region → the name of that region's own cluster, for each region of the user: an application instance
        running in several regions connects each to its own (one cluster per bootstrap)."""
        return {r: self.region_dns_name(r) for r in self._own_regions(user)}

    def _own_regions(self, user: str) -> list[str]:
        # Live regions first; a user left only in regions being decommissioned still reaches them until removed.
        regions = sorted(self.user_regions(user))
        return [r for r in regions if self.live(r)] or regions

    def hosting_regions(self, topic_name: str) -> tuple[str, ...]:
        """Regions that hold a topic as a local (non-mirrored) topic with its own KafkaTopic resource.

        Active-passive hosts it everywhere under one name, so the topic with its partitions and config is
        already there when clients fail over; MirrorMaker 2 writes into it. Active-active hosts it in every
        active region (each writes locally; copies arrive prefixed). An aggregation hub hosts it on the
        edges. A partitioned domain hosts it in the regions serving its domain.
        """
        topic = self.topics[topic_name]
        if topic.regions is not None:
            return tuple(sorted(topic.regions))
        if self.architecture is Architecture.AGGREGATION_HUB:
            hosts = tuple(r.name for r in self.regions_with(Role.EDGE))
        elif self.architecture is Architecture.PARTITIONED_DOMAIN and topic.domain is not None:
            hosts = tuple(r.name for r in self.regions_with(Role.DOMAIN) if topic.domain in r.domains)
        else:
            hosts = self.region_names
        allowed = self.tenant_regions(self.tenant_of(topic_name))
        return tuple(r for r in hosts if r in allowed)

    # -------------------------------------------------------------- tenants

    def tenant_of(self, topic_or_group: str) -> str | None:
        """The tenant owning a topic or group name: the longest matching prefix, else the default tenant."""
        owners = [(len(t.prefix), name) for name, t in self.tenants.items() if topic_or_group.startswith(t.prefix)]
        if owners:
            return max(owners)[1]
        return next((name for name, t in sorted(self.tenants.items()) if t.default), None)

    @cached_property
    def name_claims(self) -> dict[str, tuple[ownership.Claim, ...]]:
        """Per region, every owner's claims on topic, group and transactional-id names (``stacks.ownership``);
        asked for every grant, so derived once (the model is frozen)."""
        return {r: ownership.derive_claims(self, r) for r in self.region_names}

    def tenant_regions(self, tenant: str | None) -> frozenset[str]:
        regions = self.tenants[tenant].regions if tenant in self.tenants else None
        return frozenset(regions if regions is not None else self.region_names)

    def user_quotas(self, user: str) -> Quotas | None:
        u = self.users[user]
        tenant = self.tenants[u.tenant].quotas if u.tenant in self.tenants else None
        quotas = (u.quotas or Quotas()).over(tenant)
        return None if quotas.empty else quotas

    @property
    def has_quotas(self) -> bool:
        """Whether any principal gets a quota (then the brokers export per-user quota metrics)."""
        return bool(self.tenants) or self.replication.quota is not None or any(u.quotas for u in self.users.values())

    def replication_byte_rate(self, flow: Flow) -> int | None:
        """Per-broker byte rate each flow's principal may use at both ends, or None without a replication quota."""
        quota = self.replication.quota
        if quota is None:
            return None
        if quota.byte_rate is not None:
            return quota.byte_rate
        capacities = [self.region(r).kafka.capacity_bytes_per_second for r in (flow.source, flow.target)]
        known = [c for c in capacities if c is not None]
        return int(min(known) * quota.capacity_share) if known else None

    def topics_in(self, region: str) -> tuple[str, ...]:
        return self._topics_by_region.get(region, ())

    @cached_property
    def _topics_by_region(self) -> dict[str, tuple[str, ...]]:
        # Asked for per region, per flow and per principal: index once (the model is frozen).
        index: dict[str, list[str]] = {}
        for topic in sorted(self.topics):
            for region in self.hosting_regions(topic):
                index.setdefault(region, []).append(topic)
        return {r: tuple(ts) for r, ts in index.items()}

    def user_regions(self, user_name: str) -> tuple[str, ...]:
        user = self.users[user_name]
        return tuple(sorted(user.regions)) if user.regions is not None else self.region_names

    def users_in(self, region: str) -> tuple[str, ...]:
        return tuple(sorted(u for u in self.users if region in self.user_regions(u)))

    @cached_property
    def flows(self) -> tuple[Flow, ...]:
        """Replication flows (source → target) the architecture implies, sorted; see ``derive_flows``."""
        return derive_flows(self)

    def carries(self, flow: Flow, topic_name: str) -> bool:
        """Whether ``flow`` copies a declared topic: the one answer the flow plans, their ACLs and the rules share.

        A topic travels only from a region that hosts it, only if it is replicated and the include/exclude
        patterns select it, and in a partitioned domain only to the regions its ``replicate_to`` names: a flow
        that exists for one topic carries no other (residency).
        """
        topic = self.topics[topic_name]
        if not topic.replicated or flow.source not in self.hosting_regions(topic_name):
            return False
        if flow.target not in self.tenant_regions(self.tenant_of(topic_name)):
            return False
        if self.architecture is Architecture.PARTITIONED_DOMAIN and flow.target not in topic.replicate_to:
            return False
        selection = self.replication
        return _selected(selection.topics_include, selection.topics_exclude, topic_name)

    def copies(self, flow: Flow) -> tuple[str, ...]:
        """Declared topics ``flow`` copies, sorted."""
        return tuple(t for t in self.topics_in(flow.source) if self.carries(flow, t))

    def remote_topic(self, flow: Flow, topic_name: str) -> str:
        """A copied topic's name on the flow's target."""
        return naming.remote_topic(self.policy is ReplicationPolicy.PREFIXED, flow.source, topic_name)

    # -------------------------------------------------------------- rules

    @model_validator(mode="after")
    def _rules(self) -> Topology:
        errors: list[tuple[tuple[str | int, ...], str]] = []
        self._check_regions(errors)
        self._check_topics(errors)
        self._check_users(errors)
        self._check_dns(errors)
        if not errors:
            self._check_flows(errors)
        if not errors:
            from stacks import registry, tenancy  # rules that read the whole model; imported where used

            tenancy.check(self, errors)
            registry.check(self, errors)
        if not errors:
            self._check_identities(errors)
        if errors:
            raise RuleViolationError(errors)
        return self

    def _check_regions(self, errors: list[tuple[tuple[str | int, ...], str]]) -> None:
        if len(self.regions) < 2:
            errors.append(
                (("regions",), f"a multi-region estate needs at least two regions, found {len(self.regions)}; add a region")
            )
        seen: dict[str, int] = {}
        for i, region in enumerate(self.regions):
            if region.name in seen:
                errors.append(
                    (
                        ("regions", i, "name"),
                        f"{region.name!r} is declared twice (also regions[{seen[region.name]}]); declare each region once",
                    )
                )
            seen[region.name] = i
            allowed = ROLES_BY_ARCHITECTURE[self.architecture]
            if region.role not in allowed:
                errors.append(
                    (
                        ("regions", i, "role"),
                        f"role {region.role.value!r} does not exist in {self.architecture.value}; use {' or '.join(sorted(r.value for r in allowed))}",
                    )
                )
            if region.domains and self.architecture is not Architecture.PARTITIONED_DOMAIN:
                errors.append(
                    (
                        ("regions", i, "domains"),
                        f"domains are only for partitioned-domain, not {self.architecture.value}; remove them",
                    )
                )
            for d in region.domains:
                if d not in self.domains:
                    errors.append(
                        (
                            ("regions", i, "domains"),
                            f"domain {d!r} is not declared; declare it under domains or use one of {sorted(self.domains)}",
                        )
                    )
            if len(region.kafka.zones) > 1 and region.kafka.brokers < len(region.kafka.zones):
                errors.append(
                    (
                        ("regions", i, "kafka", "brokers"),
                        f"{region.kafka.brokers} brokers cannot cover {len(region.kafka.zones)} zones; raise brokers to at least {len(region.kafka.zones)} or list fewer zones",
                    )
                )
            other = next(
                (o for o in self.regions[:i] if region.endpoint_override and o.endpoint_override == region.endpoint_override),
                None,
            )
            if other is not None:
                errors.append(
                    (
                        ("regions", i, "endpoint_override"),
                        f"{region.endpoint_override!r} is also {other.name}'s endpoint; clients told {region.name}'s name would reach {other.name}; give each region its own",
                    )
                )
            if region.kafka.listener_type is not ListenerType.LOADBALANCER and not region.endpoint_override:
                errors.append(
                    (
                        ("regions", i, "endpoint_override"),
                        f"a {region.kafka.listener_type.value} listener has no load balancer for DNS to point at; set endpoint_override to the hostname clients reach {region.name} by",
                    )
                )
            for z in region.kafka.zones:
                if not z.startswith(region.name):
                    errors.append(
                        (
                            ("regions", i, "kafka", "zones"),
                            f"zone {z!r} is not in region {region.name}; use zones such as '{region.name}a'",
                        )
                    )
        for i, region in enumerate(self.regions):
            if region.decommission and region.role in (Role.PRIMARY, Role.HUB):
                errors.append(
                    (
                        ("regions", i, "decommission"),
                        f"the {region.role.value} {region.name} cannot be decommissioned; make another region {region.role.value} first",
                    )
                )
        if len([r for r in self.regions if not r.decommission]) < 2 and len(self.regions) >= 2:
            errors.append((("regions",), "decommissioning would leave fewer than two live regions; add a region first"))
        roles = [r.role for r in self.regions]
        if self.architecture is Architecture.ACTIVE_PASSIVE:
            if roles.count(Role.PRIMARY) != 1:
                errors.append(
                    (
                        ("regions",),
                        f"active-passive needs exactly one region with role 'primary', found {roles.count(Role.PRIMARY)}; mark one region primary and the others secondary",
                    )
                )
        elif self.architecture is Architecture.AGGREGATION_HUB:
            if roles.count(Role.HUB) != 1:
                errors.append(
                    (
                        ("regions",),
                        f"aggregation-hub needs exactly one region with role 'hub', found {roles.count(Role.HUB)}; mark the central region hub",
                    )
                )
            if roles.count(Role.EDGE) < 1:
                errors.append(
                    (("regions",), "aggregation-hub needs at least one region with role 'edge'; mark the feeding regions edge")
                )
        elif self.architecture is Architecture.PARTITIONED_DOMAIN:
            if not self.domains:
                errors.append(
                    (("domains",), "partitioned-domain needs at least one domain; declare domains with their allowed_regions")
                )
            served = {d for r in self.regions for d in r.domains}
            for name, domain in sorted(self.domains.items()):
                if name not in served:
                    errors.append((("domains", name), f"domain {name!r} is served by no region; add it to some region's domains"))
                for allowed_region in domain.allowed_regions:
                    if allowed_region not in seen:
                        errors.append(
                            (
                                ("domains", name, "allowed_regions"),
                                f"region {allowed_region!r} is not declared; use one of {sorted(seen)}",
                            )
                        )
                for r in self.regions:
                    if name in r.domains and r.name not in domain.allowed_regions:
                        errors.append(
                            (
                                ("regions", seen[r.name], "domains"),
                                f"region {r.name} serves domain {name!r} but is not among its allowed_regions {list(domain.allowed_regions)}; data residency forbids it",
                            )
                        )
        if self.domains and self.architecture is not Architecture.PARTITIONED_DOMAIN:
            errors.append(
                (("domains",), f"domains are only for partitioned-domain, not {self.architecture.value}; remove the section")
            )
        for name in self.domains:
            if not DNS1123_LABEL_RE.fullmatch(name) or len(name) > 20:
                errors.append((("domains", name), f"domain name {name!r} must be a lowercase DNS label of at most 20 characters"))
            leaving = [r.name for r in self.regions if name in r.domains and r.decommission]
            if leaving and not self.serving_regions(name):
                errors.append(
                    (
                        ("domains", name),
                        f"every region serving domain {name!r} ({', '.join(leaving)}) is being decommissioned, so its DNS name would answer nothing; keep one of them, or let another allowed region serve it first",
                    )
                )

    def _check_topics(self, errors: list[tuple[tuple[str | int, ...], str]]) -> None:
        names = {r.name for r in self.regions}
        for name, topic in sorted(self.topics.items()):
            path: tuple[str | int, ...] = ("topics", name)
            if not TOPIC_NAME_RE.fullmatch(name) or name in {".", ".."}:
                errors.append(
                    (path, f"topic name {name!r} is not a Kafka topic name; use letters, digits, '.', '_' and '-' (at most 249)")
                )
                continue
            if (
                name.startswith("__")
                or name.startswith("mm2-")
                or name.endswith((".checkpoints.internal", ".heartbeats"))
                or name == "heartbeats"
            ):
                errors.append(
                    (path, f"topic name {name!r} is reserved for Kafka or MirrorMaker 2 internals; choose another name")
                )
            unknown = [r for r in (topic.regions or ()) + topic.replicate_to if r not in names]
            if unknown:
                errors.append(((*path, "regions"), f"regions {unknown} are not declared; use some of {sorted(names)}"))
                continue
            if self.architecture is Architecture.PARTITIONED_DOMAIN:
                if topic.domain is None:
                    errors.append(
                        (
                            (*path, "domain"),
                            f"in partitioned-domain every topic is owned by a domain; set domain to one of {sorted(self.domains)}",
                        )
                    )
                    continue
                if topic.domain not in self.domains:
                    errors.append(
                        ((*path, "domain"), f"domain {topic.domain!r} is not declared; use one of {sorted(self.domains)}")
                    )
                    continue
                allowed = self.domains[topic.domain].allowed_regions
                for r in (*self.hosting_regions(name), *topic.replicate_to):
                    if r not in allowed:
                        errors.append(
                            (
                                (*path, "replicate_to" if r in topic.replicate_to else "regions"),
                                f"flow of {name!r} to {r} breaks residency of domain {topic.domain!r} (allowed: {list(allowed)}); remove {r}",
                            )
                        )
            elif topic.domain is not None or topic.replicate_to:
                errors.append(
                    (
                        (*path, "domain"),
                        f"domain and replicate_to are only for partitioned-domain, not {self.architecture.value}; remove them",
                    )
                )
            hosts = self.hosting_regions(name)
            if not hosts:
                errors.append(
                    ((*path, "regions"), f"topic {name!r} is hosted in no region; list regions or serve its domain somewhere")
                )
            for r in hosts:
                brokers = self.region(r).kafka.brokers
                if topic.replication_factor > brokers:
                    errors.append(
                        (
                            (*path, "replication_factor"),
                            f"replication_factor {topic.replication_factor} exceeds the {brokers} brokers of {r}; lower it to at most {brokers} or add brokers",
                        )
                    )
            # A copy on a region that does not host the topic is created by MirrorMaker with the target's
            # default replication factor (replication.factor=-1), so only hosting regions bound it.

    def _check_users(self, errors: list[tuple[tuple[str | int, ...], str]]) -> None:
        names = {r.name for r in self.regions}
        declared_groups = {g for u in self.users.values() for g in u.groups}
        remote_names = {f"{r}.{t}" for r in names for t in self.topics}
        for uname, user in sorted(self.users.items()):
            path: tuple[str | int, ...] = ("users", uname)
            if not DNS1123_LABEL_RE.fullmatch(uname) or len(uname) > 63:
                errors.append(
                    (path, f"user name {uname!r} must be a lowercase DNS label (a-z, 0-9, '-') of at most 63 characters")
                )
            if uname in SUPER_USERS or uname.startswith(RESERVED_USER_PREFIXES) or uname in names:
                errors.append(
                    (
                        path,
                        f"user name {uname!r} is reserved for principals the project creates (admin, operator, MirrorMaker, Strimzi); rename the application user",
                    )
                )
            for r in user.regions or ():
                if r not in names:
                    errors.append(((*path, "regions"), f"region {r!r} is not declared; use some of {sorted(names)}"))
            for i, acl in enumerate(user.acls):
                res = acl.resource
                apath = (*path, "acls", i, "resource", "name")
                if res.pattern is not PatternType.LITERAL or res.name == "*":
                    continue
                if res.type is AclResourceType.TOPIC and res.name not in self.topics and res.name not in remote_names:
                    errors.append(
                        (
                            apath,
                            f"topic {res.name!r} is not declared; declare it under topics, use pattern: prefix, or fix the name",
                        )
                    )
                if res.type is AclResourceType.GROUP and res.name not in declared_groups:
                    errors.append(
                        (apath, f"group {res.name!r} is not declared; add it to the user's groups or use pattern: prefix")
                    )
                if res.type is AclResourceType.CLUSTER and res.name != "kafka-cluster":
                    errors.append((apath, f"cluster ACLs name 'kafka-cluster', not {res.name!r}"))

    def _check_dns(self, errors: list[tuple[tuple[str | int, ...], str]]) -> None:
        if self.dns is None:
            # DNS managed elsewhere: its names are the endpoint overrides; its timing is not ours to check.
            for i, region in enumerate(self.regions):
                if not region.endpoint_override:
                    errors.append(
                        (
                            ("regions", i, "endpoint_override"),
                            f"without a dns section, set endpoint_override to the name your DNS publishes for {region.name}",
                        )
                    )
            return
        for i, region in enumerate(self.regions):
            if region.kafka.listener_type is ListenerType.CLUSTER_IP:
                errors.append(
                    (
                        ("regions", i, "kafka", "listener_type"),
                        f"a cluster-ip listener's brokers are each reached at their own Service's cluster IP, which Route53 records cannot answer for {region.name}'s broker names; use loadbalancer, nodeport, route or ingress, or remove the dns section and publish the names in your own DNS",
                    )
                )
        ports = {r.name: self.client_port(r.name) for r in self.regions}
        if len(set(ports.values())) > 1:
            listed = ", ".join(f"{r.name} {r.kafka.listener_type.value} -> {ports[r.name]}" for r in self.regions)
            errors.append(
                (
                    ("regions",),
                    f"clients moved between regions by DNS keep their port, but the regions' listeners serve different ones ({listed}); give every region the same listener_type",
                )
            )
        zone = self.dns.zone
        names: list[tuple[tuple[str | int, ...], str | None]] = [(("dns", "bootstrap"), self.bootstrap_name)]
        names += [(("domains", d, "dns_name"), self.domain_dns_name(d)) for d in self.domains]
        for path, name in names:
            if name is not None and name != zone and not name.endswith("." + zone):
                errors.append((path, f"{name!r} is outside the hosted zone {zone!r}; use a name ending in '.{zone}'"))
        secondaries = [r.name for r in self.regions if r.role is Role.SECONDARY and not r.decommission]
        target = self.dns.failover_secondary
        if self.architecture is Architecture.ACTIVE_PASSIVE:
            if target is None and len(secondaries) > 1:
                errors.append(
                    (
                        ("dns", "failover_secondary"),
                        f"with several secondaries {sorted(secondaries)}, say which one the failover record sends clients to",
                    )
                )
            elif target is not None and target not in secondaries:
                errors.append(
                    (("dns", "failover_secondary"), f"{target!r} is not a secondary region; use one of {sorted(secondaries)}")
                )
        elif target is not None:
            errors.append((("dns", "failover_secondary"), "failover_secondary is an active-passive setting; remove it"))
        hc = self.dns.health_check
        detect = hc.interval_seconds * hc.failure_threshold
        rto = self.rto_seconds
        if detect + self.dns.ttl > rto:
            errors.append(
                (
                    ("dns", "health_check"),
                    f"RTO {rto} s is not reachable by DNS: health checks need {hc.interval_seconds} s x {hc.failure_threshold} failures = {detect} s to notice, plus a {self.dns.ttl} s TTL = {detect + self.dns.ttl} s before clients move; lower the interval, threshold or TTL, or raise rto_seconds",
                )
            )
        if self.architecture is Architecture.ACTIVE_PASSIVE and self.dns.ttl > 60:
            errors.append(
                (
                    ("dns", "ttl"),
                    f"failover records need a TTL of at most 60 s, got {self.dns.ttl}; clients would keep the failed region that long",
                )
            )

    def _check_flows(self, errors: list[tuple[tuple[str | int, ...], str]]) -> None:
        names = {r.name for r in self.regions}
        mm2 = self.replication
        if self.objectives is not None:
            for old in ("rpo_seconds", "rto_seconds"):
                if getattr(mm2, old, None) is not None:
                    errors.append(
                        (
                            ("replication", old),
                            f"{old} is declared under objectives too; keep objectives.{old} and remove this one",
                        )
                    )
        for i, flow in enumerate(mm2.flows or ()):
            for end in ("source", "target"):
                if getattr(flow, end) not in names:
                    errors.append(
                        (
                            ("replication", "flows", i, end),
                            f"region {getattr(flow, end)!r} is not declared; use one of {sorted(names)}",
                        )
                    )
            if flow.source == flow.target:
                errors.append((("replication", "flows", i), f"a flow from {flow.source} to itself would loop; remove it"))
        if mm2.flows is not None and self.architecture is not Architecture.ACTIVE_ACTIVE:
            errors.append(
                (
                    ("replication", "flows"),
                    f"explicit flows are for active-active; {self.architecture.value} derives its flows from the roles",
                )
            )
        if errors:
            return
        flows = derive_flows(self)
        if self.policy is ReplicationPolicy.IDENTITY:
            cycle = _find_cycle(flows)
            if cycle:
                arrow = " → ".join(cycle)
                errors.append(
                    (
                        ("replication", "policy"),
                        f"identity replication policy on the cycle {arrow} would replicate records back forever (it has no loop protection); use policy: prefixed",
                    )
                )
        if mm2.failback_from is not None:
            if self.architecture is not Architecture.ACTIVE_PASSIVE:
                errors.append((("replication", "failback_from"), "failback is an active-passive setting; remove it"))
            elif mm2.failback_from != self.failover_secondary:
                errors.append(
                    (
                        ("replication", "failback_from"),
                        f"{mm2.failback_from!r} is not the failover secondary; clients only ever fail over to "
                        f"{self.failover_secondary!r}, so fail back from it (or change dns.failover_secondary first)",
                    )
                )
        if self.architecture is Architecture.AGGREGATION_HUB and self.policy is ReplicationPolicy.IDENTITY:
            errors.append(
                (
                    ("replication", "policy"),
                    "with the identity policy every edge's copy of a topic lands in one hub topic of the same name, "
                    "and offsets translated from several sources into one topic only move forward, so consumers "
                    "skip records at failover; use policy: prefixed (each edge arrives as '<edge>.<topic>')",
                )
            )
        mm2.check(self, errors)  # the engine's own rules (stacks.replication)
        from stacks.flavors import FLAVORS

        FLAVORS[self.cluster_flavor].check(self, errors)  # what the cluster flavor cannot do

    # -------------------------------------------------------------- identities: every generated name, once

    def _check_identities(self, errors: list[tuple[tuple[str | int, ...], str]]) -> None:
        from stacks import identities  # the rules live there; they read this model, so imported when used

        identities.check(self, errors)

    def topic_census(self, region: str) -> dict[str, list[tuple[str, str]]]:
        """Every topic that will exist in ``region`` → who makes it: ("declared", topic), ("copy", topic copied
        here) or ("internal", what keeps it: a MirrorMaker flow, the heartbeat Connect)."""
        r = region
        sources = {f.source for f in self.flows}
        owners: dict[str, list[tuple[str, str]]] = {}
        for t in self.topics_in(r):
            owners.setdefault(t, []).append(("declared", t))
        for flow in self.flows:
            if flow.target != r:
                continue
            for t in self.copies(flow):
                owners.setdefault(self.remote_topic(flow, t), []).append(("copy", t))
            for internal in self.replication.internal_topics(flow):
                owners.setdefault(internal, []).append(("internal", f"MirrorMaker {flow.source} → {flow.target}"))
            if self.heartbeats:
                owners.setdefault(naming.remote_topic(True, flow.source, naming.HEARTBEATS_TOPIC), []).append(
                    ("internal", f"heartbeats from {flow.source}")
                )
        if self.heartbeats and r in sources:
            for internal in naming.heartbeat_topics(r):
                owners.setdefault(internal, []).append(("internal", f"the heartbeat Connect of {r}"))
        from stacks import registry

        registry.census(self, r, owners)
        return owners


@functools.lru_cache(maxsize=65536)
def _selected(include: tuple[str, ...], exclude: tuple[str, ...], topic: str) -> bool:
    """Whether the include/exclude patterns select a topic (the same for every flow, so asked once)."""
    return any(re.fullmatch(p, topic) for p in include) and not any(re.fullmatch(p, topic) for p in exclude)


class RuleViolationError(ValueError):
    """Several cross-field rule violations at once, each with its own path inside the topology."""

    def __init__(self, errors: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(msg for _, msg in errors))


def _dns_label(value: str, what: str) -> str:
    if not DNS1123_LABEL_RE.fullmatch(value) or len(value) > 63:
        raise ValueError(f"{what} {value!r} must be a lowercase DNS label: a-z, 0-9 and '-', starting and ending alphanumeric")
    return value


def derive_flows(topology: Topology) -> tuple[Flow, ...]:
    """The replication flows an architecture implies, as (source → target), sorted.

    active-passive: primary → each secondary, or, while failing back, only the promoted secondary → the primary
    (``failback_flows``); active-active: every
    ordered pair or the declared subset; aggregation hub: each edge → hub; partitioned domain: for each
    topic, every hosting region → each of its ``replicate_to`` regions (only where residency allows,
    which validation has already checked).
    """
    arch = topology.architecture
    replication = topology.replication
    failback_from = replication.failback_from
    pairs: set[tuple[str, str]] = set()
    if arch is Architecture.ACTIVE_PASSIVE:
        if failback_from is not None:
            pairs = {(f.source, f.target) for f in failback_flows(topology) if f.source == failback_from}
        else:
            for p in topology.regions_with(Role.PRIMARY):
                for s in topology.regions_with(Role.SECONDARY):
                    pairs.add((p.name, s.name))
    elif arch is Architecture.ACTIVE_ACTIVE:
        declared = replication.flows
        if declared is not None:
            pairs = {(f.source, f.target) for f in declared}
        else:
            names = topology.region_names
            pairs = {(a, b) for a in names for b in names if a != b}
    elif arch is Architecture.AGGREGATION_HUB:
        for hub in topology.regions_with(Role.HUB):
            for edge in topology.regions_with(Role.EDGE):
                pairs.add((edge.name, hub.name))
    else:
        declared_regions = {r.name for r in topology.regions}
        for tname, topic in topology.topics.items():
            if not topic.replicated or topic.domain not in topology.domains:
                continue
            for target in topic.replicate_to:
                for source in topology.hosting_regions(tname):
                    if source != target and source in declared_regions and target in declared_regions:
                        pairs.add((source, target))
    leaving = {r.name for r in topology.regions if r.decommission}
    return tuple(Flow(source=s, target=t) for s, t in sorted(pairs) if s not in leaving and t not in leaving)


def failback_flows(topology: Topology) -> tuple[Flow, ...]:
    """Active-passive: the reverse flows (each secondary → the primary), used only while failing back."""
    if topology.architecture is not Architecture.ACTIVE_PASSIVE:
        return ()
    return tuple(
        Flow(source=s.name, target=p.name)
        for p in topology.regions_with(Role.PRIMARY)
        for s in topology.regions_with(Role.SECONDARY)
    )


def _find_cycle(flows: tuple[Flow, ...]) -> list[str] | None:
    graph: dict[str, list[str]] = {}
    for f in flows:
        graph.setdefault(f.source, []).append(f.target)
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for nxt in sorted(graph.get(node, [])):
            found = visit(nxt)
            if found:
                return found
        visiting.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start)
        if found:
            return found
    return None
