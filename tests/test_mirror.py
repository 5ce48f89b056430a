"""MirrorMaker 2: the exact flows of each architecture, their policies and patterns, the settings that make
failover work, the dedicated-mode properties meaning exactly what the custom resource means, and the RPO
arithmetic behind the intervals."""

from __future__ import annotations

import json
import re

import pytest

from components.engines.mirrormaker2 import bodies as mirror
from components.engines.mirrormaker2 import plan as mirror_plan
from stacks import naming
from stacks.loader import TopologyError, load_topology, validate_data
from stacks.model import Flow
from tests.conftest import MM2_FILES, MM2_IDS, ORACLE, ROOT, raw, run_oracle, topology_of

IDENTITY = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"
DEFAULT = "org.apache.kafka.connect.mirror.DefaultReplicationPolicy"

EXPECTED_FLOWS = {
    "stacks/dev.yaml": ({("us-east-1", "us-west-2")}, IDENTITY),
    "stacks/prod.yaml": (
        {
            (a, b)
            for a in ("us-east-1", "eu-west-1", "ap-southeast-1")
            for b in ("us-east-1", "eu-west-1", "ap-southeast-1")
            if a != b
        },
        DEFAULT,
    ),
    "examples/aggregation-hub.yaml": (
        {("us-east-1", "us-east-2"), ("eu-west-1", "us-east-2"), ("ap-northeast-1", "us-east-2")},
        DEFAULT,
    ),
    "examples/partitioned-domain.yaml": ({("eu-west-1", "eu-central-1"), ("us-east-1", "us-west-2")}, DEFAULT),
    "examples/multi-tenant.yaml": ({("us-east-1", "eu-west-1"), ("eu-west-1", "us-east-1")}, DEFAULT),
    "examples/schema-registry.yaml": (
        {
            (a, b)
            for a in ("us-east-1", "eu-west-1", "ap-southeast-1")
            for b in ("us-east-1", "eu-west-1", "ap-southeast-1")
            if a != b
        },
        DEFAULT,
    ),
}

EXPECTED_PATTERNS = {
    ("stacks/dev.yaml", "us-east-1", "us-west-2"): r"orders|payments",
    ("stacks/prod.yaml", "us-east-1", "eu-west-1"): (
        r"customer\-profiles|orders|payments|eu\-west\-1\.customer\-profiles|eu\-west\-1\.orders|eu\-west\-1\.payments"
    ),
    (
        "examples/aggregation-hub.yaml",
        "eu-west-1",
        "us-east-2",
    ): r"device\-events|telemetry",  # no hub → edge flow, so no copies to name
    ("examples/partitioned-domain.yaml", "eu-west-1", "eu-central-1"): r"eu\-customers",
}


@pytest.mark.parametrize("stack", sorted(EXPECTED_FLOWS))
def test_each_architecture_yields_exactly_its_flows_with_the_policy_on_both_connectors(stack):
    t = load_topology(ROOT / stack)
    flows, policy = EXPECTED_FLOWS[stack]
    plans = mirror_plan.flow_plans(t)
    assert {(p.source, p.target) for p in plans} == flows
    for p in plans:
        cr = mirror.kafka_mirror_maker2(t, p)
        # A second mirror only for the topics a prefixed flow copies under their own names (the registry journal).
        m, *identity = cr["spec"]["mirrors"]
        assert len(identity) == (1 if p.identity_topics else 0)
        assert m["sourceConnector"]["config"]["replication.policy.class"] == policy
        assert m["checkpointConnector"]["config"]["replication.policy.class"] == policy
        assert cr["metadata"]["namespace"] == t.region(p.target).namespace
        assert cr["metadata"]["labels"]["kafka-multiregion.io/region"] == p.target, "MirrorMaker runs next to its target"


@pytest.mark.parametrize(("stack", "source", "target"), sorted(EXPECTED_PATTERNS))
def test_topic_patterns_match_local_topics_and_for_prefixed_policies_the_targets_copies(stack, source, target):
    t = load_topology(ROOT / stack)
    plan = mirror_plan.plan_flow(t, Flow(source=source, target=target))
    assert plan.topics_pattern == EXPECTED_PATTERNS[(stack, source, target)]


def test_active_active_patterns_never_match_a_third_regions_copies_so_nothing_loops_or_hops():
    t = load_topology(ROOT / "stacks/prod.yaml")
    for plan in mirror_plan.flow_plans(t):
        pattern = re.compile(plan.topics_pattern)
        for other in t.region_names:
            for topic in t.topics:
                remote = f"{other}.{topic}"
                # Matched only when it is the target's own data coming home: MirrorMaker skips it as a cycle.
                assert bool(pattern.fullmatch(remote)) == (other == plan.target)


def test_no_flow_graph_with_a_cycle_uses_the_identity_policy():
    for path in MM2_FILES:
        t = load_topology(path)
        pairs = {(f.source, f.target) for f in t.flows}
        has_cycle = any((b, a) in pairs for a, b in pairs)
        if has_cycle:
            assert all(p.policy.value == "prefixed" for p in mirror_plan.flow_plans(t))


def test_failback_replaces_the_forward_flow_with_the_reverse_one():
    data = raw("stacks/dev.yaml")
    data["replication"] = {"failback_from": "us-west-2"}
    t = topology_of(data)
    assert [(f.source, f.target) for f in t.flows] == [("us-west-2", "us-east-1")]
    (plan,) = mirror_plan.flow_plans(t)
    assert plan.policy.value == "identity" and plan.remote_topics == ("orders", "payments")


@pytest.mark.parametrize("path", MM2_FILES, ids=MM2_IDS)
def test_every_flow_has_its_own_group_and_storage_topics_and_broker_default_replication(path):
    t = load_topology(path)
    seen: set[tuple[str, str]] = set()
    for plan in mirror_plan.flow_plans(t):
        target = mirror.kafka_mirror_maker2(t, plan)["spec"]["target"]
        for key in ("groupId", "configStorageTopic", "offsetStorageTopic", "statusStorageTopic"):
            assert (plan.target, target[key]) not in seen
            seen.add((plan.target, target[key]))
        assert all(target["config"][f"{k}.storage.replication.factor"] == -1 for k in ("config", "offset", "status"))
        src = plan.source_config
        assert src["replication.factor"] == -1 and src["offset-syncs.topic.replication.factor"] == -1
        assert plan.checkpoint_config["checkpoints.topic.replication.factor"] == -1
        assert src["sync.topic.acls.enabled"] == "false"
        assert src["offset-syncs.topic.location"] == plan.checkpoint_config["offset-syncs.topic.location"] == "target"


def test_both_ends_authenticate_as_the_flows_own_principal_and_trust_the_right_ca():
    t = load_topology(ROOT / "stacks/dev.yaml")
    (plan,) = mirror_plan.flow_plans(t)
    spec = mirror.kafka_mirror_maker2(t, plan)["spec"]
    auth = {
        "type": "scram-sha-512",
        "username": plan.name,
        "passwordSecret": {"secretName": f"{plan.name}-scram-password", "password": "password"},
    }
    assert spec["target"]["authentication"] == spec["mirrors"][0]["source"]["authentication"] == auth
    assert spec["target"]["tls"]["trustedCertificates"] == [{"secretName": "us-west-2-cluster-ca-cert", "pattern": "*.crt"}]
    assert spec["mirrors"][0]["source"]["tls"]["trustedCertificates"] == [
        {"secretName": "kafka-multiregion-ca", "pattern": "*.crt"}
    ]
    assert spec["mirrors"][0]["source"]["bootstrapServers"] == "us-east-1.dev.kafka.example.com:9094"
    assert spec["target"]["bootstrapServers"] == "us-west-2-kafka-bootstrap.kafka.svc:9093"


def test_exactly_once_turns_on_both_the_worker_and_the_connector_and_reads_committed_records():
    t = load_topology(ROOT / "stacks/prod.yaml")
    plan = mirror_plan.flow_plans(t)[0]
    assert plan.target_config["exactly.once.source.support"] == "enabled"
    assert plan.source_config["exactly.once.support"] == "required"
    assert plan.source_config["consumer.isolation.level"] == "read_committed"
    dev = mirror_plan.flow_plans(load_topology(ROOT / "stacks/dev.yaml"))[0]
    assert "exactly.once.support" not in dev.source_config


def test_header_filters_keep_marked_records_in_their_region():
    t = load_topology(ROOT / "examples/partitioned-domain.yaml")
    for plan in mirror_plan.flow_plans(t):
        c = plan.source_config
        assert c["transforms"] == "keepLocal0"
        assert c["transforms.keepLocal0.type"] == "org.apache.kafka.connect.transforms.Filter"
        assert c["transforms.keepLocal0.predicate"] == "hasLocalHeader0"
        assert c["predicates.hasLocalHeader0.type"] == "org.apache.kafka.connect.transforms.predicates.HasHeaderKey"
        assert c["predicates.hasLocalHeader0.name"] == "x-residency-local"
        assert "transforms" not in plan.checkpoint_config


# (partitions of the one topic, its declared bytes/s, replication section) -> (cpu per worker, tasks, heap, young)
WORKERS = [
    ((9, None, {}), ("1", 1, "3072m", "2048m")),  # one core, one task: more tasks than cores only take turns
    ((2, None, {"replicas": 3, "resources": {"cpu": "2", "memory": "2Gi"}}), ("2", 2, "1536m", "1024m")),  # partitions
    ((30, None, {"replicas": 3, "resources": {"cpu": "2"}}), ("2", 6, "3072m", "2048m")),  # 3 workers x 2 cores
    ((30, 120_000_000, {}), ("3", 3, "3072m", "2048m")),  # 120 MB/s declared: three cores at 50 MB/s a core
    ((30, 120_000_000, {"replicas": 2}), ("2", 4, "3072m", "2048m")),  # split over two workers
    ((30, 120_000_000, {"resources": {"cpu": "500m"}}), ("500m", 1, "3072m", "2048m")),  # declared cpu is kept
]


@pytest.mark.parametrize(("given", "expected"), WORKERS, ids=[str(g) for g, _ in WORKERS])
def test_workers_are_sized_from_cores_partitions_and_declared_rates(given, expected):
    partitions, rate, replication = given
    data = raw("stacks/dev.yaml")
    data["topics"] = {
        "events": {"partitions": partitions, "replication_factor": 1, **({"bytes_per_second": rate} if rate else {})}
    }
    data["users"] = {}
    data["replication"] = {**data.get("replication", {}), **replication}
    (plan,) = mirror_plan.flow_plans(topology_of(data))
    jvm = mirror_plan.jvm_options(plan)
    assert (plan.cpu, plan.tasks_max, jvm["-Xmx"], jvm["-XX"]["NewSize"]) == expected
    assert jvm["-Xms"] == jvm["-Xmx"] and jvm["-XX"]["UseSerialGC"] == "true"


def test_the_workers_run_as_planned_in_both_renderings():
    t = load_topology(ROOT / "stacks/dev.yaml")
    (plan,) = mirror_plan.flow_plans(t)
    spec = mirror.kafka_mirror_maker2(t, plan)["spec"]
    assert spec["resources"] == {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"memory": "4Gi"}}
    assert spec["jvmOptions"] == mirror_plan.jvm_options(plan)
    access = {
        a: mirror.ClusterAccess(f"{a}.example:9094", "/etc/ca.crt", "/etc/pw.properties") for a in (plan.source, plan.target)
    }
    text = mirror.mm2_properties(t, plan, access)
    assert "KAFKA_HEAP_OPTS='-Xms3072m -Xmx3072m'" in text
    assert "KAFKA_JVM_PERFORMANCE_OPTS='-server -XX:+UseSerialGC -XX:NewSize=2048m -XX:MaxNewSize=2048m'" in text


def test_heartbeats_run_in_a_connect_cluster_per_source_region_with_one_connector_per_link(program):
    rec = program("stacks/prod.yaml")
    connects = rec.of_type("kubernetes:kafka.strimzi.io/v1:KafkaConnect")
    connectors = rec.of_type("kubernetes:kafka.strimzi.io/v1:KafkaConnector")
    assert sorted(c.inputs["metadata"]["name"] for c in connects) == [
        "heartbeats-ap-southeast-1",
        "heartbeats-eu-west-1",
        "heartbeats-us-east-1",
    ]
    assert len(connectors) == 6
    for c in connectors:
        assert c.inputs["spec"]["class"] == "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector"
    assert not program("stacks/dev.yaml").of_type("kubernetes:kafka.strimzi.io/v1:KafkaConnect"), "dev has no heartbeats"


def test_mirrormaker_connect_and_connector_resources_pass_the_upstream_schemas(tmp_path):
    import yaml

    docs = []
    for path in MM2_FILES:
        t = load_topology(path)
        for plan in mirror_plan.flow_plans(t):
            docs += [mirror.kafka_mirror_maker2(t, plan), mirror.heartbeat_connector(t, plan)]
        docs += [mirror.heartbeat_connect(t, r) for r in t.region_names]
    (tmp_path / "mm2.yaml").write_text(yaml.safe_dump_all(docs))
    result = run_oracle(tmp_path)
    assert result.returncode == 0, result.stdout
    flows = sum(len(mirror_plan.flow_plans(load_topology(p))) for p in MM2_FILES)
    assert flows == sum(len(f) for f, _ in EXPECTED_FLOWS.values())
    assert f"KafkaMirrorMaker2={flows}" in result.stdout and result.stdout.strip().endswith(" 0 problems")


# ----------------------------------------------------------------------------- dedicated mode


def _properties(stack: str, plan: mirror_plan.FlowPlan) -> dict[str, str]:
    t = load_topology(ROOT / stack)
    access = {
        a: mirror.ClusterAccess(f"{a}.example:9094", "/etc/ca.crt", "/etc/pw.properties") for a in (plan.source, plan.target)
    }
    return _parse_properties(mirror.mm2_properties(t, plan, access))


def _parse_properties(text: str) -> dict[str, str]:
    """Read back what ``mm2_properties`` writes (the subset of java.util.Properties syntax it uses)."""
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "!")):
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = value.strip().replace("\\\\", "\\")
    return out


MM2_KEYS = json.loads((ORACLE / "kafka" / "mm2-config-keys.json").read_text())
CONNECTOR_KEYS = {k["name"] for k in MM2_KEYS["keys"]}
DRIVER_KEYS = {k["name"] if isinstance(k, dict) else k for k in MM2_KEYS["mm2_driver_keys"]}
# Connect worker settings MirrorMakerConfig.workerConfig reads from <target>.<key>, and client prefixes.
WORKER_KEYS = {"group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic",
               "config.storage.replication.factor", "offset.storage.replication.factor",
               "status.storage.replication.factor", "exactly.once.source.support", "bootstrap.servers",
               "offset.flush.interval.ms"}  # fmt: skip
# Client prefixes, transforms, and Connect's own source-connector keys (exactly.once.*, KIP-618), as the
# oracle's validate.py documents them.
CONNECTOR_PREFIXES = ("producer.", "consumer.", "admin.", "transforms", "predicates", "replication.policy.", "exactly.once.")


def _key_is_known(key: str, aliases: tuple[str, ...]) -> bool:
    for flow in (f"{a}->{b}." for a in aliases for b in aliases if a != b):
        if key.startswith(flow):
            rest = key[len(flow) :]
            return rest in CONNECTOR_KEYS or rest.startswith(CONNECTOR_PREFIXES) or rest == "tasks.max"
    for alias in aliases:
        if key.startswith(alias + "."):
            rest = key[len(alias) + 1 :]
            return rest in CONNECTOR_KEYS or rest in WORKER_KEYS or rest.startswith("producer.")
    return key in DRIVER_KEYS or key in CONNECTOR_KEYS or key.startswith(("config.providers", "replication.policy."))


@pytest.mark.parametrize("stack", sorted(EXPECTED_FLOWS))
def test_the_properties_file_uses_only_keys_kafka_defines(stack):
    for plan in mirror_plan.flow_plans(load_topology(ROOT / stack)):
        props = _properties(stack, plan)
        identity = (naming.identity_alias(plan.source),) if plan.identity_topics else ()
        unknown = [k for k in props if not _key_is_known(k, (plan.source, plan.target, *identity))]
        assert not unknown, unknown


@pytest.mark.parametrize("stack", sorted(EXPECTED_FLOWS))
def test_the_properties_file_and_the_custom_resource_agree_on_every_setting(stack):
    t = load_topology(ROOT / stack)
    for plan in mirror_plan.flow_plans(t):
        props = _properties(stack, plan)
        cr = mirror.kafka_mirror_maker2(t, plan)["spec"]
        m, *identity = cr["mirrors"]
        for other in identity:  # the prefixed flow's identity mirror (the registry journal): its own alias's flow
            other_flow = f"{other['source']['alias']}->{plan.target}."
            assert props[f"{other_flow}topics"] == other["topicsPattern"]
            assert props[f"{other_flow}enabled"] == "true"
            for k, v in other["sourceConnector"]["config"].items():
                assert props[f"{other_flow}{k}"] == str(v), k
        flow = f"{plan.source}->{plan.target}."
        expected = {
            f"{flow}topics": m["topicsPattern"],
            f"{flow}groups": m["groupsPattern"],
            f"{flow}tasks.max": str(m["sourceConnector"]["tasksMax"]),
            f"{plan.target}.group.id": cr["target"]["groupId"],
            f"{plan.target}.config.storage.topic": cr["target"]["configStorageTopic"],
            f"{plan.target}.offset.storage.topic": cr["target"]["offsetStorageTopic"],
            f"{plan.target}.status.storage.topic": cr["target"]["statusStorageTopic"],
        }
        if "topicsExcludePattern" in m:
            expected[f"{flow}topics.exclude"] = m["topicsExcludePattern"]
        for section in ("sourceConnector", "checkpointConnector"):
            expected.update(
                {f"{flow}{k}": str(v).lower() if isinstance(v, bool) else str(v) for k, v in m[section]["config"].items()}
            )
        expected.update({f"{plan.target}.{k}": str(v) for k, v in cr["target"]["config"].items()})
        for key, value in expected.items():
            assert props.get(key) == value, key
        # Nothing in the file means more than the resource: every flow setting is accounted for.
        flow_keys = {k for k in props if k.startswith(flow)} - {f"{flow}enabled", f"{flow}emit.heartbeats.enabled"}
        assert flow_keys == {k for k in expected if k.startswith(flow)}
        assert props[f"{flow}enabled"] == "true"
        assert props[f"{flow}emit.heartbeats.enabled"] == "false", "the custom resource runs no heartbeat connector"
        assert props[f"{plan.target}->{plan.source}.enabled"] == "false"


def test_the_properties_file_never_holds_a_password():
    plan = mirror_plan.flow_plans(load_topology(ROOT / "stacks/dev.yaml"))[0]
    props = _properties("stacks/dev.yaml", plan)
    jaas = props["us-east-1.sasl.jaas.config"]
    assert 'password="${file:/etc/pw.properties:password}"' in jaas


# ---------------------------------------------------------------------------------- RPO arithmetic


@pytest.mark.parametrize("path", MM2_FILES, ids=MM2_IDS)
def test_the_offset_staleness_window_implied_by_the_intervals_fits_the_rpo(path):
    t = load_topology(path)
    for plan in mirror_plan.flow_plans(t):
        c = plan.checkpoint_config
        window = c["emit.checkpoints.interval.seconds"] + c["sync.group.offsets.interval.seconds"]
        assert window <= t.rpo_seconds
        # New topics and groups are picked up within the RPO too.
        assert plan.source_config["refresh.topics.interval.seconds"] <= t.rpo_seconds
        assert c["refresh.groups.interval.seconds"] <= t.rpo_seconds


@pytest.mark.parametrize(
    ("rpo", "checkpoint", "sync", "ok"),
    [(30, 60, None, False), (30, 15, 15, True), (30, 20, 15, False), (60, None, None, True), (4, None, None, True)],
)
def test_the_rpo_rule_accepts_exactly_the_intervals_that_fit(rpo, checkpoint, sync, ok):
    data = raw("stacks/dev.yaml")
    data["replication"] = {
        "rpo_seconds": rpo,
        "offset_sync": {"checkpoint_interval_seconds": checkpoint, "sync_interval_seconds": sync},
    }
    if ok:
        t = validate_data(data, "rpo")
        assert t.mm2.checkpoint_interval(t.rpo_seconds) + t.mm2.sync_interval(t.rpo_seconds) <= rpo
    else:
        with pytest.raises(TopologyError, match=f"RPO {rpo} s is not reachable"):
            validate_data(data, "rpo")
