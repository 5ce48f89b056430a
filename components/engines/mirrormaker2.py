"""MirrorMaker 2 behind the engine seam: the existing flows, principals, resources, metrics and alerts, unchanged.

Owns: adapting ``components.mirror`` (plans, ACLs, bodies) and ``components.replication`` (MirrorFlow,
Heartbeats) to ``ReplicationEngine``. Resource names and parents are exactly what the estate created before the
seam existed, so no URN moves.

Deliberately not here: the MirrorMaker 2 bodies and ACLs themselves (``components.mirror``).
"""

from __future__ import annotations

from typing import Any

import pulumi

from components import mirror
from components.engines.base import BuildContext, FlowRun, Principal
from components.replication import Heartbeats, HeartbeatsArgs, MirrorFlow, MirrorFlowArgs
from stacks import naming
from stacks.model import Quotas, Topology


class MirrorMaker2:
    name = "mirrormaker2"
    principal_kind = "mirrormaker"
    alert_group = "mirrormaker"

    def flows(self, topology: Topology) -> tuple[FlowRun, ...]:
        return tuple(FlowRun(p.flow, p.name, p.topics, p.remote_topics, p.policy.value) for p in mirror.flow_plans(topology))

    def principals(self, topology: Topology, region: str) -> list[Principal]:
        out = []
        for plan in mirror.flow_plans(topology):
            # Replication's quota: what it may fetch from the source, and write into the target, per broker.
            rate = topology.replication_byte_rate(plan.flow)
            if plan.source == region:
                quotas = Quotas(consumer_byte_rate=rate) if rate else None
                out.append(Principal(plan.name, self.principal_kind, mirror.source_acls(topology, plan), quotas))
            elif plan.target == region:
                quotas = Quotas(producer_byte_rate=rate) if rate else None
                out.append(Principal(plan.name, self.principal_kind, mirror.target_acls(topology, plan), quotas))
        if topology.heartbeats and mirror.heartbeat_links(topology, region):
            out.append(Principal(naming.heartbeat_principal(region), "heartbeats", mirror.heartbeat_acls(topology, region)))
        return out

    def build(self, topology: Topology, ctx: BuildContext) -> None:
        plans = mirror.flow_plans(topology)
        for plan in plans:
            MirrorFlow(
                plan.name,
                MirrorFlowArgs(
                    topology=topology,
                    plan=plan,
                    depends_on=[ctx.users[plan.source], ctx.users[plan.target], *ctx.metrics.get(plan.target, [])],
                ),
                pulumi.ResourceOptions(parent=ctx.parent, providers=list(ctx.providers[plan.target])),
            )
        if topology.heartbeats:
            for region in sorted({plan.source for plan in plans}):
                Heartbeats(
                    f"{region}-heartbeats",
                    HeartbeatsArgs(topology=topology, region=region, depends_on=[ctx.users[region]]),
                    pulumi.ResourceOptions(parent=ctx.parent, providers=list(ctx.providers[region])),
                )

    def rendered_files(self, topology: Topology) -> dict[str, str]:
        """Each flow as a dedicated-mode ``mm2.properties``, for teams that run MirrorMaker themselves."""
        out = {}
        for p in mirror.flow_plans(topology):
            access = {
                alias: mirror.ClusterAccess(
                    bootstrap=f"{topology.region_dns_name(alias)}:9094",
                    ca_file="/etc/kafka-multiregion/ca.crt",
                    password_file=f"/etc/kafka-multiregion/{p.name}.properties",
                )
                for alias in (p.source, p.target)
            }
            out[f"{p.name}.properties"] = mirror.mm2_properties(topology, p, access)
        return out

    def panels(self, topology: Topology) -> list[dict[str, Any]]:
        from components.monitoring import _panel

        return [
            _panel(1, "Replication latency per flow (max)", [("max by (target, topic) (kafka_connect_mirror_source_connector_replication_latency_ms_max)", "-> {{target}} {{topic}}")], 0, unit="ms"),
            _panel(2, "Replication throughput per flow", [("sum by (target) (kafka_connect_mirror_source_connector_byte_rate)", "-> {{target}}")], 0, x=12, unit="Bps"),
            _panel(3, "Record age at the target (max)", [("max by (target, topic) (kafka_connect_mirror_source_connector_record_age_ms_max)", "-> {{target}} {{topic}}")], 8, unit="ms"),
            _panel(5, "MirrorMaker consumer records lag", [("max by (clientid) (kafka_consumer_fetch_manager_records_lag_max)", "{{clientid}}")], 16),
            _panel(6, "Checkpoint latency per group", [("max by (group) (kafka_connect_mirror_checkpoint_connector_checkpoint_latency_ms_max)", "{{group}}")], 16, x=12, unit="ms"),
        ]  # fmt: skip

    def _lands_in(self, topology: Topology, region: str) -> bool:
        return any(p.target == region for p in mirror.flow_plans(topology))

    def exporter_rules(self, topology: Topology, region: str) -> list[tuple[str, list[dict[str, Any]]]]:
        from components import monitoring, strimzi

        return [(strimzi.MM2_METRICS, monitoring.MM2_RULES)] if self._lands_in(topology, region) else []

    def alert_rules(self, topology: Topology, region: str) -> list[dict[str, Any]]:
        from components.monitoring import _alert

        if not self._lands_in(topology, region):
            return []
        rpo_ms = topology.rpo_seconds * 1000
        rpo = topology.rpo_seconds
        return [
            _alert("MirrorMakerReplicationLatencyAboveRpo", f"max by (target, topic) (kafka_connect_mirror_source_connector_replication_latency_ms_max) > {rpo_ms}", "2m", "critical", f"Replication into {{{{ $labels.target }}}} of {{{{ $labels.topic }}}} lags more than the RPO ({rpo} s)"),
            _alert("MirrorMakerRecordAgeAboveRpo", f"max by (target, topic) (kafka_connect_mirror_source_connector_record_age_ms_max) > {rpo_ms}", "2m", "critical", f"Records of {{{{ $labels.topic }}}} reach {{{{ $labels.target }}}} older than the RPO ({rpo} s)"),
            _alert("MirrorMakerConsumerLagGrowing", "min_over_time(kafka_consumer_fetch_manager_records_lag_max[10m]) > 0 and deriv(kafka_consumer_fetch_manager_records_lag_max[10m]) > 0", "10m", "warning", "MirrorMaker's consumer {{ $labels.clientid }} falls further behind its source"),
            _alert("MirrorMakerCheckpointLatencyAboveRpo", f"max by (source, target, group) (kafka_connect_mirror_checkpoint_connector_checkpoint_latency_ms_max) > {rpo_ms}", "5m", "warning", "Consumer offsets of {{ $labels.group }} are translated later than the RPO"),
            _alert("MirrorMakerConnectorFailed", 'max by (connector) (kafka_connect_connector_status{status="failed"}) == 1', "1m", "critical", "MirrorMaker connector {{ $labels.connector }} failed"),
            _alert("MirrorMakerTaskFailed", 'max by (connector, task) (kafka_connect_connector_task_status{status="failed"}) == 1', "1m", "critical", "MirrorMaker task {{ $labels.connector }}/{{ $labels.task }} failed"),
        ]  # fmt: skip


ENGINE = MirrorMaker2()
