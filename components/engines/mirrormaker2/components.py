"""MirrorMaker 2 flows and heartbeat Connect clusters as Pulumi resources.

Owns: one ``KafkaMirrorMaker2`` per flow in the target region, and, when heartbeats are on, one
``KafkaConnect`` per source region with a heartbeat ``KafkaConnector`` per outgoing link. The bodies come
from ``components.engines.mirrormaker2.bodies``; this module only wraps them and orders them after the users they log in as.

Deliberately not here: which flows exist, their settings and ACLs (``components.engines.mirrormaker2.bodies``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.engines.mirrormaker2 import bodies as mirror
from components.engines.mirrormaker2 import plan as mirror_plan
from components.kube import custom_resource
from stacks.model import Topology


@dataclass(frozen=True)
class MirrorFlowArgs:
    topology: Topology
    plan: mirror_plan.FlowPlan
    depends_on: list[pulumi.Resource]  # both regions' users (the flow principal must exist on both ends)


class MirrorFlow(pulumi.ComponentResource):
    """One replication flow, run next to its target cluster."""

    topics_pattern: pulumi.Output[str]
    """The regex of topics this flow mirrors."""

    def __init__(self, name: str, args: MirrorFlowArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kafka-multiregion:index:MirrorFlow", name, None, opts)
        custom_resource(
            f"{name}-mm2",
            mirror.kafka_mirror_maker2(args.topology, args.plan),
            pulumi.ResourceOptions(parent=self, depends_on=args.depends_on),
        )
        self.topics_pattern = pulumi.Output.from_input(args.plan.topics_pattern)
        self.register_outputs({"topics_pattern": self.topics_pattern})


@dataclass(frozen=True)
class HeartbeatsArgs:
    topology: Topology
    region: str
    depends_on: list[pulumi.Resource]


class Heartbeats(pulumi.ComponentResource):
    """A KafkaConnect in a source region emitting heartbeats for each of its outgoing flows."""

    def __init__(self, name: str, args: HeartbeatsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kafka-multiregion:index:Heartbeats", name, None, opts)
        t = args.topology
        connect = custom_resource(
            f"{name}-connect",
            mirror.heartbeat_connect(t, args.region),
            pulumi.ResourceOptions(parent=self, depends_on=args.depends_on),
        )
        for plan in mirror.heartbeat_links(t, args.region):
            custom_resource(
                f"{name}-{plan.target}",
                mirror.heartbeat_connector(t, plan),
                pulumi.ResourceOptions(parent=self, depends_on=[connect]),
            )
        self.register_outputs({})
