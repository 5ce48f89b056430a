"""The rules on application users: their names, regions and what their ACLs name.

Owns: user names (DNS labels, not a super user, a reserved prefix or a region's name), declared regions, and
literal ACL targets that exist (declared topics or their copies, the user's groups, 'kafka-cluster').

Deliberately not here: the classes (``stacks.model.access``), what a grant reaches among other owners' names and
tenant membership (``stacks.rules.tenancy``), a user name taken by a generated one (``stacks.rules.identities``).
"""

from __future__ import annotations

from stacks.model import DNS1123_LABEL_RE, RESERVED_USER_PREFIXES, SUPER_USERS, AclResourceType, PatternType, Topology
from stacks.rules.base import Errors


def check(topology: Topology, errors: Errors) -> None:
    names = {r.name for r in topology.regions}
    declared_groups = {g for u in topology.users.values() for g in u.groups}
    remote_names = {f"{r}.{t}" for r in names for t in topology.topics}
    for uname, user in sorted(topology.users.items()):
        path: tuple[str | int, ...] = ("users", uname)
        if not DNS1123_LABEL_RE.fullmatch(uname) or len(uname) > 63:
            errors.append((path, f"user name {uname!r} must be a lowercase DNS label (a-z, 0-9, '-') of at most 63 characters"))
        if uname in SUPER_USERS or uname.startswith(RESERVED_USER_PREFIXES) or uname in names:
            errors.append(
                (
                    path,
                    f"user name {uname!r} is reserved for principals the project creates (admin, operator, MirrorMaker, Strimzi); rename the application user",
                )
            )
        for r in user.regions or ():
            if r not in names:
                errors.append(((*path, "regions"), f"region {r!r} is not declared; use some of {sorted(names)}"))
        for i, acl in enumerate(user.acls):
            res = acl.resource
            apath = (*path, "acls", i, "resource", "name")
            if res.pattern is not PatternType.LITERAL or res.name == "*":
                continue
            if res.type is AclResourceType.TOPIC and res.name not in topology.topics and res.name not in remote_names:
                errors.append(
                    (
                        apath,
                        f"topic {res.name!r} is not declared; declare it under topics, use pattern: prefix, or fix the name",
                    )
                )
            if res.type is AclResourceType.GROUP and res.name not in declared_groups:
                errors.append((apath, f"group {res.name!r} is not declared; add it to the user's groups or use pattern: prefix"))
            if res.type is AclResourceType.CLUSTER and res.name != "kafka-cluster":
                errors.append((apath, f"cluster ACLs name 'kafka-cluster', not {res.name!r}"))
