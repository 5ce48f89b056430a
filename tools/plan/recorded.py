"""A plan as the planning modules read it: the topology and what the program registered, and each registration's region.

Owns: ``Plan`` (a validated topology with the recording of its program under mocks, the registrations sorted by
URN once, since the summary, tree, files, diff and review all walk them) and ``region_of`` (the region a
registration belongs to: its region label, its provider, or the region its logical name starts with; ``global``
otherwise). The command, the diff and the review share them, so each of those imports this module, never another.

Deliberately not here: running the program (``tools.plan.harness``), checking a plan (``tools.plan.invariants``),
presenting it (``tools.plan.cli``), comparing two (``tools.plan.diff``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from stacks.model import Topology
from tools.plan.harness import Recording, Registration


@dataclass
class Plan:
    topology: Topology
    recording: Recording

    @functools.cached_property
    def registrations(self) -> list[Registration]:
        """Sorted once: summary, tree, files and diff all walk them."""
        return sorted(self.recording.registrations, key=lambda r: r.urn)


def region_of(reg: Registration, topology: Topology) -> str:
    labels = (reg.inputs.get("metadata") or {}).get("labels") or {}
    if "kafka-multiregion.io/region" in labels:
        return str(labels["kafka-multiregion.io/region"])
    provider = reg.provider.split("::")
    if len(provider) >= 4:
        name = provider[3]
        for prefix in ("k8s-", "aws-"):
            if name.startswith(prefix):
                return name[len(prefix) :]
    if reg.type.startswith("pulumi:providers:"):
        return reg.name.split("-", 1)[1]
    # Components and their children: the region the logical name starts with.
    for region in topology.region_names:
        if reg.name == region or reg.name.startswith(region + "-"):
            return region
    return "global"
