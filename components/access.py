"""Who exists in which region, with which ACLs: the one place that answers it.

Owns: the list of SCRAM principals per region (application users with their declared ACLs; the admin and
operator super users; each MirrorMaker flow's principal with its source-side or target-side ACLs; each
heartbeat Connect's principal), as plain data for the users component, the credentials component, the
plan tool and the end-to-end test.

Deliberately not here: the ACL bodies of MirrorMaker and heartbeats (``components.mirror``) and of
application users (``components.strimzi.application_acls``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components import mirror, registry, strimzi
from stacks import naming
from stacks import registry as registry_model
from stacks.model import SUPER_USERS, Quotas, Topology


@dataclass(frozen=True)
class Principal:
    name: str
    kind: str  # application | builtin | mirrormaker | heartbeats | registry
    acls: list[dict[str, Any]] | None  # None: a super user, no authorization section
    quotas: Quotas | None = None


def principals_in(topology: Topology, region: str) -> list[Principal]:
    # The admin (tooling) and the operator (runbooks): super users, so no authorization section.
    out = [Principal(n, "builtin", None) for n in SUPER_USERS]
    out += [
        Principal(u, "application", strimzi.application_acls(topology, u), topology.user_quotas(u))
        for u in topology.users_in(region)
    ]
    for plan in mirror.flow_plans(topology):
        # Replication's quota: what it may fetch from the source, and write into the target, per broker.
        rate = topology.replication_byte_rate(plan.flow)
        if plan.source == region:
            quotas = Quotas(consumer_byte_rate=rate) if rate else None
            out.append(Principal(plan.name, "mirrormaker", mirror.source_acls(topology, plan), quotas))
        elif plan.target == region:
            quotas = Quotas(producer_byte_rate=rate) if rate else None
            out.append(Principal(plan.name, "mirrormaker", mirror.target_acls(topology, plan), quotas))
    if topology.heartbeats and mirror.heartbeat_links(topology, region):
        out.append(Principal(naming.heartbeat_principal(region), "heartbeats", mirror.heartbeat_acls(topology, region)))
    if region in registry_model.regions(topology):
        out.append(Principal(naming.REGISTRY_PRINCIPAL, "registry", registry.principal_acls(topology, region)))
    return out


def all_principals(topology: Topology) -> list[str]:
    names = {p.name for r in topology.region_names for p in principals_in(topology, r)}
    return sorted(names)
