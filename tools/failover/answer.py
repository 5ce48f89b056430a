"""Judging a Route53 snapshot against a stack: does the zone match it, and what would Route53 answer.

Owns: ``match`` (everything that decides an answer, compared with what the stack declares: each record's type,
routing policy, set identifier, TTL, value and attached health check; each check's identity, by its tags, and
configuration; a check claimed twice is ambiguous) and ``answers`` (for each name, the values Route53 would
answer with given the whole zone: records, routing, health checks with their inversions, children and what the
checkers observe, following CNAMEs inside the zone to the regions they reach). A value leads to a region when it is
that region's endpoint (what its own bootstrap name points at) or its registry's load balancer (what its own
``registry.`` name points at), so ``registry.<shared name>`` is judged like the shared name it follows.

Route53's rules as modelled here: an endpoint check is what its checkers observe (assumed healthy when unknown,
and said so); a CALCULATED check is healthy when at least HealthThreshold children are; a disabled check is
healthy; an inverted one the opposite. A record without a check is healthy. Failover answers the PRIMARY when
healthy, else a healthy SECONDARY, else the PRIMARY; latency answers the healthy records (each resolver gets
the nearest), or all of them when none is healthy; geolocation answers per location.

Deliberately not here: reading Route53 (``tools.failover.zone``) or deciding what to change (``tools.failover.actions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.dns_records import (
    Bootstrap,
    Broker,
    CheckRef,
    CheckRole,
    CheckType,
    DnsName,
    HealthCheckSpec,
    RecordSpec,
    RegistryIngress,
    health_checks,
    records,
    regional,
)
from stacks.model import Topology
from tools.failover.zone import Check, Snapshot


@dataclass(frozen=True)
class Match:
    checks: Mapping[CheckRef, Check]  # the declared checks, found
    endpoints: Mapping[str, str]  # region → the hostname its bootstrap records point at
    differences: tuple[str, ...]
    ignored: tuple[str, ...]  # checks tagged for the environment that the stack does not declare


def _geo(code: str) -> dict[str, str]:
    if code == "*":
        return {"CountryCode": "*"}
    if len(code) == 2 and code not in {"EU", "NA", "SA", "AS", "AF", "OC", "AN"}:
        return {"CountryCode": code}
    return {"ContinentCode": code}


def _label(name: str, set_id: str | None) -> str:
    return f"{name} ({set_id})" if set_id else name


def match(topology: Topology, snap: Snapshot) -> Match:
    diffs: list[str] = []
    claimed: dict[CheckRef, list[Check]] = {}
    for check in snap.checks.values():
        if check.ref is not None:
            claimed.setdefault(check.ref, []).append(check)
    specs = health_checks(topology)
    declared = {s.ref for s in specs}
    bound: dict[CheckRef, Check] = {}
    for spec in specs:
        found = claimed.get(spec.ref, [])
        if not found:
            diffs.append(f"missing: no health check is tagged as the {spec.ref}")
        elif len(found) > 1:
            ids = ", ".join(sorted(c.id for c in found))
            diffs.append(f"ambiguous: health checks {ids} are all tagged as the {spec.ref}; delete the stale one(s)")
        else:
            bound[spec.ref] = found[0]
    ignored = tuple(f"health check {c.id} ({c.ref})" for ref, cs in sorted(claimed.items()) if ref not in declared for c in cs)

    by_key = {(r["Name"], r.get("SetIdentifier")): r for r in snap.records if r.get("Type") in ("CNAME", "A", "AAAA")}
    endpoints = _endpoints(topology, by_key)
    registries = _registry_hosts(topology, by_key)
    decl = records(topology)
    names = {r.name for r in decl}
    wanted = {(r.name, r.set_identifier) for r in decl}
    for rec in decl:
        got = by_key.get((rec.name, rec.set_identifier))
        if got is None:
            diffs.append(f"missing record {_label(rec.name, rec.set_identifier)}")
            continue
        diffs += [
            f"record {_label(rec.name, rec.set_identifier)}: {d}" for d in _record_diffs(rec, got, bound, endpoints, registries)
        ]
    for name, set_id in sorted(by_key, key=lambda k: (k[0], k[1] or "")):
        if name in names and (name, set_id) not in wanted:
            diffs.append(
                f"unexpected record {_label(name, set_id)}: the stack does not declare it, and it changes what {name} answers"
            )
    for spec in specs:
        if spec.ref in bound:
            diffs += [f"{spec.ref} ({bound[spec.ref].id}): {d}" for d in _check_diffs(spec, bound[spec.ref], bound, endpoints)]
    return Match(bound, endpoints, tuple(diffs), ignored)


def _endpoints(topology: Topology, by_key: Mapping[tuple[str, str | None], Mapping[str, Any]]) -> dict[str, str]:
    """Each region's endpoint: its override, or what its own bootstrap name points at (read from the cluster
    at deploy time, so only the zone knows it); every other record and check must agree with it."""
    out: dict[str, str] = {}
    for region in topology.region_names:
        override = topology.region(region).endpoint_override
        own = by_key.get((topology.region_dns_name(region), None))
        values = [v["Value"] for v in (own or {}).get("ResourceRecords", [])]
        if override or len(values) == 1:
            out[region] = override or values[0]
    return out


def _registry_hosts(topology: Topology, by_key: Mapping[tuple[str, str | None], Mapping[str, Any]]) -> dict[str, str]:
    """Each registry region's registry load balancer: what its own ``registry.`` name points at (read from the
    cluster at deploy time, like the endpoints); ``registry.<shared name>`` must agree with it."""
    out: dict[str, str] = {}
    for rec in regional(topology):
        if isinstance(rec.target, RegistryIngress):
            values = [v["Value"].rstrip(".") for v in (by_key.get((rec.name, None)) or {}).get("ResourceRecords", [])]
            if len(values) == 1:
                out[rec.target.region] = values[0]
    return out


def _expected_value(rec: RecordSpec, endpoints: Mapping[str, str], registries: Mapping[str, str]) -> str | None:
    target = rec.target
    if isinstance(target, DnsName):
        return target.name
    if isinstance(target, Broker):
        return None  # a broker's own load balancer: only the zone knows it
    if isinstance(target, RegistryIngress):
        return registries.get(target.region)
    assert isinstance(target, Bootstrap)
    return endpoints.get(target.region)


def _record_diffs(
    rec: RecordSpec,
    got: Mapping[str, Any],
    bound: Mapping[CheckRef, Check],
    endpoints: Mapping[str, str],
    registries: Mapping[str, str],
) -> list[str]:
    out = []

    def differ(what: str, want: Any, have: Any) -> None:
        if want != have:
            out.append(f"{what} is {have!r}, the stack declares {want!r}")

    differ("type", "CNAME", got.get("Type"))
    differ("failover", rec.failover, got.get("Failover"))
    differ("latency region", rec.latency_region, got.get("Region"))
    differ("geolocation", _geo(rec.geolocation) if rec.geolocation else None, got.get("GeoLocation"))
    for extra in ("Weight", "MultiValueAnswer", "CidrRoutingConfig", "GeoProximityLocation", "AliasTarget"):
        if got.get(extra) is not None:
            out.append(f"has {extra} {got[extra]!r}, which the stack does not declare")
    differ("TTL", rec.ttl, got.get("TTL"))
    values = [v["Value"].rstrip(".") for v in got.get("ResourceRecords", [])]
    want = _expected_value(rec, endpoints, registries)
    if want is not None:
        differ("value", [want], values)
    elif len(values) != 1:
        out.append(f"has {len(values)} values, the stack declares one")
    gate = rec.health_check
    if gate is not None and gate not in bound:
        out.append(f"should use the {gate}, which is missing or ambiguous")
    else:
        differ("health check", bound[gate].id if gate is not None else None, got.get("HealthCheckId"))
    return out


def _check_diffs(spec: HealthCheckSpec, got: Check, bound: Mapping[CheckRef, Check], endpoints: Mapping[str, str]) -> list[str]:
    c = got.config
    want: dict[str, Any] = {"Type": spec.type.value, "Disabled": False}
    if spec.ref.role is not CheckRole.SWITCH:
        want["Inverted"] = False  # a switch's inversion is its state; anything else inverted was done by hand
    if spec.type is CheckType.TCP:
        want.update(Port=spec.port, RequestInterval=spec.interval, FailureThreshold=spec.failure_threshold)
        if spec.region in endpoints:
            want["FullyQualifiedDomainName"] = endpoints[spec.region]
    elif spec.type is CheckType.CLOUDWATCH_METRIC:
        want.update(AlarmIdentifier={"Region": spec.region, "Name": spec.alarm_name}, InsufficientDataHealthStatus="Unhealthy")
    else:
        want["HealthThreshold"] = spec.threshold
    out = [f"{key} is {c.get(key)!r}, the stack declares {value!r}" for key, value in want.items() if c.get(key) != value]
    if spec.type is CheckType.CALCULATED:
        children = {bound[r].id if r in bound else f"<{r}>" for r in spec.children}
        if set(got.children) != children:
            out.append(f"children are {sorted(got.children)}, the stack declares {sorted(children)}")
    if spec.ref.role is CheckRole.ENDPOINT and got.inverted:
        out.append(
            f"it was inverted by hand; un-invert it: aws route53 update-health-check --health-check-id {got.id} --no-inverted"
        )
    return out


# ----------------------------------------------------------------------------------------- answers


def healthy(snap: Snapshot, check_id: str | None, depth: int = 0) -> bool:
    """Healthy as DNS routing sees it (the module docstring has the rules)."""
    if check_id is None:
        return True
    check = snap.checks.get(check_id)
    if check is None or depth > 8:
        return False  # a check this stack does not know (or a loop): the zone does not match anyway
    if check.disabled:
        raw = True
    elif check.config.get("Type") == CheckType.CALCULATED.value:
        raw = sum(healthy(snap, c, depth + 1) for c in check.children) >= int(check.config.get("HealthThreshold") or 0)
    else:
        raw = True if check.observed is None else check.observed
    return raw != check.inverted


@dataclass(frozen=True)
class Answer:
    name: str
    location: str | None  # geolocation records: the location this answer is for
    values: tuple[str, ...]  # what Route53 may answer (latency: each resolver gets one of them)
    regions: tuple[str, ...]  # the regions those values lead to
    all_unhealthy: bool = False  # Route53 answers as if every record were healthy


def answers(topology: Topology, snap: Snapshot, endpoints: Mapping[str, str], name: str, depth: int = 0) -> list[Answer]:
    sets = [r for r in snap.records if r["Name"] == name and r.get("Type") in ("CNAME", "A", "AAAA")]
    geo = [r for r in sets if r.get("GeoLocation")]
    if geo:
        return [_answer(topology, snap, endpoints, name, [r], depth=depth, location=_geo_label(r["GeoLocation"])) for r in geo]
    return [_answer(topology, snap, endpoints, name, sets, depth=depth, location=None)] if sets else []


def _geo_label(loc: Mapping[str, str]) -> str:
    return loc.get("ContinentCode") or loc.get("CountryCode") or "?"


def _answer(
    topology: Topology, snap: Snapshot, endpoints: Mapping[str, str], name: str, sets: list[Mapping[str, Any]], *, depth: int,
    location: str | None,
) -> Answer:  # fmt: skip
    up = [r for r in sets if healthy(snap, r.get("HealthCheckId"))]
    chosen, all_down = up, not up
    failover = {r.get("Failover"): r for r in sets if r.get("Failover")}
    if failover:
        primary, secondary = failover.get("PRIMARY"), failover.get("SECONDARY")
        pick = primary if primary in up or secondary not in up else secondary
        chosen, all_down = [pick] if pick else [], primary not in up and secondary not in up
    elif not up:
        chosen = sets  # Route53 answers as if all were healthy rather than not at all
    values = tuple(sorted({v["Value"].rstrip(".") for r in chosen for v in r.get("ResourceRecords", [])}))
    by_key = {(r["Name"], r.get("SetIdentifier")): r for r in snap.records}
    leads = [*endpoints.items(), *_registry_hosts(topology, by_key).items()]  # (region, a value leading to it)
    regions: set[str] = set()
    for value in values:
        regions |= {r for r, e in leads if e == value}
        if depth < 8 and any(r["Name"] == value for r in snap.records):  # a CNAME inside the zone: follow it
            for inner in answers(topology, snap, endpoints, value, depth + 1):
                regions |= set(inner.regions)
    return Answer(name, location, values, tuple(sorted(regions)), all_down)
