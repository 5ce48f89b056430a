"""Who owns which Kafka name, per region: the one answer isolation rules, grants and residency ask.

Owns: the claims of every owner on the three ACL name spaces Kafka matches by name (topics, consumer groups,
transactional ids), per region, built from ``stacks.naming``'s names only: each tenant's prefix and the prefix of
its remote copies ``<region>.<prefix>``; the default tenant's un-prefixed topics, their copies and its users'
un-prefixed groups; and the platform's own names (Kafka's and Confluent Server's ``__``/``_confluent`` names,
MirrorMaker 2's and the heartbeat Connect's storage topics, groups and transactional ids, offset syncs,
checkpoints, heartbeats, the schema registry's topics and groups, and every ``<region>.`` a copy is named under).
From them: ``owner_of`` (who owns a name), ``reach`` (the first name of another owner a grant reaches, by Kafka's
rule: a PREFIXED ACL matches every name that starts with its string, a LITERAL one its name, ``*`` every name),
the grants a tenant's user without ACLs is given (``tenant_grants``), and who may write which topic
(``writers``, for the quota arithmetic).

The platform's name families are claimed whether or not this topology runs the part that makes them (the schema
registry, heartbeats, exactly-once): a prefix granted today must not reach what enabling one of them creates
tomorrow.

Deliberately not here: the names themselves (``stacks.naming``), the rules that report a reach as a problem
(``stacks.rules.tenancy``) and rendering grants as ACLs (``components.flavors.strimzi.bodies``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stacks import naming
from stacks.model.base import ReplicationPolicy

if TYPE_CHECKING:
    from stacks.model.topology import Topology

TOPIC, GROUP, TRANSACTIONAL_ID = "topic", "group", "transactionalId"
KINDS = (TOPIC, GROUP, TRANSACTIONAL_ID)
PLATFORM = "the platform"

# Platform name families in every region, by name space: (prefix, whose). Kafka keeps '__' names (offsets,
# transactions, metadata), Confluent Server '_confluent' ones (cluster-link and license state); every MirrorMaker 2
# flow's Connect storage, group and transactional ids start with 'mm2-' (``naming.flow_principal``), as do its
# offset syncs; the heartbeat Connect's start with 'heartbeats-'; our own groups (switchover starts, the registry's)
# start with '__'.
_PLATFORM_PREFIXES: dict[str, tuple[tuple[str, str], ...]] = {
    TOPIC: (
        ("__", "Kafka's internal topics"),
        ("_confluent", "Confluent Server's internal topics (cluster links among them)"),
        ("mm2-", "MirrorMaker 2's Connect storage and offset-sync topics"),
        (f"{naming.heartbeat_principal('')}", "the heartbeat Connect's storage topics"),
    ),
    GROUP: (
        ("__", "Kafka's and the platform's own groups (the schema registry's, switchover's)"),
        ("_confluent", "Confluent Server's groups"),
        ("mm2-", "MirrorMaker 2's Connect groups"),
        (f"{naming.heartbeat_principal('')}", "the heartbeat Connect's groups"),
    ),
    TRANSACTIONAL_ID: (
        ("__", "Kafka's internal transactional ids"),
        ("_confluent", "Confluent Server's transactional ids"),
        ("mm2-", "MirrorMaker 2's exactly-once transactional ids"),
        (f"{naming.heartbeat_principal('')}", "the heartbeat Connect's transactional ids"),
    ),
}
_PLATFORM_TOPICS = (
    (naming.HEARTBEATS_TOPIC, "MirrorMaker 2's heartbeats topic"),
    *((t, "the schema registry's topic") for t in naming.REGISTRY_TOPICS),
)


@dataclass(frozen=True)
class Claim:
    """One owner's claim on a name (``prefix``: every name starting with it) in one name space."""

    kind: str
    name: str
    prefix: bool
    owner: str | None  # a tenant's name, PLATFORM, or None: no tenant's (an estate without tenants shares them)
    what: str  # what it is, for messages

    def describe(self) -> str:
        shape = f"names starting {self.name!r}" if self.prefix else repr(self.name)
        return f"{shape} ({self.what})"


@dataclass(frozen=True)
class Grant:
    """What a principal is given on names of one space: operations on a name or on every name starting with it."""

    kind: str
    name: str
    prefix: bool
    operations: tuple[str, ...]


def _default_tenant(topology: Topology) -> str | None:
    return next((name for name, t in sorted(topology.tenants.items()) if t.default), None)


def _unprefixed(topology: Topology, name: str) -> bool:
    return not any(name.startswith(t.prefix) for t in topology.tenants.values())


def claims(topology: Topology, region: str) -> tuple[Claim, ...]:
    """Every owner's claims in ``region`` (asked often: ``Topology.name_claims`` keeps them)."""
    return topology.name_claims[region]


def derive_claims(topology: Topology, region: str) -> tuple[Claim, ...]:
    """Every owner's claims in ``region``: the platform's names, then each tenant's prefixes and names."""
    out: list[Claim] = []
    for kind, families in _PLATFORM_PREFIXES.items():
        out += [Claim(kind, p, True, PLATFORM, what) for p, what in families]
    out += [Claim(TOPIC, t, False, PLATFORM, what) for t, what in _PLATFORM_TOPICS]
    for r in topology.region_names:
        # Every remote copy from r is named '<r>.<topic>', and MirrorMaker keeps '<r>.checkpoints.internal' and
        # '<r>.heartbeats': nobody but replication owns the space as a whole (tenants own their part of it below).
        out.append(Claim(TOPIC, naming.remote_topic(True, r, ""), True, PLATFORM, f"the copies and MirrorMaker topics from {r}"))
        out += [Claim(TOPIC, t, False, PLATFORM, f"MirrorMaker 2's topic for {r}") for t in naming.mm2_source_topics(r)]
    # The topics this region really has that the platform keeps (whatever a future engine names them).
    internal = [t for f in topology.flows if f.target == region for t in topology.replication.internal_topics(f)]
    if topology.heartbeats:
        internal += naming.heartbeat_topics(region)
    out += [Claim(TOPIC, t, False, PLATFORM, "a topic the replication engine keeps") for t in internal]
    for flow in topology.flows:
        principal, _ = topology.replication.principal(flow)
        out.append(Claim(GROUP, principal, False, PLATFORM, f"the group of {principal}"))
        out.append(Claim(TRANSACTIONAL_ID, principal, True, PLATFORM, f"the transactional ids of {principal}"))
    for tname, tenant in sorted(topology.tenants.items()):
        for kind in KINDS:
            out.append(Claim(kind, tenant.prefix, True, tname, f"tenant {tname!r}'s prefix"))
        for r in topology.region_names:
            remote = naming.remote_topic(True, r, tenant.prefix)
            out.append(Claim(TOPIC, remote, True, tname, f"tenant {tname!r}'s copies from {r}"))
    # Each declared topic and its copies by name, with their owner (None without tenants: every user's).
    for topic in sorted(topology.topics):
        topic_owner = topology.tenant_of(topic)
        whose = f"tenant {topic_owner!r}'s" if topic_owner else "a declared"
        out.append(Claim(TOPIC, topic, False, topic_owner, f"{whose} topic"))
        for r in topology.region_names:
            remote = naming.remote_topic(True, r, topic)
            out.append(Claim(TOPIC, remote, False, topic_owner, f"{whose} topic's copy from {r}"))
    default = _default_tenant(topology)
    if default is not None:
        for user in topology.users.values():
            for group in user.groups:
                if user.tenant == default and _unprefixed(topology, group):
                    out.append(Claim(GROUP, group, False, default, f"default tenant {default!r}'s group"))
    return tuple(out)


def owner_of(topology: Topology, region: str, kind: str, name: str) -> tuple[str | None, Claim | None]:
    """Who owns ``name``: an exact literal claim, else the longest prefix claim it starts with, else the default
    tenant (which owns what no other claim names), else nobody (None)."""
    found = _owner(claims(topology, region), kind, name)
    if found is not None:
        return found.owner, found
    return _default_tenant(topology), None


def _owner(all_claims: Iterable[Claim], kind: str, name: str) -> Claim | None:
    best: Claim | None = None
    for c in all_claims:
        if c.kind != kind:
            continue
        if not c.prefix and c.name == name:
            return c
        if c.prefix and name.startswith(c.name) and (best is None or len(c.name) > len(best.name)):
            best = c
    return best


def reach(topology: Topology, region: str, grant: Grant, owner: str | None) -> str | None:
    """The first name (or name family) of another owner ``grant`` reaches in ``region``, described; None if the
    grant stays inside what ``owner`` owns (``owner`` None: a user of an estate without tenants, who only has to
    keep off the platform's names)."""
    all_claims = claims(topology, region)
    default = _default_tenant(topology)

    def foreign(c: Claim) -> bool:
        return c.owner != owner and (owner is not None or c.owner == PLATFORM)

    mine = [c for c in all_claims if c.kind == grant.kind]
    if grant.name == "*" and not grant.prefix:
        hit = next((c for c in mine if foreign(c)), None)
        return hit.describe() if hit else None
    if grant.prefix:
        # Kafka: a PREFIXED ACL matches every name that starts with its string, present and future.
        for c in mine:
            if foreign(c) and c.name.startswith(grant.name):
                return c.describe()
    holder = _owner(mine, grant.kind, grant.name)
    if holder is not None:
        return holder.describe() if foreign(holder) else None
    # No claim names it: the default tenant's, or (without one) nobody's yet; a tenant's users stay in their own.
    if owner is None or default == owner:
        return None
    if default is not None:
        return f"names of no tenant's prefix (default tenant {default!r}'s)"
    return f"names outside tenant {owner!r}'s prefix"


def tenant_grants(topology: Topology, user: str) -> tuple[Grant, ...]:
    """What a tenant's user that declares no ACLs is given: its tenant's topics (and their remote copies from its
    other regions, under a prefixed policy), groups and transactional ids by prefix, and for the default tenant its
    un-prefixed topics, their copies and the user's un-prefixed groups by name. Empty for a user of no tenant."""
    u = topology.users[user]
    if u.tenant not in topology.tenants:
        return ()
    tenant = topology.tenants[u.tenant]
    rw = ("Describe", "DescribeConfigs", "Read", "Write")
    read = ("Describe", "Read")
    regions = sorted(topology.tenant_regions(u.tenant))
    copies = topology.policy is ReplicationPolicy.PREFIXED and len(regions) > 1  # copies only move between its regions
    out = [
        Grant(TOPIC, tenant.prefix, True, rw),
        Grant(GROUP, tenant.prefix, True, read),
        Grant(TRANSACTIONAL_ID, tenant.prefix, True, ("Describe", "Write")),
    ]
    if copies:
        out += [Grant(TOPIC, naming.remote_topic(True, r, tenant.prefix), True, read) for r in regions]
    if tenant.default:
        for topic in sorted(topology.topics):
            if _unprefixed(topology, topic):
                out.append(Grant(TOPIC, topic, False, rw))
                if copies:
                    out += [Grant(TOPIC, naming.remote_topic(True, r, topic), False, read) for r in regions]
        out += [Grant(GROUP, g, False, read) for g in sorted(u.groups) if _unprefixed(topology, g)]
    return tuple(out)


def user_grants(topology: Topology, user: str) -> tuple[Grant, ...]:
    """Every ALLOW grant of an application user on a named resource: its declared ACLs, or its tenant's."""
    u = topology.users[user]
    if not u.acls:
        return tenant_grants(topology, user)
    return tuple(
        Grant(a.resource.type.value, a.resource.name, a.resource.pattern.value == "prefix", tuple(o.value for o in a.operations))
        for a in u.acls
        if a.effect.value == "allow" and a.resource.type.value in KINDS
    )


def writes(grant: Grant, topic: str) -> bool:
    """Whether ``grant`` lets its holder produce to ``topic`` (Write, or All)."""
    if grant.kind != TOPIC or not {"Write", "All"} & set(grant.operations):
        return False
    if grant.prefix:
        return topic.startswith(grant.name)
    return grant.name in ("*", topic)


def writers(topology: Topology, region: str, topic: str) -> tuple[str, ...]:
    """The application users in ``region`` whose grants let them produce to ``topic``, sorted."""
    return tuple(u for u in topology.users_in(region) if any(writes(g, topic) for g in user_grants(topology, u)))
