"""The rules on regions and partitioned domains: the estate's shape against its architecture.

Owns: at least two regions, each declared once; roles per architecture (one primary, one hub, some edges...);
zones and brokers; endpoint overrides (unique, required without a load balancer); what decommissioning may not
take away (the primary or hub, the second live region, a domain's last serving region); domains declared,
served, named as DNS labels and kept in their allowed regions (residency).

Deliberately not here: what a single region may say (``stacks.model.clusters``), topics' residency
(``stacks.rules.topics``).
"""

from __future__ import annotations

from stacks.model import DNS1123_LABEL_RE, ROLES_BY_ARCHITECTURE, Architecture, ListenerType, Role, Topology
from stacks.rules.base import Errors


def check(topology: Topology, errors: Errors) -> None:
    if len(topology.regions) < 2:
        errors.append(
            (("regions",), f"a multi-region estate needs at least two regions, found {len(topology.regions)}; add a region")
        )
    seen: dict[str, int] = {}
    for i, region in enumerate(topology.regions):
        if region.name in seen:
            errors.append(
                (
                    ("regions", i, "name"),
                    f"{region.name!r} is declared twice (also regions[{seen[region.name]}]); declare each region once",
                )
            )
        seen[region.name] = i
        allowed = ROLES_BY_ARCHITECTURE[topology.architecture]
        if region.role not in allowed:
            errors.append(
                (
                    ("regions", i, "role"),
                    f"role {region.role.value!r} does not exist in {topology.architecture.value}; use {' or '.join(sorted(r.value for r in allowed))}",
                )
            )
        if region.domains and topology.architecture is not Architecture.PARTITIONED_DOMAIN:
            errors.append(
                (
                    ("regions", i, "domains"),
                    f"domains are only for partitioned-domain, not {topology.architecture.value}; remove them",
                )
            )
        for d in region.domains:
            if d not in topology.domains:
                errors.append(
                    (
                        ("regions", i, "domains"),
                        f"domain {d!r} is not declared; declare it under domains or use one of {sorted(topology.domains)}",
                    )
                )
        if len(region.kafka.zones) > 1 and region.kafka.brokers < len(region.kafka.zones):
            errors.append(
                (
                    ("regions", i, "kafka", "brokers"),
                    f"{region.kafka.brokers} brokers cannot cover {len(region.kafka.zones)} zones; raise brokers to at least {len(region.kafka.zones)} or list fewer zones",
                )
            )
        other = next(
            (o for o in topology.regions[:i] if region.endpoint_override and o.endpoint_override == region.endpoint_override),
            None,
        )
        if other is not None:
            errors.append(
                (
                    ("regions", i, "endpoint_override"),
                    f"{region.endpoint_override!r} is also {other.name}'s endpoint; clients told {region.name}'s name would reach {other.name}; give each region its own",
                )
            )
        if region.kafka.listener_type is not ListenerType.LOADBALANCER and not region.endpoint_override:
            errors.append(
                (
                    ("regions", i, "endpoint_override"),
                    f"a {region.kafka.listener_type.value} listener has no load balancer for DNS to point at; set endpoint_override to the hostname clients reach {region.name} by",
                )
            )
        for z in region.kafka.zones:
            if not z.startswith(region.name):
                errors.append(
                    (
                        ("regions", i, "kafka", "zones"),
                        f"zone {z!r} is not in region {region.name}; use zones such as '{region.name}a'",
                    )
                )
    for i, region in enumerate(topology.regions):
        if region.decommission and region.role in (Role.PRIMARY, Role.HUB):
            errors.append(
                (
                    ("regions", i, "decommission"),
                    f"the {region.role.value} {region.name} cannot be decommissioned; make another region {region.role.value} first",
                )
            )
    if len([r for r in topology.regions if not r.decommission]) < 2 and len(topology.regions) >= 2:
        errors.append((("regions",), "decommissioning would leave fewer than two live regions; add a region first"))
    roles = [r.role for r in topology.regions]
    if topology.architecture is Architecture.ACTIVE_PASSIVE:
        if roles.count(Role.PRIMARY) != 1:
            errors.append(
                (
                    ("regions",),
                    f"active-passive needs exactly one region with role 'primary', found {roles.count(Role.PRIMARY)}; mark one region primary and the others secondary",
                )
            )
    elif topology.architecture is Architecture.AGGREGATION_HUB:
        if roles.count(Role.HUB) != 1:
            errors.append(
                (
                    ("regions",),
                    f"aggregation-hub needs exactly one region with role 'hub', found {roles.count(Role.HUB)}; mark the central region hub",
                )
            )
        if roles.count(Role.EDGE) < 1:
            errors.append(
                (("regions",), "aggregation-hub needs at least one region with role 'edge'; mark the feeding regions edge")
            )
    elif topology.architecture is Architecture.PARTITIONED_DOMAIN:
        if not topology.domains:
            errors.append(
                (("domains",), "partitioned-domain needs at least one domain; declare domains with their allowed_regions")
            )
        served = {d for r in topology.regions for d in r.domains}
        for name, domain in sorted(topology.domains.items()):
            if name not in served:
                errors.append((("domains", name), f"domain {name!r} is served by no region; add it to some region's domains"))
            for allowed_region in domain.allowed_regions:
                if allowed_region not in seen:
                    errors.append(
                        (
                            ("domains", name, "allowed_regions"),
                            f"region {allowed_region!r} is not declared; use one of {sorted(seen)}",
                        )
                    )
            for r in topology.regions:
                if name in r.domains and r.name not in domain.allowed_regions:
                    errors.append(
                        (
                            ("regions", seen[r.name], "domains"),
                            f"region {r.name} serves domain {name!r} but is not among its allowed_regions {list(domain.allowed_regions)}; data residency forbids it",
                        )
                    )
    if topology.domains and topology.architecture is not Architecture.PARTITIONED_DOMAIN:
        errors.append(
            (("domains",), f"domains are only for partitioned-domain, not {topology.architecture.value}; remove the section")
        )
    for name in topology.domains:
        if not DNS1123_LABEL_RE.fullmatch(name) or len(name) > 20:
            errors.append((("domains", name), f"domain name {name!r} must be a lowercase DNS label of at most 20 characters"))
        leaving = [r.name for r in topology.regions if name in r.domains and r.decommission]
        if leaving and not topology.serving_regions(name):
            errors.append(
                (
                    ("domains", name),
                    f"every region serving domain {name!r} ({', '.join(leaving)}) is being decommissioned, so its DNS name would answer nothing; keep one of them, or let another allowed region serve it first",
                )
            )
