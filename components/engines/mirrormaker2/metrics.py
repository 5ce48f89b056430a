"""MirrorMaker 2's metrics: the JMX exporter rules of its Connect workers, its panels on the cross-region
dashboard and its alerts on the estate's RPO.

Deliberately not here: the shapes they are in and the rules every region exports (``components.monitoring``),
the workers' ``metricsConfig`` (``.bodies``).
"""

from __future__ import annotations

from typing import Any

from components.monitoring import alert, panel
from stacks.model import Topology

MM2_METRICS = "mirrormaker2-metrics"  # the ConfigMap of the rules below, in each region a flow lands in

MM2_RULES: list[dict[str, Any]] = [
    {
        "pattern": "kafka.connect.mirror<type=MirrorSourceConnector, target=(.+), topic=(.+), partition=([0-9]+)><>(replication-latency-ms-max|replication-latency-ms|record-age-ms-max|record-age-ms|byte-rate|record-rate)",
        "name": "kafka_connect_mirror_source_connector_$4",
        "type": "GAUGE",
        "labels": {"target": "$1", "topic": "$2", "partition": "$3"},
    },
    {
        "pattern": "kafka.connect.mirror<type=MirrorCheckpointConnector, source=(.+), target=(.+), group=(.+), topic=(.+), partition=([0-9]+)><>(checkpoint-latency-ms-max|checkpoint-latency-ms)",
        "name": "kafka_connect_mirror_checkpoint_connector_$6",
        "type": "GAUGE",
        "labels": {"source": "$1", "target": "$2", "group": "$3", "topic": "$4", "partition": "$5"},
    },
    {
        "pattern": "kafka.consumer<type=consumer-fetch-manager-metrics, client-id=(.+)><>(records-lag-max)",
        "name": "kafka_consumer_fetch_manager_$2",
        "type": "GAUGE",
        "labels": {"clientid": "$1"},
    },
    {
        "pattern": "kafka.connect<type=connector-metrics, connector=(.+)><>status: ([a-z-]+)",
        "name": "kafka_connect_connector_status",
        "type": "GAUGE",
        "value": 1,
        "labels": {"connector": "$1", "status": "$2"},
    },
    {
        "pattern": "kafka.connect<type=connector-task-metrics, connector=(.+), task=(.+)><>status: ([a-z-]+)",
        "name": "kafka_connect_connector_task_status",
        "type": "GAUGE",
        "value": 1,
        "labels": {"connector": "$1", "task": "$2", "status": "$3"},
    },
]


def panels(topology: Topology) -> list[dict[str, Any]]:
    return [
        panel(1, "Replication latency per flow (max)", [("max by (target, topic) (kafka_connect_mirror_source_connector_replication_latency_ms_max)", "-> {{target}} {{topic}}")], 0, unit="ms"),
        panel(2, "Replication throughput per flow", [("sum by (target) (kafka_connect_mirror_source_connector_byte_rate)", "-> {{target}}")], 0, x=12, unit="Bps"),
        panel(3, "Record age at the target (max)", [("max by (target, topic) (kafka_connect_mirror_source_connector_record_age_ms_max)", "-> {{target}} {{topic}}")], 8, unit="ms"),
        panel(5, "MirrorMaker consumer records lag", [("max by (clientid) (kafka_consumer_fetch_manager_records_lag_max)", "{{clientid}}")], 16),
        panel(6, "Checkpoint latency per group", [("max by (group) (kafka_connect_mirror_checkpoint_connector_checkpoint_latency_ms_max)", "{{group}}")], 16, x=12, unit="ms"),
    ]  # fmt: skip


def alert_rules(topology: Topology, lands: bool) -> list[dict[str, Any]]:
    if not lands:
        return []
    rpo_ms = topology.rpo_seconds * 1000
    rpo = topology.rpo_seconds
    return [
        alert("MirrorMakerReplicationLatencyAboveRpo", f"max by (target, topic) (kafka_connect_mirror_source_connector_replication_latency_ms_max) > {rpo_ms}", "2m", "critical", f"Replication into {{{{ $labels.target }}}} of {{{{ $labels.topic }}}} lags more than the RPO ({rpo} s)"),
        alert("MirrorMakerRecordAgeAboveRpo", f"max by (target, topic) (kafka_connect_mirror_source_connector_record_age_ms_max) > {rpo_ms}", "2m", "critical", f"Records of {{{{ $labels.topic }}}} reach {{{{ $labels.target }}}} older than the RPO ({rpo} s)"),
        alert("MirrorMakerConsumerLagGrowing", "min_over_time(kafka_consumer_fetch_manager_records_lag_max[10m]) > 0 and deriv(kafka_consumer_fetch_manager_records_lag_max[10m]) > 0", "10m", "warning", "MirrorMaker's consumer {{ $labels.clientid }} falls further behind its source"),
        alert("MirrorMakerCheckpointLatencyAboveRpo", f"max by (source, target, group) (kafka_connect_mirror_checkpoint_connector_checkpoint_latency_ms_max) > {rpo_ms}", "5m", "warning", "Consumer offsets of {{ $labels.group }} are translated later than the RPO"),
        alert("MirrorMakerConnectorFailed", 'max by (connector) (kafka_connect_connector_status{status="failed"}) == 1', "1m", "critical", "MirrorMaker connector {{ $labels.connector }} failed"),
        alert("MirrorMakerTaskFailed", 'max by (connector, task) (kafka_connect_connector_task_status{status="failed"}) == 1', "1m", "critical", "MirrorMaker task {{ $labels.connector }}/{{ $labels.task }} failed"),
    ]  # fmt: skip
