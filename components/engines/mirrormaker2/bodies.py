"""Pure builders for MirrorMaker 2: one plan per replication flow, rendered two ways.

Owns: the flow's least-privilege principal and its ACLs on both clusters, and the two renderings of the same
``FlowPlan`` (``.plan``): a Strimzi ``KafkaMirrorMaker2`` and a dedicated-mode ``mm2.properties``
(as ``connect-mirror-maker.sh`` reads it). Because both come from one plan, they mean the same thing.
Heartbeats (a ``KafkaConnect`` with a heartbeat ``KafkaConnector`` per link) are built here as well.

Why one KafkaMirrorMaker2 per flow rather than one per target: a KafkaMirrorMaker2 has a single target
identity, and each flow authenticates on both ends as its own principal with only that flow's ACLs; it also
isolates one broken link from the others. Every instance has its own group id and storage topics.

MirrorMaker 2 runs as Strimzi's ``KafkaMirrorMaker2`` next to Strimzi clusters (the model refuses it on another
flavor), so its bodies use the Strimzi flavor's names and API directly.

Deliberately not here: which flows exist (``stacks.model.replication.derive_flows``), secrets, Pulumi resources
(``.components``), metrics and alerts (``.metrics``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.engines.mirrormaker2.metrics import MM2_METRICS
from components.engines.mirrormaker2.plan import (
    HEARTBEATS_TOPIC,
    POLICY_CLASS,
    SEPARATOR,
    FlowPlan,
    alternation,
    flow_plans,
    jvm_flags,
    jvm_options,
)
from components.flavors.strimzi.bodies import (
    API,
    cluster_ca_secret,
    env_ca_secret,
    internal_bootstrap,
    metrics_config,
    password_secret,
)
from components.kube import Manifest, external_bootstrap, labels
from stacks import naming
from stacks.model import ReplicationPolicy, Topology

HEARTBEAT_PASSWORD_DIR = "/mnt/heartbeats-password"
HEARTBEAT_CA_DIR = "/mnt/cluster-ca"


def _auth(plan: FlowPlan) -> dict[str, Any]:
    return {
        "type": "scram-sha-512",
        "username": plan.name,
        "passwordSecret": {"secretName": password_secret(plan.name), "password": "password"},
    }


def kafka_mirror_maker2(topology: Topology, plan: FlowPlan) -> Manifest:
    target = topology.region(plan.target)
    mm2 = topology.mm2
    extra: dict[str, Any] = {"metricsConfig": metrics_config(MM2_METRICS)} if topology.monitoring_enabled else {}
    body: Manifest = {
        "apiVersion": API,
        "kind": "KafkaMirrorMaker2",
        "metadata": {
            "name": plan.name,
            "namespace": target.namespace,
            "labels": {**labels(topology, plan.target, "mirrormaker2"), "kafka-multiregion.io/source": plan.source},
        },
        "spec": {
            "version": target.kafka.version,
            "replicas": mm2.replicas,
            "resources": {
                "requests": {"cpu": plan.cpu, "memory": plan.memory},
                "limits": {"memory": plan.memory},
            },
            "jvmOptions": jvm_options(plan),
            "target": {
                "alias": plan.target,
                # Produce locally: the target is reached on its in-cluster TLS listener.
                "bootstrapServers": internal_bootstrap(target),
                "groupId": plan.name,
                "configStorageTopic": plan.config_topic,
                "offsetStorageTopic": plan.offset_topic,
                "statusStorageTopic": plan.status_topic,
                "tls": {"trustedCertificates": [{"secretName": cluster_ca_secret(target), "pattern": "*.crt"}]},
                "authentication": _auth(plan),
                "config": dict(plan.target_config),
            },
            "mirrors": [
                {
                    "source": {
                        "alias": plan.source,
                        # Consume remotely, over the source's external listener signed by the environment CA.
                        "bootstrapServers": external_bootstrap(topology, plan.source),
                        "tls": {"trustedCertificates": [{"secretName": env_ca_secret(), "pattern": "*.crt"}]},
                        "authentication": _auth(plan),
                    },
                    "sourceConnector": {"tasksMax": plan.tasks_max, "config": dict(plan.source_config)},
                    "checkpointConnector": {"tasksMax": 1, "config": dict(plan.checkpoint_config)},
                    "topicsPattern": plan.topics_pattern,
                    **({"topicsExcludePattern": plan.topics_exclude} if plan.topics_exclude else {}),
                    "groupsPattern": plan.groups_pattern,
                    **({"groupsExcludePattern": plan.groups_exclude} if plan.groups_exclude else {}),
                }
            ],
            **extra,
        },
    }
    # A flow that only carries identity topics (the registry's journal, no application topic) has no main mirror.
    mirrors = body["spec"]["mirrors"] if plan.topics else []
    body["spec"]["mirrors"] = [*mirrors, *([identity_mirror(topology, plan)] if plan.identity_topics else [])]
    return body


def identity_source_config(topology: Topology, plan: FlowPlan) -> dict[str, Any]:
    """The source connector of a flow's identity topics: no offset syncs (no group consumes them across
    regions), no config sync (a KafkaTopic owns each copy), no heartbeats."""
    return {
        "replication.policy.class": POLICY_CLASS[ReplicationPolicy.IDENTITY],
        "offset-syncs.topic.location": "target",
        "emit.offset-syncs.enabled": "false",
        "replication.factor": -1,
        "sync.topic.acls.enabled": "false",
        "sync.topic.configs.enabled": "false",
        "heartbeats.replication.enabled": "false",
        "refresh.topics.interval.seconds": min(60, topology.rpo_seconds),
    }


def identity_mirror(topology: Topology, plan: FlowPlan) -> dict[str, Any]:
    """The second mirror of a prefixed flow: the same source under its own alias (connector names follow the
    alias), copying ``identity_topics`` under their own names."""
    return {
        "source": {
            "alias": naming.identity_alias(plan.source),
            "bootstrapServers": external_bootstrap(topology, plan.source),
            "tls": {"trustedCertificates": [{"secretName": env_ca_secret(), "pattern": "*.crt"}]},
            "authentication": _auth(plan),
        },
        "sourceConnector": {"tasksMax": 1, "config": identity_source_config(topology, plan)},
        "topicsPattern": alternation(list(plan.identity_topics)),
    }


# ------------------------------------------------------------------------------------- dedicated mode


@dataclass(frozen=True)
class ClusterAccess:
    """How the dedicated-mode process reaches one cluster: address, CA file and the password file."""

    bootstrap: str
    ca_file: str
    password_file: str


def mm2_properties(topology: Topology, plan: FlowPlan, access: dict[str, ClusterAccess]) -> str:
    """The flow as a dedicated-mode ``mm2.properties``. Passwords stay in files, read by the file config provider."""
    s, t = plan.source, plan.target
    alias = naming.identity_alias(s) if plan.identity_topics else None
    lines: list[tuple[str, Any]] = [
        ("clusters", ", ".join(filter(None, (s, t, alias)))),
        ("config.providers", "file"),
        ("config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider"),
        ("replication.policy.class", POLICY_CLASS[plan.policy]),
        ("replication.policy.separator", SEPARATOR),
    ]
    for cluster, a in ((s, access[s]), (t, access[t]), *(((alias, access[s]),) if alias else ())):
        lines += [
            (f"{cluster}.bootstrap.servers", a.bootstrap),
            (f"{cluster}.security.protocol", "SASL_SSL"),
            (f"{cluster}.sasl.mechanism", "SCRAM-SHA-512"),
            (
                f"{cluster}.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="{plan.name}" password="${{file:{a.password_file}:password}}";',
            ),
            (f"{cluster}.ssl.truststore.type", "PEM"),
            (f"{cluster}.ssl.truststore.location", a.ca_file),
        ]
    # Worker (Connect herder for the target): MirrorMakerConfig.workerConfig reads <target>.<key>.
    lines += [
        (f"{t}.group.id", plan.name),
        (f"{t}.config.storage.topic", plan.config_topic),
        (f"{t}.offset.storage.topic", plan.offset_topic),
        (f"{t}.status.storage.topic", plan.status_topic),
        *((f"{t}.{k}", v) for k, v in plan.target_config.items()),
    ]
    flow = f"{s}->{t}"
    connector = {**plan.source_config, **plan.checkpoint_config}
    lines += [
        (f"{flow}.enabled", "true" if plan.topics else "false"),
        # A KafkaMirrorMaker2 (Strimzi v1) runs no heartbeat connector; neither does this file's forward herder.
        (f"{flow}.emit.heartbeats.enabled", "false"),
        (f"{flow}.topics", plan.topics_pattern),
        (f"{flow}.groups", plan.groups_pattern),
        (f"{flow}.tasks.max", plan.tasks_max),
        *(((f"{flow}.topics.exclude", plan.topics_exclude),) if plan.topics_exclude else ()),
        *(((f"{flow}.groups.exclude", plan.groups_exclude),) if plan.groups_exclude else ()),
        *((f"{flow}.{k}", v) for k, v in connector.items()),
        # The reverse pair is not a flow. MirrorMaker would still start a heartbeat herder for it that writes
        # into the source; like the custom resource, this file leaves heartbeats to the heartbeat Connect.
        (f"{t}->{s}.enabled", "false"),
        (f"{t}->{s}.emit.heartbeats.enabled", "false"),
    ]
    if alias:
        lines += [
            (f"{alias}->{t}.enabled", "true"),
            (f"{alias}->{t}.emit.heartbeats.enabled", "false"),
            (f"{alias}->{t}.emit.checkpoints.enabled", "false"),
            (f"{alias}->{t}.topics", alternation(list(plan.identity_topics))),
            *((f"{alias}->{t}.{k}", v) for k, v in identity_source_config(topology, plan).items()),
        ]
        # Every other pair with the alias is no flow: no herder, no heartbeats.
        for a, b in ((t, alias), (s, alias), (alias, s)):
            lines += [(f"{a}->{b}.enabled", "false"), (f"{a}->{b}.emit.heartbeats.enabled", "false")]
    header = f"# MirrorMaker 2 dedicated mode, flow {s} -> {t}, environment {topology.environment}.\n"
    header += "# Generated by kafka-multiregion from the same plan as the KafkaMirrorMaker2 resource.\n"
    flags = jvm_flags(plan)
    heap, perf = flags[:2], flags[2:]
    header += (
        f"# Run it as the resource's workers run: {plan.cpu} CPU, {plan.memory} of memory, and\n"
        f"#   KAFKA_HEAP_OPTS='{' '.join(heap)}' KAFKA_JVM_PERFORMANCE_OPTS='-server {' '.join(perf)}'\n"
    )
    return header + "".join(f"{k}={_prop(v)}\n" for k, v in lines)


def _prop(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    # java.util.Properties treats backslash as an escape: double it so regexes arrive intact.
    return text.replace("\\", "\\\\")


# ---------------------------------------------------------------------------------------------- ACLs


def _acl(rtype: str, name: str, pattern: str, ops: list[str]) -> dict[str, Any]:
    res: dict[str, Any] = {"type": rtype}
    if rtype != "cluster":
        res.update(name=name, patternType=pattern)
    return {"type": "allow", "resource": res, "operations": sorted(ops), "host": "*"}


def source_acls(topology: Topology, plan: FlowPlan) -> list[dict[str, Any]]:
    """What the flow's principal may do on the source: read-only.

    Read and describe the mirrored topics and their configs; describe the target's topics as they appear on
    the source (the checkpoint connector lists consumers of them); describe consumer groups (checkpoints).
    Offset syncs live on the target, so nothing is written here. Heartbeats, when on, are written into the
    source by the region's heartbeat Connect (its own principal); MirrorMaker only reads them.
    """
    acls = [_acl("topic", t, "literal", ["Describe", "DescribeConfigs", "Read"]) for t in (*plan.topics, *plan.identity_topics)]
    if plan.policy is ReplicationPolicy.PREFIXED:
        acls += [_acl("topic", f"{plan.target}{SEPARATOR}", "prefix", ["Describe"])]
    acls += [_acl("group", "*", "literal", ["Describe"])]
    if topology.heartbeats:
        acls += [_acl("topic", HEARTBEATS_TOPIC, "literal", ["Describe", "DescribeConfigs", "Read"])]
    return acls


def target_acls(topology: Topology, plan: FlowPlan) -> list[dict[str, Any]]:
    """What the flow's principal may do on the target.

    Create, write, alter and describe-configs on the mirrored topics; the same on its internal topics
    (Connect storage, offset syncs, checkpoints, remote heartbeats), plus read where it reads them back;
    its Connect group; read on consumer groups whose offsets it syncs. Syncing a group's offsets is an
    OffsetCommit, which Kafka authorizes with Read on the group and Read on each topic, hence Read on the
    mirrored topics while offset sync is on.
    """
    mirror_ops = ["Alter", "AlterConfigs", "Create", "Describe", "DescribeConfigs", "Write"]
    internal_ops = [*mirror_ops, "Read"]
    topic_ops = internal_ops if topology.mm2.offset_sync.enabled else mirror_ops
    acls = [_acl("topic", t, "literal", topic_ops) for t in plan.remote_topics]
    # Identity copies of a prefixed flow (the registry's journal): a KafkaTopic owns each, MirrorMaker only writes.
    acls += [_acl("topic", t, "literal", ["Describe", "DescribeConfigs", "Write"]) for t in plan.identity_topics]
    acls += [
        _acl("topic", plan.name, "prefix", internal_ops),  # <name>-configs/-offsets/-status
        _acl("topic", plan.offset_syncs_topic, "literal", internal_ops),
        _acl("topic", plan.checkpoints_topic, "literal", internal_ops),
    ]
    if topology.heartbeats:
        acls += [_acl("topic", f"{plan.source}{SEPARATOR}{HEARTBEATS_TOPIC}", "literal", mirror_ops)]
    acls += [_acl("group", plan.name, "literal", ["Describe", "Read"])]
    if topology.mm2.offset_sync.enabled:
        # Syncing a group's committed offsets needs Read on the group and Describe on it.
        acls += [_acl("group", "*", "literal", ["Describe", "Read"])]
    if topology.mm2.exactly_once:
        acls += [
            _acl("transactionalId", plan.name, "prefix", ["Describe", "Write"]),
            _acl("cluster", "", "literal", ["IdempotentWrite"]),
        ]
    return acls


# ---------------------------------------------------------------------------------------------- heartbeats


def heartbeat_links(topology: Topology, region: str) -> tuple[FlowPlan, ...]:
    """Flows leaving ``region``: heartbeats for each are written into ``region`` and mirrored with the data."""
    return tuple(p for p in flow_plans(topology) if p.source == region)


def heartbeat_connect(topology: Topology, region: str) -> Manifest:
    """A small KafkaConnect next to the source cluster that runs the heartbeat connectors.

    Strimzi v1 has no heartbeat connector in KafkaMirrorMaker2. For flow A → B, MirrorMaker's own
    dedicated mode emits heartbeats into A from the B → A herder; we do the same with a KafkaConnect in A.
    """
    r = topology.region(region)
    name = naming.heartbeat_principal(region)
    return {
        "apiVersion": API,
        "kind": "KafkaConnect",
        "metadata": {
            "name": name,
            "namespace": r.namespace,
            "labels": labels(topology, region, "heartbeats"),
            "annotations": {"strimzi.io/use-connector-resources": "true"},
        },
        "spec": {
            "version": r.kafka.version,
            "replicas": 1,
            "bootstrapServers": internal_bootstrap(r),
            "groupId": name,
            "configStorageTopic": f"{name}-configs",
            "offsetStorageTopic": f"{name}-offsets",
            "statusStorageTopic": f"{name}-status",
            "tls": {"trustedCertificates": [{"secretName": cluster_ca_secret(r), "pattern": "*.crt"}]},
            "authentication": {
                "type": "scram-sha-512",
                "username": name,
                "passwordSecret": {"secretName": password_secret(name), "password": "password"},
            },
            "config": {
                "config.storage.replication.factor": -1,
                "offset.storage.replication.factor": -1,
                "status.storage.replication.factor": -1,
                # Connectors read the password and CA from mounted files, never from their own config.
                "config.providers": "directory",
                "config.providers.directory.class": "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
            },
            "resources": {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}},
            "template": {
                "pod": {
                    "volumes": [
                        {"name": "password", "secret": {"secretName": password_secret(name)}},
                        {"name": "cluster-ca", "secret": {"secretName": cluster_ca_secret(r)}},
                    ]
                },
                "connectContainer": {
                    "volumeMounts": [
                        {"name": "password", "mountPath": HEARTBEAT_PASSWORD_DIR, "readOnly": True},
                        {"name": "cluster-ca", "mountPath": HEARTBEAT_CA_DIR, "readOnly": True},
                    ]
                },
            },
        },
    }


def heartbeat_connector(topology: Topology, plan: FlowPlan) -> Manifest:
    r = topology.region(plan.source)
    return {
        "apiVersion": API,
        "kind": "KafkaConnector",
        "metadata": {
            "name": naming.heartbeat_connector(plan.source, plan.target),
            "namespace": r.namespace,
            "labels": {
                **labels(topology, plan.source, "heartbeats"),
                "strimzi.io/cluster": naming.heartbeat_principal(plan.source),
            },
        },
        "spec": {
            "class": "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector",
            "tasksMax": 1,
            "config": {
                # As MirrorMaker's B → A herder: the heartbeat is "from" the flow's target, written into its source.
                "source.cluster.alias": plan.target,
                "target.cluster.alias": plan.source,
                "target.cluster.bootstrap.servers": internal_bootstrap(r),
                "target.cluster.security.protocol": "SASL_SSL",
                "target.cluster.sasl.mechanism": "SCRAM-SHA-512",
                "target.cluster.sasl.jaas.config": (
                    "org.apache.kafka.common.security.scram.ScramLoginModule required "
                    f'username="{naming.heartbeat_principal(plan.source)}" password="${{directory:{HEARTBEAT_PASSWORD_DIR}:password}}";'
                ),
                "target.cluster.ssl.truststore.type": "PEM",
                "target.cluster.ssl.truststore.location": f"{HEARTBEAT_CA_DIR}/ca.crt",
                "heartbeats.topic.replication.factor": -1,
                "emit.heartbeats.interval.seconds": max(1, min(5, topology.rpo_seconds // 4)),
                "replication.policy.class": POLICY_CLASS[plan.policy],
            },
        },
    }


def heartbeat_acls(topology: Topology, region: str) -> list[dict[str, Any]]:
    name = naming.heartbeat_principal(region)
    ops = ["Create", "Describe", "DescribeConfigs", "Read", "Write"]
    return [
        _acl("topic", name, "prefix", ops),
        _acl("topic", HEARTBEATS_TOPIC, "literal", ops),
        _acl("group", name, "literal", ["Describe", "Read"]),
    ]
