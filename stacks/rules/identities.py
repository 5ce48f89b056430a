"""Identities: every generated name unique in its space, within its limits, and not someone else's.

Owns: the rules that compare the names a topology makes (``stacks.naming``) with each other and with names other
parties own: one Kubernetes cluster per region; per region, principals and the Secrets of their namespace; per
region, every topic that will exist (declared, copied in, MirrorMaker's and the heartbeats' own, from
``Topology.topic_census``) under Kafka's rules; DNS names in the zone (the schema registry's among them). They run
after the other rules (so the topology they read is otherwise sound) and report like them: path, message with the
value and the fix.

Deliberately not here: the names themselves (``stacks.naming``), the checks of single values (``stacks.model``)
and the other rules (``stacks.rules``).
"""

from __future__ import annotations

from stacks import naming
from stacks.model import SUPER_USERS, KubeconfigAccess, Region, ReplicationPolicy, Topology, registry
from stacks.rules.base import Errors


def check(topology: Topology, errors: Errors) -> None:
    """Names that other systems receive: unique in their space, within their limits, not someone else's.

    Every generated name comes from ``stacks.naming``, so these censuses see all of them: Kubernetes
    targets, principals and Secrets per region, topics per region (declared, copies, MirrorMaker's and
    the heartbeats' own), DNS names in the zone.
    """
    _check_kubernetes_targets(topology, errors)
    _check_principals(topology, errors)
    _check_topic_census(topology, errors)
    _check_dns_names(topology, errors)


def _check_kubernetes_targets(topology: Topology, errors: Errors) -> None:
    first: dict[tuple[str, str], Region] = {}
    for i, region in enumerate(topology.regions):
        access = region.kubernetes
        key = (access.kind, access.secret_key if isinstance(access, KubeconfigAccess) else access.context)
        other = first.setdefault(key, region)
        if other is not region:
            errors.append(
                (
                    ("regions", i, "kubernetes"),
                    f"{region.name} reaches the same Kubernetes cluster as {other.name} ({key[0]} {key[1]!r}); "
                    "each region is its own cluster (the Strimzi operator, its cluster-wide resources and the "
                    "Kafka namespace exist once per cluster), so point it at the region's own cluster",
                )
            )


def _check_principals(topology: Topology, errors: Errors) -> None:
    reported: set[str] = set()
    sources = {f.source for f in topology.flows}
    for region in topology.regions:
        r = region.name
        generated = dict.fromkeys(SUPER_USERS, "a super user")
        for f in topology.flows:
            if r in (f.source, f.target):
                name, what = topology.replication.principal(f)
                generated[name] = f"{what} of {f.source} → {f.target}"
        if topology.heartbeats and r in sources:
            generated[naming.heartbeat_principal(r)] = f"the heartbeat principal of {r}"
        principals = [*generated, *topology.users_in(r)]
        # One namespace holds every principal's password Secret, the Secret the User Operator writes for each
        # KafkaUser (named after it), our CA and listener Secrets and the Secrets Strimzi makes for the cluster.
        secrets: dict[str, str] = {naming.ENV_CA_SECRET: "the environment CA bundle"}
        secrets[naming.listener_cert_secret(region.cluster_name)] = "the listener certificate"
        secrets.update(dict.fromkeys(naming.strimzi_secrets(region.cluster_name), f"a Secret Strimzi creates for {r}"))
        for p in principals:
            secrets.setdefault(naming.password_secret(p), f"the password of {p!r}")
        for user in topology.users_in(r):
            if user in reported:
                continue
            clash = None
            if user in generated:
                clash = f"{generated[user]} in {r}"
            elif user in secrets:
                clash = f"the name of {secrets[user]} in {r}'s namespace (the User Operator names the user's Secret after it)"
            if clash:
                reported.add(user)
                errors.append((("users", user), f"user name {user!r} is already {clash}; rename the application user"))


def _check_topic_census(topology: Topology, errors: Errors) -> None:
    """Per region, every topic name that will exist there and who makes it; Kafka's rules over all of them."""
    prefixed = topology.policy is ReplicationPolicy.PREFIXED
    reported: set[str] = set()

    def report(topic: str, path_end: tuple[str | int, ...], message: str) -> None:
        if topic not in reported:
            reported.add(topic)
            errors.append((("topics", topic, *path_end), message))

    for region in topology.regions:
        r = region.name
        owners = topology.topic_census(r)
        for name, who in owners.items():
            declared = [t for kind, t in who if kind == "declared"]
            copies = [t for kind, t in who if kind == "copy"]
            makers = [w for kind, w in who if kind == "internal"]
            # The one intended sharing: an identity copy written into the declared topic of the same name.
            if len(who) == 1 or (len(declared) == 1 and copies == declared and not makers):
                continue
            culprit = declared[0] if declared else copies[0] if copies else None
            if culprit is None:
                continue  # two of our own internals: the naming functions keep them apart
            what = ", ".join(
                [*(f"copy of {c!r}" for c in copies), *makers, *(f"declared {d!r}" for d in declared if d != culprit)]
            )
            report(
                culprit,
                (),
                f"in {r} the topic {name!r} would also be written as {what}: two writers of one topic; rename {culprit!r}"
                + (" or use policy: prefixed" if copies and not prefixed else ""),
            )
        by_key: dict[str, set[str]] = {}
        for name in owners:
            by_key.setdefault(naming.kafka_collision_key(name), set()).add(name)
        for key_names in by_key.values():
            if len(key_names) > 1:
                clash = sorted(key_names)
                culprit = next((t for kind, t in owners[clash[1]] + owners[clash[0]] if kind != "internal"), None)
                if culprit is not None:
                    report(
                        culprit,
                        (),
                        f"in {r} the topics {clash[0]!r} and {clash[1]!r} collide: Kafka reads '.' and '_' as the same character in topic names and refuses the second; rename one",
                    )

    # After the census: two writers of one name is the first thing to fix, whatever the engine does with it.
    for flow in topology.flows:
        for t in topology.copies(flow):
            remote = topology.remote_topic(flow, t)
            if len(remote) > naming.MAX_TOPIC:
                report(
                    t,
                    (),
                    f"its copy in {flow.target} is named {remote[:40]!r}... ({len(remote)} characters), past Kafka's {naming.MAX_TOPIC}; shorten the topic name to at most {naming.MAX_TOPIC - len(flow.source) - 1}",
                )
            skipped = topology.replication.skip_reason(t, flow, prefixed)  # the engine's own silent skips and renames
            if skipped is not None:
                report(t, (), skipped)


def _check_dns_names(topology: Topology, errors: Errors) -> None:
    if topology.dns is None:
        return  # DNS managed elsewhere: its names are the endpoint overrides, each checked as a hostname
    zone = topology.dns.zone
    # Generated names first, so a clash is reported at the name the file chose.
    names: list[tuple[tuple[str | int, ...], str, str]] = []  # (path, name, whose)
    for i, region in enumerate(topology.regions):
        names.append((("regions", i, "name"), topology.region_dns_name(region.name), f"the name of region {region.name}"))
        names += [
            (("regions", i, "name"), topology.broker_dns_name(region.name, b), f"broker {b} of {region.name}")
            for b in topology.broker_ids(region.name)
        ]
    for r in registry.regions(topology):
        i = topology.region_names.index(r)
        names.append((("regions", i, "name"), registry.regional_dns_name(topology, r), f"the registry name of region {r}"))
    if (shared_registry := registry.shared_dns_name(topology)) is not None:
        names.append((("dns", "bootstrap"), shared_registry, "the shared registry name"))
    if topology.bootstrap_name is not None:
        names.append((("dns", "bootstrap"), topology.bootstrap_name, "the shared bootstrap name"))
    for d in sorted(topology.domains):
        if (name := topology.domain_dns_name(d)) is not None:
            names.append((("domains", d, "dns_name"), name, f"the name of domain {d!r}"))
    owner: dict[str, str] = {}
    too_long = False
    for path, name, whose in names:
        problem = naming.dns_name_problem(name)
        if problem and not too_long:
            too_long = True  # the longest of a kind says it; the rest share its fix
            errors.append(
                (
                    ("dns", "zone"),
                    f"{whose}, {name[:60]!r}..., {problem}; shorten the zone, the environment or the region's domain names",
                )
            )
        if name == zone and path[0] != "regions":
            errors.append(
                (
                    path,
                    f"{name!r} is the zone apex, where Route53 allows no CNAME; use a name inside the zone such as '{topology.environment}.{zone}'",
                )
            )
        if name in owner and owner[name] != whose:
            errors.append((path, f"{name!r} is also {owner[name]}; give {whose} its own name"))
        owner.setdefault(name, whose)
    geo: dict[str, str] = {}
    for d, domain in sorted(topology.domains.items()):
        if domain.geolocation is None:
            continue
        if domain.geolocation in geo:
            errors.append(
                (
                    ("domains", d, "geolocation"),
                    f"geolocation {domain.geolocation!r} is also domain {geo[domain.geolocation]!r}'s; Route53 answers one record per location, so give each domain its own",
                )
            )
        geo.setdefault(domain.geolocation, d)
