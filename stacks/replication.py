"""The replication section of the model: one class per engine, behind the ``engine`` key, and the estate's objectives.

Owns: what a topology may say about replication for each engine (MirrorMaker 2, Confluent Cluster Linking), the
recovery objectives (``Objectives``: RPO and RTO belong to the estate, whatever copies the data), and each
engine's own model rules and facts, as methods with the same names on every engine class, so the topology asks
``self.replication`` and never branches on the engine:

* ``check(topology, errors)``: the engine's rules (what it cannot do is refused with the reason and the alternative);
* ``runs_heartbeats(tier)``, ``internal_topics(flow)``, ``skip_reason(topic, flow, prefixed)``, ``default_flavor``.

Moved out of ``stacks.model`` unchanged in meaning (``stacks.model`` re-exports every public name here).

Deliberately not here: the topology itself and the flows it derives (``stacks.model``), anything that builds
resources (``components.engines``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Discriminator, Field, Tag, field_validator

from stacks import naming
from stacks.base import ReplicationPolicy, Resources, Strict

if TYPE_CHECKING:
    from stacks.model import Topology

Errors = list[tuple[tuple[str | int, ...], str]]

DEFAULT_RPO_SECONDS = 60
DEFAULT_RTO_SECONDS = 300


class Objectives(Strict):
    """The estate's recovery objectives: the same for every engine, checked against what each engine can reach."""

    rpo_seconds: int = Field(default=DEFAULT_RPO_SECONDS, ge=1, le=86400, description="Recovery point objective in seconds.")
    rto_seconds: int = Field(
        default=DEFAULT_RTO_SECONDS,
        ge=1,
        le=86400,
        description="Recovery time objective in seconds: DNS detection plus TTL must fit in it; the failover drill's deadline.",
    )


class OffsetSync(Strict):
    enabled: bool = Field(default=True, description="Translate and sync consumer-group offsets to the target.")
    checkpoint_interval_seconds: int | None = Field(
        default=None, ge=1, le=86400, description="emit.checkpoints.interval.seconds; derived from the RPO when unset."
    )
    sync_interval_seconds: int | None = Field(
        default=None, ge=1, le=86400, description="sync.group.offsets.interval.seconds; derived from the RPO when unset."
    )


class HeaderFilter(Strict):
    header: str = Field(min_length=1, max_length=255, description="Records carrying this header key stay in their region.")


class Flow(Strict):
    source: str = Field(description="Source region.")
    target: str = Field(description="Target region.")


class OnFlow:
    """The two ends of a flow, for the plain-data views of one (``FlowPlan``, ``FlowRun``) that keep it as ``flow``."""

    flow: Flow

    @property
    def source(self) -> str:
        return self.flow.source

    @property
    def target(self) -> str:
        return self.flow.target


class ReplicationQuota(Strict):
    """A byte-rate limit on every replication principal, so a catch-up after an outage cannot starve local clients."""

    byte_rate: int | None = Field(
        default=None, ge=1, description="Bytes/s per broker each flow may fetch from its source and write to its target."
    )
    capacity_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Without byte_rate: this share of the smaller declared kafka.capacity_bytes_per_second of the two ends.",
    )


_OLD_OBJECTIVE = "Deprecated place of objectives.{0} (still read when objectives is not declared)."
_FAILBACK = (
    "Active-passive, after a failover: the promoted secondary whose writes are copied back to the old primary. "
    "While set, the forward flow stops (the identity policy must never run both ways)."
)


def _check_regexes(v: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in v:
        if "," in pattern:
            # Strimzi hands these to MirrorMaker as list settings, which Kafka splits at every comma.
            raise ValueError(
                f"{pattern!r} has a comma, where MirrorMaker 2 splits its patterns (a{{1,3}} becomes a{{1|3}}); "
                "write alternatives with '|' and repeat instead of counting ({1,3})"
            )
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{pattern!r} is not a valid regular expression ({exc})") from None
    return v


class MirrorMaker2Replication(Strict):
    """Replication with MirrorMaker 2, run by Strimzi next to each target cluster."""

    engine: Literal["mirrormaker2"] = "mirrormaker2"
    default_flavor: ClassVar[str] = "strimzi"
    topics_include: tuple[str, ...] = Field(default=(".*",), min_length=1, description="Topic regexes to mirror.")
    topics_exclude: tuple[str, ...] = Field(default=(), description="Topic regexes never mirrored.")
    groups_include: tuple[str, ...] = Field(default=(".*",), description="Consumer-group regexes whose offsets sync.")
    groups_exclude: tuple[str, ...] = Field(default=(), description="Consumer-group regexes never synced.")
    policy: ReplicationPolicy | None = Field(
        default=None, description="identity (same topic names) or prefixed (source alias prefix); by architecture when unset."
    )
    offset_sync: OffsetSync = Field(default_factory=OffsetSync)
    exactly_once: bool = Field(default=False, description="Exactly-once source and read_committed consumers.")
    filters: tuple[HeaderFilter, ...] = Field(default=(), description="Header-based filters: records that never leave.")
    heartbeats: bool | None = Field(default=None, description="Deploy heartbeat connectors; on for prod when unset.")
    rpo_seconds: int | None = Field(default=None, ge=1, le=86400, description=_OLD_OBJECTIVE.format("rpo_seconds"))
    rto_seconds: int | None = Field(default=None, ge=1, le=86400, description=_OLD_OBJECTIVE.format("rto_seconds"))
    failback_from: str | None = Field(default=None, description=_FAILBACK)
    flows: tuple[Flow, ...] | None = Field(default=None, description="Active-active: only these ordered pairs.")
    quota: ReplicationQuota | None = Field(default=None, description="Limit what replication may take from each cluster.")
    replicas: int = Field(default=1, ge=1, le=20, description="MirrorMaker 2 pods per target region.")
    resources: Resources = Field(default_factory=lambda: Resources(cpu="500m", memory="2Gi"))

    @field_validator("topics_include", "topics_exclude", "groups_include", "groups_exclude")
    @classmethod
    def _regexes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _check_regexes(v)

    def checkpoint_interval(self, rpo_seconds: int) -> int:
        """Seconds between checkpoints: as declared, or a quarter of the RPO (so sync + checkpoint fit twice)."""
        return self.offset_sync.checkpoint_interval_seconds or max(1, rpo_seconds // 4)

    def sync_interval(self, rpo_seconds: int) -> int:
        return self.offset_sync.sync_interval_seconds or max(1, rpo_seconds // 4)

    def runs_heartbeats(self, prod: bool) -> bool:
        return self.heartbeats if self.heartbeats is not None else prod

    def principal(self, flow: Flow) -> tuple[str, str]:
        """The flow's principal, and what to call it in a message."""
        return naming.flow_principal(flow.source, flow.target), "the MirrorMaker principal"

    def internal_topics(self, flow: Flow) -> tuple[str, ...]:
        """Topics this engine keeps on a flow's target (Connect storage, offset syncs, checkpoints)."""
        return naming.mm2_internal_topics(flow.source, flow.target)

    def skip_reason(self, topic: str, flow: Flow, prefixed: bool) -> str | None:
        """Why the engine would silently not copy a selected topic, or copy it under another name; None if neither."""
        target = flow.target
        if not prefixed and naming.mm2_identity_renames(topic):
            return f"MirrorMaker 2's identity policy copies a topic whose name ends in {naming.HEARTBEATS_TOPIC!r} to {target} as '{flow.source}.{topic}' (IdentityReplicationPolicy treats it as a heartbeats topic), where nothing expects it; rename it, set replicated: false, or use policy: prefixed"
        if naming.mm2_cycle(topic, prefixed, flow.source, target):
            return f"MirrorMaker 2 reads {topic!r} as a copy that came from {target} (a segment before the last names it) and never copies it back there (cycle detection); rename it or set replicated: false"
        if naming.mm2_internal(topic):
            return f"MirrorMaker 2 treats {topic!r} as internal (names starting '__' or '.', or ending '-internal' or '.internal') and never copies it to {target}; rename it or set replicated: false"
        if not self.topics_exclude and any(re.fullmatch(p, topic) for p in naming.MM2_DEFAULT_TOPICS_EXCLUDE):
            return f"MirrorMaker 2's default topics.exclude ({', '.join(naming.MM2_DEFAULT_TOPICS_EXCLUDE)}) skips {topic!r}, so it never reaches {target}; rename it, set replicated: false, or declare replication.topics_exclude"
        return None

    def check(self, topology: Topology, errors: Errors) -> None:
        rpo = topology.rpo_seconds
        if self.offset_sync.enabled:
            checkpoint, sync = self.checkpoint_interval(rpo), self.sync_interval(rpo)
            if checkpoint + sync > rpo:
                errors.append(
                    (
                        ("replication",),
                        f"RPO {rpo} s is not reachable: checkpoint interval {checkpoint} s + offset-sync interval {sync} s = {checkpoint + sync} s of consumer offsets can be stale at failover; lower the intervals so they add up to at most {rpo} s, or raise rpo_seconds",
                    )
                )
        if topology.cluster_flavor != self.default_flavor:
            errors.append(
                (
                    ("flavor",),
                    f"MirrorMaker 2 runs as Strimzi's KafkaMirrorMaker2 next to Strimzi clusters, not on {topology.cluster_flavor} clusters; set flavor: strimzi (or remove it), or use engine: cluster-linking",
                )
            )
        if self.exactly_once and self.replicas < 1:
            errors.append((("replication", "replicas"), "exactly-once needs at least one MirrorMaker 2 replica"))


class ClusterLinkingReplication(Strict):
    """Replication with Confluent Cluster Linking: a ClusterLink per flow in the target region, mirror topics with
    the source's offsets (no translation), consumer-offset and ACL sync done by the link. Runs on the confluent
    cluster flavor (Confluent Server), served for active-passive and aggregation-hub (see ``check``)."""

    engine: Literal["cluster-linking"] = "cluster-linking"
    default_flavor: ClassVar[str] = "confluent"
    topics_include: tuple[str, ...] = Field(default=(".*",), min_length=1, description="Topic regexes to mirror.")
    topics_exclude: tuple[str, ...] = Field(default=(), description="Topic regexes never mirrored.")
    consumer_offset_sync: bool = Field(
        default=True, description="The link copies the committed offsets of the topology's consumer groups (same offsets)."
    )
    offset_sync_interval_seconds: int | None = Field(
        default=None, ge=1, le=86400, description="consumer.offset.sync.ms in seconds; a quarter of the RPO when unset."
    )
    acl_sync: bool = Field(
        default=True, description="The link copies the application principals' ALLOW ACLs (never the write fence's DENY)."
    )
    failback_from: str | None = Field(default=None, description=_FAILBACK)
    # Accepted so that asking for them gets the reason and the alternative instead of "unknown key".
    policy: ReplicationPolicy | None = Field(default=None, description="By architecture; mirror names follow it.")
    filters: tuple[HeaderFilter, ...] = Field(default=(), description="Not available: Cluster Linking copies bytes.")
    exactly_once: bool = Field(default=False, description="Not a setting: mirror topics copy transactions as they are.")
    heartbeats: bool | None = Field(default=None, description="Not available: MirrorMaker's heartbeats.")
    flows: tuple[Flow, ...] | None = Field(default=None, description="Not available: active-active is not served.")
    quota: ReplicationQuota | None = Field(default=None, description="Not available yet with Cluster Linking.")

    @field_validator("topics_include", "topics_exclude")
    @classmethod
    def _regexes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _check_regexes(v)

    def sync_interval(self, rpo_seconds: int) -> int:
        return self.offset_sync_interval_seconds or max(1, rpo_seconds // 4)

    def runs_heartbeats(self, prod: bool) -> bool:
        return False

    def principal(self, flow: Flow) -> tuple[str, str]:
        return naming.cluster_link_principal(flow.source, flow.target), "the cluster link's principal"

    def internal_topics(self, flow: Flow) -> tuple[str, ...]:
        return ()  # the link keeps its state inside the destination cluster's own metadata

    def skip_reason(self, topic: str, flow: Flow, prefixed: bool) -> str | None:
        target = flow.target
        if topic.startswith(("__", "_confluent")):
            # Kafka's own (__consumer_offsets, __transaction_state) and Confluent Server's (_confluent-*) topics.
            return f"Cluster Linking does not mirror {topic!r} to {target}: names starting '__' or '_confluent' are Kafka's and Confluent Server's internal topics; rename it or set replicated: false"
        return None

    def check(self, topology: Topology, errors: Errors) -> None:
        from stacks.model import Architecture

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
            if getattr(self, field) not in (None, (), False):
                errors.append((("replication", field), f"cluster-linking cannot take {field}: {reason}"))
        expected = ReplicationPolicy.IDENTITY if arch is Architecture.ACTIVE_PASSIVE else ReplicationPolicy.PREFIXED
        if self.policy is not None and self.policy is not expected:
            errors.append(
                (
                    ("replication", "policy"),
                    f"with cluster-linking, {arch.value} mirrors under {expected.value} names (mirror topics of a link share one prefix, or none); remove policy",
                )
            )
        rpo = topology.rpo_seconds
        if self.consumer_offset_sync and self.sync_interval(rpo) > rpo:
            errors.append(
                (
                    ("replication", "offset_sync_interval_seconds"),
                    f"RPO {rpo} s is not reachable: the link syncs consumer offsets every {self.sync_interval(rpo)} s; lower offset_sync_interval_seconds to at most {rpo} s, or raise rpo_seconds",
                )
            )


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


def _engine(value: object) -> str | None:
    # The engine key may be left out: MirrorMaker 2 is the default.
    if isinstance(value, dict):
        return str(value.get("engine", "mirrormaker2"))
    return getattr(value, "engine", None)


Replication = Annotated[
    Annotated[MirrorMaker2Replication, Tag("mirrormaker2")] | Annotated[ClusterLinkingReplication, Tag("cluster-linking")],
    Discriminator(_engine),
]
