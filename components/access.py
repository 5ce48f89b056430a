"""Who exists in which region, with which ACLs: the one place that answers it.

Owns: the list of principals per region (application users with their declared ACLs; the admin and
operator super users; the replication engine's principals with their source-side or target-side ACLs, asked
of the engine through ``components.variants``), as plain data for the users component, the credentials
component, the plan tool and the end-to-end test; and the ACLs of application users, rendered in the shape
Strimzi's ``KafkaUser`` takes, which every flavor builds from (the confluent flavor translates them).

Deliberately not here: the ACL bodies of replication principals (each engine's module) and who owns which
names (``stacks.ownership``).
"""

from __future__ import annotations

import json
from typing import Any

from components import registry, variants
from components.engines.base import Principal
from stacks import naming, ownership
from stacks.model import SUPER_USERS, Acl, AclResourceType, Topology
from stacks.model import registry as registry_model

__all__ = ["Principal", "acl", "all_principals", "application_acls", "principals_in"]


def principals_in(topology: Topology, region: str) -> list[Principal]:
    # The admin (tooling) and the operator (runbooks): super users, so no authorization section.
    out = [Principal(n, "builtin", None) for n in SUPER_USERS]
    out += [
        Principal(u, "application", application_acls(topology, u), topology.user_quotas(u)) for u in topology.users_in(region)
    ]
    out += variants.engine(topology).principals(topology, region)  # the replication engine's, per side
    if region in registry_model.regions(topology):
        out.append(Principal(naming.REGISTRY_PRINCIPAL, "registry", registry.principal_acls(topology, region)))
    return out


def all_principals(topology: Topology) -> list[str]:
    names = {p.name for r in topology.region_names for p in principals_in(topology, r)}
    return sorted(names)


def acl(rule: Acl) -> dict[str, Any]:
    res: dict[str, Any] = {"type": rule.resource.type.value}
    if rule.resource.type is not AclResourceType.CLUSTER:
        res["name"] = rule.resource.name
        res["patternType"] = rule.resource.pattern.value
    return {
        "type": rule.effect.value,
        "resource": res,
        "operations": sorted({op.value for op in rule.operations}),
        "host": rule.host,
    }


def application_acls(topology: Topology, name: str) -> list[dict[str, Any]]:
    """A user's declared ACLs, rendered and in a canonical order (the file's order changes nothing).

    A tenant's user that declares none gets its tenant's prefixes: its topics (and their remote copies under a
    prefixed policy), its consumer groups and its transactional ids.
    """
    user = topology.users[name]
    rendered = [acl(a) for a in user.acls]
    if not rendered:
        # What its tenant owns, as ``stacks.ownership`` says (a default tenant's un-prefixed topics by name).
        rendered = [
            {
                "type": "allow",
                "resource": {"type": g.kind, "name": g.name, "patternType": "prefix" if g.prefix else "literal"},
                "operations": list(g.operations),
                "host": "*",
            }
            for g in ownership.tenant_grants(topology, name)
        ]
    return sorted(rendered, key=lambda a: json.dumps(a, sort_keys=True))
