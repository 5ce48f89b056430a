"""Regions and their clusters: where the estate runs, in which role, and how each regional Kafka is sized and reached.

Owns: the architecture and role enums (``ROLES_BY_ARCHITECTURE``: which roles each architecture has), the tier,
the cluster flavor and listener types, how to reach a region's Kubernetes cluster (``KubeconfigAccess``,
``ContextAccess``), ``Storage``, ``KafkaCluster`` (versions Strimzi runs, node counts, zones, broker config with
the keys Strimzi manages refused and Kafka's own keys checked, ``kafka_config_keys`` and its "did you mean"), and
``Region``. Each class checks its own values; nothing here looks at another section.

Deliberately not here: rules that compare regions with each other or with the architecture (``stacks.rules.regions``),
the flavors' ports and broker ids (``stacks.flavors``), and the topology that holds the regions
(``stacks.model.topology``).
"""

from __future__ import annotations

import difflib
import json
import re
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from stacks import naming
from stacks.model.base import DNS1123_SUBDOMAIN_RE, QUANTITY_RE, Resources, Strict, dns_label

# Strimzi 1.2.0 runs these Kafka versions (kafka-versions.yaml at tag 1.2.0).
KAFKA_VERSIONS = ("4.2.0", "4.2.1", "4.3.0", "4.3.1")
DEFAULT_KAFKA_VERSION = "4.3.1"

AWS_REGION_RE = re.compile(
    r"^(us|eu|ap|sa|ca|me|af|il|mx)(-gov)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9]$"
)


# Kafka's own configuration keys, read from the 4.3.1 jars by tests/kafka_facts/KafkaConfigKeys.java
# (``make kafka-keys``); a test holds the file equal to what the jars say. Kafka refuses a topic with an unknown
# key and silently ignores an unknown broker key, so both are checked here, where the typo can still be named.
KAFKA_KEYS_FILE = Path(__file__).parents[1] / "kafka_config_keys.json"
# Broker keys read by plugins rather than Kafka's own ConfigDef: not checkable against it, so let through.
BROKER_PLUGIN_PREFIXES = ("remote.log.storage.", "remote.log.metadata.", "config.providers.", "client.quota.callback.")


@cache
def kafka_config_keys(kind: Literal["topic", "broker"]) -> frozenset[str]:
    data = json.loads(KAFKA_KEYS_FILE.read_text())
    return frozenset(k["name"] for k in data[kind])


def unknown_key_hint(key: str, kind: Literal["topic", "broker"]) -> str:
    close = difflib.get_close_matches(key, sorted(kafka_config_keys(kind)), n=1, cutoff=0.75)
    return f"did you mean {close[0]!r}?" if close else f"see the {kind} configs of Kafka {DEFAULT_KAFKA_VERSION}"


def known_kafka_key(key: str, kind: Literal["topic", "broker"], what: str, consequence: str) -> None:
    """Refuse a config key Kafka does not define (``what`` it is not, and what Kafka would do with it)."""
    if key not in kafka_config_keys(kind):
        raise ValueError(f"{kind} config key {key!r} is not {what}, so Kafka would {consequence}; {unknown_key_hint(key, kind)}")


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


class Flavor(StrEnum):
    STRIMZI = "strimzi"
    CONFLUENT = "confluent"


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
            if not key.startswith(BROKER_PLUGIN_PREFIXES):
                known_kafka_key(key, "broker", "a Kafka setting", "ignore it silently")
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
        dns_label(v, "namespace")
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
