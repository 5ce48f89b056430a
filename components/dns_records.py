"""Pure builder for the Route53 side, and the typed Route53 values the program and ``tools.failover`` share.

Owns: which health checks and records an architecture needs, and how they are named and tagged. Per region an
*endpoint* check (TCP on the public bootstrap, or CloudWatch-metric for private endpoints). Per region and per
name that several regions answer (a *failover group*: the shared name of active-passive and active-active, each
domain of a partitioned domain served by two regions) a *switch* and a *gate*: the switch is a CALCULATED check
with no children and threshold 0, which Route53 always calls healthy, so inverting it is an operator's "off"
that holds whatever the region's real health; the gate is CALCULATED over (endpoint, switch) with threshold 2,
healthy only when the region is up *and* switched on. Records of a failover group use the gate.

With a schema registry, each registry region has ``registry.<region name>`` (its registry's Ingress), and where the
shared name answers with the registry writer (active-passive, aggregation hub) ``registry.<shared name>`` is a copy
of the shared name's records pointing at the registry's Ingress instead, *using the shared name's gates*: it has no
checks or failover group of its own, so whatever moves the shared name moves it (it *follows* that name).
Active-active and partitioned domains get no shared registry name: several regions answer the shared name there,
but only the declared writer's registry accepts schemas, so clients use the writer's regional name.

Record targets (``Bootstrap``, ``Broker``, ``DnsName``, ``RegistryIngress``), check identities (``CheckRef``) and their tags are
frozen values here, read by the DNS component, the plan tool, the failover command and the tests: nothing
parses a "kind:region" string.

Deliberately not here: endpoint values (read from the cluster by ``components.dns``) and AWS calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from stacks.model import Architecture, Role, Topology, registry

TAG_ENV = "kafka-multiregion/environment"
TAG_REGION = "kafka-multiregion/region"
TAG_ROLE = "kafka-multiregion/role"
TAG_NAME = "kafka-multiregion/name"
TAG_SWITCHED_OFF = "kafka-multiregion/switched-off-by"
"""Written by ``tools.failover`` on a switch it turns off (and removed when it turns it back on), so rollback
undoes only what the tool did; the program ignores it (and the switch's inversion) so `pulumi up` keeps both."""
TAG_OPERATION = "kafka-multiregion/operation"
"""Written by ``tools.switchover`` on the switches of the regions a switchover, failover or failback moves between:
which operation, which step it has finished (``tools.switchover.steps.Progress``). Route53 is global, so the record
survives either region being down; the program ignores switch tags, so `pulumi up` keeps it."""

SWITCH_THRESHOLD = 0  # Route53: a CALCULATED check with threshold 0 is always healthy
GATE_THRESHOLD = 2  # both children: the endpoint and the switch


# ----------------------------------------------------------------------------------------- record targets


@dataclass(frozen=True)
class Bootstrap:
    """The load balancer (or ``endpoint_override``) in front of a region's bootstrap."""

    region: str


@dataclass(frozen=True)
class Broker:
    """One broker's own load balancer; with other listener types the region's endpoint_override, which serves them all."""

    region: str
    node: int


@dataclass(frozen=True)
class DnsName:
    """Another name (CNAME to a name of the stack, e.g. a domain's)."""

    name: str


@dataclass(frozen=True)
class RegistryIngress:
    """The load balancer in front of a region's schema registry (the Ingress the Apicurio operator creates)."""

    region: str


Target = Bootstrap | Broker | DnsName | RegistryIngress


class Routing(StrEnum):
    SIMPLE = "simple"
    FAILOVER = "failover"
    LATENCY = "latency"
    GEOLOCATION = "geolocation"


# ----------------------------------------------------------------------------------------- health checks


class CheckRole(StrEnum):
    ENDPOINT = "endpoint"  # what Route53's checkers (or the alarm) say about the region
    SWITCH = "switch"  # the operator's on/off for one region in one name
    GATE = "gate"  # endpoint AND switch: what the records use


class CheckType(StrEnum):
    """Route53's HealthCheckConfig.Type values the stack uses."""

    TCP = "TCP"
    CLOUDWATCH_METRIC = "CLOUDWATCH_METRIC"
    CALCULATED = "CALCULATED"


@dataclass(frozen=True, order=True)
class CheckRef:
    """A health check's identity within an environment; its tags carry it, so the tool finds it in Route53."""

    role: CheckRole
    region: str
    name: str = ""  # the DNS name a switch or gate serves; empty for a region's endpoint check

    def tags(self, environment: str) -> dict[str, str]:
        tags = {TAG_ENV: environment, TAG_REGION: self.region, TAG_ROLE: self.role.value}
        if self.name:
            tags[TAG_NAME] = self.name
        return tags

    @classmethod
    def from_tags(cls, tags: Mapping[str, str], environment: str) -> CheckRef | None:
        """The identity a check's tags claim in ``environment``, or None when they claim none.

        Endpoint checks created before switches existed carry no role tag: they are endpoint checks.
        """
        if tags.get(TAG_ENV) != environment or TAG_REGION not in tags:
            return None
        try:
            role = CheckRole(tags.get(TAG_ROLE, CheckRole.ENDPOINT.value))
        except ValueError:
            return None
        return cls(role, tags[TAG_REGION], tags.get(TAG_NAME, "") if role is not CheckRole.ENDPOINT else "")

    def __str__(self) -> str:
        return f"{self.role.value} check of {self.region}" + (f" for {self.name}" if self.name else "")


@dataclass(frozen=True)
class HealthCheckSpec:
    key: str  # stable logical name (the Pulumi resource name)
    ref: CheckRef
    environment: str
    type: CheckType
    port: int | None = None
    interval: int | None = None
    failure_threshold: int | None = None
    children: tuple[CheckRef, ...] = ()
    threshold: int | None = None  # CALCULATED: how many children must be healthy

    @property
    def region(self) -> str:
        return self.ref.region

    @property
    def alarm_name(self) -> str:
        """CloudWatch-metric endpoint checks: the alarm that judges the region."""
        return f"kafka-multiregion-{self.environment}-{self.region}-bootstrap"

    @property
    def tags(self) -> dict[str, str]:
        label = {
            CheckRole.ENDPOINT: "kafka",
            CheckRole.SWITCH: f"switch {self.ref.name}",
            CheckRole.GATE: f"gate {self.ref.name}",
        }
        return {**self.ref.tags(self.environment), "Name": f"{self.environment}-{self.region}-{label[self.ref.role]}"}


@dataclass(frozen=True)
class RecordSpec:
    """A CNAME the stack declares."""

    key: str  # stable logical name
    name: str
    target: Target
    ttl: int
    routing: Routing = Routing.SIMPLE
    set_identifier: str | None = None
    failover: str | None = None  # PRIMARY | SECONDARY
    latency_region: str | None = None
    geolocation: str | None = None
    health_check: CheckRef | None = None  # the gate that answers for this record
    region: str | None = None  # whose AWS provider manages it

    @property
    def owns_gate(self) -> bool:
        """Gated by a gate of its own name (not following another name's, as ``registry.<shared name>`` does)."""
        return self.health_check is not None and self.health_check.name == self.name


@dataclass(frozen=True)
class FailoverGroup:
    """A name several regions answer through gated records: what ``tools.failover`` switches regions in and out of."""

    name: str
    routing: Routing  # FAILOVER (members: primary, secondary) or LATENCY
    members: tuple[str, ...]
    domain: str | None = None
    followers: tuple[str, ...] = ()  # names whose records use this name's gates: they answer as it does

    @property
    def names(self) -> tuple[str, ...]:
        """Every name a switch of this group moves: its own and its followers'."""
        return (self.name, *self.followers)


# ----------------------------------------------------------------------------------------- records


def _name(name: str | None) -> str:
    """A name the dns section defines (records exist only with one)."""
    if name is None:
        raise ValueError("a Route53 record asked for without a dns section")
    return name


def _gated(key: str, name: str, region: str, ttl: int, routing: Routing, **policy: str) -> RecordSpec:
    return RecordSpec(
        key, name, Bootstrap(region), ttl, routing, health_check=CheckRef(CheckRole.GATE, region, name), region=region, **policy
    )


def _active_passive(t: Topology) -> list[RecordSpec]:
    (primary,) = t.regions_with(Role.PRIMARY)
    # Route53 allows one SECONDARY per name: the topology names it (or has only one).
    return [
        _gated(f"bootstrap-{kind.lower()}", _name(t.bootstrap_name), member, min(t.route53.ttl, 60), Routing.FAILOVER,
               set_identifier=f"{member}-{kind.lower()}", failover=kind)
        for member, kind in ((primary.name, "PRIMARY"), (t.failover_secondary, "SECONDARY"))
    ]  # fmt: skip


def _active_active(t: Topology) -> list[RecordSpec]:
    return [
        _gated(f"bootstrap-{r}", _name(t.bootstrap_name), r, t.route53.ttl, Routing.LATENCY, set_identifier=r, latency_region=r)
        for r in filter(t.live, t.region_names)
    ]


def _aggregation_hub(t: Topology) -> list[RecordSpec]:
    (hub,) = t.regions_with(Role.HUB)
    return [RecordSpec("bootstrap-hub", _name(t.bootstrap_name), Bootstrap(hub.name), t.route53.ttl, region=hub.name)]


def _partitioned_domain(t: Topology) -> list[RecordSpec]:
    out: list[RecordSpec] = []
    ttl, shared = t.route53.ttl, _name(t.bootstrap_name)
    for domain in sorted(t.domains):
        serving, dname = t.serving_regions(domain), _name(t.domain_dns_name(domain))
        if len(serving) == 1:
            out.append(RecordSpec(f"domain-{domain}", dname, Bootstrap(serving[0]), ttl, region=serving[0]))
        else:
            out += [
                _gated(f"domain-{domain}-{r}", dname, r, ttl, Routing.LATENCY, set_identifier=r, latency_region=r)
                for r in serving
            ]
        geo = t.domains[domain].geolocation
        if geo:
            out.append(
                RecordSpec(f"bootstrap-{domain}", shared, DnsName(dname), ttl, Routing.GEOLOCATION,
                           set_identifier=domain, geolocation=geo, region=serving[0])
            )  # fmt: skip
    geos = [t.domains[d].geolocation for d in t.domains]
    if any(geos) and "*" not in geos:
        # Without a default location, resolvers outside every declared geography get no answer at all.
        first = sorted(t.domains)[0]
        out.append(
            RecordSpec("bootstrap-geo-default", shared, DnsName(_name(t.domain_dns_name(first))), ttl, Routing.GEOLOCATION,
                       set_identifier="geo-default", geolocation="*", region=t.serving_regions(first)[0])
        )  # fmt: skip
    return out


SHARED_RECORDS: dict[Architecture, Callable[[Topology], list[RecordSpec]]] = {
    Architecture.ACTIVE_PASSIVE: _active_passive,
    Architecture.ACTIVE_ACTIVE: _active_active,
    Architecture.AGGREGATION_HUB: _aggregation_hub,
    Architecture.PARTITIONED_DOMAIN: _partitioned_domain,
}
"""The environment-wide names of each architecture (a region's own names are the same for all)."""


def regional(topology: Topology) -> list[RecordSpec]:
    """Each region's own names (its bootstrap, its brokers, its registry): they always answer with that region."""
    if topology.dns is None:
        return []
    ttl = topology.route53.ttl
    out: list[RecordSpec] = []
    for name in topology.region_names:
        out.append(RecordSpec(f"{name}-bootstrap", topology.region_dns_name(name), Bootstrap(name), ttl, region=name))
        # Clients reach every broker by the name it advertises: its own load balancer's, or (node ports, routes,
        # ingresses: one address for all, which routes by port or SNI) the region's endpoint_override.
        out += [
            RecordSpec(f"{name}-broker-{b}", topology.broker_dns_name(name, b), Broker(name, b), ttl, region=name)
            for b in topology.broker_ids(name)
        ]
    out += [
        RecordSpec(f"{r}-registry", registry.regional_dns_name(topology, r), RegistryIngress(r), ttl, region=r)
        for r in registry.regions(topology)
    ]
    return out


def _shared_registry(topology: Topology, shared: list[RecordSpec]) -> list[RecordSpec]:
    """``registry.<shared name>``: the shared name's own records, at the registry's Ingress, with the same gates and
    routing, where the shared name answers with the registry writer; none elsewhere (the module docstring)."""
    name, serving = registry.shared_dns_name(topology), set(registry.regions(topology))
    if name is None:
        return []
    return [
        replace(rec, key=rec.key.replace("bootstrap", "registry", 1), name=name, target=RegistryIngress(rec.target.region))
        for rec in shared
        if rec.name == topology.bootstrap_name and isinstance(rec.target, Bootstrap) and rec.target.region in serving
    ]


def records(topology: Topology) -> list[RecordSpec]:
    """None when DNS is managed elsewhere (no dns section)."""
    if topology.dns is None:
        return []
    shared = SHARED_RECORDS[topology.architecture](topology)
    return regional(topology) + shared + _shared_registry(topology, shared)


def failover_groups(topology: Topology) -> list[FailoverGroup]:
    """Names answered by gated records, with their member regions (primary first for failover routing)."""
    by_name: dict[str, list[RecordSpec]] = {}
    followers: dict[str, list[str]] = {}
    for rec in records(topology):
        if rec.owns_gate:
            by_name.setdefault(rec.name, []).append(rec)
        elif rec.health_check is not None and rec.name not in followers.setdefault(rec.health_check.name, []):
            followers[rec.health_check.name].append(rec.name)
    domains = {topology.domain_dns_name(d): d for d in topology.domains}
    out = []
    for name, recs in by_name.items():
        recs.sort(key=lambda r: (r.failover or "", r.health_check.region if r.health_check else ""))
        members = tuple(r.health_check.region for r in recs if r.health_check)
        out.append(FailoverGroup(name, recs[0].routing, members, domains.get(name), tuple(followers.get(name, ()))))
    return out


# ----------------------------------------------------------------------------------------- health checks


def health_checks(topology: Topology) -> list[HealthCheckSpec]:
    """Every check, children before the gates that use them (the order the program creates them in)."""
    hc, env = topology.route53.health_check, topology.environment
    out = [
        HealthCheckSpec(f"{r}-health", CheckRef(CheckRole.ENDPOINT, r), env, CheckType.TCP, topology.client_port(r),
                        hc.interval_seconds, hc.failure_threshold)
        if not topology.region(r).kafka.private
        else HealthCheckSpec(f"{r}-health", CheckRef(CheckRole.ENDPOINT, r), env, CheckType.CLOUDWATCH_METRIC,
                             failure_threshold=hc.failure_threshold)
        for r in topology.region_names
    ]  # fmt: skip
    for rec in records(topology):
        gate = rec.health_check
        if gate is None or not rec.owns_gate:
            continue  # no gate, or another name's (created with that name's records)
        switch = CheckRef(CheckRole.SWITCH, gate.region, gate.name)
        endpoint = CheckRef(CheckRole.ENDPOINT, gate.region)
        out.append(HealthCheckSpec(f"{rec.key}-switch", switch, env, CheckType.CALCULATED, threshold=SWITCH_THRESHOLD))
        out.append(
            HealthCheckSpec(
                f"{rec.key}-gate", gate, env, CheckType.CALCULATED, children=(endpoint, switch), threshold=GATE_THRESHOLD
            )
        )
    return out
