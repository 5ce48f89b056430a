"""The rules on DNS: names inside the zone, one port for every region, the failover target, and the RTO by DNS.

Owns: without a dns section, every region's endpoint_override; with one, no cluster-ip listeners, one client port
across regions (a client moved by DNS keeps its port), shared and domain names inside the hosted zone, the
failover secondary, health-check timing plus TTL within the RTO, and failover records' TTL.

Deliberately not here: the section's own values (``stacks.model.dns``), every generated DNS name unique and within
DNS's limits (``stacks.rules.identities``), the records (``components.dns_records``).
"""

from __future__ import annotations

from stacks.model import Architecture, ListenerType, Role, Topology
from stacks.rules.base import Errors


def check(topology: Topology, errors: Errors) -> None:
    if topology.dns is None:
        # DNS managed elsewhere: its names are the endpoint overrides; its timing is not ours to check.
        for i, region in enumerate(topology.regions):
            if not region.endpoint_override:
                errors.append(
                    (
                        ("regions", i, "endpoint_override"),
                        f"without a dns section, set endpoint_override to the name your DNS publishes for {region.name}",
                    )
                )
        return
    for i, region in enumerate(topology.regions):
        if region.kafka.listener_type is ListenerType.CLUSTER_IP:
            errors.append(
                (
                    ("regions", i, "kafka", "listener_type"),
                    f"a cluster-ip listener's brokers are each reached at their own Service's cluster IP, which Route53 records cannot answer for {region.name}'s broker names; use loadbalancer, nodeport, route or ingress, or remove the dns section and publish the names in your own DNS",
                )
            )
    ports = {r.name: topology.client_port(r.name) for r in topology.regions}
    if len(set(ports.values())) > 1:
        listed = ", ".join(f"{r.name} {r.kafka.listener_type.value} -> {ports[r.name]}" for r in topology.regions)
        errors.append(
            (
                ("regions",),
                f"clients moved between regions by DNS keep their port, but the regions' listeners serve different ones ({listed}); give every region the same listener_type",
            )
        )
    zone = topology.dns.zone
    names: list[tuple[tuple[str | int, ...], str | None]] = [(("dns", "bootstrap"), topology.bootstrap_name)]
    names += [(("domains", d, "dns_name"), topology.domain_dns_name(d)) for d in topology.domains]
    for path, name in names:
        if name is not None and name != zone and not name.endswith("." + zone):
            errors.append((path, f"{name!r} is outside the hosted zone {zone!r}; use a name ending in '.{zone}'"))
    secondaries = [r.name for r in topology.regions if r.role is Role.SECONDARY and not r.decommission]
    target = topology.dns.failover_secondary
    if topology.architecture is Architecture.ACTIVE_PASSIVE:
        if target is None and len(secondaries) > 1:
            errors.append(
                (
                    ("dns", "failover_secondary"),
                    f"with several secondaries {sorted(secondaries)}, say which one the failover record sends clients to",
                )
            )
        elif target is not None and target not in secondaries:
            errors.append(
                (("dns", "failover_secondary"), f"{target!r} is not a secondary region; use one of {sorted(secondaries)}")
            )
    elif target is not None:
        errors.append((("dns", "failover_secondary"), "failover_secondary is an active-passive setting; remove it"))
    hc = topology.dns.health_check
    detect = hc.interval_seconds * hc.failure_threshold
    rto = topology.rto_seconds
    if detect + topology.dns.ttl > rto:
        errors.append(
            (
                ("dns", "health_check"),
                f"RTO {rto} s is not reachable by DNS: health checks need {hc.interval_seconds} s x {hc.failure_threshold} failures = {detect} s to notice, plus a {topology.dns.ttl} s TTL = {detect + topology.dns.ttl} s before clients move; lower the interval, threshold or TTL, or raise rto_seconds",
            )
        )
    if topology.architecture is Architecture.ACTIVE_PASSIVE and topology.dns.ttl > 60:
        errors.append(
            (
                ("dns", "ttl"),
                f"failover records need a TTL of at most 60 s, got {topology.dns.ttl}; clients would keep the failed region that long",
            )
        )
