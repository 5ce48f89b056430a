"""The replication-engine seam: what every engine answers, so adding an engine means adding a module.

Owns: ``ReplicationEngine`` (the protocol), ``FlowRun`` (one flow as every consumer of it sees it: its name,
ends and the topics it copies under which names) and ``Principal`` (who exists in a region, with which ACLs;
re-exported by ``components.access``).

An engine answers, per topology:

* ``flows``: the flows that run (a flow with nothing to copy runs nothing);
* ``principals(region)``: its principals in a region with their ACLs on that side (source or target);
* ``build(...)``: registers its resources under the estate (and nothing else);
* ``exporter_rules`` / ``alert_rules(region)``: the metrics it is judged by and its alerts on the estate's RPO;
* ``panels``: its panels on the cross-region dashboard;
* ``switchover``: the module of what switchover, failover and failback do to it (``tools.switchover`` imports it
  when a switch runs; the program never does).

Deliberately not here: the engines themselves (``components.engines.mirrormaker2.engine``, ``.cluster_linking``) and the
model's per-engine rules (``stacks.rules.replication``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi

from stacks.model import Flow, Quotas, Topology
from stacks.model.replication import OnFlow


@dataclass(frozen=True)
class Principal:
    name: str
    kind: str  # application | builtin | mirrormaker | heartbeats | cluster-link
    acls: list[dict[str, Any]] | None  # None: a super user, no authorization section
    quotas: Quotas | None = None


@dataclass(frozen=True)
class FlowRun(OnFlow):
    """One running flow as every consumer sees it (plan tool, diagrams, outputs, failover)."""

    flow: Flow
    name: str  # its resource name and principal
    topics: tuple[str, ...]  # source names
    remote_topics: tuple[str, ...]  # the same topics' names on the target
    policy: str  # identity | prefixed


@dataclass(frozen=True)
class BuildContext:
    """What an engine's resources need from the estate: the parent, providers, and what they must wait for."""

    parent: pulumi.Resource
    providers: Mapping[str, Sequence[pulumi.ProviderResource]]  # region -> its providers
    users: Mapping[str, pulumi.Resource]  # region -> its users component (principals exist before flows start)
    metrics: Mapping[str, Sequence[pulumi.Resource]]  # region -> exporter-rule ConfigMaps (when monitoring is on)
    clusters: Mapping[str, pulumi.Resource]  # region -> its cluster component
    passwords: Mapping[str, pulumi.Output[str]]  # principal -> its password (secret)


class ReplicationEngine(Protocol):
    name: str
    principal_kind: str
    alert_group: str  # the PrometheusRule group its alerts are in: kafka-multiregion.<region>.<alert_group>
    switchover: str  # the module of its switchover steps (``tools.switchover.steps.EngineSteps``)

    def flows(self, topology: Topology) -> tuple[FlowRun, ...]: ...

    def principals(self, topology: Topology, region: str) -> list[Principal]: ...

    def build(self, topology: Topology, ctx: BuildContext) -> None: ...

    def rendered_files(self, topology: Topology) -> dict[str, str]: ...

    def panels(self, topology: Topology) -> list[dict[str, Any]]: ...

    def exporter_rules(self, topology: Topology, region: str) -> list[tuple[str, list[dict[str, Any]]]]: ...

    def alert_rules(self, topology: Topology, region: str) -> list[dict[str, Any]]: ...
