"""Who exists in which region, with which ACLs: the one place that answers it.

Owns: the list of principals per region (application users with their declared ACLs; the admin and
operator super users; the replication engine's principals with their source-side or target-side ACLs, asked
of the engine through ``components.engines``), as plain data for the users component, the credentials
component, the plan tool and the end-to-end test.

Deliberately not here: the ACL bodies of replication principals (each engine's module) and of application
users (``components.strimzi.application_acls``).
"""

from __future__ import annotations

from components import engines, registry, strimzi
from components.engines.base import Principal
from stacks import naming
from stacks import registry as registry_model
from stacks.model import SUPER_USERS, Topology

__all__ = ["Principal", "all_principals", "principals_in"]


def principals_in(topology: Topology, region: str) -> list[Principal]:
    # The admin (tooling) and the operator (runbooks): super users, so no authorization section.
    out = [Principal(n, "builtin", None) for n in SUPER_USERS]
    out += [
        Principal(u, "application", strimzi.application_acls(topology, u), topology.user_quotas(u))
        for u in topology.users_in(region)
    ]
    out += engines.of(topology).principals(topology, region)  # the replication engine's, per side
    if region in registry_model.regions(topology):
        out.append(Principal(naming.REGISTRY_PRINCIPAL, "registry", registry.principal_acls(topology, region)))
    return out


def all_principals(topology: Topology) -> list[str]:
    names = {p.name for r in topology.region_names for p in principals_in(topology, r)}
    return sorted(names)
