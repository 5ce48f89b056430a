"""A topology whose DNS is managed elsewhere (no dns section) and the operator chart as a stack setting.

DNS elsewhere (external-dns, an internal zone) must build the same Kubernetes estate with nothing in AWS:
no AWS provider at all, since a provider resource alone makes the engine load a plugin it may not have. The
real engine runs exactly these topologies (tests/realk8s), where pulumi-aws cannot be built.
"""

from __future__ import annotations

from components.flavors.strimzi import bodies as strimzi
from tests.conftest import raw
from tools.plan import harness
from tools.plan.harness import unwrap

OVERRIDES = {"us-east-1": "kafka.use1.internal.example", "us-west-2": "kafka.usw2.internal.example"}


def _elsewhere(name: str = "stacks/dev.yaml") -> dict:
    data = raw(name)
    del data["dns"]
    for region in data["regions"]:
        region["endpoint_override"] = OVERRIDES.get(region["name"], f"kafka.{region['name']}.internal.example")
    return data


def test_no_aws_provider_or_resource_and_the_kubernetes_part_keeps_its_urns(program, tmp_path):
    with_dns = program("stacks/dev.yaml")
    elsewhere = program(_elsewhere(), tmp_path)
    assert [r.urn for r in elsewhere.registrations if "aws" in r.type] == []
    kubernetes = {r.urn for r in with_dns.registrations if "aws" not in r.type and "index:Dns" not in r.urn}
    assert {r.urn for r in elsewhere.registrations} == kubernetes


def test_names_are_the_endpoint_overrides_and_clients_get_every_serving_region(program, tmp_path):
    rec = program(_elsewhere(), tmp_path)
    kafka = next(unwrap(r.inputs) for r in rec.of_type("kubernetes:kafka.strimzi.io/v1:Kafka") if "us-east-1" in r.name)
    public = kafka["spec"]["kafka"]["listeners"][1]["configuration"]
    assert public["bootstrap"]["alternativeNames"] == ["kafka.use1.internal.example"]
    assert public["brokers"] == [{"broker": 0, "advertisedHost": "broker-0.kafka.use1.internal.example"}]
    # Active-passive without a failover name: the primary only (the secondary is a standby).
    assert unwrap(rec.outputs["clients"])["orders-service"]["bootstrap_servers"] == "kafka.use1.internal.example:9094"
    assert unwrap(rec.outputs["endpoints"]) == OVERRIDES


def test_prod_without_dns_has_no_route53_panel(program, tmp_path):
    rec = program(_elsewhere("stacks/prod.yaml"), tmp_path)
    boards = [unwrap(r.inputs)["data"] for r in rec.of_type("kubernetes:core/v1:ConfigMap") if "cross-region" in r.name]
    assert boards and all("AWS/Route53" not in next(iter(b.values())) for b in boards)
    assert [r.urn for r in rec.registrations if "aws" in r.type] == []


def test_the_operator_chart_is_a_stack_setting(program, monkeypatch):
    def release_charts() -> set[str]:
        return {unwrap(r.inputs)["chart"] for r in program("stacks/dev.yaml").of_type("kubernetes:helm.sh/v3:Release")}

    assert release_charts() == {strimzi.STRIMZI_CHART}
    real = harness.fake_config
    monkeypatch.setattr(
        harness, "fake_config", lambda t, f: {**real(t, f), "kafka-multiregion:strimziChart": "/mirror/strimzi-kafka-operator"}
    )
    assert release_charts() == {"/mirror/strimzi-kafka-operator"}
