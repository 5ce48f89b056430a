"""The plan invariants (``tools.plan.invariants``): every shipped plan keeps them, each check catches what it is for,
and the findings of the "new user" review are rendered correctly.

One recording per stack file, shared by the tests of this module. The checks that catch a broken plan are
fed a recording with one thing broken on purpose, since the program no longer produces such plans.
"""

from __future__ import annotations

import copy
import dataclasses
import functools

import pytest

from components.engines.mirrormaker2 import bodies as mirror
from components.engines.mirrormaker2 import plan as mirror_plan
from components.estate import client_settings
from tests.conftest import ROOT, STACK_FILES, STACK_IDS, raw, topology_of
from tools.plan import invariants
from tools.plan.cli import main as plan_main
from tools.plan.harness import Recording, run_program


@functools.cache
def recording(name: str) -> Recording:
    path = ROOT / name
    return run_program(str(path), topology_of(raw(name)))


def _plan_of(data: dict, tmp_path) -> Recording:
    import yaml

    path = tmp_path / "stack.yaml"
    path.write_text(yaml.safe_dump(data))
    return run_program(str(path), topology_of(data))


@pytest.mark.parametrize("path", STACK_FILES, ids=STACK_IDS)
def test_every_shipped_plan_keeps_every_invariant(path):
    assert invariants.check(recording(str(path.relative_to(ROOT)))) == []


def test_a_flow_carries_only_the_topics_its_domain_asked_for(tmp_path):
    # The leak: a topic without replicate_to rode along on a flow that existed for another topic.
    data = raw("examples/partitioned-domain.yaml")
    data["topics"]["eu-audit"] = {"domain": "eu", "regions": ["eu-west-1"], "replication_factor": 3}
    data["topics"]["eu-orders"] = {"domain": "eu", "regions": ["eu-west-1"], "replicate_to": ["eu-central-1"]}
    t = topology_of(data)
    (plan,) = [p for p in mirror_plan.flow_plans(t) if p.source == "eu-west-1"]
    assert plan.topics == ("eu-customers", "eu-orders")
    read_acls = {a["resource"]["name"] for a in mirror.source_acls(t, plan) if "Read" in a["operations"]}
    assert "eu-audit" not in read_acls
    rec = _plan_of(data, tmp_path)
    assert invariants.check(rec) == []
    # The checker sees the leak the old pattern ("every topic of the source") made.
    widened = copy.deepcopy(rec.registrations)
    for reg in widened:
        if reg.type == "kubernetes:kafka.strimzi.io/v1:KafkaMirrorMaker2":
            reg.inputs["spec"]["mirrors"][0]["topicsPattern"] = ".*"
    problems = invariants.check(dataclasses.replace(rec, registrations=widened))
    assert problems == [
        "mm2-eu-west-1-to-eu-central-1-mm2: copies 'eu-audit' to eu-central-1, outside what its domain allows "
        "(['eu-west-1', 'eu-central-1']) or its replicate_to ([])"
    ]


def _broken(rec: Recording, type_token: str, change) -> Recording:
    regs = copy.deepcopy(rec.registrations)
    target = next(r for r in regs if r.type == type_token)
    change(target, regs)
    return dataclasses.replace(rec, registrations=regs)


@pytest.mark.parametrize(
    ("stack", "type_token", "change", "fragment"),
    [
        ("stacks/dev.yaml", "kubernetes:core/v1:Namespace", lambda reg, regs: regs.append(reg), "share the URN"),
        (
            "stacks/dev.yaml",
            "kubernetes:kafka.strimzi.io/v1:KafkaUser",
            lambda reg, regs: regs.append(dataclasses.replace(reg, urn=reg.urn + "-again")),
            "declared twice on one cluster",
        ),
        (
            "examples/partitioned-domain.yaml",
            invariants.RECORD,
            lambda reg, regs: regs.append(
                dataclasses.replace(
                    next(r for r in regs if r.inputs.get("geolocationRoutingPolicies")),
                    urn="urn:again",
                    inputs={**next(r for r in regs if r.inputs.get("geolocationRoutingPolicies")).inputs, "setIdentifier": "x"},
                )
            ),
            "two geolocation records",
        ),
        (
            "stacks/dev.yaml",
            "kubernetes:kafka.strimzi.io/v1:KafkaTopic",
            lambda reg, regs: reg.inputs["metadata"].update(name="Orders_Topic"),
            "not a DNS-1123 name",
        ),
        (
            "stacks/dev.yaml",
            "kubernetes:kafka.strimzi.io/v1:KafkaTopic",
            lambda reg, regs: reg.inputs["metadata"].update(name="orders.-dlq"),  # each label of a subdomain counts
            "not a DNS-1123 name",
        ),
        (
            "examples/cluster-linking-active-passive.yaml",
            "kubernetes:platform.confluent.io/v1beta1:Kafka",
            lambda reg, regs: [r.inputs["spec"].pop("passwordEncoder") for r in regs if r.type == reg.type],
            "sets no spec.passwordEncoder: CFK cannot store the source's credentials",
        ),
        (
            "examples/cluster-linking-active-passive.yaml",
            "aws:route53/healthCheck:HealthCheck",
            lambda reg, regs: [r.inputs.update(port=9094) for r in regs if r.type == reg.type and r.inputs.get("port")],
            "probes port 9094, but eu-central-1's listener serves 9092",
        ),
        (
            "stacks/dev.yaml",
            invariants.RECORD,
            lambda reg, regs: regs.remove(next(r for r in regs if str(r.inputs.get("name", "")).startswith("broker-0."))),
            "which no planned record publishes",
        ),
    ],
    ids=[
        "duplicate URN",
        "duplicate object",
        "duplicate geolocation",
        "name format",
        "subdomain label",
        "CFK link without password encoder",
        "health check port",
        "advertised host unpublished",
    ],
)
def test_each_invariant_catches_a_plan_that_breaks_it(stack, type_token, change, fragment):
    problems = invariants.check(_broken(recording(stack), type_token, change))
    assert any(fragment in p for p in problems), problems


def test_a_client_bootstrap_reaching_a_region_without_the_user_is_caught():
    rec = recording("examples/aggregation-hub.yaml")
    outputs = copy.deepcopy(rec.outputs)
    outputs["clients"]["device-gateway"]["bootstrap_servers"] = "iot.kafka.example.com:9094"
    problems = invariants.check(dataclasses.replace(rec, outputs=outputs))
    assert any("where device-gateway does not exist" in p for p in problems), problems


def test_an_edge_only_user_is_handed_its_edges_not_the_hub_one_cluster_per_bootstrap():
    # Issue 24: it was handed one list naming three clusters; a client rebootstraps to any address of its list.
    t = recording("examples/aggregation-hub.yaml").topology
    settings = client_settings(t, "device-gateway")
    assert settings["bootstrap_servers"] == "ap-northeast-1.iot.kafka.example.com:9094"
    assert settings["bootstrap_servers_by_region"] == {
        r: f"{r}.iot.kafka.example.com:9094" for r in ("ap-northeast-1", "eu-west-1", "us-east-1")
    }


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            lambda c: c.update(bootstrap_servers="eu-west-1.iot.kafka.example.com:9094,us-east-1.iot.kafka.example.com:9094"),
            "names 2 addresses, not one cluster",
        ),
        (
            lambda c: c["bootstrap_servers_by_region"].update({"eu-west-1": "us-east-1.iot.kafka.example.com:9094"}),
            "bootstrap_servers_by_region[eu-west-1] us-east-1.iot.kafka.example.com:9094 answers ['us-east-1']",
        ),
    ],
    ids=["a list of clusters", "another region's cluster"],
)
def test_a_client_bootstrap_naming_several_clusters_is_caught(change, fragment):
    rec = recording("examples/aggregation-hub.yaml")
    outputs = copy.deepcopy(rec.outputs)
    change(outputs["clients"]["device-gateway"])
    problems = invariants.check(dataclasses.replace(rec, outputs=outputs))
    assert any(fragment in p for p in problems), problems


def test_two_environments_in_one_account_share_no_global_name(tmp_path):
    dev, prod = raw("stacks/dev.yaml"), raw("stacks/prod.yaml")
    for data in (dev, prod):
        data["monitoring"] = {"enabled": True}
        for region in data["regions"]:
            region["kafka"]["private"] = True
    dev["regions"][1]["name"] = "eu-west-1"  # both environments in us-east-1 and eu-west-1
    dev["regions"][1]["kubernetes"] = {"kind": "context", "context": "dev-eu"}
    (tmp_path / "dev").mkdir()
    (tmp_path / "prod").mkdir()
    shared = invariants.global_names(_plan_of(dev, tmp_path / "dev")) & invariants.global_names(_plan_of(prod, tmp_path / "prod"))
    assert shared == set()


def test_plan_refuses_to_show_a_plan_that_breaks_an_invariant(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(invariants, "check", lambda rec: ["a broken invariant"])
    assert plan_main([str(ROOT / "stacks/dev.yaml"), "--out", str(tmp_path / "out")]) == 4
    assert not (tmp_path / "out").exists()
    assert "a broken invariant" in capsys.readouterr().err


def test_a_user_left_only_in_a_region_being_decommissioned_still_gets_a_bootstrap():
    # Found by the generated topologies: the bootstrap list came out empty.
    data = raw("stacks/prod.yaml")
    data["regions"][2]["decommission"] = True
    data["users"]["analytics"]["regions"] = [data["regions"][2]["name"]]
    t = topology_of(data)
    assert client_settings(t, "analytics")["bootstrap_servers"] == f"{data['regions'][2]['name']}.prod.kafka.example.com:9094"


def _acl_changed(rec: Recording, user: str, region: str, resource: dict) -> Recording:
    regs = copy.deepcopy(rec.registrations)
    for reg in regs:
        body = reg.inputs
        if (
            reg.type == "kubernetes:kafka.strimzi.io/v1:KafkaUser"
            and body["metadata"]["name"] == user
            and body["metadata"]["labels"]["kafka-multiregion.io/region"] == region
        ):
            body["spec"]["authorization"]["acls"][0]["resource"] = resource
    return dataclasses.replace(rec, registrations=regs)


@pytest.mark.parametrize(
    ("resource", "reached"),
    [
        ({"type": "topic", "name": "pay", "patternType": "prefix"}, "'payments.orders', which is tenant 'payments''s"),
        ({"type": "topic", "name": "us-", "patternType": "prefix"}, "which is the platform's"),
        (
            {"type": "topic", "name": "eu-west-1.pay", "patternType": "prefix"},
            "'eu-west-1.payments.orders', which is tenant 'payments''s",
        ),
        ({"type": "topic", "name": "kafkasql", "patternType": "prefix"}, "'kafkasql-journal', which is the platform's"),
        ({"type": "group", "name": "mm2-", "patternType": "prefix"}, "which is the platform's"),
        ({"type": "transactionalId", "name": "payments.", "patternType": "prefix"}, "'payments.probe'"),
        ({"type": "topic", "name": "*", "patternType": "literal"}, "reaches"),
    ],
    ids=["another tenant", "a region's copies", "another tenant's copies", "registry", "mm2 group", "txn id", "wildcard"],
)
def test_a_grant_reaching_another_owners_name_is_caught(resource, reached):
    rec = recording("examples/multi-tenant.yaml")
    problems = invariants.check(_acl_changed(rec, "analytics-etl", "us-east-1", resource))
    assert any(p.startswith("client analytics-etl in us-east-1:") and reached in p for p in problems), problems


@pytest.mark.parametrize(
    ("user", "key", "fragment"),
    [
        ("mm2-us-east-1-to-eu-west-1", "consumerByteRate", "mm2-us-east-1-to-eu-west-1 in us-east-1: consumerByteRate 1000000"),
        ("payments-api", "producerByteRate", "client payments-api in us-east-1: producerByteRate 1000000"),
    ],
    ids=["replication", "producer"],
)
def test_a_quota_the_busiest_leader_cannot_carry_is_caught(user, key, fragment):
    # 4000000 B/s over 12 partitions and 500000 over 6 on 3 brokers: the busiest leads 1500000 B/s.
    rec = recording("examples/multi-tenant.yaml")
    assert invariants.check(rec) == []
    regs = copy.deepcopy(rec.registrations)
    for reg in regs:
        meta = reg.inputs.get("metadata", {})
        if (
            reg.type.endswith(":KafkaUser")
            and meta["name"] == user
            and meta["labels"]["kafka-multiregion.io/region"] == "us-east-1"
        ):
            reg.inputs["spec"]["quotas"][key] = 1000000
    problems = invariants.check(dataclasses.replace(rec, registrations=regs))
    assert any(fragment in p and "1500000 B/s" in p for p in problems), problems
