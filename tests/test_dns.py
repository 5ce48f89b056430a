"""Route53: the exact health checks and records of each architecture, accepted by botocore and moto as API
calls, and the failover command driven end to end against moto (status, promote, rollback, drill, faults)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from tests.conftest import ROOT
from tools import failover, route53
from tools.harness import unwrap, zone_id
from tools.plan import region_of

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
        "name": "dev.kafka.example.com", "ttl": 30, "set": "us-east-1-primary", "hc": "us-east-1-health-id",
        "routing": ("failover", "PRIMARY"), "provider": "aws-us-east-1", "value": r["dns-us-east-1-bootstrap"]["value"],
    }  # fmt: skip
    assert r["dns-bootstrap-secondary"]["routing"] == ("failover", "SECONDARY")
    assert r["dns-bootstrap-secondary"]["hc"] == "us-west-2-health-id"
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
        assert v["set"] == region and v["hc"] == f"{region}-health-id" and v["provider"] == f"aws-{region}"
    assert len([v for v in r.values() if v["name"].startswith("broker-")]) == 9


def test_an_aggregation_hub_has_a_name_per_edge_and_one_for_the_hub(program):
    r = _records(program("examples/aggregation-hub.yaml"))
    assert r["dns-bootstrap-hub"]["name"] == "iot.kafka.example.com"
    assert r["dns-bootstrap-hub"]["value"].endswith(".elb.us-east-2.amazonaws.com")
    for edge in ("us-east-1", "eu-west-1", "ap-northeast-1"):
        assert r[f"dns-{edge}-bootstrap"]["name"] == f"{edge}.iot.kafka.example.com"


def test_partitioned_domains_get_a_name_each_and_geolocation_on_the_shared_name(program):
    r = _records(program("examples/partitioned-domain.yaml"))
    eu = {k: v for k, v in r.items() if v["name"] == "eu.retail.kafka.example.com"}
    assert {v["routing"] for v in eu.values()} == {("latency", "eu-west-1"), ("latency", "eu-central-1")}
    assert r["dns-bootstrap-eu"]["routing"] == ("geo", "EU") and r["dns-bootstrap-eu"]["value"] == "eu.retail.kafka.example.com"
    assert r["dns-bootstrap-us"]["routing"] == ("geo", "NA")
    assert all(v["provider"].startswith("aws-eu-") for v in eu.values())


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


def test_health_checks_probe_the_public_bootstrap_over_tcp_with_the_topologys_timing(program):
    rec = program("stacks/prod.yaml")
    checks = {region_of(r, rec.topology): unwrap(r.inputs) for r in rec.of_type(HC)}
    assert set(checks) == {"us-east-1", "eu-west-1", "ap-southeast-1"}
    for region, hc in checks.items():
        assert hc["type"] == "TCP" and hc["port"] == 9094
        assert hc["requestInterval"] == 10 and hc["failureThreshold"] == 3
        assert hc["fqdn"].endswith(f".elb.{region}.amazonaws.com")
        assert hc["tags"]["kafka-multiregion/region"] == region


def test_a_private_endpoint_is_judged_by_a_cloudwatch_alarm(program, tmp_path):
    from tests.conftest import raw

    data = raw("stacks/dev.yaml")
    data["regions"][1]["kafka"]["private"] = True
    rec = program(data, tmp_path)
    checks = {region_of(r, rec.topology): unwrap(r.inputs) for r in rec.of_type(HC)}
    assert checks["us-west-2"]["type"] == "CLOUDWATCH_METRIC"
    assert checks["us-west-2"]["cloudwatchAlarmRegion"] == "us-west-2"
    assert checks["us-west-2"]["insufficientDataHealthStatus"] == "Unhealthy"
    (alarm,) = rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarm.inputs["name"] == checks["us-west-2"]["cloudwatchAlarmName"]
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
    return zone, route53.apply(client, rec, zone)


@pytest.mark.parametrize(
    "stack", ["stacks/dev.yaml", "stacks/prod.yaml", "examples/aggregation-hub.yaml", "examples/partitioned-domain.yaml"]
)
def test_the_declared_changes_pass_botocore_validation_and_moto_stores_them(stack, program, aws_env):
    rec = program(stack)
    zone, ids = _deploy(aws_env, rec)
    assert len(ids) == len(rec.topology.regions)
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


def _cli(*args):
    out: list[str] = []
    return failover.run(list(args), out), "\n".join(out)


def test_status_promote_and_rollback_round_trip_on_a_fresh_zone(program, aws_env):
    rec = program("stacks/dev.yaml")
    _deploy(aws_env, rec)
    stack = str(ROOT / "stacks/dev.yaml")
    code, text = _cli("status", "--stack", stack)
    assert code == 0, text
    assert "dev.kafka.example.com answers with us-east-1: as intended" in text
    code, text = _cli("promote", "us-west-2", "--stack", stack, "--dry-run")
    assert code == 0 and "would change 1 health check(s)" in text
    hc = {t.region: t for t in failover.Route53Stack(aws_env, rec.topology).health_checks().values()}
    assert not hc["us-east-1"].inverted, "a dry run changes nothing"
    code, text = _cli("promote", "us-west-2", "--stack", stack)
    assert code == 0 and "undo with: python -m tools.failover rollback" in text
    config = aws_env.get_health_check(HealthCheckId=hc["us-east-1"].id)["HealthCheck"]["HealthCheckConfig"]
    assert config["Inverted"] is True
    code, text = _cli("status", "--stack", stack)
    assert "answers with us-west-2: FAILED OVER (intended us-east-1)" in text
    code, text = _cli("rollback", "--stack", stack)
    assert code == 0
    assert aws_env.get_health_check(HealthCheckId=hc["us-east-1"].id)["HealthCheck"]["HealthCheckConfig"]["Inverted"] is False
    assert "as intended" in _cli("status", "--stack", stack)[1]


def test_a_fault_half_way_leaves_route53_as_it_was(program, aws_env, monkeypatch):
    rec = program("stacks/prod.yaml")
    _deploy(aws_env, rec)
    before = {h["Id"]: h["HealthCheckConfig"]["Inverted"] for h in aws_env.list_health_checks()["HealthChecks"]}
    real = aws_env.update_health_check
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "UpdateHealthCheck")
        return real(**kwargs)

    stack = failover.Route53Stack(aws_env, rec.topology)
    monkeypatch.setattr(aws_env, "update_health_check", flaky)
    changes = stack.plan_promote("eu-west-1", stack.health_checks())
    assert len(changes) == 2
    with pytest.raises(failover.FailoverError, match=r"failed at 2 of 2 changes .*Route53 is as it was"):
        stack.apply(changes)
    after = {h["Id"]: h["HealthCheckConfig"]["Inverted"] for h in aws_env.list_health_checks()["HealthChecks"]}
    assert after == before


def test_a_drill_promotes_verifies_and_restores_with_timings(program, aws_env):
    rec = program("stacks/prod.yaml")
    _deploy(aws_env, rec)
    code, text = _cli("drill", "eu-west-1", "--stack", str(ROOT / "stacks/prod.yaml"))
    assert code == 0, text
    for step in ("promote", "verify promoted", "roll back", "verify restored", "drill passed"):
        assert step in text
    assert all(not h["HealthCheckConfig"]["Inverted"] for h in aws_env.list_health_checks()["HealthChecks"])


def test_clear_errors_for_an_unknown_region_a_missing_zone_and_mismatched_records(program, aws_env):
    stack = str(ROOT / "stacks/dev.yaml")
    assert failover.main(["promote", "eu-north-1", "--stack", stack]) == 2
    with pytest.raises(failover.FailoverError, match=r"hosted zone 'kafka\.example\.com' does not exist"):
        _cli("status", "--stack", stack)
    aws_env.create_hosted_zone(Name="kafka.example.com", CallerReference="z")
    code, text = _cli("status", "--stack", stack)
    assert code == 1 and "records do not match the stack: missing record dev.kafka.example.com (us-east-1-primary)" in text
    with pytest.raises(failover.FailoverError, match="records do not match the stack"):
        _cli("promote", "us-west-2", "--stack", stack)


def test_missing_credentials_are_named_not_dumped(monkeypatch, capsys, tmp_path):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert failover.main(["status", "--stack", str(ROOT / "stacks/dev.yaml")]) == 2
    err = capsys.readouterr().err
    assert "no AWS credentials found" in err and "Traceback" not in err


def test_the_mock_zone_id_is_what_the_program_uses(program):
    rec = program("stacks/dev.yaml")
    assert {unwrap(r.inputs)["zoneId"] for r in rec.of_type(REC)} == {zone_id("kafka.example.com")}
