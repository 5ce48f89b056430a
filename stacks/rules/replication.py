"""The rules on replication: the flows as declared and as derived, and what each engine cannot do.

Owns: the objectives declared once; declared flows (active-active only) between declared regions, never a loop;
on the derived flows: no identity-policy cycle, failback only from the failover secondary, no identity policy
into an aggregation hub; and per engine (``ENGINES``, by the ``engine`` key) its own rules: MirrorMaker 2's RPO
arithmetic and Strimzi clusters, Cluster Linking's architectures (``CLUSTER_LINKING_REFUSED``), confluent
clusters, the settings it cannot take and its offset-sync interval within the RPO.

Deliberately not here: the section's classes and the flows themselves (``stacks.model.replication``), the
replication quota's arithmetic (``stacks.rules.tenancy``), what the cluster flavor cannot do
(``stacks.rules.flavors``).
"""

from __future__ import annotations

from collections.abc import Callable

from stacks.model import Architecture, ClusterLinkingReplication, Flow, ReplicationPolicy, Topology, derive_flows
from stacks.rules.base import Errors


def check_declared(topology: Topology, errors: Errors) -> None:
    """The flows and objectives as the file writes them; the derived flows are only judged once these hold."""
    names = {r.name for r in topology.regions}
    section = topology.replication
    if topology.objectives is not None:
        for old in ("rpo_seconds", "rto_seconds"):
            if getattr(section, old, None) is not None:
                errors.append(
                    (
                        ("replication", old),
                        f"{old} is declared under objectives too; keep objectives.{old} and remove this one",
                    )
                )
    for i, flow in enumerate(section.flows or ()):
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
    if section.flows is not None and topology.architecture is not Architecture.ACTIVE_ACTIVE:
        errors.append(
            (
                ("replication", "flows"),
                f"explicit flows are for active-active; {topology.architecture.value} derives its flows from the roles",
            )
        )


def check(topology: Topology, errors: Errors) -> None:
    """The flows the architecture derives, then the engine's own rules (``ENGINES``)."""
    section = topology.replication
    flows = derive_flows(topology)
    if topology.policy is ReplicationPolicy.IDENTITY:
        cycle = _find_cycle(flows)
        if cycle:
            arrow = " → ".join(cycle)
            errors.append(
                (
                    ("replication", "policy"),
                    f"identity replication policy on the cycle {arrow} would replicate records back forever (it has no loop protection); use policy: prefixed",
                )
            )
    if section.failback_from is not None:
        if topology.architecture is not Architecture.ACTIVE_PASSIVE:
            errors.append((("replication", "failback_from"), "failback is an active-passive setting; remove it"))
        elif section.failback_from != topology.failover_secondary:
            errors.append(
                (
                    ("replication", "failback_from"),
                    f"{section.failback_from!r} is not the failover secondary; clients only ever fail over to "
                    f"{topology.failover_secondary!r}, so fail back from it (or change dns.failover_secondary first)",
                )
            )
    if topology.architecture is Architecture.AGGREGATION_HUB and topology.policy is ReplicationPolicy.IDENTITY:
        errors.append(
            (
                ("replication", "policy"),
                "with the identity policy every edge's copy of a topic lands in one hub topic of the same name, "
                "and offsets translated from several sources into one topic only move forward, so consumers "
                "skip records at failover; use policy: prefixed (each edge arrives as '<edge>.<topic>')",
            )
        )
    ENGINES[section.engine](topology, errors)


def _mirrormaker2(topology: Topology, errors: Errors) -> None:
    mm2 = topology.mm2
    rpo = topology.rpo_seconds
    if mm2.offset_sync.enabled:
        checkpoint, sync = mm2.checkpoint_interval(rpo), mm2.sync_interval(rpo)
        if checkpoint + sync > rpo:
            errors.append(
                (
                    ("replication",),
                    f"RPO {rpo} s is not reachable: checkpoint interval {checkpoint} s + offset-sync interval {sync} s = {checkpoint + sync} s of consumer offsets can be stale at failover; lower the intervals so they add up to at most {rpo} s, or raise rpo_seconds",
                )
            )
    if topology.cluster_flavor != mm2.default_flavor:
        errors.append(
            (
                ("flavor",),
                f"MirrorMaker 2 runs as Strimzi's KafkaMirrorMaker2 next to Strimzi clusters, not on {topology.cluster_flavor} clusters; set flavor: strimzi (or remove it), or use engine: cluster-linking",
            )
        )
    if mm2.exactly_once and mm2.replicas < 1:
        errors.append((("replication", "replicas"), "exactly-once needs at least one MirrorMaker 2 replica"))


def _cluster_linking(topology: Topology, errors: Errors) -> None:
    link = topology.replication
    assert isinstance(link, ClusterLinkingReplication)
    arch = topology.architecture
    refused = CLUSTER_LINKING_REFUSED.get(arch.value)
    if refused is not None:
        errors.append((("architecture",), f"engine cluster-linking does not serve {arch.value}: {refused}"))
    if topology.cluster_flavor != "confluent":
        errors.append(
            (
                ("flavor",),
                f"Cluster Linking runs inside Confluent Server, not on {topology.cluster_flavor} clusters; set flavor: confluent (or remove it), or use engine: mirrormaker2",
            )
        )
    why = {
        "filters": "header filters need a Connect transform (SMT) on every record, and a cluster link copies the log byte for byte; keep such records in a topic with replicated: false, or use engine: mirrormaker2",
        "exactly_once": "mirror topics already copy transactional records and markers as they are; remove exactly_once",
        "heartbeats": "heartbeats are MirrorMaker 2's connectors; watch the link's own lag metrics instead (monitoring does), or use engine: mirrormaker2",
        "flows": "explicit flows are for active-active, which cluster-linking does not serve; remove flows",
        "quota": "a replication quota for cluster links is not built yet; remove quota, or use engine: mirrormaker2",
    }
    for field, reason in why.items():
        if getattr(link, field) not in (None, (), False):
            errors.append((("replication", field), f"cluster-linking cannot take {field}: {reason}"))
    expected = ReplicationPolicy.IDENTITY if arch is Architecture.ACTIVE_PASSIVE else ReplicationPolicy.PREFIXED
    if link.policy is not None and link.policy is not expected:
        errors.append(
            (
                ("replication", "policy"),
                f"with cluster-linking, {arch.value} mirrors under {expected.value} names (mirror topics of a link share one prefix, or none); remove policy",
            )
        )
    rpo = topology.rpo_seconds
    if link.consumer_offset_sync and link.sync_interval(rpo) > rpo:
        errors.append(
            (
                ("replication", "offset_sync_interval_seconds"),
                f"RPO {rpo} s is not reachable: the link syncs consumer offsets every {link.sync_interval(rpo)} s; lower offset_sync_interval_seconds to at most {rpo} s, or raise rpo_seconds",
            )
        )


ENGINES: dict[str, Callable[[Topology, Errors], None]] = {
    "mirrormaker2": _mirrormaker2,
    "cluster-linking": _cluster_linking,
}


# What Cluster Linking on Confluent for Kubernetes 2.9.3 does not serve, with the reason and the alternative.
# Active-active: Confluent's active-active tutorial requires links "created in bidirectional mode from the outset"
# with cluster.link.prefix on both clusters; CFK 2.9.3's ClusterLink has no bidirectional fields
# (mirrorTopics[].direction, sourceInitiatedLink.connectionMode arrive in CFK 3.2).
_BIDIRECTIONAL = (
    "writable copies in both directions need bidirectional cluster links, which Confluent for Kubernetes 2.9.3's "
    "ClusterLink cannot declare (CFK 3.2 adds them); use engine: mirrormaker2 (prefixed, both ways)"
)
CLUSTER_LINKING_REFUSED: dict[str, str] = {
    "active-active": _BIDIRECTIONAL,
    "partitioned-domain": "a domain served by two regions is written in both and copied both ways; "
    + _BIDIRECTIONAL
    + ", or feed one region from the others as an aggregation hub",
}


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
