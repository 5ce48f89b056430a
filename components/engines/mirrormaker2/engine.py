"""MirrorMaker 2 behind the engine seam: the existing flows, principals, resources, metrics and alerts, unchanged.

Owns: adapting ``.bodies`` (plans, ACLs, bodies), ``.components`` (MirrorFlow, Heartbeats) and ``.metrics`` to
``ReplicationEngine``. Resource names and parents are exactly what the estate created before the seam existed,
so no URN moves.

Deliberately not here: the MirrorMaker 2 bodies and ACLs themselves (``.bodies``), its switchover steps
(``.switchover``, named by ``switchover`` and imported only by ``tools.switchover``).
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.engines.base import BuildContext, FlowRun, Principal
from components.engines.mirrormaker2 import bodies as mirror
from components.engines.mirrormaker2 import metrics
from components.engines.mirrormaker2 import plan as mirror_plan
from components.engines.mirrormaker2.components import Heartbeats, HeartbeatsArgs, MirrorFlow, MirrorFlowArgs
from stacks import naming
from stacks.model import Quotas, Topology


class MirrorMaker2:
    name = "mirrormaker2"
    principal_kind = "mirrormaker"
    alert_group = "mirrormaker"
    switchover = (
        "components.engines.mirrormaker2.switchover"  # its switchover steps, for tools.switchover (never imported by the program)
    )

    def flows(self, topology: Topology) -> tuple[FlowRun, ...]:
        return tuple(FlowRun(p.flow, p.name, p.topics, p.remote_topics, p.policy.value) for p in mirror_plan.flow_plans(topology))

    def principals(self, topology: Topology, region: str) -> list[Principal]:
        out = []
        for plan in mirror_plan.flow_plans(topology):
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
        plans = mirror_plan.flow_plans(topology)
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
        for p in mirror_plan.flow_plans(topology):
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
        return metrics.panels(topology)

    def _lands_in(self, topology: Topology, region: str) -> bool:
        return any(p.target == region for p in mirror_plan.flow_plans(topology))

    def exporter_rules(self, topology: Topology, region: str) -> list[tuple[str, list[dict[str, Any]]]]:
        return [(metrics.MM2_METRICS, metrics.MM2_RULES)] if self._lands_in(topology, region) else []

    def alert_rules(self, topology: Topology, region: str) -> list[dict[str, Any]]:
        return metrics.alert_rules(topology, self._lands_in(topology, region))


ENGINE = MirrorMaker2()
