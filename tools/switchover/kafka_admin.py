"""The Kafka side of ``tools.failover``: what each cluster holds for a flow, read and written with the admin
principal the program creates, every call bounded.

Owns: how the tool reaches each region's Kafka (``KafkaAccess``: the region's external bootstrap, the admin's
SCRAM credential, the environment CA), and the reads and writes the switch operations need: log-end offsets
and offsets by time; MirrorMaker's own records in the target cluster (the source positions its Connect worker
committed, its connector and task states, its offset syncs, its worker group's members); consumer group offsets
(read, and written where no member is connected); the write fence (DENY ACLs, below); and the source positions
a flow starts from, written where its Connect worker will read them.

The write fence. A switch must stop every application write on the old primary and keep it stopped while the
clusters are swapped: DENY ACLs for each application principal of the region (``tools.switchover.kube_fence`` says which,
and why not a quota, ``User:*`` or revoked credentials). Where the tool has the region's kubeconfig they are put
in the KafkaUsers' specs, which the User Operator turns into ACLs and keeps; without one (no Kubernetes, as in the
end-to-end tests) they are created here through the Admin API, as the User Operator would. Either way the fence
counts as up only when Kafka's own ACLs read back complete.

MirrorMaker's committed positions. A flow's Connect worker keeps, in its offsets topic on the target, the last
source offset it copied per partition: key ``[connector, {"cluster": source, "partition": p, "topic": t}]``,
value ``{"offset": n}`` (Kafka's JsonConverter without schemas). The task resumes at ``n + 1``. The tool reads
these to know what has been copied, and writes them for a flow that has not started yet so that it starts
exactly where the other cluster already has everything (KIP-875's ``alter offsets`` writes the same records;
Strimzi exposes it on a KafkaMirrorMaker2 with the ``strimzi.io/connector-offsets`` annotation).

Deliberately not here: the order of the steps and the progress record (``tools.switchover.steps``), Route53.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from components.engines.mirrormaker2 import plan as mirror_plan
from components.engines.mirrormaker2.records import parse_offset_sync, parse_position, position_record
from stacks import naming
from stacks.model import Topology
from tools.failover.zone import FailoverError
from tools.switchover.kube_fence import fence_rules

# MirrorMaker's groups.exclude when none is set (MirrorCheckpointConfig): such groups are never translated.
MIRRORMAKER_GROUPS_EXCLUDE = r"console-consumer-.*|connect-.*|__.*"
EXIT_WAITING = 8
EXIT_KAFKA = 9

TopicPartition = tuple[str, int]
Positions = dict[TopicPartition, int]


class KafkaError(FailoverError):
    """A cluster refused, or did not answer within the bounds."""

    status = EXIT_KAFKA


class WaitingError(FailoverError):
    """A step this tool does not perform itself (no ``--hook``): the operator does it, then runs the command again."""

    status = EXIT_WAITING


class MirrorDeployment(StrEnum):
    """How MirrorMaker runs: it decides the connector's name in its Connect worker's records."""

    STRIMZI = "strimzi"  # KafkaMirrorMaker2: connectors named <source>-><target>.MirrorSourceConnector
    DEDICATED = "dedicated"  # connect-mirror-maker: connectors named by their class

    def source_connector(self, plan: mirror_plan.FlowPlan) -> str:
        base = "MirrorSourceConnector"
        return base if self is MirrorDeployment.DEDICATED else f"{plan.source}->{plan.target}.{base}"


@dataclass(frozen=True)
class KafkaAccess:
    """How the tool reaches each region: read from ``--kafka FILE`` (JSON), which the operator writes from the
    stack's outputs: ``{"password_file": ..., "ca_file": ..., "username": "kafka-admin",
    "mirror_deployment": "strimzi", "bootstrap": {region: "host:port"}, "kubeconfig": {region: path}}``
    (with a region's kubeconfig, its write fence goes into its KafkaUsers: production, with the User Operator).
    The admin's bootstrap defaults to each region's external bootstrap; a switch closes that listener to clients,
    so where the tool must still reach a region afterwards (to start the reverse flow, to fail back) give another
    path, e.g. the internal listener through ``kubectl port-forward``. Whether clients can connect is probed at
    the external name (``clients`` may name another address per region). Cluster Linking stacks also give
    ``rest``: {region: "https://host:8090"}, each region's Admin REST API, which ``components.engines.cluster_linking.links`` calls."""

    username: str
    password: str
    ca_file: str
    deployment: MirrorDeployment
    bootstrap: Mapping[str, str] = field(default_factory=dict)
    clients: Mapping[str, str] = field(default_factory=dict)  # region → what clients connect to (probed)
    timeout: float = 10.0
    rest: Mapping[str, str] = field(default_factory=dict)  # region → its Admin REST API (Cluster Linking stacks)
    kubeconfig: Mapping[str, str] = field(default_factory=dict)  # region → kubeconfig: the fence in KafkaUsers

    @classmethod
    def load(cls, path: str, topology: Topology, timeout: float) -> KafkaAccess:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            with open(data["password_file"], encoding="utf-8") as f:
                password = f.read().strip()
            deployment = MirrorDeployment(data.get("mirror_deployment", MirrorDeployment.STRIMZI.value))
            # What clients connect to: each region's own name on its flavor's external port (or as given).
            given = data.get("clients", {})
            external = {
                r: str(given.get(r) or f"{topology.region_dns_name(r)}:{topology.client_port(r)}") for r in topology.region_names
            }
            bootstrap = {r: str(data.get("bootstrap", {}).get(r) or external[r]) for r in topology.region_names}
            kubeconfig = {str(r): str(path) for r, path in (data.get("kubeconfig") or {}).items()}
            if unknown := sorted(set(kubeconfig) - set(topology.region_names)):
                raise ValueError(f"kubeconfig names regions not in the stack: {unknown}")
            return cls(
                str(data.get("username", "kafka-admin")),
                password,
                str(data["ca_file"]),
                deployment,
                bootstrap,
                external,
                timeout,
                {r: str(u) for r, u in data.get("rest", {}).items()},
                kubeconfig,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FailoverError(f"--kafka {path}: {type(exc).__name__}: {exc} (see `python -m tools.failover --help`)") from None

    def config(self, region: str, **extra: Any) -> dict[str, Any]:
        ms = int(self.timeout * 1000)
        return {
            "bootstrap.servers": self.bootstrap[region],
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": self.username,
            "sasl.password": self.password,
            "ssl.ca.location": self.ca_file,
            "ssl.endpoint.identification.algorithm": "https",
            "socket.connection.setup.timeout.ms": ms,
            "socket.timeout.ms": ms,
            # librdkafka's own log lines are not the operator's: failures reach them as one line each.
            "log_level": 0,
            "error_cb": lambda _err: None,
            **extra,
        }


def _result(future: Any, what: str, timeout: float) -> Any:
    try:
        return future.result(timeout=timeout)
    except Exception as exc:  # KafkaException, timeouts: one line for the operator
        raise KafkaError(f"{what}: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    name = getattr(arg, "name", None)
    text = getattr(arg, "str", None)
    if callable(name) and callable(text):
        return f"{name()}: {text()}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class Cluster:
    """One region's Kafka, through the admin principal; every call bounded by ``access.timeout``."""

    def __init__(self, access: KafkaAccess, region: str) -> None:
        from confluent_kafka.admin import AdminClient

        self.access, self.region = access, region
        try:
            self.admin = AdminClient(access.config(region))
        except Exception as exc:  # a CA file that is not PEM, a bad setting: one line, not a traceback
            raise KafkaError(f"{region}: cannot create a Kafka client: {_describe(exc)}") from None

    @property
    def timeout(self) -> float:
        return self.access.timeout

    def _consumer(self) -> Any:
        from confluent_kafka import Consumer

        return Consumer(
            self.access.config(self.region, **{"group.id": "kafka-multiregion-failover", "enable.auto.commit": False})
        )

    def reachable(self) -> bool:
        try:
            self.admin.list_topics(timeout=self.timeout)
            return True
        except Exception:
            return False

    def partitions(self, topics: Iterable[str]) -> list[TopicPartition]:
        try:
            meta = self.admin.list_topics(timeout=self.timeout)
        except Exception as exc:
            raise KafkaError(f"{self.region}: cannot read metadata: {_describe(exc)}") from None
        out = []
        for t in topics:
            if t in meta.topics and meta.topics[t].error is None:
                out += [(t, p) for p in sorted(meta.topics[t].partitions)]
        return out

    def _list_offsets(self, tps: list[TopicPartition], spec: Any) -> Positions:
        from confluent_kafka import TopicPartition as TP  # noqa: N817 - a local short name

        if not tps:
            return {}
        futures = self.admin.list_offsets({TP(t, p): spec for t, p in tps}, request_timeout=self.timeout)
        return {
            (tp.topic, tp.partition): int(_result(f, f"{self.region}: list offsets", self.timeout).offset)
            for tp, f in futures.items()
        }

    def end_offsets(self, topics: Iterable[str]) -> Positions:
        from confluent_kafka.admin import OffsetSpec  # type: ignore[attr-defined]

        return self._list_offsets(self.partitions(topics), OffsetSpec.latest())  # type: ignore[no-untyped-call]

    # ------------------------------------------------------------------------------------- compacted topics

    def read_topic(self, topic: str, limit_seconds: float | None = None) -> list[tuple[bytes | None, bytes | None]]:
        """Every record of a (small, compacted) topic from its start to its end now, in order, bounded in time."""
        from confluent_kafka import TopicPartition as TP  # noqa: N817 - a local short name

        tps = self.partitions([topic])
        if not tps:
            return []
        consumer = self._consumer()
        out: list[tuple[bytes | None, bytes | None]] = []
        try:
            ends = {}
            for t, p in tps:
                low, high = consumer.get_watermark_offsets(TP(t, p), timeout=self.timeout)
                if high > low:
                    ends[p] = high
            if not ends:
                return []
            consumer.assign([TP(topic, p, 0) for p in ends])
            done: set[int] = set()
            deadline = time.monotonic() + (limit_seconds or 3 * self.timeout)
            while len(done) < len(ends) and time.monotonic() < deadline:
                msg = consumer.poll(0.2)
                if msg is None or msg.error():
                    continue
                out.append((msg.key(), msg.value()))
                if msg.offset() + 1 >= ends[msg.partition()]:
                    done.add(msg.partition())
            if len(done) < len(ends):
                raise KafkaError(f"{self.region}: could not read {topic} to its end in time")
        finally:
            consumer.close()
        return out

    # ------------------------------------------------------------------------------------- MirrorMaker

    def copied(self, plan: mirror_plan.FlowPlan) -> Positions:
        """Per source partition, how many source offsets the flow has copied (the next one it will read)."""
        connector = self.access.deployment.source_connector(plan)
        out: Positions = {}
        for key, value in self.read_topic(plan.offset_topic):
            pos = parse_position(key, value, connector, plan.source)
            if pos is not None:
                out[pos[0]] = pos[1]
        return out

    def set_start(self, plan: mirror_plan.FlowPlan, start: Positions) -> None:
        """Make a flow that is not running start at ``start`` (source offsets) on its next start."""
        from confluent_kafka import Producer
        from confluent_kafka.admin import NewTopic  # type: ignore[attr-defined]

        names = self.admin.list_topics(timeout=self.timeout).topics
        if plan.offset_topic not in names:
            # As Connect creates it: compacted, the broker's replication factor.
            futures = self.admin.create_topics(
                [NewTopic(plan.offset_topic, num_partitions=25, replication_factor=-1, config={"cleanup.policy": "compact"})],
                request_timeout=self.timeout,
            )
            for f in futures.values():
                _result(f, f"{self.region}: create {plan.offset_topic}", self.timeout)
        # Java's partitioner (murmur2), as Connect's own producer: a key's records must share a partition, or a
        # reader cannot tell which of two is the newer.
        producer = Producer(
            self.access.config(self.region, acks="all", partitioner="murmur2_random", **{"enable.idempotence": True})
        )
        errors: list[str] = []
        connector = self.access.deployment.source_connector(plan)
        for (topic, partition), offset in sorted(start.items()):
            key, value = position_record(connector, plan.source, topic, partition, offset)
            producer.produce(
                plan.offset_topic, key=key, value=value, on_delivery=lambda e, _m: errors.append(str(e)) if e else None
            )
        if producer.flush(self.timeout) or errors:
            raise KafkaError(f"{self.region}: writing {plan.name}'s start positions failed: {errors[:1] or 'timed out'}")

    def connector_states(self, plan: mirror_plan.FlowPlan) -> dict[str, str]:
        """The flow's connectors and tasks as its Connect worker last recorded them (``status-...`` → state)."""
        states: dict[str, str] = {}
        for key, value in self.read_topic(plan.status_topic):
            if key is None:
                continue
            name = key.decode(errors="replace")
            if not name.startswith(("status-connector-", "status-task-")):
                continue  # e.g. status-topic-...: the topics a connector uses (KIP-558), no state
            if value is None:
                states.pop(name, None)
                continue
            try:
                states[name] = str(json.loads(value).get("state", "?"))
            except ValueError:
                continue
        return states

    def group_active(self, group: str) -> bool:
        """Whether a group (consumers', or a Connect worker group) has members.

        The client's newer group calls skip Connect groups (ListGroups filters them out; DescribeConsumerGroups
        refuses them), so this asks the classic ListGroups + DescribeGroups pair, which answers for every group.
        """
        try:
            found = self.admin.list_groups(group, timeout=self.timeout)
        except Exception as exc:
            raise KafkaError(f"{self.region}: describe {group}: {_describe(exc)}") from None
        return any(g.id == group and g.members for g in found)

    def worker_members(self, plan: mirror_plan.FlowPlan) -> bool:
        """Whether the flow's Connect workers are in its group on the target (none once it is stopped)."""
        return self.group_active(plan.name)

    def offset_syncs(self, plan: mirror_plan.FlowPlan) -> dict[TopicPartition, list[tuple[int, int]]]:
        """MirrorMaker's (upstream, downstream) offset pairs per source partition, in the order written."""
        out: dict[TopicPartition, list[tuple[int, int]]] = {}
        for key, value in self.read_topic(plan.offset_syncs_topic):
            sync = parse_offset_sync(key, value)
            if sync is not None:
                out.setdefault(sync[0], []).append(sync[1])
        return out

    # ------------------------------------------------------------------------------------- groups

    def groups(self, plan: mirror_plan.FlowPlan) -> list[str]:
        """Consumer groups here that the flow's group patterns select."""
        listed = _result(
            self.admin.list_consumer_groups(request_timeout=self.timeout), f"{self.region}: list groups", self.timeout
        )
        include = re.compile(plan.groups_pattern or "$^")
        exclude = re.compile(plan.groups_exclude or MIRRORMAKER_GROUPS_EXCLUDE)
        return sorted(
            g.group_id
            for g in listed.valid
            if include.fullmatch(g.group_id) and not exclude.fullmatch(g.group_id) and g.group_id != plan.name
        )

    def group_offsets(self, group: str, topics: Iterable[str]) -> Positions:
        from confluent_kafka import ConsumerGroupTopicPartitions

        wanted = set(topics)
        futures = self.admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)], request_timeout=self.timeout)
        result = _result(futures[group], f"{self.region}: offsets of {group}", self.timeout)
        return {
            (tp.topic, tp.partition): int(tp.offset) for tp in result.topic_partitions if tp.topic in wanted and tp.offset >= 0
        }

    def set_group_offsets(self, group: str, offsets: Positions) -> None:
        from confluent_kafka import ConsumerGroupTopicPartitions
        from confluent_kafka import TopicPartition as TP  # noqa: N817 - a local short name

        parts = [TP(t, p, o) for (t, p), o in sorted(offsets.items())]
        futures = self.admin.alter_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group, parts)], request_timeout=self.timeout
        )
        for f in futures.values():
            _result(f, f"{self.region}: set offsets of {group}", self.timeout)

    # ------------------------------------------------------------------------------------- the write fence

    def fence_bindings(self, topology: Topology, plan: mirror_plan.FlowPlan) -> list[Any]:
        """``tools.switchover.kube_fence.fence_rules`` as the Admin API's bindings: what the User Operator creates from them."""
        from confluent_kafka.admin import (  # type: ignore[attr-defined]
            AclBinding,
            AclOperation,
            AclPermissionType,
            ResourcePatternType,
            ResourceType,
        )

        return [
            AclBinding(
                ResourceType[rule["resource"]["type"].upper()],
                rule["resource"]["name"],
                ResourcePatternType[rule["resource"]["patternType"].upper()],
                f"User:{user}",
                rule["host"],
                AclOperation[operation.upper()],
                AclPermissionType[rule["type"].upper()],
            )
            for user, rules in fence_rules(topology, self.region, plan).items()
            for rule in rules
            for operation in rule["operations"]
        ]

    def fenced(self, topology: Topology, plan: mirror_plan.FlowPlan) -> bool | None:
        """Whether every fence entry is in place (None: some are, some are not), read back from the cluster."""
        from confluent_kafka.admin import (  # type: ignore[attr-defined]
            AclBindingFilter,
            AclOperation,
            AclPermissionType,
            ResourcePatternType,
            ResourceType,
        )

        want = {_acl_key(b) for b in self.fence_bindings(topology, plan)}
        anything: Any = None  # the filter's "any" for names, principals and hosts
        flt = AclBindingFilter(
            ResourceType.ANY, anything, ResourcePatternType.ANY, anything, anything, AclOperation.ANY, AclPermissionType.DENY
        )
        have = {
            _acl_key(b)
            for b in _result(
                self.admin.describe_acls(flt, request_timeout=self.timeout), f"{self.region}: describe ACLs", self.timeout
            )
        }
        present = want & have
        return True if present == want else (False if not present else None)

    def registry_writer(self) -> bool:
        """Whether this region's schema registry is the writer, read back from Kafka: only the writer's principal
        may write the snapshots topic (``components.registry.principal_acls``, applied by the User Operator)."""
        from confluent_kafka.admin import (  # type: ignore[attr-defined]
            AclBindingFilter,
            AclOperation,
            AclPermissionType,
            ResourcePatternType,
            ResourceType,
        )

        anything: Any = None  # the filter's "any" host
        flt = AclBindingFilter(
            ResourceType.TOPIC,
            naming.REGISTRY_SNAPSHOTS_TOPIC,
            ResourcePatternType.LITERAL,
            f"User:{naming.REGISTRY_PRINCIPAL}",
            anything,
            AclOperation.WRITE,
            AclPermissionType.ALLOW,
        )
        found = _result(
            self.admin.describe_acls(flt, request_timeout=self.timeout), f"{self.region}: describe ACLs", self.timeout
        )
        return bool(found)

    def fence(self, topology: Topology, plan: mirror_plan.FlowPlan, on: bool) -> None:
        from confluent_kafka.admin import AclBindingFilter  # type: ignore[attr-defined]

        bindings = self.fence_bindings(topology, plan)
        futures: Mapping[Any, Any]
        if on:
            futures = self.admin.create_acls(bindings, request_timeout=self.timeout)
        else:
            filters = [
                AclBindingFilter(b.restype, b.name, b.resource_pattern_type, b.principal, b.host, b.operation, b.permission_type)
                for b in bindings
            ]
            futures = self.admin.delete_acls(filters, request_timeout=self.timeout)
        for f in futures.values():
            _result(f, f"{self.region}: {'adding' if on else 'removing'} the write fence", self.timeout)


def _acl_key(b: Any) -> tuple[str, ...]:
    return (str(b.restype), b.name, str(b.resource_pattern_type), b.principal, b.host, str(b.operation), str(b.permission_type))


def open_connection(bootstrap: str, timeout: float) -> socket.socket | None:
    """A TCP connection to ``bootstrap`` held open (None when refused or unanswered): what a client already
    connected through a listener has, for a switch to see whether closing the listener cut it."""
    host, _, port = bootstrap.rpartition(":")
    try:
        return socket.create_connection((host, int(port)), timeout=timeout)
    except OSError:
        return None


def connection_cut(conn: socket.socket, wait: float) -> bool:
    """Whether the other end closed or reset ``conn`` (within ``wait`` seconds). A Kafka broker never speaks
    first, so a connection that was not cut stays silent."""
    conn.settimeout(wait)
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except TimeoutError:
        return False
    except OSError:  # reset, or gone
        return True


def tcp_open(bootstrap: str, timeout: float) -> bool:
    """Whether the region's bootstrap accepts a TCP connection (a closed listener refuses or never answers)."""
    host, _, port = bootstrap.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False
