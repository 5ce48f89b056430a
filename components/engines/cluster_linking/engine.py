"""Confluent Cluster Linking behind the engine seam: a ClusterLink per flow in the target region, on CFK.

Owns, per flow source → target:

* the ``ClusterLink`` (``platform.confluent.io/v1beta1``) in the target's namespace: the source named by its pinned
  KRaft cluster id and external listener (TLS, SASL/PLAIN as the link's principal, the environment CA), one
  mirror topic per copied topic under the name the policy gives it (identity: the same name, so the same offsets
  under the same name; prefixed: ``mirrorTopicOptions.prefix`` ``<source>.``, each mirror naming its
  ``sourceTopicName``), consumer-offset sync for the topology's consumer groups (``consumerGroupFilters``: each
  declared group, and each tenant's prefix) and ACL sync of the application principals' ALLOW ACLs
  (``aclFilters``; a write fence's DENY never travels to the side being promoted);
* the link's credentials Secret (a Pulumi secret) in the target, and its principal on the source with least
  privilege: Read/Describe/DescribeConfigs on the mirrored topics, Describe on groups (offset sync), Describe on
  the cluster (ACL sync). The destination side is Confluent Server's own brokers: no principal there.
* the link's metrics (``kafka.server.link`` fetcher lag per link) and alerts on the estate's RPO.

Failover semantics (``tools.switchover`` runs them through ``FAILOVER``): switchover *promotes* the mirror
topics (Confluent waits until the mirror has caught up with the source, so nothing acknowledged is lost);
failover *fails them over* (stops mirroring at once; what had not arrived stays on the old primary); failback
declares the link the other way (``replication.failback_from``) once the old primary's copies are gone.

Deliberately not here: the cluster flavor (``components.flavors.confluent.flavor``), the model's rules for this engine
(``stacks.rules.replication``).
"""

from __future__ import annotations

import functools
from typing import Any

import pulumi

from components import kube
from components.engines.base import BuildContext, FlowRun, Principal
from components.flavors.confluent import bodies as confluent
from components.kube import custom_resource, secret_resource
from components.monitoring import alert, panel
from stacks import naming
from stacks.model import ClusterLinkingReplication, Flow, ReplicationPolicy, Topology

# kafka.server.link:type=ClusterLinkFetcherManager,name=MaxLag,clientId=ClusterLink,link-name={link}: the largest
# lag (messages) of any destination replica behind its source leader (Confluent Platform "Cluster Linking metrics").
# Every rule names its metric explicitly, as for the other exporter rules.
LINK_RULES: list[dict[str, Any]] = [
    {
        "pattern": "kafka.server.link<type=ClusterLinkFetcherManager, name=(MaxLag|DeadThreadCount), clientId=ClusterLink, link-name=(.+)><>Value",
        "name": "kafka_server_link_clusterlinkfetchermanager_$1",
        "type": "GAUGE",
        "labels": {"link": "$2"},
    },
    {
        "pattern": "kafka.server<type=FetcherLagMetrics, name=ConsumerLag, clientId=ClusterLinkFetcherThread-(.+), topic=(.+), partition=([0-9]+), link-name=(.+)><>Value",
        "name": "kafka_server_link_mirror_partition_lag",
        "type": "GAUGE",
        "labels": {"topic": "$2", "partition": "$3", "link": "$4"},
    },
]


def run_of(topology: Topology, flow: Flow) -> FlowRun:
    """A flow as its link runs it (also for a flow the topology does not declare now: the failover tool's reverse)."""
    topics = topology.copies(flow)
    remote = tuple(topology.remote_topic(flow, t) for t in topics)
    return FlowRun(flow, topology.replication.principal(flow)[0], topics, remote, topology.policy.value)


def _settings(topology: Topology) -> ClusterLinkingReplication:
    assert isinstance(topology.replication, ClusterLinkingReplication)
    return topology.replication


class ClusterLinking:
    name = "cluster-linking"
    principal_kind = "cluster-link"
    alert_group = "clusterlink"
    switchover = "components.engines.cluster_linking.switchover"  # its switchover steps, for tools.switchover (never imported by the program)

    def flows(self, topology: Topology) -> tuple[FlowRun, ...]:
        return tuple(run for run in (run_of(topology, f) for f in topology.flows) if run.topics)

    def principals(self, topology: Topology, region: str) -> list[Principal]:
        return [
            Principal(run.name, self.principal_kind, source_acls(topology, run))
            for run in self.flows(topology)
            if run.source == region
        ]

    def build(self, topology: Topology, ctx: BuildContext) -> None:
        for run in self.flows(topology):
            opts = pulumi.ResourceOptions(
                parent=ctx.parent,
                providers=list(ctx.providers[run.target]),
                depends_on=[ctx.users[run.source], ctx.clusters[run.target]],
            )
            login = secret_resource(
                f"{run.name}-credentials",
                link_secret(topology, run),
                {"plain.txt": ctx.passwords[run.name].apply(functools.partial(confluent.plain_login, run.name))},
                opts,
            )
            custom_resource(
                f"{run.name}-link",
                cluster_link(topology, run),
                pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[login])),
            )

    def panels(self, topology: Topology) -> list[dict[str, Any]]:
        return [
            panel(1, "Cluster link lag per link (max, messages)", [("max by (kafka_region, link) (kafka_server_link_clusterlinkfetchermanager_maxlag)", "{{link}} -> {{kafka_region}}")], 0),
            panel(2, "Mirror topic lag per topic", [("max by (link, topic) (kafka_server_link_mirror_partition_lag)", "{{link}} {{topic}}")], 0, x=12),
            panel(3, "Dead link fetcher threads", [("max by (kafka_region, link) (kafka_server_link_clusterlinkfetchermanager_deadthreadcount)", "{{link}} -> {{kafka_region}}")], 8),
        ]  # fmt: skip

    def rendered_files(self, topology: Topology) -> dict[str, str]:
        return {}  # nothing runs outside the brokers

    def exporter_rules(self, topology: Topology, region: str) -> list[tuple[str, list[dict[str, Any]]]]:
        return [("cluster-link", LINK_RULES)] if any(r.target == region for r in self.flows(topology)) else []

    def alert_rules(self, topology: Topology, region: str) -> list[dict[str, Any]]:
        if not any(r.target == region for r in self.flows(topology)):
            return []
        rpo = topology.rpo_seconds
        # The link reports lag in messages, not time: alert when it has lagged at all for a whole RPO (a mirror
        # that is behind for longer than the RPO would lose more than the RPO at failover), and at once when
        # its fetcher threads die.
        return [
            alert("ClusterLinkLagAboveRpo", f"min_over_time(max by (link) (kafka_server_link_clusterlinkfetchermanager_maxlag)[{rpo}s:]) > 0", "1m", "critical", f"Cluster link {{{{ $labels.link }}}} into {region} has been behind its source for longer than the RPO ({rpo} s)"),
            alert("ClusterLinkMirrorPartitionLagging", f"min_over_time(max by (link, topic) (kafka_server_link_mirror_partition_lag)[{rpo}s:]) > 0", "1m", "warning", f"Mirror topic {{{{ $labels.topic }}}} of {{{{ $labels.link }}}} has lagged for longer than the RPO ({rpo} s)"),
            alert("ClusterLinkFetcherDead", "max by (link) (kafka_server_link_clusterlinkfetchermanager_deadthreadcount) > 0", "1m", "critical", "Cluster link {{ $labels.link }} has dead fetcher threads: mirroring has stopped"),
        ]  # fmt: skip


def _acl(rtype: str, name: str, pattern: str, ops: list[str]) -> dict[str, Any]:
    res: dict[str, Any] = {"type": rtype}
    if rtype != "cluster":
        res.update(name=name, patternType=pattern)
    return {"type": "allow", "resource": res, "operations": sorted(ops), "host": "*"}


def source_acls(topology: Topology, run: FlowRun) -> list[dict[str, Any]]:
    """The link's principal on the source: read the mirrored topics (and their configs, which mirror topics copy);
    describe groups whose offsets it syncs; describe the cluster's ACLs when it syncs them. Nothing else."""
    groups, synced_acls = _syncs(topology, run.flow)
    acls = [_acl("topic", t, "literal", ["Describe", "DescribeConfigs", "Read"]) for t in run.topics]
    if groups:
        acls.append(_acl("group", "*", "literal", ["Describe"]))
    if synced_acls:
        acls.append(_acl("cluster", "", "literal", ["Describe"]))
    return acls


def link_secret(topology: Topology, run: FlowRun) -> dict[str, Any]:
    target = topology.region(run.target)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": naming.cluster_link_secret(run.source),
            "namespace": target.namespace,
            "labels": naming.labels(topology.environment, target.name, "replication"),
        },
        "type": "Opaque",
        "stringData": {"plain.txt": ""},
    }


def consumer_groups(topology: Topology, flow: Flow) -> list[dict[str, str]]:
    """The groups whose offsets the link copies: every declared group of a user on both ends, and each tenant's
    prefix (its groups start with it)."""
    both = {flow.source, flow.target}
    groups = sorted({g for u, user in topology.users.items() if both <= set(topology.user_regions(u)) for g in user.groups})
    out = [{"name": g, "patternType": "LITERAL", "filterType": "INCLUDE"} for g in groups]
    out += [
        {"name": tenant.prefix, "patternType": "PREFIXED", "filterType": "INCLUDE"}
        for _, tenant in sorted(topology.tenants.items())
        if both <= topology.tenant_regions(_)
    ]
    return out


def acl_filters(topology: Topology, flow: Flow) -> list[dict[str, Any]]:
    """The ACLs the link copies: each application principal present on both ends, ALLOW only (a fence is DENY)."""
    both = {flow.source, flow.target}
    users = sorted(u for u in topology.users if both <= set(topology.user_regions(u)))
    return [
        {
            "resourceFilter": {"resourceType": "any", "patternType": "any"},
            "accessFilter": {"principal": f"User:{u}", "operation": "any", "permissionType": "allow", "host": "*"},
        }
        for u in users
    ]


def _syncs(topology: Topology, flow: Flow) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The groups and ACLs the link syncs for a flow: none when the setting is off (or nothing qualifies)."""
    settings = _settings(topology)
    groups = consumer_groups(topology, flow) if settings.consumer_offset_sync else []
    acls = acl_filters(topology, flow) if settings.acl_sync else []
    return groups, acls


def cluster_link(topology: Topology, run: FlowRun) -> dict[str, Any]:
    settings = _settings(topology)
    source, target = topology.region(run.source), topology.region(run.target)
    rpo = topology.rpo_seconds
    groups, acls = _syncs(topology, run.flow)
    spec: dict[str, Any] = {
        "name": naming.cluster_link(run.source),
        "destinationKafkaCluster": {"kafkaRestClassRef": {"name": naming.CFK_REST_CLASS, "namespace": target.namespace}},
        "sourceKafkaCluster": {
            "bootstrapEndpoint": kube.external_bootstrap(topology, run.source),
            "clusterID": naming.kraft_cluster_id(topology.environment, source.name),
            "authentication": {"type": "plain", "jaasConfig": {"secretRef": naming.cluster_link_secret(run.source)}},
            "tls": {"enabled": True, "secretRef": naming.CFK_TLS_SECRET},
        },
    }
    mirrors = []
    for topic, remote in zip(run.topics, run.remote_topics, strict=True):
        mirror: dict[str, Any] = {"name": remote}
        if remote != topic:
            mirror["sourceTopicName"] = topic
        mirrors.append(mirror)
    if run.policy == ReplicationPolicy.PREFIXED.value:
        spec["mirrorTopicOptions"] = {"prefix": f"{run.source}{naming.SEPARATOR}"}
    spec["mirrorTopics"] = mirrors
    configs = {"consumer.offset.sync.enable": str(bool(groups)).lower(), "acl.sync.enable": str(bool(acls)).lower()}
    if groups:
        spec["consumerGroupFilters"] = groups
        configs["consumer.offset.sync.ms"] = str(settings.sync_interval(rpo) * 1000)
    if acls:
        spec["aclFilters"] = acls
        configs["acl.sync.ms"] = str(min(rpo, 60) * 1000)
    spec["configs"] = configs
    return {
        "apiVersion": confluent.API,
        "kind": "ClusterLink",
        "metadata": {
            "name": naming.cluster_link(run.source),
            "namespace": target.namespace,
            "labels": naming.labels(topology.environment, target.name, "replication"),
        },
        "spec": spec,
    }


ENGINE = ClusterLinking()
