"""The cluster flavors, one module each, behind one table (``FLAVORS``); ``of(topology)`` picks one.

A flavor says how a regional cluster, its listeners, its users and its topics are declared: it builds a
region's cluster and users components (``build_region``), names the Services holding its load balancers (DNS
reads them), and gives clients their port and SASL settings. Adding a flavor means adding a module here and
its model facts in ``stacks.flavors``.

Deliberately not here: the bodies (``components.strimzi``, ``components.confluent``).
"""

from __future__ import annotations

from components.flavors import confluent, strimzi
from components.flavors.base import ClusterFlavor, RegionBuilt, RegionContext
from stacks.model import Topology

FLAVORS: dict[str, ClusterFlavor] = {"strimzi": strimzi.FLAVOR, "confluent": confluent.FLAVOR}


def of(topology: Topology) -> ClusterFlavor:
    return FLAVORS[topology.cluster_flavor]


__all__ = ["FLAVORS", "ClusterFlavor", "RegionBuilt", "RegionContext", "of"]
