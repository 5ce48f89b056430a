"""Fail a stack over, and back, through Route53 health-check state: ``python -m tools.failover``.

    status   --stack FILE                     which region answers each name now, each health check's state
    promote  REGION --stack FILE [--dry-run]  send the shared bootstrap name to REGION
    rollback --stack FILE [--dry-run]         undo every inversion the tool made
    drill    REGION --stack FILE              promote, verify, roll back, verify; time each step

Owns: finding a stack's health checks (by their tags) and records in its hosted zone, checking they match the
topology, and changing only health-check inversion (never records: the record API is a control plane in one
region; health checks are data plane). A change is all or nothing: if a step fails, what was done is undone.

Deliberately not here: creating DNS (the Pulumi program does). Exit status: 0 done, 1 the zone does not
match the stack or a drill did not verify, 2 bad input or AWS refused (missing credentials, unknown region,
no such zone).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from components.dns_records import RecordSpec, records
from stacks.loader import TopologyError, load_topology
from stacks.model import Architecture, Role, Topology

TAG_ENV = "kafka-multiregion/environment"
TAG_REGION = "kafka-multiregion/region"


class FailoverError(Exception):
    """What went wrong, in words an operator can act on; exit status 2 unless ``status`` says otherwise."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class HealthCheck:
    region: str
    id: str
    inverted: bool
    observed_healthy: bool | None  # what the checkers report, before inversion; None when unknown

    @property
    def healthy(self) -> bool:
        """Healthy as DNS sees it: Route53 answers with the checkers' verdict, inverted when asked to."""
        raw = True if self.observed_healthy is None else self.observed_healthy
        return raw != self.inverted


@dataclass(frozen=True)
class Change:
    region: str
    health_check_id: str
    inverted_before: bool
    inverted_after: bool


class Route53Stack:
    """One stack's view of Route53."""

    def __init__(self, client: Any, topology: Topology) -> None:
        if topology.dns is None:
            raise FailoverError(
                f"{topology.environment} has no dns section: its DNS (and failover) is managed elsewhere, not in Route53"
            )
        self.client = client
        self.topology = topology
        self.zone = topology.dns.zone

    def zone_id(self) -> str:
        zone = self.zone
        found = self.client.list_hosted_zones_by_name(DNSName=zone, MaxItems="1").get("HostedZones", [])
        if not found or found[0]["Name"].rstrip(".") != zone:
            raise FailoverError(f"hosted zone {zone!r} does not exist in this AWS account; check dns.zone and the account")
        return str(found[0]["Id"]).rsplit("/", maxsplit=1)[-1]

    def health_checks(self) -> dict[str, HealthCheck]:
        ids: list[str] = []
        paginator = self.client.get_paginator("list_health_checks")
        configs: dict[str, dict[str, Any]] = {}
        for page in paginator.paginate():
            for hc in page["HealthChecks"]:
                ids.append(hc["Id"])
                configs[hc["Id"]] = hc["HealthCheckConfig"]
        out: dict[str, HealthCheck] = {}
        for start in range(0, len(ids), 10):  # ListTagsForResources takes ten at a time
            tag_sets = self.client.list_tags_for_resources(ResourceType="healthcheck", ResourceIds=ids[start : start + 10])
            for tag_set in tag_sets["ResourceTagSets"]:
                tags = {t["Key"]: t["Value"] for t in tag_set.get("Tags", [])}
                if tags.get(TAG_ENV) != self.topology.environment or TAG_REGION not in tags:
                    continue
                hc_id = tag_set["ResourceId"]
                out[tags[TAG_REGION]] = HealthCheck(
                    region=tags[TAG_REGION],
                    id=hc_id,
                    inverted=bool(configs[hc_id].get("Inverted", False)),
                    observed_healthy=self._observed(hc_id),
                )
        return out

    def _observed(self, hc_id: str) -> bool | None:
        try:
            observations = self.client.get_health_check_status(HealthCheckId=hc_id)["HealthCheckObservations"]
        except ClientError:
            return None
        if not observations:
            return None
        good = sum(1 for o in observations if str(o["StatusReport"]["Status"]).startswith("Success"))
        return good * 2 > len(observations)  # Route53 calls an endpoint healthy when most checkers agree

    def record_sets(self, zone_id: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in self.client.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
            out += page["ResourceRecordSets"]
        return out

    def check_records(self, zone_id: str) -> list[str]:
        """Differences between the records the stack declares and what the zone holds (names and set ids)."""
        present = {(r["Name"].rstrip("."), r.get("SetIdentifier")) for r in self.record_sets(zone_id)}
        missing = [
            f"{spec.name} ({spec.set_identifier})" if spec.set_identifier else spec.name
            for spec in records(self.topology)
            if (spec.name, spec.set_identifier) not in present
        ]
        return [f"missing record {m}" for m in missing]

    # ------------------------------------------------------------------ what answers

    def shared_records(self) -> list[RecordSpec]:
        return [r for r in records(self.topology) if r.name == self.topology.bootstrap_name and r.target.startswith("bootstrap:")]

    def answering(self, checks: dict[str, HealthCheck]) -> list[str]:
        """Regions Route53 answers the shared bootstrap name with, as health checks stand now."""
        specs = self.shared_records()
        regions = [s.target.split(":")[1] for s in specs]
        if self.topology.architecture is Architecture.ACTIVE_PASSIVE:
            primary = next(s.target.split(":")[1] for s in specs if s.failover == "PRIMARY")
            secondary = next(s.target.split(":")[1] for s in specs if s.failover == "SECONDARY")
            if checks[primary].healthy or not checks[secondary].healthy:
                return [primary]  # Route53 keeps the primary when both are unhealthy
            return [secondary]
        healthy = [r for r in regions if r not in checks or checks[r].healthy]
        return healthy or regions  # all unhealthy: Route53 answers as if all were healthy

    def intended(self) -> list[str]:
        t = self.topology
        if t.architecture is Architecture.ACTIVE_PASSIVE:
            return [r.name for r in t.regions_with(Role.PRIMARY)]
        return [s.target.split(":")[1] for s in self.shared_records()]

    # ------------------------------------------------------------------ changes

    def plan_promote(self, region: str, checks: dict[str, HealthCheck]) -> list[Change]:
        candidates = [s.target.split(":")[1] for s in self.shared_records()]
        if region not in candidates:
            raise FailoverError(
                f"{self.topology.bootstrap_name} never answers with {region}; promote one of {sorted(candidates)}"
            )
        missing = [r for r in candidates if r not in checks]
        if missing:
            raise FailoverError(f"no health check tagged for {missing}; run `pulumi up` so the zone matches the stack", 1)
        changes = [
            Change(r, checks[r].id, checks[r].inverted, True) for r in candidates if r != region and not checks[r].inverted
        ]
        if checks[region].inverted:
            changes.append(Change(region, checks[region].id, True, False))
        return changes

    def plan_rollback(self, checks: dict[str, HealthCheck]) -> list[Change]:
        return [Change(r, c.id, True, False) for r, c in sorted(checks.items()) if c.inverted]

    def apply(self, changes: list[Change]) -> None:
        """All or nothing: on any failure, undo what was done (in reverse order) and report."""
        done: list[Change] = []
        try:
            for change in changes:
                self.client.update_health_check(HealthCheckId=change.health_check_id, Inverted=change.inverted_after)
                done.append(change)
        except (ClientError, BotoCoreError) as exc:
            undo_errors = []
            for change in reversed(done):
                try:
                    self.client.update_health_check(HealthCheckId=change.health_check_id, Inverted=change.inverted_before)
                except (ClientError, BotoCoreError) as undo_exc:  # pragma: no cover - reported below
                    undo_errors.append(f"{change.region}: {undo_exc}")
            left = f"; could not undo {undo_errors}: fix by hand" if undo_errors else "; Route53 is as it was"
            raise FailoverError(f"failed at {len(done) + 1} of {len(changes)} changes ({exc}){left}") from None


def describe(changes: list[Change]) -> list[str]:
    return [
        f"  health check {c.health_check_id} ({c.region}): inverted {str(c.inverted_before).lower()} -> {str(c.inverted_after).lower()}"
        for c in changes
    ]


def status(stack: Route53Stack, out: list[str]) -> int:
    zone = stack.zone_id()
    checks = stack.health_checks()
    problems = stack.check_records(zone)
    out.append(f"zone {stack.zone} ({zone}), environment {stack.topology.environment}")
    for region in stack.topology.region_names:
        hc = checks.get(region)
        if hc is None:
            out.append(f"  {region}: no health check")
            problems.append(f"no health check tagged for {region}")
            continue
        observed = "unknown" if hc.observed_healthy is None else ("healthy" if hc.observed_healthy else "unhealthy")
        inv = ", inverted by failover" if hc.inverted else ""
        out.append(f"  {region}: checkers say {observed}{inv}; DNS treats it as {'healthy' if hc.healthy else 'unhealthy'}")
    if not problems:
        now, intended = stack.answering(checks), stack.intended()
        verdict = "as intended" if sorted(now) == sorted(intended) else f"FAILED OVER (intended {', '.join(intended)})"
        out.append(f"{stack.topology.bootstrap_name} answers with {', '.join(now)}: {verdict}")
    for p in problems:
        out.append(f"records do not match the stack: {p}")
    return 1 if problems else 0


def _stack(args: argparse.Namespace) -> Route53Stack:
    topology = load_topology(args.stack)
    region = getattr(args, "region", None)
    if region is not None and region not in topology.region_names:
        raise FailoverError(f"region {region!r} is not in {args.stack}; use one of {list(topology.region_names)}")
    client = boto3.client("route53", region_name="us-east-1")
    return Route53Stack(client, topology)


def run(argv: list[str], out: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.failover", description="Route53 failover for a stack.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("status", "promote", "rollback", "drill"):
        p = sub.add_parser(name)
        if name in ("promote", "drill"):
            p.add_argument("region")
        p.add_argument("--stack", required=True, help="the stack file, e.g. stacks/prod.yaml")
        if name in ("promote", "rollback"):
            p.add_argument("--dry-run", action="store_true", help="print the changes, make none")
        if name == "drill":
            p.add_argument("--timeout", type=float, default=None, help="seconds to wait for DNS to follow (default: the RTO)")
    args = parser.parse_args(argv)
    stack = _stack(args)
    if args.command == "status":
        return status(stack, out)
    problems = stack.check_records(stack.zone_id())
    if problems:
        raise FailoverError("records do not match the stack: " + "; ".join(problems) + "; run `pulumi up` first", 1)
    checks = stack.health_checks()
    if args.command in ("promote", "rollback"):
        changes = stack.plan_promote(args.region, checks) if args.command == "promote" else stack.plan_rollback(checks)
        if not changes:
            out.append("nothing to change")
            return 0
        verb = "would change" if args.dry_run else "changing"
        out.append(f"{verb} {len(changes)} health check(s):")
        out += describe(changes)
        if not args.dry_run:
            stack.apply(changes)
            out.append(f"done; undo with: python -m tools.failover rollback --stack {args.stack}")
        return 0
    timeout = args.timeout if args.timeout is not None else float(stack.topology.mm2.rto_seconds)
    return drill(stack, args.region, checks, timeout, out)


def drill(stack: Route53Stack, region: str, checks: dict[str, HealthCheck], timeout: float, out: list[str]) -> int:
    timings: list[tuple[str, float]] = []
    start = time.monotonic()
    changes = stack.plan_promote(region, checks)
    stack.apply(changes)
    timings.append(("promote", time.monotonic() - start))
    ok = _wait(stack, [region], timeout, timings, "verify promoted")
    start = time.monotonic()
    stack.apply([Change(c.region, c.health_check_id, c.inverted_after, c.inverted_before) for c in reversed(changes)])
    timings.append(("roll back", time.monotonic() - start))
    ok &= _wait(stack, stack.answering(checks), timeout, timings, "verify restored")
    for step, seconds in timings:
        out.append(f"  {step:<16} {seconds * 1000:8.1f} ms")
    out.append("drill passed" if ok else "drill FAILED: DNS did not follow the health checks in time")
    return 0 if ok else 1


def _wait(stack: Route53Stack, expected: list[str], timeout: float, timings: list[tuple[str, float]], label: str) -> bool:
    start = time.monotonic()
    while True:
        if sorted(stack.answering(stack.health_checks())) == sorted(expected):
            timings.append((label, time.monotonic() - start))
            return True
        if time.monotonic() - start > timeout:
            timings.append((label + " (timed out)", time.monotonic() - start))
            return False
        time.sleep(2)


def main(argv: list[str] | None = None) -> int:
    out: list[str] = []
    try:
        code = run(sys.argv[1:] if argv is None else argv, out)
    except TopologyError as exc:
        code = 2
        out.append(str(exc))
    except FailoverError as exc:
        code = exc.status
        out.append(f"error: {exc}")
    except (NoCredentialsError, NoRegionError):
        code = 2
        out.append("error: no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
    except ClientError as exc:
        code = 2
        out.append(f"error: AWS refused: {exc.response.get('Error', {}).get('Message', exc)}")
    print("\n".join(out), file=sys.stdout if code == 0 else sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
