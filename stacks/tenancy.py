"""Tenants: which team owns which topics, users and regions, and what their quotas and replication's allow.

Owns: the rules of the ``tenants`` section and of the replication quota, reported like every other rule (path,
the value, the fix): prefix ownership (each topic carries a tenant's prefix or falls to the declared default),
tenant membership of users and the reach of their ACLs, tenant residency (a tenant's topics and users stay in
its regions; ``Topology.carries`` keeps its flows there too), and the replication-quota arithmetic against the
declared write rates and the RPO.

Deliberately not here: the classes and derived facts (``stacks.model``: ``Tenant``, ``Quotas``,
``tenant_of``, ``user_quotas``, ``replication_byte_rate``) and the rendering (``components``).
"""

from __future__ import annotations

from stacks import naming, ownership
from stacks.model import AclEffect, PatternType, Topology

Errors = list[tuple[tuple[str | int, ...], str]]


def check(topology: Topology, errors: Errors) -> None:
    _tenants(topology, errors)
    if topology.tenants:
        _topics(topology, errors)
    _users(topology, errors)  # without tenants, still off the platform's names
    _replication_quota(topology, errors)


def _tenants(topology: Topology, errors: Errors) -> None:
    names = set(topology.region_names)
    defaults = [name for name, t in sorted(topology.tenants.items()) if t.default]
    if len(defaults) > 1:
        errors.append(
            (
                ("tenants", defaults[1], "default"),
                f"tenants {defaults} are all default; one tenant at most owns the unprefixed topics",
            )
        )
    prefixes: dict[str, str] = {}
    for name, tenant in sorted(topology.tenants.items()):
        if tenant.prefix in prefixes:
            errors.append(
                (
                    ("tenants", name, "prefix"),
                    f"prefix {tenant.prefix!r} is also tenant {prefixes[tenant.prefix]!r}'s; give each tenant its own",
                )
            )
        prefixes.setdefault(tenant.prefix, name)
        if tenant.prefix not in prefixes or prefixes[tenant.prefix] == name:
            _prefix_reach(topology, name, errors)
        unknown = [r for r in tenant.regions or () if r not in names]
        if unknown:
            errors.append((("tenants", name, "regions"), f"regions {unknown} are not declared; use some of {sorted(names)}"))


def _prefix_reach(topology: Topology, name: str, errors: Errors) -> None:
    """Every prefix the tenant's users are given (its own, and its copies' '<region>.<prefix>') reaches only its
    names, in every region: not another tenant's (nested prefixes), not a region's copies, not the platform's."""
    prefix = topology.tenants[name].prefix
    for r in topology.region_names:
        for kind in ownership.KINDS:
            granted = [prefix] + [naming.remote_topic(True, x, prefix) for x in topology.region_names if kind == ownership.TOPIC]
            for p in granted:
                what = ownership.reach(topology, r, ownership.Grant(kind, p, True, ()), name)
                if what is None:
                    continue
                errors.append(
                    (
                        ("tenants", name, "prefix"),
                        f"tenant {name!r}'s {kind} prefix {p!r}"
                        + (" (its remote copies')" if p != prefix else "")
                        + f" reaches {what} in {r}: Kafka matches a PREFIXED ACL "
                        "by plain string prefix, so its users would read and write them; choose a prefix that no "
                        "other tenant's prefix, region name + '.' or platform name starts with, and that starts none "
                        f"of them (such as '{name}.')",
                    )
                )
                return


def _topics(topology: Topology, errors: Errors) -> None:
    prefixes = sorted(t.prefix for t in topology.tenants.values())
    for name, topic in sorted(topology.topics.items()):
        owner = topology.tenant_of(name)
        if owner is None:
            errors.append(
                (
                    ("topics", name),
                    f"topic {name!r} carries no tenant's prefix ({', '.join(prefixes)}); rename it with its tenant's prefix, or mark one tenant default: true",
                )
            )
            continue
        allowed = topology.tenant_regions(owner)
        outside = sorted(set(topic.regions or ()) - allowed)
        if outside:
            errors.append(
                (
                    ("topics", name, "regions"),
                    f"tenant {owner!r} keeps its data in {sorted(allowed)}, so {name!r} may not live in {outside}; remove them or widen the tenant's regions",
                )
            )
        elsewhere = sorted(set(topic.replicate_to) - allowed)
        if elsewhere:
            errors.append(
                (
                    ("topics", name, "replicate_to"),
                    f"tenant {owner!r} keeps its data in {sorted(allowed)}, so {name!r} may not be copied to {elsewhere}; remove them",
                )
            )


def _users(topology: Topology, errors: Errors) -> None:
    for uname, user in sorted(topology.users.items()):
        path: tuple[str | int, ...] = ("users", uname)
        if topology.tenants and not _member(topology, uname, path, errors):
            continue
        owner = user.tenant if topology.tenants else None
        prefix = topology.tenants[user.tenant].prefix if user.tenant in topology.tenants else ""
        regions = topology.user_regions(uname)
        for i, acl in enumerate(user.acls):
            res = acl.resource
            if res.type.value not in ownership.KINDS or acl.effect is AclEffect.DENY:
                continue
            grant = ownership.Grant(res.type.value, res.name, res.pattern is PatternType.PREFIX, ())
            hit = _first_reach(topology, regions, grant, owner)
            if hit is None:
                continue
            region, what = hit
            shape = f"prefix {res.name!r}" if grant.prefix else f"{res.type.value} {res.name!r}"
            if owner is None:
                fix = "name the application's own resources, literally or by a prefix none of those start with"
            else:
                fix = (
                    f"it is outside tenant {owner!r}'s prefix {prefix!r}; a tenant's users act on its own topics and "
                    "groups (and their remote copies): "
                    + (f"start the prefix with {prefix!r}" if grant.prefix else "name one of its own")
                )
            errors.append(
                (
                    (*path, "acls", i, "resource", "name"),
                    f"{shape} reaches {what} in {region}"
                    + (" (Kafka matches a PREFIXED ACL by plain string prefix)" if grant.prefix else "")
                    + (" ('*' matches every name)" if res.name == "*" else "")
                    + f"; {fix}",
                )
            )
        for group in user.groups:
            hit = _first_reach(topology, regions, ownership.Grant(ownership.GROUP, group, False, ()), owner)
            if hit is None:
                continue
            fix = f"name it '{prefix}{group}'" if owner is not None else "rename it"
            errors.append(
                (
                    (*path, "groups"),
                    f"group {group!r} falls under {hit[1]} in {hit[0]}"
                    + (f", outside tenant {owner!r}'s prefix {prefix!r}" if owner is not None else "")
                    + f"; {fix}",
                )
            )


def _member(topology: Topology, uname: str, path: tuple[str | int, ...], errors: Errors) -> bool:
    """The user belongs to a declared tenant and stays in its regions; False when there is no tenant to judge by."""
    user = topology.users[uname]
    if user.tenant is None:
        errors.append(
            (
                (*path, "tenant"),
                f"with tenants declared every user belongs to one; set tenant to one of {sorted(topology.tenants)}",
            )
        )
        return False
    if user.tenant not in topology.tenants:
        errors.append(((*path, "tenant"), f"tenant {user.tenant!r} is not declared; use one of {sorted(topology.tenants)}"))
        return False
    allowed = topology.tenant_regions(user.tenant)
    outside = sorted(set(topology.user_regions(uname)) - allowed)
    if outside:
        errors.append(
            (
                (*path, "regions"),
                f"tenant {user.tenant!r} uses {sorted(allowed)}, so {uname!r} cannot exist in {outside}; list regions of its tenant",
            )
        )
    return True


def _first_reach(
    topology: Topology, regions: tuple[str, ...], grant: ownership.Grant, owner: str | None
) -> tuple[str, str] | None:
    """(region, what) of the first name of another owner ``grant`` reaches in one of ``regions``."""
    for r in regions:
        what = ownership.reach(topology, r, grant, owner)
        if what is not None:
            return r, what
    return None


def _replication_quota(topology: Topology, errors: Errors) -> None:
    if topology.replication.quota is None:
        return
    rpo = topology.rpo_seconds
    for flow in topology.flows:
        rate = topology.replication_byte_rate(flow)
        if rate is None:
            errors.append(
                (
                    ("replication", "quota"),
                    f"the flow {flow.source} → {flow.target} has no byte rate: set quota.byte_rate or kafka.capacity_bytes_per_second on {flow.source} or {flow.target}",
                )
            )
            return
        written = sum(topology.topics[t].bytes_per_second or 0 for t in topology.copies(flow))
        if not written:
            continue
        # Quotas are per broker; a flow's partitions spread over the brokers of the smaller end.
        brokers = min(topology.region(flow.source).kafka.brokers, topology.region(flow.target).kafka.brokers)
        carried = rate * brokers
        # A backlog of one RPO (written * RPO bytes) must drain within another RPO while writes go on:
        # written * RPO / (carried - written) <= RPO, that is carried >= 2 * written.
        if carried < 2 * written:
            errors.append(
                (
                    ("replication", "quota"),
                    f"the flow {flow.source} → {flow.target} may move {rate} B/s per broker x {brokers} brokers = {carried} B/s, but its topics are written at {written} B/s: a backlog of one RPO ({written} B/s x {rpo} s) drains at {carried} - {written} = {carried - written} B/s, "
                    + (
                        f"taking {written * rpo // max(1, carried - written)} s, more than the RPO {rpo} s"
                        if carried > written
                        else "never"
                    )
                    + f"; raise the quota to at least {-(-2 * written // brokers)} B/s per broker or lower the declared write rates",
                )
            )
