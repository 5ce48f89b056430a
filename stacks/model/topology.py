"""The topology: one environment's whole estate, and the facts derived from it that several parts need.

Owns: ``Topology``, its fields in the order a stack file is read (and the JSON schema shows them), and its derived
queries as pure methods, so the program, the tools, the rules and the tests agree on them: regions by name and
role, the estate's flavor, policy, RPO and RTO, DNS names and which regions each answers (``dns_answers``), the
port clients dial, which regions host a topic, tenants' regions and users' quotas, the flows and what each
carries (``carries``, ``copies``, ``remote_topic``), who claims which name (``name_claims``, from
``stacks.ownership``) and every topic that will exist in a region (``topic_census``).

Deliberately not here: the sections' classes (the other ``stacks.model`` modules), the cross-field rules
(``stacks.rules``, run by ``stacks.loader`` once a file fits the model), reading files (``stacks.loader``), and
anything that knows about Pulumi or deploy-time values. A topology is plain, frozen data.
"""

from __future__ import annotations

import functools
import re
from functools import cached_property

from pydantic import Field, field_validator

from stacks import naming, ownership
from stacks.flavors import FLAVORS
from stacks.model.access import Quotas, User
from stacks.model.base import ReplicationPolicy, Strict, dns_label
from stacks.model.clusters import Architecture, Flavor, Region, Role, Tier
from stacks.model.dns import Dns, Domain
from stacks.model.monitoring import Monitoring
from stacks.model.registry import SchemaRegistry
from stacks.model.registry import census as registry_census
from stacks.model.replication import (
    DEFAULT_RPO_SECONDS,
    DEFAULT_RTO_SECONDS,
    Flow,
    MirrorMaker2Replication,
    Objectives,
    Replication,
    derive_flows,
)
from stacks.model.security import Security
from stacks.model.tenants import Tenant
from stacks.model.topics import Topic


class Topology(Strict):
    """One environment's whole multi-region Kafka estate."""

    environment: str = Field(max_length=20, description="Environment name; part of DNS names and labels.")
    tier: Tier = Field(
        default=Tier.DEV, description="dev, staging or prod: prod turns heartbeats and monitoring on unless they are set."
    )
    architecture: Architecture
    protect: bool = Field(default=True, description="Protect Kafka clusters, node pools and topics from deletion.")
    regions: tuple[Region, ...] = Field(max_length=32, description="At least two regions (checked with the other rules).")
    domains: dict[str, Domain] = Field(default_factory=dict, description="Partitioned domains keyed by name.")
    topics: dict[str, Topic] = Field(default_factory=dict, description="Topics keyed by name.")
    users: dict[str, User] = Field(default_factory=dict, description="Application users keyed by name.")
    tenants: dict[str, Tenant] = Field(default_factory=dict, description="Tenants sharing the clusters, keyed by name.")
    flavor: Flavor | None = Field(
        default=None,
        description="How each regional cluster is run: strimzi (Strimzi) or confluent (Confluent for Kubernetes); the engine's when unset.",
    )
    replication: Replication = Field(default_factory=MirrorMaker2Replication)
    objectives: Objectives | None = Field(
        default=None, description="Recovery objectives of the estate; replication.rpo_seconds/rto_seconds are the old place."
    )
    dns: Dns | None = Field(
        default=None,
        description=(
            "Route53 records and health checks. Leave out when DNS is managed elsewhere (external-dns, an internal "
            "zone): nothing is created in AWS, each region's endpoint_override is the name it is reached by (and "
            "broker-N.<that name> each broker's), and there is no environment-wide failover name."
        ),
    )
    security: Security = Field(default_factory=Security)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    schema_registry: SchemaRegistry | None = Field(
        default=None,
        description="A schema registry in the registry regions, one writer (docs/schema-registry.md); off when unset.",
    )

    @field_validator("environment")
    @classmethod
    def _env_name(cls, v: str) -> str:
        return dns_label(v, "environment")

    # -------------------------------------------------------------- derived facts

    @cached_property
    def region_names(self) -> tuple[str, ...]:
        return tuple(sorted(r.name for r in self.regions))

    def region(self, name: str) -> Region:
        return next(r for r in self.regions if r.name == name)

    def regions_with(self, *roles: Role) -> tuple[Region, ...]:
        return tuple(sorted((r for r in self.regions if r.role in roles), key=lambda r: r.name))

    def live(self, region: str) -> bool:
        """Not being decommissioned: takes part in replication and shared DNS names."""
        return not self.region(region).decommission

    @property
    def mm2(self) -> MirrorMaker2Replication:
        """The MirrorMaker 2 section, for MirrorMaker 2's own code; everything else asks ``replication``."""
        assert isinstance(self.replication, MirrorMaker2Replication)
        return self.replication

    @property
    def cluster_flavor(self) -> str:
        """How regional clusters are run: declared, or the one the replication engine runs on."""
        return self.flavor.value if self.flavor is not None else self.replication.default_flavor

    @property
    def rpo_seconds(self) -> int:
        """The estate's RPO: ``objectives``, else the old ``replication.rpo_seconds``, else the default."""
        if self.objectives is not None:
            return self.objectives.rpo_seconds
        return getattr(self.replication, "rpo_seconds", None) or DEFAULT_RPO_SECONDS

    @property
    def rto_seconds(self) -> int:
        if self.objectives is not None:
            return self.objectives.rto_seconds
        return getattr(self.replication, "rto_seconds", None) or DEFAULT_RTO_SECONDS

    @property
    def policy(self) -> ReplicationPolicy:
        if self.replication.policy is not None:
            return self.replication.policy
        return ReplicationPolicy.IDENTITY if self.architecture is Architecture.ACTIVE_PASSIVE else ReplicationPolicy.PREFIXED

    @property
    def heartbeats(self) -> bool:
        return self.replication.runs_heartbeats(self.tier is Tier.PROD)

    @property
    def monitoring_enabled(self) -> bool:
        return self.monitoring.enabled if self.monitoring.enabled is not None else self.tier is Tier.PROD

    @property
    def route53(self) -> Dns:
        """The dns section, for code that only runs with one (Route53 records, the failover tool)."""
        if self.dns is None:
            raise ValueError(f"{self.environment} has no dns section: its DNS is managed elsewhere, not in Route53")
        return self.dns

    @property
    def failover_secondary(self) -> str:
        """Active-passive: the region the SECONDARY failover record points at."""
        chosen = self.dns.failover_secondary if self.dns is not None else None
        return chosen or next(r.name for r in self.regions_with(Role.SECONDARY) if not r.decommission)

    @property
    def bootstrap_name(self) -> str | None:
        """The environment-wide failover name; None when DNS is managed elsewhere (nothing publishes one)."""
        if self.dns is None:
            return None
        return self.dns.bootstrap or naming.bootstrap_name(self.environment, self.dns.zone)

    def region_dns_name(self, region: str) -> str:
        if self.dns is None:
            # DNS managed elsewhere: the name it publishes for the region (the rules require one).
            override = self.region(region).endpoint_override
            if override is None:
                raise ValueError(f"{region} has no endpoint_override and the topology has no dns section")
            return override
        return naming.region_dns_name(region, self.environment, self.dns.zone)

    def broker_ids(self, region: str) -> tuple[int, ...]:
        """The ids the region's brokers advertise themselves by (their DNS names and certificate SANs)."""
        return FLAVORS[self.cluster_flavor].broker_ids(self.region(region).kafka)

    def client_port(self, region: str) -> int:
        """The port clients dial for ``region`` (its flavor and listener type say which); its health check probes it."""
        ports = FLAVORS[self.cluster_flavor].client_ports
        return ports.get(self.region(region).kafka.listener_type.value, min(ports.values()))  # others: refused

    @property
    def shared_client_port(self) -> int:
        """The one port of every region (a rule): a client failing over by DNS keeps its port."""
        return self.client_port(self.regions[0].name)

    def broker_dns_name(self, region: str, broker_id: int) -> str:
        return naming.broker_dns_name(self.region_dns_name(region), broker_id)

    def domain_dns_name(self, domain: str) -> str | None:
        if self.domains[domain].dns_name or self.dns is None:
            return self.domains[domain].dns_name
        return naming.domain_dns_name(domain, self.environment, self.dns.zone)

    def serving_regions(self, domain: str) -> tuple[str, ...]:
        return tuple(r.name for r in self.regions_with(Role.DOMAIN) if domain in r.domains and not r.decommission)

    @cached_property
    def dns_answers(self) -> dict[str, frozenset[str]]:
        """Every DNS name the estate declares → the regions Route53 may answer it with (through any record).

        The records (``components.dns_records``) must agree, which the plan invariant checker verifies; the
        ``clients`` output picks from these names, so a user is never handed a name that reaches a region
        where that user does not exist.
        """
        answers: dict[str, frozenset[str]] = {}
        for region in self.regions:
            answers[self.region_dns_name(region.name)] = frozenset({region.name})
        if self.dns is None:
            return answers  # DNS managed elsewhere: no Route53 name of ours answers anything else
        live = frozenset(r for r in self.region_names if self.live(r))
        shared: frozenset[str] = frozenset()
        if self.architecture is Architecture.ACTIVE_PASSIVE:
            shared = frozenset({self.regions_with(Role.PRIMARY)[0].name, self.failover_secondary})
        elif self.architecture is Architecture.ACTIVE_ACTIVE:
            shared = live
        elif self.architecture is Architecture.AGGREGATION_HUB:
            shared = frozenset(r.name for r in self.regions_with(Role.HUB))
        else:
            for d in self.domains:
                if (name := self.domain_dns_name(d)) is not None:
                    answers[name] = frozenset(self.serving_regions(d))
            located = [d for d, domain in sorted(self.domains.items()) if domain.geolocation]
            if located:
                # Geolocation answers each declared location, and everyone else from the default record.
                default = next((d for d in located if self.domains[d].geolocation == "*"), sorted(self.domains)[0])
                shared = frozenset(r for d in {*located, default} for r in self.serving_regions(d))
        if shared and self.bootstrap_name is not None:
            answers[self.bootstrap_name] = shared
        return answers

    def client_bootstrap(self, user: str) -> str:
        """The one name a user's clients bootstrap from, naming one cluster at a time (a client takes every address
        of ``bootstrap.servers`` for one cluster, and with ``metadata.recovery.strategy=rebootstrap`` would jump to
        any of them, standbys and other regions' clusters included, with no health gate): the shared name when
        everything it answers hosts the user (DNS gates it), else a domain's name on the same terms, else the user's
        first region that takes writes (secondaries are standbys)."""
        regions = frozenset(self.user_regions(user))
        shared = [self.bootstrap_name, *(self.domain_dns_name(d) for d in sorted(self.domains))]
        for name in filter(None, shared):
            answer = self.dns_answers.get(name)
            if answer and answer <= regions:
                return name
        own = self._own_regions(user)
        writable = [r for r in own if self.region(r).role is not Role.SECONDARY] or own
        return self.region_dns_name(writable[0])

    def client_bootstrap_by_region(self, user: str) -> dict[str, str]:
        """Region → the name of that region's own cluster, for each region of the user: an application instance
        running in several regions connects each to its own (one cluster per bootstrap)."""
        return {r: self.region_dns_name(r) for r in self._own_regions(user)}

    def _own_regions(self, user: str) -> list[str]:
        # Live regions first; a user left only in regions being decommissioned still reaches them until removed.
        regions = sorted(self.user_regions(user))
        return [r for r in regions if self.live(r)] or regions

    def hosting_regions(self, topic_name: str) -> tuple[str, ...]:
        """Regions that hold a topic as a local (non-mirrored) topic with its own KafkaTopic resource.

        Active-passive hosts it everywhere under one name, so the topic with its partitions and config is
        already there when clients fail over; MirrorMaker 2 writes into it. Active-active hosts it in every
        active region (each writes locally; copies arrive prefixed). An aggregation hub hosts it on the
        edges. A partitioned domain hosts it in the regions serving its domain.
        """
        topic = self.topics[topic_name]
        if topic.regions is not None:
            return tuple(sorted(topic.regions))
        if self.architecture is Architecture.AGGREGATION_HUB:
            hosts = tuple(r.name for r in self.regions_with(Role.EDGE))
        elif self.architecture is Architecture.PARTITIONED_DOMAIN and topic.domain is not None:
            hosts = tuple(r.name for r in self.regions_with(Role.DOMAIN) if topic.domain in r.domains)
        else:
            hosts = self.region_names
        allowed = self.tenant_regions(self.tenant_of(topic_name))
        return tuple(r for r in hosts if r in allowed)

    # -------------------------------------------------------------- tenants

    def tenant_of(self, topic_or_group: str) -> str | None:
        """The tenant owning a topic or group name: the longest matching prefix, else the default tenant."""
        owners = [(len(t.prefix), name) for name, t in self.tenants.items() if topic_or_group.startswith(t.prefix)]
        if owners:
            return max(owners)[1]
        return next((name for name, t in sorted(self.tenants.items()) if t.default), None)

    @cached_property
    def name_claims(self) -> dict[str, tuple[ownership.Claim, ...]]:
        """Per region, every owner's claims on topic, group and transactional-id names (``stacks.ownership``);
        asked for every grant, so derived once (the model is frozen)."""
        return {r: ownership.derive_claims(self, r) for r in self.region_names}

    def tenant_regions(self, tenant: str | None) -> frozenset[str]:
        regions = self.tenants[tenant].regions if tenant in self.tenants else None
        return frozenset(regions if regions is not None else self.region_names)

    def user_quotas(self, user: str) -> Quotas | None:
        u = self.users[user]
        tenant = self.tenants[u.tenant].quotas if u.tenant in self.tenants else None
        quotas = (u.quotas or Quotas()).over(tenant)
        return None if quotas.empty else quotas

    @property
    def has_quotas(self) -> bool:
        """Whether any principal gets a quota (then the brokers export per-user quota metrics)."""
        return bool(self.tenants) or self.replication.quota is not None or any(u.quotas for u in self.users.values())

    def replication_byte_rate(self, flow: Flow) -> int | None:
        """Per-broker byte rate each flow's principal may use at both ends, or None without a replication quota."""
        quota = self.replication.quota
        if quota is None:
            return None
        if quota.byte_rate is not None:
            return quota.byte_rate
        capacities = [self.region(r).kafka.capacity_bytes_per_second for r in (flow.source, flow.target)]
        known = [c for c in capacities if c is not None]
        return int(min(known) * quota.capacity_share) if known else None

    def topics_in(self, region: str) -> tuple[str, ...]:
        return self._topics_by_region.get(region, ())

    @cached_property
    def _topics_by_region(self) -> dict[str, tuple[str, ...]]:
        # Asked for per region, per flow and per principal: index once (the model is frozen).
        index: dict[str, list[str]] = {}
        for topic in sorted(self.topics):
            for region in self.hosting_regions(topic):
                index.setdefault(region, []).append(topic)
        return {r: tuple(ts) for r, ts in index.items()}

    def user_regions(self, user_name: str) -> tuple[str, ...]:
        user = self.users[user_name]
        return tuple(sorted(user.regions)) if user.regions is not None else self.region_names

    def users_in(self, region: str) -> tuple[str, ...]:
        return tuple(sorted(u for u in self.users if region in self.user_regions(u)))

    @cached_property
    def flows(self) -> tuple[Flow, ...]:
        """Replication flows (source → target) the architecture implies, sorted; see ``derive_flows``."""
        return derive_flows(self)

    def carries(self, flow: Flow, topic_name: str) -> bool:
        """Whether ``flow`` copies a declared topic: the one answer the flow plans, their ACLs and the rules share.

        A topic travels only from a region that hosts it, only if it is replicated and the include/exclude
        patterns select it, and in a partitioned domain only to the regions its ``replicate_to`` names: a flow
        that exists for one topic carries no other (residency).
        """
        topic = self.topics[topic_name]
        if not topic.replicated or flow.source not in self.hosting_regions(topic_name):
            return False
        if flow.target not in self.tenant_regions(self.tenant_of(topic_name)):
            return False
        if self.architecture is Architecture.PARTITIONED_DOMAIN and flow.target not in topic.replicate_to:
            return False
        selection = self.replication
        return _selected(selection.topics_include, selection.topics_exclude, topic_name)

    def copies(self, flow: Flow) -> tuple[str, ...]:
        """Declared topics ``flow`` copies, sorted."""
        return tuple(t for t in self.topics_in(flow.source) if self.carries(flow, t))

    def remote_topic(self, flow: Flow, topic_name: str) -> str:
        """A copied topic's name on the flow's target."""
        return naming.remote_topic(self.policy is ReplicationPolicy.PREFIXED, flow.source, topic_name)

    def topic_census(self, region: str) -> dict[str, list[tuple[str, str]]]:
        """Every topic that will exist in ``region`` → who makes it: ("declared", topic), ("copy", topic copied
        here) or ("internal", what keeps it: a MirrorMaker flow, the heartbeat Connect)."""
        r = region
        sources = {f.source for f in self.flows}
        owners: dict[str, list[tuple[str, str]]] = {}
        for t in self.topics_in(r):
            owners.setdefault(t, []).append(("declared", t))
        for flow in self.flows:
            if flow.target != r:
                continue
            for t in self.copies(flow):
                owners.setdefault(self.remote_topic(flow, t), []).append(("copy", t))
            for internal in self.replication.internal_topics(flow):
                owners.setdefault(internal, []).append(("internal", f"MirrorMaker {flow.source} → {flow.target}"))
            if self.heartbeats:
                owners.setdefault(naming.remote_topic(True, flow.source, naming.HEARTBEATS_TOPIC), []).append(
                    ("internal", f"heartbeats from {flow.source}")
                )
        if self.heartbeats and r in sources:
            for internal in naming.heartbeat_topics(r):
                owners.setdefault(internal, []).append(("internal", f"the heartbeat Connect of {r}"))
        registry_census(self, r, owners)  # the schema registry's topics
        return owners


@functools.lru_cache(maxsize=65536)
def _selected(include: tuple[str, ...], exclude: tuple[str, ...], topic: str) -> bool:
    """Whether the include/exclude patterns select a topic (the same for every flow, so asked once)."""
    return any(re.fullmatch(p, topic) for p in include) and not any(re.fullmatch(p, topic) for p in exclude)
