"""Regional Kafka clusters: what the program registers per region, with which provider, how it is protected,
and the invariants of the rendered Strimzi resources (replication, rack awareness, volumes, listeners).
The rendered Kafka and node pools of the dev stack are snapshotted: a change to them is reviewed as a diff.
"""

from __future__ import annotations

from collections import Counter

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from components.flavors.strimzi import bodies as strimzi
from components.flavors.strimzi.cluster import RegionalCluster, RegionalClusterArgs
from stacks import naming
from stacks.loader import load_topology
from stacks.model import registry
from tests.conftest import MM2_FILES, MM2_IDS, ROOT, STACK_FILES, STACK_IDS, raw, run_oracle, topology_of
from tools.plan.cli import write_plan
from tools.plan.harness import EstateMocks, RecordingMonitor, unwrap
from tools.plan.recorded import Plan, region_of

KAFKA = "kubernetes:kafka.strimzi.io/v1:Kafka"
POOL = "kubernetes:kafka.strimzi.io/v1:KafkaNodePool"
TOPIC = "kubernetes:kafka.strimzi.io/v1:KafkaTopic"
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.mark.parametrize("path", MM2_FILES, ids=MM2_IDS)
def test_each_region_gets_one_operator_one_kafka_its_pools_and_one_topic_per_hosted_topic(path, program):
    rec = program(path)
    t = rec.topology

    def hosted_in(r: str) -> tuple[str, ...]:
        # Declared topics, and the schema registry's own topics where one runs.
        return (*t.topics_in(r), *(naming.REGISTRY_TOPICS if r in registry.regions(t) else ()))

    for kind, expected in [
        (RELEASE, lambda r: 1),
        (KAFKA, lambda r: 1),
        (POOL, lambda r: 1 if t.region(r).kafka.combined else 2),
        (TOPIC, lambda r: len(hosted_in(r))),
    ]:
        per_region = Counter(region_of(reg, t) for reg in rec.of_type(kind))
        assert per_region == Counter({r: expected(r) for r in t.region_names if expected(r)}), kind
    hosted = {
        (region_of(reg, t), reg.inputs["spec"].get("topicName", reg.inputs["metadata"]["name"])) for reg in rec.of_type(TOPIC)
    }
    assert hosted == {(r, topic) for r in t.region_names for topic in hosted_in(r)}


@pytest.mark.parametrize("path", STACK_FILES, ids=STACK_IDS)
def test_every_region_scoped_resource_uses_that_regions_providers(path, program):
    rec = program(path)
    t = rec.topology
    checked = 0
    for reg in rec.registrations:
        if not reg.custom or not reg.type.startswith(("kubernetes:", "aws:")):
            continue
        region = region_of(reg, t)
        expected = f"::{'k8s' if reg.type.startswith('kubernetes:') else 'aws'}-{region}::"
        assert expected in reg.provider, (reg.urn, reg.provider)
        checked += 1
    assert checked > 10


def test_the_strimzi_operator_is_the_pinned_helm_chart_watching_the_kafka_namespace(program):
    rec = program("stacks/dev.yaml")
    for reg in rec.of_type(RELEASE):
        assert reg.inputs["chart"] == "oci://quay.io/strimzi-helm/strimzi-kafka-operator"
        assert reg.inputs["version"] == "1.2.0"
        assert reg.inputs["namespace"] == "kafka"
        assert reg.inputs["values"]["watchAnyNamespace"] is False


def test_custom_resources_wait_for_the_operator_and_the_listener_certificate(program):
    rec = program("stacks/dev.yaml")
    by_urn = rec.by_urn()
    for kafka in rec.of_type(KAFKA):
        deps = {by_urn[d].type for d in kafka.dependencies}
        assert {RELEASE, "kubernetes:core/v1:Secret", POOL} <= deps


@pytest.mark.parametrize(("path", "protected"), [("stacks/dev.yaml", False), ("stacks/prod.yaml", True)])
def test_kafka_pools_topics_and_namespaces_are_protected_per_stack(path, protected, program):
    rec = program(path)
    for kind in (KAFKA, POOL, TOPIC, "kubernetes:core/v1:Namespace"):
        regs = rec.of_type(kind)
        assert regs
        assert all(r.protect is protected and r.retain_on_delete is protected for r in regs), kind
    assert not any(r.protect for r in rec.of_type("kubernetes:kafka.strimzi.io/v1:KafkaUser"))


@pytest.mark.parametrize("path", STACK_FILES, ids=STACK_IDS)
def test_every_strimzi_resource_passes_the_upstream_schemas_and_core_objects_pass_kubernetes_validate(path, program, tmp_path):
    rec = program(path)
    write_plan(Plan(rec.topology, rec), tmp_path)
    result = run_oracle(tmp_path / "manifests")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(", 0 problems")
    core = 0
    for file in sorted((tmp_path / "manifests").rglob("*.yaml")):
        body = yaml.safe_load(file.read_text())
        if body["apiVersion"] == "v1":
            kubernetes_validate.validate(body, "1.33", strict=True)
            core += 1
    assert core >= 2 * len(rec.topology.regions)


def test_region_outputs_name_the_cluster_namespace_and_both_bootstraps(program):
    rec = program("stacks/dev.yaml")
    regions = rec.outputs["regions"]
    assert regions["us-east-1"] == {
        "cluster_name": "us-east-1",
        "namespace": "kafka",
        "internal_bootstrap": "us-east-1-kafka-bootstrap.kafka.svc:9093",
        "external_bootstrap": "us-east-1.dev.kafka.example.com:9094",
    }


# ----------------------------------------------------------------------------------------- invariants


@pytest.mark.parametrize("path", STACK_FILES, ids=STACK_IDS)
def test_broker_defaults_follow_the_cluster_size_and_never_allow_unclean_elections(path):
    t = load_topology(path)
    for region in t.regions:
        config = strimzi.kafka(t, region)["spec"]["kafka"]["config"]
        rf = min(3, region.kafka.brokers)
        assert config["default.replication.factor"] == config["offsets.topic.replication.factor"] == rf
        assert config["min.insync.replicas"] == max(1, rf - 1)
        assert rf == 1 or config["min.insync.replicas"] < rf
        assert config["unclean.leader.election.enable"] is False
        assert config["auto.create.topics.enable"] is False


def test_extra_broker_config_from_the_topology_overrides_the_defaults():
    t = load_topology(ROOT / "stacks/prod.yaml")
    assert strimzi.kafka(t, t.region("us-east-1"))["spec"]["kafka"]["config"]["num.io.threads"] == 16


def test_zones_turn_on_rack_awareness_and_spread_pools_across_them():
    t = load_topology(ROOT / "stacks/prod.yaml")
    region = t.region("eu-west-1")
    assert strimzi.kafka(t, region)["spec"]["kafka"]["rack"] == {"topologyKey": "topology.kubernetes.io/zone"}
    for pool in strimzi.node_pools(t, region):
        pod = pool["spec"]["template"]["pod"]
        terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        assert terms[0]["matchExpressions"][0]["values"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
        assert pod["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"


def test_without_zones_there_is_no_rack_configuration():
    t = load_topology(ROOT / "stacks/dev.yaml")
    region = t.region("us-east-1")
    assert "rack" not in strimzi.kafka(t, region)["spec"]["kafka"]
    assert all("template" not in p["spec"] for p in strimzi.node_pools(t, region))


@pytest.mark.parametrize("path", STACK_FILES, ids=STACK_IDS)
def test_every_volume_keeps_its_claim_when_the_pool_goes(path):
    t = load_topology(path)
    for region in t.regions:
        for pool in strimzi.node_pools(t, region):
            for volume in pool["spec"]["storage"]["volumes"]:
                assert volume["deleteClaim"] is False
                assert volume["type"] == "persistent-claim"


@pytest.mark.parametrize("path", STACK_FILES, ids=STACK_IDS)
def test_no_listener_reachable_from_outside_is_plaintext_or_unauthenticated(path):
    t = load_topology(path)
    for region in t.regions:
        listeners = strimzi.kafka(t, region)["spec"]["kafka"]["listeners"]
        assert all(len(listener["name"]) <= 11 for listener in listeners)
        external = [listener for listener in listeners if listener["type"] != "internal"]
        assert external, "each region has an external listener"
        for listener in listeners:
            assert listener["tls"] is True
            assert listener["authentication"]["type"] == "scram-sha-512"


def test_the_external_listener_advertises_each_broker_by_its_dns_name_with_our_certificate():
    t = load_topology(ROOT / "stacks/prod.yaml")
    listener = strimzi.kafka(t, t.region("us-east-1"))["spec"]["kafka"]["listeners"][1]
    conf = listener["configuration"]
    assert conf["brokerCertChainAndKey"] == {"secretName": "us-east-1-listener-cert", "certificate": "tls.crt", "key": "tls.key"}
    assert conf["brokers"] == [{"broker": b, "advertisedHost": f"broker-{b}.us-east-1.prod.kafka.example.com"} for b in (3, 4, 5)]
    assert conf["bootstrap"]["alternativeNames"] == ["us-east-1.prod.kafka.example.com", "prod.kafka.example.com"]


def test_only_the_projects_admin_and_operator_are_super_users():
    t = load_topology(ROOT / "stacks/prod.yaml")
    for region in t.regions:
        auth = strimzi.kafka(t, region)["spec"]["kafka"]["authorization"]
        assert auth == {"type": "simple", "superUsers": ["kafka-admin", "kafka-operator"]}


def test_topic_names_kafka_allows_but_kubernetes_does_not_get_a_stable_resource_name():
    data = raw("stacks/dev.yaml")
    data["topics"]["Orders_V2"] = {"replication_factor": 1}
    t = topology_of(data)
    body = strimzi.topic(t, t.region("us-east-1"), "Orders_V2")
    assert body["spec"]["topicName"] == "Orders_V2"
    assert body["metadata"]["name"].startswith("orders-v2-")
    assert body["metadata"]["name"] == strimzi.topic(t, t.region("us-west-2"), "Orders_V2")["metadata"]["name"]


def test_the_dev_kafka_and_node_pools_match_their_snapshot(snapshot):
    t = load_topology(ROOT / "stacks/dev.yaml")
    region = t.region("us-east-1")
    assert yaml.safe_dump_all([strimzi.kafka(t, region), *strimzi.node_pools(t, region)], sort_keys=False) == snapshot


def test_the_prod_node_pools_match_their_snapshot(snapshot):
    t = load_topology(ROOT / "stacks/prod.yaml")
    assert yaml.safe_dump_all(strimzi.node_pools(t, t.region("eu-west-1")), sort_keys=False) == snapshot


# ------------------------------------------------------------------------ the component on its own


@pytest.fixture
def monitor():
    mocks = EstateMocks()
    mon = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="kafka-multiregion", stack="test", preview=False, monitor=mon)
    return mon


def test_a_regional_cluster_built_alone_puts_every_child_on_the_provider_it_was_given(monitor):
    t = load_topology(ROOT / "stacks/dev.yaml")

    @pulumi.runtime.test
    def build() -> pulumi.Output[str]:
        provider = k8s.Provider("k8s-us-east-1", context="ctx")
        cluster = RegionalCluster(
            "us-east-1",
            RegionalClusterArgs(
                topology=t,
                region="us-east-1",
                ca_cert_pem="ca",
                listener_cert_chain_pem="chain",
                listener_private_key_pem=pulumi.Output.secret("key"),
            ),
            pulumi.ResourceOptions(providers=[provider]),
        )
        return cluster.external_bootstrap

    build()  # returns once every registration has completed
    component = next(r for r in monitor.registrations if r.type == "kafka-multiregion:index:RegionalCluster")
    children = [r for r in monitor.registrations if r.parent == component.urn]
    assert {r.type for r in children} >= {KAFKA, POOL, TOPIC, RELEASE, "kubernetes:core/v1:Namespace"}
    assert all("::k8s-us-east-1::" in r.provider for r in children if r.custom)
    secret = next(r for r in children if r.name == "us-east-1-listener-cert")
    assert unwrap(secret.inputs["stringData"])["tls.key"] == "key"
