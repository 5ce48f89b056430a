"""Every name the project generates, derived in one place: principals, Kubernetes objects, topics, DNS names.

Owns: the functions that turn topology names (environment, regions, flows, users, topics, domains) into the
names other systems receive, the limits those systems put on them (Kafka's 249-character topic names, DNS's
253/63), and the names other parties already own in the same spaces (Kubernetes system namespaces, the
Secrets Strimzi's operators create, the topics Kafka and MirrorMaker 2 keep for themselves). The model uses
them to refuse collisions before anything is planned; the builders use them to name what they build; the plan
invariant checker (``tools.plan.invariants``) checks the rendered plan against the same limits. Because every
generated name comes from here, a collision check over these functions cannot miss one.

Deliberately not here: deciding which objects exist (the model and the builders) and any Pulumi or AWS call.
Functions take plain strings, so the model can use them while it validates.
"""

from __future__ import annotations

import base64
import hashlib
import re

PART_OF = "kafka-multiregion"

# ------------------------------------------------------------------------------------------- principals

ADMIN_USER = "kafka-admin"
OPERATOR_USER = "kafka-operator"
SUPER_USERS = (ADMIN_USER, OPERATOR_USER)


def flow_principal(source: str, target: str) -> str:
    """A MirrorMaker 2 flow's principal, KafkaMirrorMaker2 name and Connect group id."""
    return f"mm2-{source}-to-{target}"


def identity_alias(source: str) -> str:
    """The alias a prefixed flow's second mirror (the topics it copies under their own names) gives its source."""
    return f"{source}-identity"


def reverse_start_group(source: str, target: str) -> str:
    """A consumer group on ``source`` whose offsets are where a flow ``source`` → ``target`` starts when it is
    started after a failover (``tools.switchover``). The leading ``__`` keeps MirrorMaker from syncing it."""
    return f"__kafka-multiregion-{flow_principal(source, target)}-start"


def heartbeat_principal(region: str) -> str:
    """The heartbeat Connect of a source region: its principal, KafkaConnect name and group id."""
    return f"heartbeats-{region}"


def heartbeat_connector(source: str, target: str) -> str:
    return f"heartbeats-{source}-to-{target}"


# The schema registry's principal (``stacks.model.registry``): under the reserved prefix "kafka-", so no user takes it.
REGISTRY_PRINCIPAL = "kafka-schema-registry"


def registry_group_prefix() -> str:
    """The prefix of the consumer groups the registry makes (a new UUID after it on every start). The leading
    ``__`` keeps MirrorMaker from syncing their offsets, as for ``reverse_start_group``."""
    return f"__{REGISTRY_PRINCIPAL}-"


# ------------------------------------------------------------------------------------------- Kubernetes

# Namespaces Kubernetes itself owns: creating (and one day deleting) one of them is never ours to do.
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
ENV_CA_SECRET = "kafka-multiregion-ca"
# Secrets Strimzi's cluster operator creates for a Kafka cluster named C: C-<suffix> (KafkaResources.java).
STRIMZI_CLUSTER_SECRETS = (
    "cluster-ca", "cluster-ca-cert", "clients-ca", "clients-ca-cert", "kafka-brokers", "cluster-operator-certs",
    "entity-topic-operator-certs", "entity-user-operator-certs", "kafka-exporter-certs", "cruise-control-certs",
    "cruise-control-api",
)  # fmt: skip


def labels(environment: str, region: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/component": component,
        "kafka-multiregion.io/environment": environment,
        "kafka-multiregion.io/region": region,
    }


def password_secret(principal: str) -> str:
    # Strimzi's User Operator writes its own Secret named after the KafkaUser; ours must not collide with it.
    return f"{principal}-scram-password"


def listener_cert_secret(cluster: str) -> str:
    return f"{cluster}-listener-cert"


def cluster_ca_secret(cluster: str) -> str:
    """Strimzi's own cluster CA certificate (internal listener), created by the operator."""
    return f"{cluster}-cluster-ca-cert"


def strimzi_secrets(cluster: str) -> tuple[str, ...]:
    """Secrets the cluster operator creates for a Kafka cluster (a KafkaUser also gets one named after it)."""
    return tuple(f"{cluster}-{suffix}" for suffix in STRIMZI_CLUSTER_SECRETS)


def topic_resource_name(topic: str) -> str:
    """A DNS-1123 name for a KafkaTopic resource; the Kafka topic name goes in spec.topicName when it differs.

    A hash suffix keeps two topics that only differ by case or punctuation apart and keeps the name stable.
    """
    # Kept as it is only where it is a DNS-1123 subdomain: every '.'-separated part starts and ends alphanumeric
    # (a tenant prefix such as 'us-east-1-x.' before a topic '-k' would otherwise make the invalid '.-').
    if len(topic) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", topic):
        return topic
    clean = re.sub(r"[^a-z0-9-]+", "-", topic.lower()).strip("-")[:50] or "topic"
    return f"{clean}-{hashlib.sha256(topic.encode()).hexdigest()[:8]}"


# ------------------------------------------------------------------------------------------------ topics

MAX_TOPIC = 249  # Kafka's limit (Topic.MAX_NAME_LENGTH)
SEPARATOR = "."
HEARTBEATS_TOPIC = "heartbeats"
# MirrorMaker 2's DefaultTopicFilter skips these unless topics.exclude is declared (DefaultTopicFilter.java).
MM2_DEFAULT_TOPICS_EXCLUDE = (r".*[\-\.]internal", r".*\.replica", r"__.*")


def remote_topic(prefixed: bool, source: str, topic: str) -> str:
    """A topic's name on the target of a flow from ``source``: identity keeps it, prefixed adds the alias."""
    return f"{source}{SEPARATOR}{topic}" if prefixed else topic


def mm2_internal_topics(source: str, target: str) -> tuple[str, ...]:
    """Topics a flow's MirrorMaker 2 keeps on its target: Connect storage, offset syncs, checkpoints."""
    name = flow_principal(source, target)
    return (f"{name}-configs", f"{name}-offsets", f"{name}-status", *mm2_source_topics(source)[:2])


def mm2_source_topics(source: str) -> tuple[str, ...]:
    """Topics MirrorMaker 2 names after a source alone, on any target a flow from it reaches: offset syncs, its
    checkpoints and its heartbeats' copy. Claimed for the platform in every region (``stacks.ownership``), since
    a flow added later makes them."""
    return (
        # MirrorSourceConfig.offsetSyncsTopic with offset-syncs.topic.location=target: named after the source.
        f"mm2-offset-syncs.{source}.internal",
        f"{source}.checkpoints.internal",
        remote_topic(True, source, HEARTBEATS_TOPIC),
    )


def heartbeat_topics(region: str) -> tuple[str, ...]:
    name = heartbeat_principal(region)
    return (f"{name}-configs", f"{name}-offsets", f"{name}-status", HEARTBEATS_TOPIC)


def mm2_internal(topic: str) -> bool:
    """What MirrorMaker 2's replication policies treat as internal and never copy (ReplicationPolicy.isInternalTopic)."""
    return (
        topic.startswith(("__", "."))
        or topic.endswith(("-internal", ".internal"))
        or (topic.startswith("mm2") and topic.endswith(".internal"))
    )


def mm2_identity_renames(topic: str) -> bool:
    """IdentityReplicationPolicy (Kafka 4.3.1) copies a topic whose name ends in 'heartbeats' as '<source>.<topic>'
    (``looksLikeHeartbeat`` defers to DefaultReplicationPolicy), not under its own name."""
    return topic.endswith(HEARTBEATS_TOPIC)


def mm2_cycle(topic: str, prefixed: bool, source: str, target: str) -> bool:
    """MirrorSourceConnector.isCycle under the policy we render: the topic looks like a copy that came from
    ``target`` (a '.'-separated segment before the last names it), so MirrorMaker never copies it there."""
    while True:
        if not prefixed and not mm2_identity_renames(topic):
            return source == target  # IdentityReplicationPolicy: topicSource is the flow's source, upstream the topic
        parts = topic.split(SEPARATOR)
        while parts and parts[-1] == "":
            parts.pop()  # Java's String.split drops trailing empty strings
        if len(parts) < 2:
            return False  # DefaultReplicationPolicy: a local topic
        if parts[0] == target:
            return True
        topic = topic[len(parts[0]) + len(SEPARATOR) :]


def kafka_collision_key(topic: str) -> str:
    """Kafka refuses a topic whose name equals another's once '.' is read as '_' (Topic.hasCollision)."""
    return topic.replace(".", "_")


# Apicurio Registry 3 KafkaSQL: the journal (the registry's whole state, rebuilt from it on every start), its
# snapshots, and the registry's change events. The journal and snapshots are copied from the writer region under
# these names; the events stay in their region.
REGISTRY_JOURNAL_TOPIC = "kafkasql-journal"
REGISTRY_SNAPSHOTS_TOPIC = "kafkasql-snapshots"
REGISTRY_EVENTS_TOPIC = "registry-events"
REGISTRY_REPLICATED_TOPICS = (REGISTRY_JOURNAL_TOPIC, REGISTRY_SNAPSHOTS_TOPIC)
REGISTRY_TOPICS = (*REGISTRY_REPLICATED_TOPICS, REGISTRY_EVENTS_TOPIC)
REGISTRY_RESOURCE = "schema-registry"  # the ApicurioRegistry3 (and its PodMonitor, rules) in each region


def registry_ingress(resource: str = REGISTRY_RESOURCE) -> str:
    """The Ingress the Apicurio operator creates for an ApicurioRegistry3's API (``<name>-app-ingress``); its load
    balancer is what the registry's DNS names point at."""
    return f"{resource}-app-ingress"


# --------------------------------------------------------------------------------------------------- DNS

MAX_DNS_NAME = 253
MAX_DNS_LABEL = 63
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$")


def bootstrap_name(environment: str, zone: str) -> str:
    return f"{environment}.{zone}"


def region_dns_name(region: str, environment: str, zone: str) -> str:
    return f"{region}.{environment}.{zone}"


def broker_dns_name(region_name: str, node_id: int) -> str:
    """A broker's advertised name under its region's DNS name (ours, or the endpoint_override published elsewhere)."""
    return f"broker-{node_id}.{region_name}"


def registry_dns_name(name: str) -> str:
    """The schema registry's name under a region's name, or under the shared bootstrap name (fails over with it)."""
    return f"registry.{name}"


def domain_dns_name(domain: str, environment: str, zone: str) -> str:
    return f"{domain}.{environment}.{zone}"


def dns_name_problem(name: str) -> str | None:
    """Why DNS (and so a certificate SAN or an advertised host) would refuse ``name``, or None."""
    if len(name) > MAX_DNS_NAME:
        return f"is {len(name)} characters; DNS names are at most {MAX_DNS_NAME}"
    for label in name.split("."):
        if len(label) > MAX_DNS_LABEL:
            return f"has the label {label[:20]!r}... of {len(label)} characters; DNS labels are at most {MAX_DNS_LABEL}"
        if not label:
            return "has an empty label"
    return None


# ------------------------------------------------------------------ Confluent for Kubernetes and Cluster Linking
# Objects of the confluent cluster flavor live in the region's own namespace, so fixed names cannot meet another
# region's. CFK refuses secretRef names longer than 30 characters: every Secret name here stays under it.
CFK_KRAFT = "kraftcontroller"
CFK_REST_CLASS = "kafka-rest"
CFK_TLS_SECRET = "kafka-tls"  # fullchain.pem, privkey.pem, cacerts.pem: our listener certificate and the env CA
CFK_USERS_SECRET = "kafka-users"  # plain-users.json: every SASL/PLAIN principal of the region
CFK_REST_USERS_SECRET = "kafka-rest-users"  # basic.txt: who may call the brokers' Admin REST API
CFK_REST_CLIENT_SECRET = "kafka-rest-client"  # basic.txt: the admin's credentials, for the KafkaRestClass
CFK_ADMIN_CLIENT_SECRET = "kafka-admin-client"  # client.properties: the ACL job's admin login
CFK_PASSWORD_ENCODER_SECRET = "kafka-password-encoder"  # password-encoder.txt: encrypts cluster links' credentials
CFK_ACLS = "kafka-acls"  # the ConfigMap of ACL commands and the Job that applies them


def cluster_link_principal(source: str, target: str) -> str:
    """The principal a cluster link from ``source`` logs in as on ``source`` (it exists only there)."""
    return f"link-{source}-to-{target}"


def cluster_link(source: str) -> str:
    """The ClusterLink resource in the target's namespace (one link per source there), and its Kafka link name."""
    return f"link-from-{source}"


def cluster_link_secret(source: str) -> str:
    """The link's SASL/PLAIN credentials (plain.txt) in the target's namespace; at most 19 characters."""
    return f"link-{source}"


def kraft_cluster_id(environment: str, region: str) -> str:
    """A pinned KRaft cluster id (22 base64url characters, as Kafka's own): ClusterLinks name their source by it."""
    digest = hashlib.sha256(f"{PART_OF}/{environment}/{region}".encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
