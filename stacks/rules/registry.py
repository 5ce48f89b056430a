"""The rules of the schema registry section: one writer that exists, and storage topics replication carries.

Owns: the engine that can copy the registry's journal (MirrorMaker 2), the writer (derived by the architecture,
or declared where several regions write, and then a live, declared region), and replication's topics_exclude
keeping off the registry's storage topics.

Deliberately not here: the section, which region writes and which run a registry (``stacks.model.registry``),
its topics in the topic census (``Topology.topic_census``) and the names that must not collide
(``stacks.rules.identities``).
"""

from __future__ import annotations

import re

from stacks import naming
from stacks.model import Topology, registry
from stacks.rules.base import Errors

PATH = ("schema_registry",)


def check(topology: Topology, errors: Errors) -> None:
    """The section's rules: one writer that exists, and storage topics replication does not skip."""
    sr = topology.schema_registry
    if sr is None:
        return
    if topology.replication.engine != "mirrormaker2":
        # The journal travels as an identity mirror beside the flows (``components.engines.mirrormaker2.bodies``); a cluster link would
        # need a mirror topic of its own per read-only region, which is not built.
        errors.append(
            (
                PATH,
                f"the registry's journal is copied by MirrorMaker 2, and engine {topology.replication.engine} does not "
                "copy it yet; use engine: mirrormaker2, or remove schema_registry",
            )
        )
        return
    derived = registry.derived_writer(topology)
    if derived is not None and sr.writer is not None:
        errors.append(
            (
                (*PATH, "writer"),
                f"in {topology.architecture.value} the registry writer follows the architecture ({derived!r} now); "
                f"remove writer (got {sr.writer!r})",
            )
        )
    elif derived is None and sr.writer is None:
        live = [r for r in topology.region_names if topology.live(r)]
        errors.append(
            (
                (*PATH, "writer"),
                f"{topology.architecture.value} writes data in several regions but one registry must assign schema "
                f"IDs; declare writer: one of {live}",
            )
        )
    elif sr.writer is not None and sr.writer not in topology.region_names:
        errors.append(((*PATH, "writer"), f"region {sr.writer!r} is not declared; use one of {list(topology.region_names)}"))
    elif sr.writer is not None and not topology.live(sr.writer):
        errors.append(((*PATH, "writer"), f"{sr.writer!r} is being decommissioned; choose a live region as the registry writer"))
    excluded = [(t, p) for t in naming.REGISTRY_REPLICATED_TOPICS for p in topology.mm2.topics_exclude if re.fullmatch(p, t)]
    for t, p in excluded[:1]:
        errors.append(
            (
                ("replication", "topics_exclude"),
                f"{p!r} excludes the schema registry's topic {t!r}, which every registry region must receive; narrow the pattern",
            )
        )
