"""MirrorMaker 2's plan: what each flow (source -> target) copies and how, as one ``FlowPlan`` in plain data.

Owns: the topics and groups a flow matches, its policy, its task count, and the settings of its source
connector, checkpoint connector and Connect worker; the constants they come from. Both renderings
(``.bodies``: a Strimzi ``KafkaMirrorMaker2`` and a dedicated-mode ``mm2.properties``) read only this, so they
mean the same thing.

Deliberately not here: which flows exist (``stacks.model.derive_flows``), the renderings, ACLs and heartbeats
(``.bodies``), Pulumi resources (``.components``).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any

from components.kube import cpu_cores, quantity_bytes
from stacks import naming
from stacks.model import Flow, ReplicationPolicy, Topology, registry
from stacks.model.replication import OnFlow

POLICY_CLASS = {
    ReplicationPolicy.IDENTITY: "org.apache.kafka.connect.mirror.IdentityReplicationPolicy",
    ReplicationPolicy.PREFIXED: "org.apache.kafka.connect.mirror.DefaultReplicationPolicy",
}
SEPARATOR = naming.SEPARATOR
HEARTBEATS_TOPIC = naming.HEARTBEATS_TOPIC
# Offset syncs are emitted at least every this many records per partition. With MirrorMaker's OffsetSyncStore
# (syncs kept at exponentially growing distance from the newest) a group translated at failover re-reads at
# most offset.lag.max + its lag behind the log end per partition; it never skips a record. (10,000 measured no
# faster than 100 in the replication benchmark, docs/replication.md, so the bound stays small.)
OFFSET_LAG_MAX = 100
OFFSET_FLUSH_MS = 5000
# The worker's producer (it writes the copies into the target, locally) batches more than Connect's defaults
# (linger 0 ms, 16 KiB batches): fewer, larger produce requests for the same records, at a few ms of latency.
# Connect's own default is one request in flight without idempotence (in order, but a retry may write a record
# twice); idempotence with five in flight keeps the order and writes each record once. No compression: the
# target is in the same region, so it would cost CPU and save no WAN bytes.
WORKER_PRODUCER: dict[str, Any] = {
    "producer.linger.ms": 10,
    "producer.batch.size": 262144,
    "producer.enable.idempotence": "true",
    "producer.max.in.flight.requests.per.connection": 5,
    "producer.buffer.memory": 8388608,
}
# The source task's consumer returns more records a poll than the default 500 (each poll has a fixed cost), and
# each fetch waits for 64 KiB or 20 ms rather than answering with every few records (20 ms: nothing next to an RPO).
SOURCE_CONSUMER: dict[str, Any] = {
    "consumer.max.poll.records": 5000,
    "consumer.fetch.min.bytes": 65536,
    "consumer.fetch.max.wait.ms": 20,
}
# What one task copies on one core, measured (docs/replication.md: 50-75 MB/s per task at 200-byte records, on a
# 2-core machine shared with both brokers); the lower end sizes a flow's workers from its topics' declared rates.
COPY_BYTES_PER_CORE = 50_000_000
# The workers' heap is this share of their memory (the rest: metaspace, threads, direct buffers), and the young
# generation this share of the heap: every record MirrorMaker has in flight (a SourceRecord with two maps, its
# headers and its ack callback) dies young, so a young generation that holds them all leaves almost nothing to
# collect; with Serial GC that removed MirrorMaker's garbage-collection cost in the benchmark (0.6-1.9 us a record
# down to under 0.2) and was faster per CPU-second than G1 with the same sizes.
HEAP_SHARE = 0.75
YOUNG_SHARE = 2 / 3


@dataclass(frozen=True)
class FlowPlan(OnFlow):
    """Everything one flow does, in plain data; both renderings read only this."""

    flow: Flow
    name: str  # resource name, principal and group id: mm2-<source>-to-<target>
    policy: ReplicationPolicy
    topics: tuple[str, ...]  # topic names on the source that are mirrored
    remote_topics: tuple[str, ...]  # their names on the target
    topics_pattern: str
    topics_exclude: str
    groups_pattern: str
    groups_exclude: str
    tasks_max: int
    cpu: str  # per worker pod: its request (as declared, else sized from the topics' declared rates)
    memory: str  # per worker pod: its request and limit
    source_config: dict[str, Any] = field(default_factory=dict)
    checkpoint_config: dict[str, Any] = field(default_factory=dict)
    target_config: dict[str, Any] = field(default_factory=dict)
    # Topics copied under their own names although the flow's policy prefixes (the schema registry's journal):
    # a second mirror of the same resource, with the identity policy (``identity_mirror``).
    identity_topics: tuple[str, ...] = ()

    @functools.cached_property
    def _internal(self) -> tuple[str, ...]:
        return naming.mm2_internal_topics(self.source, self.target)

    @property
    def config_topic(self) -> str:
        return self._internal[0]

    @property
    def offset_topic(self) -> str:
        return self._internal[1]

    @property
    def status_topic(self) -> str:
        return self._internal[2]

    @property
    def offset_syncs_topic(self) -> str:
        return self._internal[3]

    @property
    def checkpoints_topic(self) -> str:
        return self._internal[4]


def flow_name(flow: Flow) -> str:
    return naming.flow_principal(flow.source, flow.target)


def alternation(names: list[str]) -> str:
    return "|".join(re.escape(n) for n in names)


def plan_flow(topology: Topology, flow: Flow) -> FlowPlan:
    mm2 = topology.mm2
    policy = topology.policy
    topics = topology.copies(flow)
    remote = tuple(topology.remote_topic(flow, t) for t in topics)
    # The registry's journal keeps its name on every flow leaving the writer: with the identity policy it is one
    # more topic of the flow (so a switchover drains it too), otherwise it gets a mirror of its own.
    carried = registry.carried(topology, flow)
    identity_topics = carried if policy is ReplicationPolicy.PREFIXED else ()
    # The source connector must match the source's own topics. For prefixed policies the pattern also names
    # the copies the reverse flow writes on the source (<target>.<topic>): MirrorMaker never copies those back
    # (it detects the cycle), but its checkpoint connector then emits checkpoints for consumers of them, so a
    # consumer that failed over can move back. Third-region copies are not matched: no multi-hop duplicates.
    names = [*topics, *(() if identity_topics else carried)]
    reverse = Flow(source=flow.target, target=flow.source)
    if policy is ReplicationPolicy.PREFIXED and reverse in topology.flows:
        names += [topology.remote_topic(reverse, t) for t in topology.copies(reverse)]
    policy_class = POLICY_CLASS[policy]
    total_partitions = sum(topology.topics[t].partitions for t in topics) + len(carried)
    cpu = worker_cpu(topology, topics)
    # A task is one consumer -> producer loop on one thread: more tasks than cores only take turns (measured:
    # four tasks on two cores copied less than two).
    tasks_max = max(1, min(total_partitions, mm2.replicas * math.ceil(cpu_cores(cpu))))

    common = {
        "replication.policy.class": policy_class,
        "replication.policy.separator": SEPARATOR,
        # Offset syncs live on the target, so MirrorMaker only ever reads from the source.
        "offset-syncs.topic.location": "target",
    }
    source_config: dict[str, Any] = {
        **common,
        "replication.factor": -1,
        "offset-syncs.topic.replication.factor": -1,
        # The User Operator owns ACLs in every region; MirrorMaker copying them would fight it.
        "sync.topic.acls.enabled": "false",
        # With the identity policy the target topic is a KafkaTopic the Topic Operator owns; copying configs
        # would fight it too. Prefixed remote topics are MirrorMaker's own, so their configs follow the source.
        "sync.topic.configs.enabled": "true" if policy is ReplicationPolicy.PREFIXED else "false",
        "refresh.topics.interval.seconds": min(60, topology.rpo_seconds),
        "offset.lag.max": OFFSET_LAG_MAX,
        "heartbeats.replication.enabled": "true" if topology.heartbeats else "false",
        "emit.offset-syncs.enabled": "true" if mm2.offset_sync.enabled else "false",
        **SOURCE_CONSUMER,
    }
    if mm2.exactly_once:
        source_config["exactly.once.support"] = "required"
        source_config["consumer.isolation.level"] = "read_committed"
    headers = sorted(f.header for f in mm2.filters)
    if headers:
        source_config["transforms"] = ",".join(f"keepLocal{i}" for i in range(len(headers)))
        source_config["predicates"] = ",".join(f"hasLocalHeader{i}" for i in range(len(headers)))
    for i, header in enumerate(headers):
        source_config[f"transforms.keepLocal{i}.type"] = "org.apache.kafka.connect.transforms.Filter"
        source_config[f"transforms.keepLocal{i}.predicate"] = f"hasLocalHeader{i}"
        source_config[f"predicates.hasLocalHeader{i}.type"] = "org.apache.kafka.connect.transforms.predicates.HasHeaderKey"
        source_config[f"predicates.hasLocalHeader{i}.name"] = header
    checkpoint_config: dict[str, Any] = {
        **common,
        "checkpoints.topic.replication.factor": -1,
        "emit.checkpoints.enabled": "true" if mm2.offset_sync.enabled else "false",
        "emit.checkpoints.interval.seconds": mm2.checkpoint_interval(topology.rpo_seconds),
        "sync.group.offsets.enabled": "true" if mm2.offset_sync.enabled else "false",
        "sync.group.offsets.interval.seconds": mm2.sync_interval(topology.rpo_seconds),
        "refresh.groups.interval.seconds": min(60, topology.rpo_seconds),
    }
    target_config: dict[str, Any] = {
        "config.storage.replication.factor": -1,
        "offset.storage.replication.factor": -1,
        "status.storage.replication.factor": -1,
        # How often the worker commits the source positions it has copied (Connect's default is 60 s). A planned
        # switchover waits for them to reach the log end, and a restarted worker re-copies what it had not
        # committed: both are bounded by this interval.
        "offset.flush.interval.ms": OFFSET_FLUSH_MS,
        **WORKER_PRODUCER,
    }
    if mm2.exactly_once:
        target_config["exactly.once.source.support"] = "enabled"
    return FlowPlan(
        flow=flow,
        name=flow_name(flow),
        policy=policy,
        topics=(*topics, *(() if identity_topics else carried)),
        remote_topics=(*remote, *(() if identity_topics else carried)),
        topics_pattern=alternation(names),
        # Sorted: the order patterns are listed in means nothing, so it must change nothing.
        topics_exclude="|".join(sorted(mm2.topics_exclude)),
        groups_pattern="|".join(sorted(mm2.groups_include)),
        groups_exclude="|".join(sorted(mm2.groups_exclude)),
        tasks_max=tasks_max,
        cpu=cpu,
        memory=mm2.resources.memory,
        source_config=source_config,
        checkpoint_config=checkpoint_config,
        target_config=target_config,
        identity_topics=identity_topics,
    )


def flow_plans(topology: Topology) -> tuple[FlowPlan, ...]:
    """Plans for every flow that has something to copy (a flow with no mirrored topic runs nothing).

    Principals, users, heartbeats, monitoring and the estate all ask for them; they are computed once per
    topology object (the model is frozen, so the answer cannot change).
    """
    cached = _PLANS.get(id(topology))
    if cached is not None and cached[0] is topology:
        return cached[1]
    plans = tuple(p for p in (plan_flow(topology, f) for f in topology.flows) if p.topics or p.identity_topics)
    _PLANS[id(topology)] = (topology, plans)
    while len(_PLANS) > _PLANS_KEPT:
        _PLANS.pop(next(iter(_PLANS)))
    return plans


# A few recent topologies (holding a reference, so an id is never reused while it is cached).
_PLANS: dict[int, tuple[Topology, tuple[FlowPlan, ...]]] = {}
_PLANS_KEPT = 4


def worker_cpu(topology: Topology, topics: tuple[str, ...]) -> str:
    """A flow's CPU per worker pod: ``replication.resources.cpu`` as declared; otherwise enough cores for the
    declared write rates of the topics it copies, split over its replicas (``COPY_BYTES_PER_CORE``), at least the
    model's default."""
    mm2 = topology.mm2
    if "cpu" in mm2.resources.model_fields_set:  # declared (the default's fields are unset)
        return mm2.resources.cpu
    declared = sum(topology.topics[t].bytes_per_second or 0 for t in topics)
    needed = math.ceil(declared / mm2.replicas / COPY_BYTES_PER_CORE)
    return str(needed) if needed > cpu_cores(mm2.resources.cpu) else mm2.resources.cpu


def jvm_options(plan: FlowPlan) -> dict[str, Any]:
    """The workers' JVM: a fixed heap (``HEAP_SHARE`` of their memory) with a young generation of ``YOUNG_SHARE``,
    collected by Serial GC (see ``HEAP_SHARE``)."""
    heap = int(quantity_bytes(plan.memory) * HEAP_SHARE) // 2**20
    young = int(heap * YOUNG_SHARE)
    return {
        "-Xms": f"{heap}m",
        "-Xmx": f"{heap}m",
        "-XX": {"UseSerialGC": "true", "NewSize": f"{young}m", "MaxNewSize": f"{young}m"},
    }


def jvm_flags(plan: FlowPlan) -> tuple[str, ...]:
    """``jvm_options`` as the JVM's command line takes them (as Strimzi passes them: ``-XX`` booleans as
    ``+``/``-``): the heap flags first, then the ``-XX`` ones."""
    o = jvm_options(plan)
    xx = [f"-XX:{'+' if v == 'true' else '-'}{k}" if v in ("true", "false") else f"-XX:{k}={v}" for k, v in o["-XX"].items()]
    return (f"-Xms{o['-Xms']}", f"-Xmx{o['-Xmx']}", *xx)
