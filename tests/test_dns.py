"""Route53 as the program declares it: the exact health checks (endpoint, switch, gate) and records of each
architecture, accepted by botocore and moto as API calls. The failover command is tested against a moto server
in ``test_failover_server.py``."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from tests import route53_seed
from tools.failover import route53
from tools.plan.harness import unwrap, zone_id
from tools.plan.recorded import region_of

HC = "aws:route53/healthCheck:HealthCheck"
REC = "aws:route53/record:Record"


def _records(rec):
    out = {}
    for reg in rec.of_type(REC):
        i = unwrap(reg.inputs)
        out[reg.name] = {
            "name": i["name"],
            "ttl": i["ttl"],
            "set": i.get("setIdentifier"),
            "hc": i.get("healthCheckId"),
            "routing": (
                ("failover", i["failoverRoutingPolicies"][0]["type"]) if i.get("failoverRoutingPolicies")
                else ("latency", i["latencyRoutingPolicies"][0]["region"]) if i.get("latencyRoutingPolicies")
                else ("geo", i["geolocationRoutingPolicies"][0].get("continent")) if i.get("geolocationRoutingPolicies")
                else ("simple", None)
            ),
            "provider": reg.provider.split("::")[3],
            "value": i["records"][0],
        }  # fmt: skip
    return out


def test_active_passive_has_one_failover_pair_with_health_checks_and_a_short_ttl(program):
    rec = program("stacks/dev.yaml")
    r = _records(rec)
    assert r["dns-bootstrap-primary"] == {
        "name": "dev.kafka.example.com", "ttl": 30, "set": "us-east-1-primary", "hc": "bootstrap-primary-gate-id",
        "routing": ("failover", "PRIMARY"), "provider": "aws-us-east-1", "value": r["dns-us-east-1-bootstrap"]["value"],
    }  # fmt: skip
    assert r["dns-bootstrap-secondary"]["routing"] == ("failover", "SECONDARY")
    assert r["dns-bootstrap-secondary"]["hc"] == "bootstrap-secondary-gate-id"
    assert r["dns-bootstrap-secondary"]["provider"] == "aws-us-west-2"
    assert r["dns-bootstrap-secondary"]["value"].endswith(".elb.us-west-2.amazonaws.com")
    assert r["dns-us-east-1-broker-0"]["name"] == "broker-0.us-east-1.dev.kafka.example.com"
    assert set(r) == {
        "dns-us-east-1-bootstrap", "dns-us-east-1-broker-0", "dns-us-west-2-bootstrap", "dns-us-west-2-broker-0",
        "dns-bootstrap-primary", "dns-bootstrap-secondary",
    }  # fmt: skip


def test_active_active_answers_by_latency_from_every_healthy_region(program):
    rec = program("stacks/prod.yaml")
    r = _records(rec)
    shared = {k: v for k, v in r.items() if v["name"] == "prod.kafka.example.com"}
    assert {v["routing"] for v in shared.values()} == {("latency", x) for x in ("us-east-1", "eu-west-1", "ap-southeast-1")}
    for v in shared.values():
        region = v["routing"][1]
        assert v["set"] == region and v["hc"] == f"bootstrap-{region}-gate-id" and v["provider"] == f"aws-{region}"
    assert len([v for v in r.values() if v["name"].startswith("broker-")]) == 9


def test_an_aggregation_hub_has_a_name_per_edge_and_one_for_the_hub(program):
    r = _records(program("examples/aggregation-hub.yaml"))
    assert r["dns-bootstrap-hub"]["name"] == "iot.kafka.example.com"
    assert r["dns-bootstrap-hub"]["value"].endswith(".elb.us-east-2.amazonaws.com")
    for edge in ("us-east-1", "eu-west-1", "ap-northeast-1"):
        assert r[f"dns-{edge}-bootstrap"]["name"] == f"{edge}.iot.kafka.example.com"


def test_partitioned_domains_get_a_name_each_and_geolocation_on_the_shared_name(program):
    rec = program("examples/partitioned-domain.yaml")
    r = _records(rec)
    eu = {k: v for k, v in r.items() if v["name"] == "eu.retail.kafka.example.com"}
    assert {v["routing"] for v in eu.values()} == {("latency", "eu-west-1"), ("latency", "eu-central-1")}
    assert r["dns-bootstrap-eu"]["routing"] == ("geo", "EU") and r["dns-bootstrap-eu"]["value"] == "eu.retail.kafka.example.com"
    assert r["dns-bootstrap-us"]["routing"] == ("geo", "NA")
    assert all(v["provider"].startswith("aws-eu-") for v in eu.values())
    # Resolvers outside every declared geography get the first domain rather than no answer.
    assert r["dns-bootstrap-geo-default"]["set"] == "geo-default"
    assert r["dns-bootstrap-geo-default"]["value"] == "eu.retail.kafka.example.com"
    (default,) = [
        unwrap(x.inputs)
        for x in program("examples/partitioned-domain.yaml").of_type(REC)
        if x.name == "dns-bootstrap-geo-default"
    ]
    assert default["geolocationRoutingPolicies"] == [{"country": "*"}]


def test_records_point_at_the_load_balancers_read_from_the_cluster_unless_overridden(program, tmp_path):
    from tests.conftest import raw

    rec = program("stacks/dev.yaml")
    reads = [r for r in rec.registrations if r.read]
    assert {r.name for r in reads} == {
        "us-east-1-bootstrap-service",
        "us-east-1-broker-0-service",
        "us-west-2-bootstrap-service",
        "us-west-2-broker-0-service",
    }
    assert all(f"k8s-{region_of(r, rec.topology)}" in r.provider for r in reads)
    data = raw("stacks/dev.yaml")
    data["regions"][0]["endpoint_override"] = "kafka.us-east-1.internal.example.net"
    r = _records(program(data, tmp_path))
    assert r["dns-bootstrap-primary"]["value"] == "kafka.us-east-1.internal.example.net"


def _checks(rec):
    """Health checks by (region, role), from their tags."""
    out = {}
    for r in rec.of_type(HC):
        i = unwrap(r.inputs)
        out[
            (i["tags"]["kafka-multiregion/region"], i["tags"]["kafka-multiregion/role"], i["tags"].get("kafka-multiregion/name"))
        ] = (r, i)
    return out


def test_health_checks_probe_the_public_bootstrap_over_tcp_with_the_topologys_timing(program):
    rec = program("stacks/prod.yaml")
    endpoint = {k[0]: i for k, (_, i) in _checks(rec).items() if k[1] == "endpoint"}
    assert set(endpoint) == {"us-east-1", "eu-west-1", "ap-southeast-1"}
    for region, hc in endpoint.items():
        assert hc["type"] == "TCP" and hc["port"] == 9094
        assert hc["requestInterval"] == 10 and hc["failureThreshold"] == 3
        assert hc["fqdn"].endswith(f".elb.{region}.amazonaws.com")


def test_records_use_a_gate_of_the_endpoint_and_a_switch_that_pulumi_leaves_to_the_failover_tool(program):
    rec = program("stacks/dev.yaml")
    checks = _checks(rec)
    for region in ("us-east-1", "us-west-2"):
        switch_reg, switch = checks[(region, "switch", "dev.kafka.example.com")]
        gate_reg, gate = checks[(region, "gate", "dev.kafka.example.com")]
        endpoint_reg, _ = checks[(region, "endpoint", None)]
        # A switch has no children and threshold 0, so Route53 always calls it healthy until it is inverted.
        assert switch["type"] == "CALCULATED" and switch["childHealthThreshold"] == 0 and not switch.get("childHealthchecks")
        assert set(switch_reg.ignore_changes) == {"invertHealthcheck", "tags"}
        assert gate["type"] == "CALCULATED" and gate["childHealthThreshold"] == 2
        assert gate["childHealthchecks"] == [f"{endpoint_reg.name}-id", f"{switch_reg.name}-id"]
        assert not gate_reg.ignore_changes and not endpoint_reg.ignore_changes
    assert endpoint_reg.name == "us-west-2-health", "the endpoint checks keep their URNs"


def test_a_hub_has_no_switches_and_brokers_without_load_balancers_are_published_at_the_region_endpoint(program, tmp_path):
    # Issue 25: a node-port region's brokers advertised names nothing published; clients connect to them after
    # bootstrap. Every node serves every node port, so the region's endpoint reaches each broker; the health check
    # probes the pinned bootstrap node port, which is what the clients are told.
    from tests.conftest import raw

    assert {k[1] for k in _checks(program("examples/aggregation-hub.yaml"))} == {"endpoint"}
    data = raw("stacks/dev.yaml")
    for i, region in enumerate(data["regions"]):
        region["kafka"]["listener_type"] = "nodeport"
        region["endpoint_override"] = f"kafka-{i}.nodes.example.net"
    rec = program(data, tmp_path)
    r = _records(rec)
    assert r["dns-us-west-2-broker-0"]["value"] == "kafka-1.nodes.example.net"
    assert r["dns-bootstrap-secondary"]["value"] == "kafka-1.nodes.example.net"
    ports = {reg.name: unwrap(reg.inputs).get("port") for reg in rec.of_type("aws:route53/healthCheck:HealthCheck")}
    assert ports["us-west-2-health"] == 31094
    assert rec.outputs["clients"]["orders-service"]["bootstrap_servers"].endswith(":31094")


def test_a_private_endpoint_is_judged_by_a_cloudwatch_alarm(program, tmp_path):
    from tests.conftest import raw

    data = raw("stacks/dev.yaml")
    data["regions"][1]["kafka"]["private"] = True
    rec = program(data, tmp_path)
    checks = {k[0]: i for k, (_, i) in _checks(rec).items() if k[1] == "endpoint"}
    assert checks["us-west-2"]["type"] == "CLOUDWATCH_METRIC"
    assert checks["us-west-2"]["cloudwatchAlarmRegion"] == "us-west-2"
    assert checks["us-west-2"]["insufficientDataHealthStatus"] == "Unhealthy"
    (alarm,) = rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarm.inputs["name"] == checks["us-west-2"]["cloudwatchAlarmName"] == "kafka-multiregion-dev-us-west-2-bootstrap"
    assert checks["us-east-1"]["type"] == "TCP"


# ----------------------------------------------------------------------------- against the API


@pytest.fixture
def aws_env(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.client("route53", region_name="us-east-1")


def _deploy(client, rec):
    zone = client.create_hosted_zone(Name=rec.topology.dns.zone, CallerReference="t")["HostedZone"]["Id"].split("/")[-1]
    return zone, route53_seed.apply(client, rec, zone)


@pytest.mark.parametrize(
    "stack", ["stacks/dev.yaml", "stacks/prod.yaml", "examples/aggregation-hub.yaml", "examples/partitioned-domain.yaml"]
)
def test_the_declared_changes_pass_botocore_validation_and_moto_stores_them(stack, program, aws_env):
    rec = program(stack)
    zone, ids = _deploy(aws_env, rec)
    assert len(ids) == len(rec.of_type(HC))
    stored = aws_env.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    cnames = {(r["Name"].rstrip("."), r.get("SetIdentifier")): r for r in stored if r["Type"] == "CNAME"}
    assert len(cnames) == len(rec.of_type(REC))
    for change in route53.record_changes(rec, ids):
        rrset = change["ResourceRecordSet"]
        got = cnames[(rrset["Name"], rrset.get("SetIdentifier"))]
        assert got["ResourceRecords"] == rrset["ResourceRecords"] and got["TTL"] == rrset["TTL"]
        assert got.get("HealthCheckId") == rrset.get("HealthCheckId")
        assert got.get("Failover") == rrset.get("Failover")


def test_botocore_rejects_a_malformed_change_so_the_validation_is_real(aws_env):
    from botocore.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        aws_env.create_health_check(CallerReference="x", HealthCheckConfig={"Type": "TCP", "Port": "not-a-number"})


def test_the_mock_zone_id_is_what_the_program_uses(program):
    rec = program("stacks/dev.yaml")
    assert {unwrap(r.inputs)["zoneId"] for r in rec.of_type(REC)} == {zone_id("kafka.example.com")}
