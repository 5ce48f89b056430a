"""The registry of variants: which module is each cluster flavor and each replication engine.

Owns: one line per flavor (``FLAVORS``) and per engine (``ENGINES``), naming the module that holds its
``FLAVOR`` or ``ENGINE``, and the two questions the rest of the code asks: ``flavor(topology)`` and
``engine(topology)``. Adding a flavor or an engine means adding its folder and one line here (and its section
of the model, where it has settings of its own). The modules are imported when first asked for, so nothing
outside a variant's folder imports it, and a variant may ask here for the other axis (the confluent flavor asks
which topics the engine mirrors into a region) without an import cycle.

Deliberately not here: what a flavor or an engine answers (``components.flavors.base``,
``components.engines.base``) and what any of them does (their folders).
"""

from __future__ import annotations

import importlib
from typing import cast

from components.engines.base import ReplicationEngine
from components.flavors.base import ClusterFlavor
from stacks.model import Topology

FLAVORS: dict[str, str] = {
    "strimzi": "components.flavors.strimzi.flavor",
    "confluent": "components.flavors.confluent.flavor",
}
ENGINES: dict[str, str] = {
    "mirrormaker2": "components.engines.mirrormaker2.engine",
    "cluster-linking": "components.engines.cluster_linking.engine",
}


def flavor_named(name: str) -> ClusterFlavor:
    return cast(ClusterFlavor, importlib.import_module(FLAVORS[name]).FLAVOR)


def engine_named(name: str) -> ReplicationEngine:
    return cast(ReplicationEngine, importlib.import_module(ENGINES[name]).ENGINE)


def flavor(topology: Topology) -> ClusterFlavor:
    return flavor_named(topology.cluster_flavor)


def engine(topology: Topology) -> ReplicationEngine:
    return engine_named(topology.replication.engine)
