"""Pure builder for the Route53 side: which health checks and records an architecture needs.

Owns: the list of health checks (one per region, TCP on the public bootstrap, or CloudWatch-metric for
private endpoints) and of records (region and per-broker names; the failover/latency/hub/domain names by
architecture), each saying whose endpoint it points at, so the DNS component, the plan tool, the failover
command and the tests read one answer.

Deliberately not here: endpoint values (read from the cluster by ``components.dns``) and AWS calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.strimzi import EXTERNAL_PORT
from stacks.model import Architecture, HealthCheckKind, Role, Topology


@dataclass(frozen=True)
class HealthCheckSpec:
    region: str
    kind: HealthCheckKind
    port: int
    interval: int
    failure_threshold: int

    environment: str

    @property
    def alarm_name(self) -> str:
        # Alarm names are global to an AWS account and region: two environments must not share one.
        return f"kafka-multiregion-{self.environment}-{self.region}-bootstrap"


@dataclass(frozen=True)
class RecordSpec:
    """A CNAME. ``target`` is "bootstrap:<region>", "broker:<region>:<node id>" or "name:<dns name>"."""

    key: str  # stable logical name
    name: str
    target: str
    ttl: int
    routing: str = "simple"  # simple | failover | latency | geolocation
    set_identifier: str | None = None
    failover: str | None = None  # PRIMARY | SECONDARY
    latency_region: str | None = None
    geolocation: str | None = None
    health_check: str | None = None  # region whose health check answers for this record
    region: str | None = None  # whose AWS provider manages it


def health_checks(topology: Topology) -> list[HealthCheckSpec]:
    hc = topology.dns.health_check
    return [
        HealthCheckSpec(
            region=r,
            kind=HealthCheckKind.CLOUDWATCH if topology.region(r).kafka.private else HealthCheckKind.TCP,
            port=EXTERNAL_PORT,
            interval=hc.interval_seconds,
            failure_threshold=hc.failure_threshold,
            environment=topology.environment,
        )
        for r in topology.region_names
    ]


def records(topology: Topology) -> list[RecordSpec]:
    ttl = topology.dns.ttl
    out: list[RecordSpec] = []
    for name in topology.region_names:
        region = topology.region(name)
        out.append(RecordSpec(f"{name}-bootstrap", topology.region_dns_name(name), f"bootstrap:{name}", ttl, region=name))
        for b in region.kafka.broker_ids:
            out.append(
                RecordSpec(f"{name}-broker-{b}", topology.broker_dns_name(name, b), f"broker:{name}:{b}", ttl, region=name)
            )
    shared = topology.bootstrap_name
    arch = topology.architecture
    if arch is Architecture.ACTIVE_PASSIVE:
        (primary,) = topology.regions_with(Role.PRIMARY)
        # Route53 allows one SECONDARY per name: the topology names it (or has only one).
        for member, kind in ((primary.name, "PRIMARY"), (topology.failover_secondary, "SECONDARY")):
            out.append(
                RecordSpec(
                    f"bootstrap-{kind.lower()}", shared, f"bootstrap:{member}", min(ttl, 60), "failover",
                    set_identifier=f"{member}-{kind.lower()}", failover=kind, health_check=member, region=member,
                )
            )  # fmt: skip
    elif arch is Architecture.ACTIVE_ACTIVE:
        for name in filter(topology.live, topology.region_names):
            out.append(
                RecordSpec(
                    f"bootstrap-{name}", shared, f"bootstrap:{name}", ttl, "latency",
                    set_identifier=name, latency_region=name, health_check=name, region=name,
                )
            )  # fmt: skip
    elif arch is Architecture.AGGREGATION_HUB:
        (hub,) = topology.regions_with(Role.HUB)
        out.append(RecordSpec("bootstrap-hub", shared, f"bootstrap:{hub.name}", ttl, region=hub.name))
    else:
        for domain in sorted(topology.domains):
            serving = [r.name for r in topology.regions_with(Role.DOMAIN) if domain in r.domains and not r.decommission]
            dname = topology.domain_dns_name(domain)
            if len(serving) == 1:
                out.append(RecordSpec(f"domain-{domain}", dname, f"bootstrap:{serving[0]}", ttl, region=serving[0]))
            else:
                for r in serving:
                    out.append(
                        RecordSpec(
                            f"domain-{domain}-{r}", dname, f"bootstrap:{r}", ttl, "latency",
                            set_identifier=r, latency_region=r, health_check=r, region=r,
                        )
                    )  # fmt: skip
            geo = topology.domains[domain].geolocation
            if geo:
                out.append(
                    RecordSpec(
                        f"bootstrap-{domain}", shared, f"name:{dname}", ttl, "geolocation",
                        set_identifier=domain, geolocation=geo, region=serving[0],
                    )
                )  # fmt: skip
    return out
