"""Tenants: which team owns which topics, users and regions, and what their quotas and replication's allow.

Owns: the rules of the ``tenants`` section and of the quotas, reported like every other rule (path, the value,
the fix): prefix ownership (each topic carries a tenant's prefix or falls to the declared default), tenant
membership of users, the reach of every grant (a tenant's prefix, its copies' '<region>.<prefix>', each user's
ACLs and groups, with or without tenants) against the names ``stacks.ownership`` says others own, tenant residency
(a tenant's topics and users stay in its regions; ``Topology.carries`` keeps its flows there too), and the quota
arithmetic per broker through partition leaders: the replication quota against the declared write rates and the
RPO, and each producer quota against the topics its holder may write.

Deliberately not here: who owns which name (``stacks.ownership``), the classes and derived facts
(``stacks.model``: ``Tenant``, ``Quotas``, ``Topology.tenant_of``, ``user_quotas``, ``replication_byte_rate``) and
the rendering (``components``).
"""

from __future__ import annotations

from fractions import Fraction

from stacks import naming, ownership
from stacks.model import AclEffect, PatternType, Quotas, Topology
from stacks.rules.base import Errors


def check(topology: Topology, errors: Errors) -> None:
    _tenants(topology, errors)
    if topology.tenants:
        _topics(topology, errors)
    _users(topology, errors)  # without tenants, still off the platform's names
    _replication_quota(topology, errors)
    _producer_quotas(topology, errors)


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


def leader_load(topics: list[tuple[str, int, Fraction]], brokers: int) -> tuple[Fraction, str]:
    """What lands on the busiest broker when each topic's bytes enter through its partitions' leaders only:
    (bytes/s, the arithmetic). A topic of p partitions has leaders on at most min(p, brokers) brokers, the busiest
    leading ceil(p / brokers) of them, each carrying 1/p of its rate; leaders of several topics may share a broker,
    so per broker the shares add up."""
    load = Fraction(0)
    terms = []
    for name, partitions, rate in topics:
        led = -(-partitions // brokers)
        load += rate * led / partitions
        terms.append(f"{name} {_bps(rate)} B/s x {led}/{partitions}")
    return load, " + ".join(terms)


def _bps(value: Fraction) -> int:
    return -(-value.numerator // value.denominator)  # rounded up: a quota must be at least this


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
        copied = [
            (t, topology.topics[t].partitions, Fraction(topology.topics[t].bytes_per_second or 0))
            for t in topology.copies(flow)
            if topology.topics[t].bytes_per_second
        ]
        if not copied:
            continue
        # The quota is per broker: MirrorMaker fetches from the source's leaders and produces to the target's, so
        # each end's busiest broker bounds the flow (not the quota times the broker count).
        for end in (flow.source, flow.target):
            brokers = topology.region(end).kafka.brokers
            load, terms = leader_load(copied, brokers)
            # A backlog of one RPO (load * RPO bytes on that broker) must drain within another RPO while writes go
            # on: load * RPO / (rate - load) <= RPO, that is rate >= 2 * load.
            if rate >= 2 * load:
                continue
            spare = rate - load
            errors.append(
                (
                    ("replication", "quota"),
                    f"the flow {flow.source} → {flow.target} may move {rate} B/s per broker, and a partition is served "
                    f"by its leader only: in {end} ({brokers} brokers) the busiest broker leads {terms} = {_bps(load)} "
                    f"B/s; a backlog of one RPO ({_bps(load)} B/s x {rpo} s) drains at {rate} - {_bps(load)} = "
                    + (
                        f"{_bps(spare)} B/s, taking {_bps(load * rpo / spare)} s, more than the RPO {rpo} s"
                        if spare > 0
                        else f"{-_bps(-spare)} B/s, never"
                    )
                    + f"; raise the quota to at least {_bps(2 * load)} B/s per broker, give the busiest topics more "
                    f"partitions (up to {brokers}, one leader per broker), or lower the declared write rates",
                )
            )
            break


def _producer_quotas(topology: Topology, errors: Errors) -> None:
    """A user's producer_byte_rate is per broker too: the declared write rates of the topics it may write (shared
    evenly among their writers when every writer has a quota) must fit through the busiest broker leading them."""
    for uname in sorted(topology.users):
        quotas = topology.user_quotas(uname)
        q = quotas.producer_byte_rate if quotas is not None else None
        if q is None:
            continue
        for r in topology.user_regions(uname):
            brokers = topology.region(r).kafka.brokers
            written = []
            for t in topology.topics_in(r):
                rate = topology.topics[t].bytes_per_second
                writers = ownership.writers(topology, r, t)
                if not rate or uname not in writers:
                    continue
                if any((topology.user_quotas(w) or Quotas()).producer_byte_rate is None for w in writers):
                    continue  # a writer without a quota can carry the topic's bytes whatever this one may
                written.append((t, topology.topics[t].partitions, Fraction(rate, len(writers))))
            if not written:
                continue
            load, terms = leader_load(written, brokers)
            if q >= load:
                continue
            user = topology.users[uname]
            own = user.quotas is not None and user.quotas.producer_byte_rate is not None
            path: tuple[str | int, ...] = (
                ("users", uname, "quotas", "producer_byte_rate")
                if own or user.tenant is None
                else ("tenants", user.tenant, "quotas", "producer_byte_rate")
            )
            errors.append(
                (
                    path,
                    f"{uname} may produce {q} B/s per broker, and a partition is served by its leader only: in {r} "
                    f"({brokers} brokers) the busiest broker leading the topics it writes takes {terms} = "
                    f"{_bps(load)} B/s of their declared write rates (each shared among its writers); raise "
                    f"producer_byte_rate to at least {_bps(load)}, give the topics more partitions (up to {brokers}), "
                    "or lower the declared write rates",
                )
            )
            break
