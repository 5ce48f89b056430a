"""Hypothesis strategies for valid topologies of all four architectures, as platform teams could write them.

Test support for ``tests/test_generated.py``. The generator stays inside the documented rules (that is what
"valid" means) but goes to their edges: names of every legal character and at their length limits, many
regions, domains and users, combined pools, explicit active-active flows, several secondaries, decommissioned
regions, geolocated and ungeolocated domains, topics hosted in some regions only, users in some regions only.
It knows the rules only as a user reads them in the docs and the messages; it does not call the model.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
    "eu-north-1", "eu-south-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2", "ap-south-1",
    "sa-east-1", "ca-central-1", "me-south-1", "af-south-1", "il-central-1", "us-gov-west-1",
)  # fmt: skip
LONGEST_REGION = max(len(r) for r in REGIONS)
ARCHITECTURES = ("active-passive", "active-active", "aggregation-hub", "partitioned-domain")
GEOLOCATIONS = ("EU", "NA", "SA", "AS", "AF", "OC", "AN", "DE", "FR", "JP", "US", "BR", "*")
TOPIC_CONFIGS = st.fixed_dictionaries(
    {},
    optional={
        "retention.ms": st.integers(1, 10**10),
        "cleanup.policy": st.sampled_from(["delete", "compact", "compact,delete"]),
        "max.message.bytes": st.integers(1024, 10**7),
        "compression.type": st.sampled_from(["producer", "zstd", "lz4", "gzip", "snappy", "uncompressed"]),
    },
)
BROKER_CONFIGS = st.fixed_dictionaries(
    {}, optional={"num.io.threads": st.integers(1, 64), "log.retention.hours": st.integers(1, 10000)}
)
# Patterns as teams write them; each means the same to Python's re and Java's regex (MirrorMaker applies them).
EXCLUDES = ("tmp-.*", ".*-debug", r"audit\..*", "(scratch|sandbox)-[a-z]+", "[A-Z].*")
INCLUDES = (".*", "[a-zA-Z0-9].*", r"(orders|payments)\..*|.*")
LABEL_CHARS = string.ascii_lowercase + string.digits + "-"
TOPIC_CHARS = string.ascii_letters + string.digits + "._-"
# What the docs say is reserved for the project, Strimzi, Kafka and MirrorMaker 2.
RESERVED_USER_PREFIXES = ("mirrormaker-", "mm2-", "strimzi-", "kafka-", "heartbeats-")
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def dns_label(max_size: int) -> st.SearchStrategy[str]:
    """A DNS label: short ones, and ones at (or just under) ``max_size``."""
    edge = st.sampled_from(string.ascii_lowercase + string.digits)
    if max_size < 3:
        return edge
    short = st.tuples(edge, st.text(LABEL_CHARS, max_size=min(8, max_size - 2)), edge).map("".join)
    long = st.tuples(edge, st.text(LABEL_CHARS, min_size=max(0, max_size - 5), max_size=max_size - 2), edge).map("".join)
    return st.one_of(edge, short, long)


def _topic_ok(name: str) -> bool:
    return not (
        name in {".", "..", "heartbeats"}
        or name.startswith(("__", ".", "mm2", "heartbeats-"))
        or name.endswith(("-internal", ".internal", ".replica", ".heartbeats"))
        or any(name.startswith(r + ".") for r in REGIONS)
    )


def topic_names(limit: int) -> st.SearchStrategy[str]:
    at_limit = st.text(TOPIC_CHARS, min_size=limit - 3, max_size=limit)
    short = st.text(TOPIC_CHARS, min_size=1, max_size=24)
    return st.one_of(short, short, at_limit).filter(_topic_ok)


@st.composite
def topologies(draw: st.DrawFn, architecture: str | None = None) -> dict[str, Any]:
    arch = architecture or draw(st.sampled_from(ARCHITECTURES))
    n = draw(st.integers(2, 6))
    names = draw(st.lists(st.sampled_from(REGIONS), min_size=n, max_size=n, unique=True))
    env = draw(dns_label(20))
    # Leave room for 'broker-NN.<region>.<env>.' inside DNS's 253.
    zone_budget = 253 - len("broker-99.") - LONGEST_REGION - 1 - len(env) - 1
    zone_labels = draw(st.lists(dns_label(63), min_size=1, max_size=3))
    tld = draw(st.sampled_from(["com", "net", "io", "example"]))
    zone = ".".join([*zone_labels, tld])
    while len(zone) > zone_budget:
        zone_labels = zone_labels[1:] if len(zone_labels) > 1 else [zone_labels[0][: zone_budget - len(tld) - 1]]
        zone = ".".join([*zone_labels, tld])
    regions: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        combined = draw(st.booleans())
        if combined:
            count = draw(st.sampled_from([1, 3]))
            kafka: dict[str, Any] = {"brokers": count, "controllers": count, "combined": True}
        else:
            kafka = {"brokers": draw(st.integers(1, 5)), "controllers": draw(st.sampled_from([1, 3])), "combined": False}
        if draw(st.booleans()):
            kafka["config"] = draw(BROKER_CONFIGS)
        if kafka["brokers"] >= 3 and draw(st.booleans()):
            kafka["zones"] = [f"{name}{z}" for z in "abc"]
        access = (
            {"kind": "context", "context": f"ctx-{i}-{draw(dns_label(30))}"}
            if draw(st.booleans())
            else {"kind": "kubeconfig", "secret_key": f"kubeconfig-{name}"}
        )
        region: dict[str, Any] = {"name": name, "kubernetes": access, "kafka": kafka}
        namespace = draw(dns_label(63).filter(lambda s: s not in SYSTEM_NAMESPACES))
        region["namespace"] = namespace
        regions.append(region)
    _listeners_and_storage(draw, regions)
    data: dict[str, Any] = {
        "environment": env,
        "tier": draw(st.sampled_from(["dev", "staging", "prod"])),
        "architecture": arch,
        "protect": draw(st.booleans()),
        "regions": regions,
        "dns": {"zone": zone, "ttl": draw(st.integers(1, 60))},
        "replication": {"engine": "mirrormaker2"},
    }
    if draw(st.booleans()) and len(f"{env}-kafka.{zone}") <= 253:
        data["dns"]["bootstrap"] = f"{env}-kafka.{zone}"
    domains: dict[str, dict[str, Any]] = {}
    if arch == "active-passive":
        regions[0]["role"] = "primary"
        for r in regions[1:]:
            r["role"] = "secondary"
        if len(regions) > 2:
            data["dns"]["failover_secondary"] = draw(st.sampled_from([r["name"] for r in regions[1:]]))
            spare = [r for r in regions[1:] if r["name"] != data["dns"]["failover_secondary"]]
            if spare and draw(st.booleans()):
                spare[0]["decommission"] = True
    elif arch == "active-active":
        for r in regions:
            r["role"] = "active"
        if draw(st.booleans()):
            pairs = [(a["name"], b["name"]) for a in regions for b in regions if a is not b]
            chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, unique=True))
            data["replication"]["flows"] = [{"source": s, "target": t} for s, t in chosen]
        if len(regions) > 2 and draw(st.booleans()):
            regions[-1]["decommission"] = True
    elif arch == "aggregation-hub":
        regions[0]["role"] = "hub"
        for r in regions[1:]:
            r["role"] = "edge"
    else:
        count = draw(st.integers(1, min(3, len(regions))))
        domain_names = draw(st.lists(dns_label(20).filter(lambda s: s not in names), min_size=count, max_size=count, unique=True))
        geos = draw(st.lists(st.sampled_from(GEOLOCATIONS), min_size=count, max_size=count, unique=True))
        for r in regions:
            r["role"] = "domain"
            r["domains"] = []
        for i, d in enumerate(domain_names):
            # Each domain is served by at least one region; its allowed regions include those and maybe more.
            serving = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
            extra = draw(st.lists(st.sampled_from(names), unique=True))
            domains[d] = {"allowed_regions": sorted({*serving, *extra})}
            if draw(st.booleans()):
                domains[d]["geolocation"] = geos[i]
            for r in regions:
                if r["name"] in serving:
                    r["domains"].append(d)
        for r in regions:
            if not r["domains"]:
                # A region serves some domain that allows it, or one allowing it is widened.
                d = draw(st.sampled_from(domain_names))
                domains[d]["allowed_regions"] = sorted({*domains[d]["allowed_regions"], r["name"]})
                r["domains"].append(d)
        data["domains"] = domains
    replication = data["replication"]
    if draw(st.booleans()):
        replication["topics_exclude"] = draw(st.lists(st.sampled_from(EXCLUDES), min_size=1, max_size=2, unique=True))
    if draw(st.integers(0, 3)) == 0:
        replication["topics_include"] = draw(st.lists(st.sampled_from(INCLUDES), min_size=1, max_size=2, unique=True))
    if arch == "active-passive" and draw(st.booleans()):
        replication["policy"] = "prefixed"
    replication["heartbeats"] = draw(st.sampled_from([None, True, False]))
    replication["exactly_once"] = draw(st.booleans())
    if draw(st.booleans()):
        replication["filters"] = [{"header": "x-residency-local"}]
    replication = {k: v for k, v in replication.items() if v is not None}
    data["replication"] = replication
    if draw(st.integers(0, 2)) == 0:
        data["tenants"] = draw(_tenants(names))
    data["topics"] = draw(_topics(data, names, domains))
    data["users"] = draw(_users(data, names))
    if data["topics"] and draw(st.booleans()):
        _rates_against_quotas(draw, data)
    _extras(draw, data)
    if regions[0]["kafka"].get("listener_type") == "cluster-ip" or draw(st.integers(0, 5)) == 0:
        # DNS managed elsewhere (a cluster-ip listener's brokers have no address Route53 could give): the
        # regions' endpoints are the names it publishes.
        del data["dns"]
        for i, region in enumerate(regions):
            region.setdefault("endpoint_override", f"kafka-{i}.{region['name']}.edge.example.net")
    if arch == "active-passive" and _maybe(draw, 5):
        # Failing back: the failover secondary's writes are copied back to the primary (the one named, else the
        # first live secondary by name).
        live = sorted(r["name"] for r in regions[1:] if not r.get("decommission"))
        data["replication"]["failback_from"] = data.get("dns", {}).get("failover_secondary") or live[0]
    return data


# StorageClass names as clusters name them: Kubernetes object names (dots allowed, CFK takes none).
STORAGE_CLASSES = ("gp3", "standard-rwo", "ebs.csi.aws.com", "fast.ssd-1", "premium-lrs")
LISTENER_TYPES = ("loadbalancer", "loadbalancer", "loadbalancer", "nodeport", "route", "ingress", "cluster-ip")


def _listeners_and_storage(draw: st.DrawFn, regions: list[dict[str, Any]]) -> None:
    """Every listener type (one for all regions: clients moved by DNS keep their port); those without a load
    balancer, or any at random, name the endpoint that reaches the region (its own); a StorageClass at times."""
    listener = draw(st.sampled_from(LISTENER_TYPES))
    for i, region in enumerate(regions):
        if listener != "loadbalancer":
            region["kafka"]["listener_type"] = listener
        if listener != "loadbalancer" or draw(st.integers(0, 4)) == 0:
            region["endpoint_override"] = f"kafka-{i}.{region['name']}.edge.example.net"
        if draw(st.integers(0, 3)) == 0:
            region["kafka"]["storage"] = {"storage_class": draw(st.sampled_from(STORAGE_CLASSES))}


def _maybe(draw: st.DrawFn, odds: int = 3) -> bool:
    return draw(st.integers(0, odds - 1)) == 0


def _extras(draw: st.DrawFn, data: dict[str, Any]) -> None:
    """The optional sections and settings of the schema, each at times, with values the documented rules accept
    (``test_the_generator_reaches_every_field_of_the_schema`` holds the generator to every field)."""
    regions = data["regions"]
    dns = data["dns"]
    if _maybe(draw):
        # Detection (interval x failures) plus the TTL within the default 300 s RTO.
        dns["health_check"] = {"interval_seconds": draw(st.sampled_from([10, 30])), "failure_threshold": draw(st.integers(1, 6))}
    for domain in data.get("domains", {}):
        if _maybe(draw) and len(f"{domain}-kafka.{dns['zone']}") <= 253 - len("registry."):
            data["domains"][domain]["dns_name"] = f"{domain}-kafka.{dns['zone']}"
    if _maybe(draw):
        data["monitoring"] = {
            "enabled": draw(st.booleans()),
            "kafka_exporter": draw(st.booleans()),
            "cruise_control": draw(st.booleans()),
            "dashboards": draw(st.booleans()),
        }
    if _maybe(draw):
        data["security"] = {
            "ca_validity_days": draw(st.integers(3650, 7300)),
            "cert_validity_days": draw(st.integers(60, 730)),
            "early_renewal_days": draw(st.integers(1, 59)),
            "key_algorithm": draw(st.sampled_from(["ECDSA", "RSA"])),
        }
    # Sized so that any share of it carries the declared write rates (at most 6 topics of 10 MB/s each, twice over).
    capacity = draw(st.integers(10**9, 10**10)) if _maybe(draw, 4) else None
    for region in regions:
        kafka = region["kafka"]
        if _maybe(draw, 5):
            kafka["private"] = True
        if _maybe(draw, 4):
            kafka["resources"] = {
                "cpu": draw(st.sampled_from(["500m", "2", "4"])),
                "memory": draw(st.sampled_from(["4Gi", "8Gi"])),
            }
        if _maybe(draw, 4):
            kafka.setdefault("storage", {})["size"] = draw(st.sampled_from(["20Gi", "500Gi", "2Ti"]))
        if _maybe(draw, 5):
            kafka["version"] = draw(st.sampled_from(["4.2.1", "4.3.0", "4.3.1"]))
        if capacity is not None:
            kafka["capacity_bytes_per_second"] = capacity
    replication = data["replication"]
    if _maybe(draw, 4):
        replication["groups_include"] = draw(st.lists(st.sampled_from(INCLUDES), min_size=1, max_size=2, unique=True))
    if _maybe(draw, 4):
        replication["groups_exclude"] = draw(st.lists(st.sampled_from(EXCLUDES), min_size=1, max_size=2, unique=True))
    if _maybe(draw):
        replication["offset_sync"] = {"enabled": not _maybe(draw, 4)}
        if replication["offset_sync"]["enabled"] and draw(st.booleans()):
            # Within the default 60 s RPO (the rule checks both against it).
            replication["offset_sync"] |= {"checkpoint_interval_seconds": 15, "sync_interval_seconds": 15}
    if _maybe(draw, 4):
        replication["replicas"] = draw(st.integers(1, 3))
        replication["resources"] = {"cpu": "1", "memory": "4Gi"}
    if _maybe(draw, 5):
        replication["rpo_seconds"], replication["rto_seconds"] = 60, 300  # the deprecated place, still read
    if capacity is not None and "quota" not in replication and _maybe(draw, 2):
        replication["quota"] = {"capacity_share": draw(st.sampled_from([0.25, 0.5, 1.0]))}
    if _maybe(draw, 4):
        registry: dict[str, Any] = {"replicas": draw(st.integers(1, 3))}
        live = [r["name"] for r in regions if not r.get("decommission")]
        if data["architecture"] in ("active-active", "partitioned-domain"):
            registry["writer"] = draw(st.sampled_from(live))
        if _maybe(draw, 2):
            registry["auth"] = {
                "issuer": "https://sso.example.com/realms/kafka",
                "registry_client_id": "registry-api",
                "token_endpoint": "https://sso.example.com/realms/kafka/protocol/openid-connect/token",
            }
        data["schema_registry"] = registry


def _rates_against_quotas(draw: st.DrawFn, data: dict[str, Any]) -> None:
    """Declared write rates, and quotas at the edge of what carries them (docs/tenants.md, quotas): a quota is per broker and
    a topic of p partitions enters through ceil(p / brokers) leaders on the busiest broker, so the busiest broker of
    the smallest cluster takes rate x ceil(p / brokers) / p of each topic. Few partitions on many brokers included."""
    fewest = min(r["kafka"]["brokers"] for r in data["regions"])
    busiest = 0
    for topic in data["topics"].values():
        rate = draw(st.integers(1, 10**7))
        topic["bytes_per_second"] = rate
        if draw(st.booleans()):
            topic["partitions"] = draw(st.integers(1, 2))  # fewer partitions than brokers
        p = topic.get("partitions", 6)
        busiest += rate * -(-p // fewest) / p
    need = -(-int(busiest * 1000) // 1000) + 1
    if draw(st.booleans()):
        data["replication"]["quota"] = {"byte_rate": 2 * need}
    for tenant in data.get("tenants", {}).values():
        if "quotas" in tenant:
            tenant["quotas"]["producer_byte_rate"] = max(tenant["quotas"]["producer_byte_rate"], need)


# Words the platform's own names are made of: a tenant prefix may sit right next to them ("kafkasql." is not
# "kafkasql-journal"), never start one of them or be started by one (docs/tenants.md).
NEAR_PLATFORM = ("kafkasql", "registry", "heartbeats", "mm2", "checkpoints", "connect", "confluent", "link")
PLATFORM_PREFIXES = ("__", "_confluent", "mm2-", "heartbeats-")
PLATFORM_NAMES = ("heartbeats", "kafkasql-journal", "kafkasql-snapshots", "registry-events")


# Quotas other than the producer's, which the declared write rates are held to (``_rates_against_quotas``).
OTHER_QUOTAS = st.fixed_dictionaries(
    {},
    optional={
        "consumer_byte_rate": st.integers(1000, 10**9),
        "request_percentage": st.integers(1, 400),
        "controller_mutation_rate": st.integers(1, 100),
    },
)


def keeps_off(prefix: str, regions: list[str]) -> bool:
    """A prefix (granted, or a tenant's) that reaches no name of the platform's and no region's copies: nothing the
    platform owns starts with it, and it does not start inside a platform family or a region's copies."""
    owned = [*PLATFORM_NAMES, *PLATFORM_PREFIXES, *(f"{r}." for r in regions)]
    return not any(o.startswith(prefix) for o in owned) and not prefix.startswith(
        (*PLATFORM_PREFIXES, *(f"{r}." for r in regions))
    )


def copies_keep_off(prefix: str, regions: list[str]) -> bool:
    """A tenant's copies '<region>.<prefix>' reach none of MirrorMaker's topics named after a region."""
    mirror = [f"{r}.{n}" for r in regions for n in ("checkpoints.internal", "heartbeats")]
    return not any(m.startswith(f"{r}.{prefix}") for m in mirror for r in regions)


@st.composite
def _tenants(draw: st.DrawFn, names: list[str]) -> dict[str, Any]:
    """Tenants whose prefixes sit close to each other, to region names and to the platform's names, without any
    prefix starting another (Kafka's PREFIXED ACLs match by plain string prefix), maybe a default, maybe quotas."""
    count = draw(st.integers(1, 4))
    prefixes: list[str] = []
    for _ in range(count):
        label = draw(dns_label(12))
        options = [f"{label}.", f"{draw(st.sampled_from(names))}-{label}.", f"{draw(st.sampled_from(NEAR_PLATFORM))}."]
        if prefixes:
            near = prefixes[-1][:-1]
            options += [f"{near}x.", f"{near}-{label}.", f"{near}_{label}."]
        candidate = draw(st.sampled_from(options))
        clash = any(candidate.startswith(p) or p.startswith(candidate) for p in prefixes)
        if not clash and keeps_off(candidate, names) and copies_keep_off(candidate, names):
            prefixes.append(candidate)
    if not prefixes:
        prefixes = ["t."]
    tenants: dict[str, Any] = {
        f"t{i}-{draw(dns_label(12))}": {
            "prefix": prefix,
            **(
                {"quotas": {"producer_byte_rate": draw(st.integers(1000, 10**8)), **draw(OTHER_QUOTAS)}}
                if draw(st.booleans())
                else {}
            ),
            **({"regions": sorted(names), "throttle_alert_minutes": draw(st.integers(1, 120))} if _maybe(draw) else {}),
        }
        for i, prefix in enumerate(prefixes)
    }
    if draw(st.booleans()):
        tenants[next(iter(tenants))]["default"] = True
    return tenants


def _serving(data: dict[str, Any], domain: str) -> list[str]:
    return [r["name"] for r in data["regions"] if domain in r.get("domains", ()) and not r.get("decommission")]


@st.composite
def _topics(draw: st.DrawFn, data: dict[str, Any], names: list[str], domains: dict[str, Any]) -> dict[str, Any]:
    arch = data["architecture"]
    limit = 249 - LONGEST_REGION - 1
    tenants = data.get("tenants", {})
    prefixes = [t["prefix"] for t in tenants.values()]
    # A tenant's topic: its prefix, then a name that keeps the whole (and its copies' names) within Kafka's limit.
    prefixed = st.sampled_from(prefixes or ["-"]).flatmap(lambda p: topic_names(limit - len(p)).map(lambda n: p + n))
    if tenants and not any(t.get("default") for t in tenants.values()):
        # Every topic carries a tenant's prefix when there is no default tenant.
        base = prefixed.filter(_topic_ok)
    elif tenants:
        base = st.one_of(topic_names(limit), prefixed)
    else:
        base = topic_names(limit)
    wanted = draw(st.lists(base.filter(_topic_ok), max_size=6, unique_by=lambda s: s.replace(".", "_")))
    near = _near_mirrormaker_rules(data, names)
    if not tenants and near and draw(st.booleans()):
        extra = draw(st.sampled_from(near))
        if extra.replace(".", "_") not in {w.replace(".", "_") for w in wanted}:
            wanted.append(extra)
    topics: dict[str, Any] = {}
    brokers = {r["name"]: r["kafka"]["brokers"] for r in data["regions"]}
    for name in wanted:
        topic: dict[str, Any] = {"partitions": draw(st.integers(1, 24))}
        hosts = list(names)
        if arch == "partitioned-domain":
            domain = draw(st.sampled_from(sorted(domains)))
            topic["domain"] = domain
            serving = [r["name"] for r in data["regions"] if domain in r["domains"]]
            hosts = serving
            if len(serving) > 1 and draw(st.booleans()):
                hosts = draw(st.lists(st.sampled_from(serving), min_size=1, unique=True))
                topic["regions"] = hosts
            allowed = [r for r in domains[domain]["allowed_regions"] if r not in hosts]
            if allowed and draw(st.booleans()):
                topic["replicate_to"] = draw(st.lists(st.sampled_from(allowed), min_size=1, unique=True))
        elif arch != "aggregation-hub" and draw(st.integers(0, 3)) == 0:
            hosts = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
            topic["regions"] = hosts
        elif arch == "aggregation-hub":
            hosts = [r["name"] for r in data["regions"] if r["role"] == "edge"]
        rf = draw(st.integers(1, min(brokers[h] for h in hosts)))
        topic["replication_factor"] = rf
        config = draw(TOPIC_CONFIGS)
        if rf > 1 and draw(st.booleans()):
            config["min.insync.replicas"] = draw(st.integers(1, rf - 1))
        if config:
            topic["config"] = config
        if draw(st.integers(0, 5)) == 0:
            topic["replicated"] = False
        topics[name] = topic
    return topics


def _near_mirrormaker_rules(data: dict[str, Any], names: list[str]) -> list[str]:
    """Names at the edge of MirrorMaker 2's naming rules that it still copies as they are (Kafka 4.3.1): under the
    prefixed policy, names ending in 'heartbeats' (the identity policy would rename them); a segment naming a region
    no flow targets (cycle detection drops only a segment naming the target); near-misses of both."""
    arch = data["architecture"]
    prefixed = data["replication"].get("policy") == "prefixed" or arch != "active-passive"
    out = ["heartbeat", "heartbeats_audit", "xheartbeatsx", "audit.heartbeat"]
    if prefixed:
        out += ["device-heartbeats", "fleetheartbeats"]
    never_targets = {"active-passive": names[:1], "aggregation-hub": names[1:]}.get(arch, [])
    out += [f"audit.{r}.events" for r in never_targets] + [f"{r}-audit.events" for r in names]
    return out


@st.composite
def _users(draw: st.DrawFn, data: dict[str, Any], names: list[str]) -> dict[str, Any]:
    def ok(user: str) -> bool:
        return not (
            user.startswith(RESERVED_USER_PREFIXES)
            or user in names
            or user.endswith("-scram-password")
            or any(user.startswith(r + "-") for r in names)  # Strimzi's per-cluster Secret names
        )

    wanted = draw(st.lists(dns_label(63).filter(ok), max_size=5, unique=True))
    tenants = data.get("tenants", {})
    users: dict[str, Any] = {}
    for user in wanted:
        entry: dict[str, Any] = {}
        prefix = ""
        topics = list(data["topics"])
        if tenants:
            # A tenant's user acts inside its prefix: on the topics its tenant owns (longest prefix, else default).
            tenant = draw(st.sampled_from(sorted(tenants)))
            entry["tenant"] = tenant
            prefix = tenants[tenant]["prefix"]
            default = bool(tenants[tenant].get("default"))
            # A default tenant's users also name its un-prefixed topics (it owns them, docs/tenants.md).
            topics = [t for t in topics if _owner(tenants, t) == tenant and (default or t.startswith(prefix))]
            if draw(st.booleans()):
                users[user] = entry  # no ACLs: the tenant's prefixes
                continue
        if draw(st.booleans()):
            entry["regions"] = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        group = prefix + draw(dns_label(40).filter(lambda g: keeps_off(g, names) and not g.startswith("mm2")))
        entry["groups"] = [group]
        acls: list[dict[str, Any]] = [{"resource": {"type": "group", "name": group}, "operations": ["Read"]}]
        for topic in draw(st.lists(st.sampled_from(topics), unique=True)) if topics else []:
            ops = draw(st.lists(st.sampled_from(["Read", "Write", "Describe", "DescribeConfigs"]), min_size=1, unique=True))
            acls.append({"resource": {"type": "topic", "name": topic}, "operations": ops})
        granted = prefix + draw(dns_label(30))
        # Without tenants a prefix may still reach no platform name (nor a tenant's, with tenants: it starts with its
        # own prefix, and no other tenant's starts with it).
        if (
            draw(st.booleans())
            and keeps_off(granted, names)
            and not any(p.startswith(granted) for p in (t["prefix"] for t in tenants.values()))
        ):
            acls.append({"resource": {"type": "topic", "name": granted, "pattern": "prefix"}, "operations": ["Read"]})
        if _maybe(draw, 4):
            # A deny narrows a grant (it never reaches another owner's names); a host limits where a rule applies.
            acls.append({"resource": {"type": "topic", "name": "*"}, "operations": ["Delete"], "effect": "deny", "host": "*"})
            acls[0]["host"] = draw(st.sampled_from(["*", "10.0.0.12"]))
        if _maybe(draw, 4):
            entry["quotas"] = {"producer_byte_rate": 10**9, **draw(OTHER_QUOTAS)}
        entry["acls"] = acls
        users[user] = entry
    return users


def _owner(tenants: dict[str, Any], topic: str) -> str | None:
    matches = [(len(t["prefix"]), name) for name, t in tenants.items() if topic.startswith(t["prefix"])]
    if matches:
        return max(matches)[1]
    return next((name for name, t in sorted(tenants.items()) if t.get("default")), None)


# What the cluster-linking engine serves (stacks.rules.replication.CLUSTER_LINKING_REFUSED lists the others).
CLUSTER_LINKING_ARCHITECTURES = ("active-passive", "aggregation-hub")
_MM2_ONLY = (
    "policy", "heartbeats", "exactly_once", "filters", "flows", "quota", "replicas", "resources", "groups_include",
    "groups_exclude", "offset_sync", "rpo_seconds", "rto_seconds",
)  # fmt: skip


@st.composite
def cluster_linking_topologies(draw: st.DrawFn) -> dict[str, Any]:
    """A generated topology of an architecture Cluster Linking serves, on Confluent for Kubernetes: the same
    regions, topics, users and tenants as ``topologies``, without what that engine and flavor refuse."""
    data = draw(topologies(draw(st.sampled_from(CLUSTER_LINKING_ARCHITECTURES))))
    data["flavor"] = "confluent"
    for region in data["regions"]:
        region["kafka"]["combined"] = False
        region["kafka"].pop("listener_type", None)  # CFK: load balancers only (refused otherwise, with the fix)
        region["kafka"].pop("version", None)  # CFK runs its Confluent Platform's Kafka
        storage = region["kafka"].get("storage", {})
        if "storage_class" in storage:
            storage["storage_class"] = storage["storage_class"].replace(".", "-")  # CFK's CRDs take a DNS label
    replication = {k: v for k, v in data["replication"].items() if k not in _MM2_ONLY}
    replication["engine"] = "cluster-linking"
    replication["consumer_offset_sync"] = draw(st.booleans())
    replication["acl_sync"] = draw(st.booleans())
    if _maybe(draw):
        replication["offset_sync_interval_seconds"] = draw(st.integers(1, 15))
    data["replication"] = replication
    data.pop("schema_registry", None)  # the registry's journal is copied by MirrorMaker 2 only (refused, with the fix)
    if draw(st.booleans()):
        data["objectives"] = {"rpo_seconds": draw(st.integers(4, 600)), "rto_seconds": 300}
    return data
