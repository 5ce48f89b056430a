"""Monitoring: every alert and panel expression parses with the Prometheus project's own PromQL grammar and uses
only metrics that the shipped exporter rules or Kafka Exporter produce; dashboards are Grafana JSON; it is all
switchable, on by default for prod; each Route53 health check has a CloudWatch alarm."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from components import monitoring
from components.engines.cluster_linking import engine as cluster_linking
from components.engines.mirrormaker2 import metrics as mm2_metrics
from stacks.loader import load_topology
from tests.conftest import ROOT, STACK_FILES, STACK_IDS, raw, topology_of
from tools.plan.harness import unwrap

PROMQL = ROOT / "tests" / "promql"
PRODUCED = (
    monitoring.produced_names(monitoring.KAFKA_RULES)
    | monitoring.produced_names(mm2_metrics.MM2_RULES)
    | monitoring.produced_names(monitoring.QUOTA_RULES)
    | monitoring.produced_names(cluster_linking.LINK_RULES)
)
KNOWN = PRODUCED | monitoring.KAFKA_EXPORTER_METRICS


def _parse(exprs: list[str]) -> list[dict[str, list]]:
    node = shutil.which("node")
    if node is None or not (PROMQL / "node_modules").exists():
        if os.environ.get("KMR_REQUIRE_E2E"):
            pytest.fail("the PromQL parser is missing: `make test` installs it with npm ci (tests/promql)")
        pytest.skip("node or tests/promql/node_modules missing: run `make test`")
    result = subprocess.run([node, "parse.mjs"], input=json.dumps(exprs), cwd=PROMQL, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def _expressions(topology) -> list[tuple[str, str]]:
    out = []
    for region in topology.regions:
        for group in monitoring.alert_groups(topology, region):
            out += [(f"alert {rule['alert']}", rule["expr"]) for rule in group["rules"]]
    for _, board in monitoring.dashboards(topology):
        for panel in board["panels"]:
            out += [(f"panel {panel['title']}", t["expr"]) for t in panel["targets"] if "expr" in t]
    return out


@pytest.mark.parametrize("path", STACK_FILES, ids=STACK_IDS)
def test_every_alert_and_panel_parses_as_promql_and_uses_only_produced_metrics(path):
    exprs = _expressions(load_topology(path))
    parsed = _parse([e for _, e in exprs])
    assert len(parsed) == len(exprs) > 20
    for (where, expr), result in zip(exprs, parsed, strict=True):
        assert result["errors"] == [], f"{where}: {expr}"
        unknown = set(result["metrics"]) - KNOWN
        assert not unknown, f"{where} uses metrics nothing produces: {unknown}"


def test_the_parser_rejects_broken_promql_so_the_check_can_fail():
    assert [r["errors"] != [] for r in _parse(["sum(rate(x[5m])", "up == ", "up"])] == [True, True, False]


def test_produced_names_come_from_the_rules_themselves():
    assert "kafka_server_replicamanager_underreplicatedpartitions" in PRODUCED
    assert "kafka_connect_mirror_source_connector_replication_latency_ms_max" in PRODUCED
    assert "kafka_connect_mirror_checkpoint_connector_checkpoint_latency_ms_max" in PRODUCED
    assert "kafka_consumer_fetch_manager_records_lag_max" in PRODUCED
    with pytest.raises(ValueError, match="open group"):
        monitoring.produced_names([{"pattern": "kafka.server<type=(.+)><>Value", "name": "kafka_$1"}])


@pytest.mark.parametrize(
    ("mbean", "rules"),
    [
        ("kafka.server<type=ReplicaManager, name=UnderReplicatedPartitions><>Value", monitoring.KAFKA_RULES),
        ("kafka.server<type=ReplicaManager, name=IsrShrinksPerSec><>Count", monitoring.KAFKA_RULES),
        ("kafka.controller<type=KafkaController, name=OfflinePartitionsCount><>Value", monitoring.KAFKA_RULES),
        ("kafka.server<type=BrokerTopicMetrics, name=BytesInPerSec><>Count", monitoring.KAFKA_RULES),
        ("kafka.log<type=Log, name=Size, topic=orders, partition=0><>Value", monitoring.KAFKA_RULES),
        (
            "kafka.connect.mirror<type=MirrorSourceConnector, target=us-west-2, topic=orders, partition=0><>replication-latency-ms-max",
            mm2_metrics.MM2_RULES,
        ),
        (
            "kafka.connect.mirror<type=MirrorCheckpointConnector, source=us-east-1, target=us-west-2, group=app, topic=orders, partition=0><>checkpoint-latency-ms-max",
            mm2_metrics.MM2_RULES,
        ),
        (
            "kafka.consumer<type=consumer-fetch-manager-metrics, client-id=source-consumer><>records-lag-max",
            mm2_metrics.MM2_RULES,
        ),
        ("kafka.server<type=Produce, user=payments-api><>throttle-time", monitoring.QUOTA_RULES),
        ("kafka.server<type=Fetch, user=mm2-us-east-1-to-eu-west-1><>byte-rate", monitoring.QUOTA_RULES),
        (
            "kafka.connect<type=connector-task-metrics, connector=MirrorSourceConnector, task=0><>status: failed",
            mm2_metrics.MM2_RULES,
        ),
    ],
)
def test_each_rule_matches_the_mbean_kafka_and_mirrormaker_publish(mbean, rules):
    assert any(re.fullmatch(rule["pattern"], mbean) for rule in rules), mbean


def test_replication_alerts_are_measured_against_the_topologys_rpo():
    t = load_topology(ROOT / "stacks/prod.yaml")
    rules = {r["alert"]: r for g in monitoring.alert_groups(t, t.region("us-east-1")) for r in g["rules"]}
    assert rules["MirrorMakerReplicationLatencyAboveRpo"]["expr"].endswith("> 60000")
    assert rules["MirrorMakerRecordAgeAboveRpo"]["expr"].endswith("> 60000")
    assert rules["MirrorMakerCheckpointLatencyAboveRpo"]["expr"].endswith("> 60000")
    assert rules["KafkaVolumeUsageHigh"]["expr"].endswith(f"/ {500 * 2**30} > 0.75")
    assert rules["KafkaVolumeUsageCritical"]["expr"].endswith(f"/ {500 * 2**30} > 0.90")
    for expected in ("KafkaUnderReplicatedPartitions", "KafkaOfflinePartitions", "KafkaIsrShrinking", "KafkaConsumerGroupLag",
                     "KafkaThroughputSpike", "KafkaThroughputDrop", "MirrorMakerConnectorFailed", "MirrorMakerTaskFailed",
                     "MirrorMakerConsumerLagGrowing"):  # fmt: skip
        assert expected in rules


def test_a_region_that_receives_no_flow_has_no_mirrormaker_alerts():
    t = load_topology(ROOT / "examples/aggregation-hub.yaml")
    edge = {g["name"] for g in monitoring.alert_groups(t, t.region("eu-west-1"))}
    hub = {g["name"] for g in monitoring.alert_groups(t, t.region("us-east-2"))}
    assert "kafka-multiregion.us-east-2.mirrormaker" in hub and not any(n.endswith(".mirrormaker") for n in edge)


def test_dashboards_are_grafana_json_with_panels_and_targets():
    t = load_topology(ROOT / "stacks/prod.yaml")
    for body in monitoring.dashboard_config_maps(t, t.region("us-east-1")):
        assert body["metadata"]["labels"]["grafana_dashboard"] == "1"
        (text,) = body["data"].values()
        board = json.loads(text)
        assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 36
        assert board["uid"] and board["title"] and board["panels"]
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))
        for panel in board["panels"]:
            assert panel["type"] in ("timeseries", "state-timeline") and panel["targets"]
            assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
    cross = monitoring.cross_region_dashboard(t)
    titles = " ".join(p["title"] for p in cross["panels"])
    assert "Replication latency per flow" in titles and "Consumer lag" in titles and "DNS failover" in titles


def test_monitoring_is_off_in_dev_and_on_by_default_in_prod(program, tmp_path):
    dev = program("stacks/dev.yaml")
    assert not dev.of_type("kubernetes:monitoring.coreos.com/v1:PodMonitor")
    assert "metricsConfig" not in dev.of_type("kubernetes:kafka.strimzi.io/v1:Kafka")[0].inputs["spec"]["kafka"]
    data = raw("stacks/prod.yaml")
    del data["monitoring"]["enabled"]
    prod = program(data, tmp_path)
    assert topology_of(data).monitoring_enabled
    assert len(prod.of_type("kubernetes:monitoring.coreos.com/v1:PodMonitor")) == 3 * 3
    assert len(prod.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")) == 3
    kafka = prod.of_type("kubernetes:kafka.strimzi.io/v1:Kafka")[0].inputs["spec"]
    assert kafka["kafka"]["metricsConfig"]["valueFrom"]["configMapKeyRef"] == {
        "name": "kafka-metrics",
        "key": "metrics-config.yml",
    }
    assert kafka["kafkaExporter"] == {"topicRegex": ".*", "groupRegex": ".*"} and kafka["cruiseControl"] == {}
    mm2 = prod.of_type("kubernetes:kafka.strimzi.io/v1:KafkaMirrorMaker2")[0].inputs["spec"]
    assert mm2["metricsConfig"]["valueFrom"]["configMapKeyRef"]["name"] == mm2_metrics.MM2_METRICS


def test_the_exporter_rules_exist_before_the_resources_that_read_them(program):
    rec = program("stacks/prod.yaml")
    by_urn = rec.by_urn()
    for kind in ("Kafka", "KafkaMirrorMaker2"):
        for reg in rec.of_type(f"kubernetes:kafka.strimzi.io/v1:{kind}"):
            names = {by_urn[d].inputs.get("metadata", {}).get("name") for d in reg.dependencies if d in by_urn}
            expected = monitoring.KAFKA_METRICS if kind == "Kafka" else mm2_metrics.MM2_METRICS
            assert expected in names, reg.urn


def test_each_route53_health_check_has_a_cloudwatch_alarm_in_us_east_1(program):
    rec = program("stacks/prod.yaml")
    alarms = [unwrap(r.inputs) for r in rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")]
    hc_alarms = [a for a in alarms if a["namespace"] == "AWS/Route53"]
    assert len(hc_alarms) == 3
    assert {a["dimensions"]["HealthCheckId"] for a in hc_alarms} == {
        f"{r}-health-id" for r in ("us-east-1", "eu-west-1", "ap-southeast-1")
    }
    providers = {r.provider.split("::")[3] for r in rec.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert providers == {"aws-global"}


def test_the_shipped_rules_are_valid_yaml_for_the_exporter():
    config = yaml.safe_load(monitoring.exporter_config(monitoring.KAFKA_RULES))
    assert config["lowercaseOutputName"] is True and len(config["rules"]) == len(monitoring.KAFKA_RULES)
