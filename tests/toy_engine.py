"""Test support: a replication engine that is not in the product, registered by ``tests/test_variants.py`` to show
that an engine is one module plus one line in ``components.variants``.

It copies nothing: per flow, one ConfigMap in the target naming the topics it would copy, and one principal on
each side with the least it would need. What it answers is what ``components.engines.base.ReplicationEngine``
asks, and nothing outside this module knows it exists.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.engines.base import BuildContext, FlowRun, Principal
from stacks.model import Topology


def _acl(topic: str, ops: list[str]) -> dict[str, Any]:
    return {
        "type": "allow",
        "resource": {"type": "topic", "name": topic, "patternType": "literal"},
        "operations": ops,
        "host": "*",
    }


class ToyEngine:
    name = "toy"
    principal_kind = "toy"
    alert_group = "toy"

    def flows(self, topology: Topology) -> tuple[FlowRun, ...]:
        out = []
        for flow in topology.flows:
            topics = tuple(t for t in topology.topics_in(flow.source) if topology.carries(flow, t))
            if topics:
                remote = tuple(topology.remote_topic(flow, t) for t in topics)
                out.append(FlowRun(flow, f"toy-{flow.source}-to-{flow.target}", topics, remote, topology.policy.value))
        return tuple(out)

    def principals(self, topology: Topology, region: str) -> list[Principal]:
        out = []
        for run in self.flows(topology):
            if run.source == region:
                out.append(Principal(run.name, self.principal_kind, [_acl(t, ["Describe", "Read"]) for t in run.topics]))
            elif run.target == region:
                out.append(Principal(run.name, self.principal_kind, [_acl(t, ["Describe", "Write"]) for t in run.remote_topics]))
        return out

    def build(self, topology: Topology, ctx: BuildContext) -> None:
        for run in self.flows(topology):
            k8s.core.v1.ConfigMap(
                run.name,
                metadata={"name": run.name, "namespace": topology.region(run.target).namespace},
                data={"topics": ",".join(run.remote_topics)},
                opts=pulumi.ResourceOptions(
                    parent=ctx.parent, providers=list(ctx.providers[run.target]), depends_on=[ctx.users[run.target]]
                ),
            )

    def rendered_files(self, topology: Topology) -> dict[str, str]:
        return {}

    def panels(self, topology: Topology) -> list[dict[str, Any]]:
        return []

    def exporter_rules(self, topology: Topology, region: str) -> list[tuple[str, list[dict[str, Any]]]]:
        return []

    def alert_rules(self, topology: Topology, region: str) -> list[dict[str, Any]]:
        return []


ENGINE = ToyEngine()
