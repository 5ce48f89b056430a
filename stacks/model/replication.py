"""The replication section of the model: one class per engine, behind the ``engine`` key, the estate's objectives,
and the flows an architecture implies.

Owns: what a topology may say about replication for each engine (MirrorMaker 2, Confluent Cluster Linking), the
recovery objectives (``Objectives``: RPO and RTO belong to the estate, whatever copies the data), each engine's
own facts, as methods with the same names on every engine class, so the topology asks ``self.replication`` and
never branches on the engine (``runs_heartbeats(tier)``, ``principal(flow)``, ``internal_topics(flow)``,
``skip_reason(topic, flow, prefixed)``, ``default_flavor``), and the flows themselves: ``Flow``, ``derive_flows``
(what the architecture implies) and ``failback_flows`` (the reverse ones, while failing back).

Deliberately not here: the topology that holds the section (``stacks.model.topology``), the engines' rules (what
each cannot do: ``stacks.rules.replication``), anything that builds resources (``components.engines``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Discriminator, Field, Tag, field_validator

from stacks import naming
from stacks.model.base import ReplicationPolicy, Resources, Strict
from stacks.model.clusters import Architecture, Role

if TYPE_CHECKING:
    from stacks.model.topology import Topology

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
    # One core and 4 GiB per worker unless declared (docs/replication.md: a task copies on one core; a 3 GiB heap
    # with a 2 GiB young generation holds every record in flight); without cpu, enough cores for the flow's
    # topics' declared rates (components.engines.mirrormaker2.plan.worker_cpu).
    resources: Resources = Field(default_factory=Resources)

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


class ClusterLinkingReplication(Strict):
    """Replication with Confluent Cluster Linking: a ClusterLink per flow in the target region, mirror topics with
    the source's offsets (no translation), consumer-offset and ACL sync done by the link. Runs on the confluent
    cluster flavor (Confluent Server), served for active-passive and aggregation-hub."""

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


def _engine(value: object) -> str | None:
    # The engine key may be left out: MirrorMaker 2 is the default.
    if isinstance(value, dict):
        return str(value.get("engine", "mirrormaker2"))
    return getattr(value, "engine", None)


Replication = Annotated[
    Annotated[MirrorMaker2Replication, Tag("mirrormaker2")] | Annotated[ClusterLinkingReplication, Tag("cluster-linking")],
    Discriminator(_engine),
]


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
