"""The replication engines, one module each, behind one table (``ENGINES``); ``of(topology)`` picks one.

Deliberately not here: anything an engine does (its module) or what every engine must answer (``.base``).
"""

from __future__ import annotations

from components.engines import cluster_linking, mirrormaker2
from components.engines.base import BuildContext, FlowRun, Principal, ReplicationEngine
from stacks.model import Topology

ENGINES: dict[str, ReplicationEngine] = {
    "mirrormaker2": mirrormaker2.ENGINE,
    "cluster-linking": cluster_linking.ENGINE,
}


def of(topology: Topology) -> ReplicationEngine:
    return ENGINES[topology.replication.engine]


__all__ = ["ENGINES", "BuildContext", "FlowRun", "Principal", "ReplicationEngine", "of"]
