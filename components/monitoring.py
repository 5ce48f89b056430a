"""Pure builders for monitoring, the parts every flavor and engine shares: what each region exports, alerts on
and shows.

Owns: the Prometheus JMX exporter rules for Kafka (explicit names, so every metric an alert or panel uses can be
traced to a rule) and the ConfigMaps that carry every exporter rule set, the PrometheusRules (consumer lag,
under-replicated and offline partitions, ISR shrinks, volume usage at 75 %/90 %, throughput anomalies, tenants'
throttling, plus the engine's own alerts on the RPO), the Grafana dashboards (one per cluster, one cross-region
view with the engine's panels, one per tenant), and ``panel``/``alert``, the shapes every variant's own are in.

Deliberately not here: Pulumi resources (``components.observability``), what scrapes a flavor's pods and its
``metricsConfig`` (``components.flavors.*``), an engine's exporter rules, panels and alerts (its folder, asked
through ``components.variants``), and the CloudWatch alarms on Route53 health checks (``components.dns``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from components import variants
from components.kube import Manifest, labels, quantity_bytes
from stacks.model import Region, Topology

# ConfigMaps holding the JMX exporter rules, and the key the rules are under (each flavor's Kafka and each
# engine's workers point their exporter at them).
KAFKA_METRICS = "kafka-metrics"
METRICS_KEY = "metrics-config.yml"

CONSUMER_LAG_THRESHOLD = 10_000  # records behind, for ten minutes
GRAFANA_LABEL = {"grafana_dashboard": "1"}

# Every rule names its metric explicitly (alternations, never a bare (.+) in a name), so the set of names the
# exporter can produce is derivable from the rules themselves (the tests do exactly that).
KAFKA_RULES: list[dict[str, Any]] = [
    {
        "pattern": "kafka.server<type=ReplicaManager, name=(UnderReplicatedPartitions|UnderMinIsrPartitionCount|OfflineReplicaCount|PartitionCount|LeaderCount)><>Value",
        "name": "kafka_server_replicamanager_$1",
        "type": "GAUGE",
    },
    {
        "pattern": "kafka.server<type=ReplicaManager, name=(IsrShrinksPerSec|IsrExpandsPerSec)><>Count",
        "name": "kafka_server_replicamanager_$1_count",
        "type": "GAUGE",
    },
    {
        "pattern": "kafka.controller<type=KafkaController, name=(OfflinePartitionsCount|ActiveControllerCount|GlobalPartitionCount)><>Value",
        "name": "kafka_controller_kafkacontroller_$1",
        "type": "GAUGE",
    },
    {
        "pattern": "kafka.server<type=BrokerTopicMetrics, name=(BytesInPerSec|BytesOutPerSec|MessagesInPerSec)><>Count",
        "name": "kafka_server_brokertopicmetrics_$1_count",
        "type": "GAUGE",
    },
    {
        "pattern": "kafka.log<type=Log, name=Size, topic=(.+), partition=(.+)><>Value",
        "name": "kafka_log_log_size",
        "type": "GAUGE",
        "labels": {"topic": "$1", "partition": "$2"},
    },
]

# Client-quota metrics per user (ClientQuotaManager; a user-level quota has no client-id tag): only where the
# topology declares quotas, so estates without them keep their exporter config (and their brokers unrolled).
QUOTA_RULES: list[dict[str, Any]] = [
    {
        "pattern": "kafka.server<type=(Produce|Fetch|Request), user=([^,]+)><>(byte-rate|throttle-time)",
        "name": "kafka_server_quota_$1_$3",
        "type": "GAUGE",
        "labels": {"user": "$2"},
    },
]


def kafka_rules(topology: Topology) -> list[dict[str, Any]]:
    return KAFKA_RULES + QUOTA_RULES if topology.has_quotas else KAFKA_RULES


# What Strimzi's Kafka Exporter publishes (danielqsj/kafka_exporter), as used here.
KAFKA_EXPORTER_METRICS = frozenset({
    "kafka_consumergroup_lag", "kafka_consumergroup_lag_sum", "kafka_consumergroup_current_offset",
    "kafka_topic_partition_current_offset", "kafka_topic_partition_under_replicated_partition", "kafka_brokers",
})  # fmt: skip


def exporter_config(rules: list[dict[str, Any]]) -> str:
    return yaml.safe_dump({"lowercaseOutputName": True, "lowercaseOutputLabelNames": True, "rules": rules}, sort_keys=False)


def produced_names(rules: list[dict[str, Any]]) -> set[str]:
    """Every metric name the rules can produce: expand each $n in a name from its group's alternation."""
    names: set[str] = set()
    for rule in rules:
        groups = _groups(rule["pattern"])
        candidates = [rule["name"]]
        for n in sorted({int(m) for m in re.findall(r"\$(\d+)", rule["name"])}, reverse=True):
            alternatives = groups[n - 1].split("|")
            if any(re.search(r"[.+*?\[\]\\]", a) for a in alternatives):
                raise ValueError(
                    f"rule {rule['name']} names a metric from an open group ({groups[n - 1]}); list the alternatives"
                )
            candidates = [c.replace(f"${n}", a) for c in candidates for a in alternatives]
        # lowercaseOutputName, then the exporter's sanitising of characters Prometheus does not allow.
        names.update(re.sub(r"[^a-zA-Z0-9:_]", "_", c.lower()) for c in candidates)
    return names


def _groups(pattern: str) -> list[str]:
    out, depth, start = [], 0, 0
    for i, ch in enumerate(pattern):
        if ch == "(" and (i == 0 or pattern[i - 1] != "\\"):
            if depth == 0:
                start = i + 1
            depth += 1
        elif ch == ")" and pattern[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                out.append(pattern[start:i])
    return out


def metrics_config_maps(topology: Topology, region: Region) -> list[Manifest]:
    """The exporter rules a region needs: Kafka's, and the replication engine's where a flow lands here."""
    maps = [metrics_config_map(topology, region, KAFKA_METRICS, kafka_rules(topology))]
    for name, rules in variants.engine(topology).exporter_rules(topology, region.name):
        maps.append(metrics_config_map(topology, region, name, rules))
    return maps


def metrics_config_map(topology: Topology, region: Region, name: str, rules: list[dict[str, Any]]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": region.namespace, "labels": labels(topology, region.name, "metrics")},
        "data": {METRICS_KEY: exporter_config(rules)},
    }


def alert(name: str, expr: str, for_: str, severity: str, summary: str) -> dict[str, Any]:
    return {"alert": name, "expr": expr, "for": for_, "labels": {"severity": severity}, "annotations": {"summary": summary}}


def alert_groups(topology: Topology, region: Region) -> list[dict[str, Any]]:
    capacity = quantity_bytes(region.kafka.storage.size)
    bytes_in = "sum(rate(kafka_server_brokertopicmetrics_bytesinpersec_count[5m]))"
    brokers = [
        alert(
            "KafkaUnderReplicatedPartitions",
            "sum by (kubernetes_pod_name) (kafka_server_replicamanager_underreplicatedpartitions) > 0",
            "5m",
            "warning",
            "Partitions are under-replicated on {{ $labels.kubernetes_pod_name }}",
        ),
        alert(
            "KafkaOfflinePartitions",
            "max(kafka_controller_kafkacontroller_offlinepartitionscount) > 0",
            "1m",
            "critical",
            "Partitions are offline: no leader, no reads or writes",
        ),
        alert(
            "KafkaIsrShrinking",
            "sum by (kubernetes_pod_name) (rate(kafka_server_replicamanager_isrshrinkspersec_count[5m])) > 0",
            "10m",
            "warning",
            "In-sync replica sets keep shrinking on {{ $labels.kubernetes_pod_name }}",
        ),
        alert(
            "KafkaVolumeUsageHigh",
            f"sum by (kubernetes_pod_name) (kafka_log_log_size) / {capacity} > 0.75",
            "10m",
            "warning",
            f"A broker volume of {region.name} is over 75 % of {region.kafka.storage.size}",
        ),
        alert(
            "KafkaVolumeUsageCritical",
            f"sum by (kubernetes_pod_name) (kafka_log_log_size) / {capacity} > 0.90",
            "5m",
            "critical",
            f"A broker volume of {region.name} is over 90 % of {region.kafka.storage.size}",
        ),
        alert(
            "KafkaThroughputSpike",
            f"{bytes_in} > 3 * avg_over_time({bytes_in}[1h:5m]) and {bytes_in} > 1048576",
            "15m",
            "warning",
            "Bytes in are three times the last hour's average",
        ),
        alert(
            "KafkaThroughputDrop",
            f"{bytes_in} < 0.2 * avg_over_time({bytes_in}[1h:5m]) and avg_over_time({bytes_in}[1h:5m]) > 1048576",
            "15m",
            "warning",
            "Bytes in fell below a fifth of the last hour's average",
        ),
    ]
    consumers = [
        alert(
            "KafkaConsumerGroupLag",
            f"sum by (consumergroup) (kafka_consumergroup_lag_sum) > {CONSUMER_LAG_THRESHOLD}",
            "10m",
            "warning",
            f"Consumer group {{{{ $labels.consumergroup }}}} in {region.name} is more than {CONSUMER_LAG_THRESHOLD} records behind",
        ),
    ]
    groups = [
        {"name": f"kafka-multiregion.{region.name}.brokers", "rules": brokers},
        {"name": f"kafka-multiregion.{region.name}.consumers", "rules": consumers},
    ]
    tenants = []
    for name, tenant in sorted(topology.tenants.items()):
        users = _tenant_users(topology, name, region.name)
        if users:
            throttled = f'max by (user) (kafka_server_quota_produce_throttle_time{{user=~"{users}"}} > 0 or kafka_server_quota_fetch_throttle_time{{user=~"{users}"}} > 0)'
            tenants.append(
                alert(
                    "KafkaTenantThrottled",
                    throttled,
                    f"{tenant.throttle_alert_minutes}m",
                    "warning",
                    f"{{{{ $labels.user }}}} of tenant {name} in {region.name} has been throttled by its quota for {tenant.throttle_alert_minutes} minutes",
                )
            )
    if tenants:
        groups.append({"name": f"kafka-multiregion.{region.name}.tenants", "rules": tenants})
    engine = variants.engine(topology)
    replication = engine.alert_rules(topology, region.name)  # the engine's lag against the same RPO
    if replication:
        groups.append({"name": f"kafka-multiregion.{region.name}.{engine.alert_group}", "rules": replication})
    return groups


def prometheus_rule(topology: Topology, region: Region) -> Manifest:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "kafka-multiregion",
            "namespace": region.namespace,
            "labels": labels(topology, region.name, "monitoring"),
        },
        "spec": {"groups": alert_groups(topology, region)},
    }


# ------------------------------------------------------------------------------------------ dashboards


def panel(pid: int, title: str, exprs: list[tuple[str, str]], y: int, *, x: int = 0, unit: str = "short") -> dict[str, Any]:
    return {
        "id": pid,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(65 + i), "expr": e, "legendFormat": legend} for i, (e, legend) in enumerate(exprs)],
    }


def _dashboard(uid: str, title: str, panels: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "time": {"from": "now-6h", "to": "now"},
        "tags": ["kafka", "kafka-multiregion"],
        "templating": {
            "list": [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus (region)"}]
        },
        "panels": panels,
    }


def cluster_dashboard(topology: Topology) -> dict[str, Any]:
    return _dashboard(
        f"kmr-{topology.environment}-cluster",
        f"Kafka cluster ({topology.environment})",
        [
            panel(1, "Bytes in / out", [("sum(rate(kafka_server_brokertopicmetrics_bytesinpersec_count[5m]))", "in"), ("sum(rate(kafka_server_brokertopicmetrics_bytesoutpersec_count[5m]))", "out")], 0, unit="Bps"),
            panel(2, "Under-replicated and offline partitions", [("sum(kafka_server_replicamanager_underreplicatedpartitions)", "under-replicated"), ("max(kafka_controller_kafkacontroller_offlinepartitionscount)", "offline")], 0, x=12),
            panel(3, "ISR shrinks per second", [("sum by (kubernetes_pod_name) (rate(kafka_server_replicamanager_isrshrinkspersec_count[5m]))", "{{kubernetes_pod_name}}")], 8),
            panel(4, "Log size per broker", [("sum by (kubernetes_pod_name) (kafka_log_log_size)", "{{kubernetes_pod_name}}")], 8, x=12, unit="bytes"),
        ],
    )  # fmt: skip


def cross_region_dashboard(topology: Topology) -> dict[str, Any]:
    # The replication engine's panels (ids 1-3 and 5-6), around the consumer lag every estate has (id 4).
    by_id = {
        4: panel(4, "Consumer lag per group", [("sum by (consumergroup) (kafka_consumergroup_lag_sum)", "{{consumergroup}}")], 8, x=12),
        **{p["id"]: p for p in variants.engine(topology).panels(topology)},
    }  # fmt: skip
    panels = [by_id[i] for i in sorted(by_id)]
    if topology.dns is None:
        # DNS managed elsewhere: no Route53 health checks to show.
        return _dashboard(f"kmr-{topology.environment}-cross-region", f"Kafka across regions ({topology.environment})", panels)
    # DNS failover state: Route53 health checks, from CloudWatch (one series per region's check).
    panels.append(
        {
            "id": 7,
            "type": "state-timeline",
            "title": "DNS failover: Route53 health check status (1 healthy, 0 failed over)",
            "datasource": {"type": "cloudwatch", "uid": "${cloudwatch}"},
            "gridPos": {"h": 6, "w": 24, "x": 0, "y": 24},
            # One query over every health check of the account's Route53 metrics (us-east-1 only).
            "targets": [
                {
                    "refId": "A",
                    "region": "us-east-1",
                    "namespace": "AWS/Route53",
                    "metricName": "HealthCheckStatus",
                    "statistic": "Minimum",
                    "dimensions": {"HealthCheckId": "*"},
                    "matchExact": False,
                }
            ],
        }
    )
    dashboard = _dashboard(f"kmr-{topology.environment}-cross-region", f"Kafka across regions ({topology.environment})", panels)
    dashboard["templating"]["list"].append(
        {"name": "cloudwatch", "type": "datasource", "query": "cloudwatch", "label": "CloudWatch"}
    )
    return dashboard


def _tenant_users(topology: Topology, tenant: str, region: str | None = None) -> str:
    """A PromQL regex of a tenant's users (in one region, or anywhere)."""
    users = [u for u, user in sorted(topology.users.items()) if user.tenant == tenant]
    if region is not None:
        users = [u for u in users if region in topology.user_regions(u)]
    # User names are DNS labels: nothing in them is special to a regex (and PromQL strings take no '\-').
    return "|".join(users)


def tenant_dashboard(topology: Topology) -> dict[str, Any]:
    """Per tenant: what its users produce and fetch, and how long their quotas throttle them."""
    panels = []
    for i, name in enumerate(sorted(topology.tenants)):
        users = _tenant_users(topology, name) or "^$"
        sel = f'{{user=~"{users}"}}'
        panels += [
            panel(2 * i + 1, f"{name}: bytes produced / fetched per user", [(f"sum by (user) (kafka_server_quota_produce_byte_rate{sel})", "{{user}} produce"), (f"sum by (user) (kafka_server_quota_fetch_byte_rate{sel})", "{{user}} fetch")], 8 * i, unit="Bps"),
            panel(2 * i + 2, f"{name}: quota throttle time per user", [(f"max by (user) (kafka_server_quota_produce_throttle_time{sel})", "{{user}} produce"), (f"max by (user) (kafka_server_quota_fetch_throttle_time{sel})", "{{user}} fetch"), (f"max by (user) (kafka_server_quota_request_throttle_time{sel})", "{{user}} requests")], 8 * i, x=12, unit="ms"),
        ]  # fmt: skip
    return _dashboard(f"kmr-{topology.environment}-tenants", f"Kafka tenants ({topology.environment})", panels)


def dashboards(topology: Topology) -> list[tuple[str, dict[str, Any]]]:
    boards = [("cluster", cluster_dashboard(topology)), ("cross-region", cross_region_dashboard(topology))]
    if topology.tenants:
        boards.append(("tenants", tenant_dashboard(topology)))
    return boards


def dashboard_config_maps(topology: Topology, region: Region) -> list[Manifest]:
    out = []
    for name, board in dashboards(topology):
        out.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": f"kafka-multiregion-dashboard-{name}",
                    "namespace": region.namespace,
                    "labels": {**labels(topology, region.name, "dashboard"), **GRAFANA_LABEL},
                },
                "data": {f"kafka-multiregion-{name}.json": json.dumps(board, indent=1, sort_keys=True)},
            }
        )
    return out
