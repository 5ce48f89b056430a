"""What each failover verb changes, and changing it so that Route53 ends as asked or as it was: the engine of
``tools.failover``.

Owns: the verbs (per verb, which members of each failover group to switch on or off and what the group must
answer afterwards), refusing a plan whose predicted answer (computed from the whole zone as it would be) is not
what was asked, applying switch changes (turning off: tag who did it, then invert; turning on: un-invert, then
untag, so every switch this tool inverted carries its mark), and after any error reading Route53 back and
undoing what the read-back shows changed (never what the answers said), then reporting the state as read.

Deliberately not here: parsing arguments and printing (``tools.failover``), reading and judging Route53
(``tools.route53_zone``, ``tools.route53_answer``).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from components.dns_records import TAG_SWITCHED_OFF, CheckRef, CheckRole, FailoverGroup, Routing, failover_groups
from stacks.model import Topology
from tools.route53_answer import Answer, Match, answers, match
from tools.route53_zone import (
    Check,
    Deadline,
    FailoverError,
    LeftChangedError,
    RefusedError,
    Snapshot,
    ZoneMismatchError,
    call,
    classify,
    read,
)

RECOVERY_SECONDS = 60.0  # the read-back after an error gets a budget of its own


def command(*args: str) -> str:
    return shlex.join(["python", "-m", "tools.failover", *args])


@dataclass
class Context:
    r53: Any
    topology: Topology
    stack_file: str
    deadline: Deadline
    say: Callable[[str], None]

    def read_matching(self) -> tuple[Snapshot, Match]:
        """Read Route53 and refuse unless the zone is exactly what the stack declares."""
        snap = read(self.r53, self.topology)
        found = match(self.topology, snap)
        if found.differences:
            for d in found.differences:
                self.say(f"  differs: {d}")
            raise ZoneMismatchError(
                f"the zone does not match {self.stack_file} ({len(found.differences)} difference(s) above); "
                "fix them or run `pulumi up`, then try again"
            )
        return snap, found


# ----------------------------------------------------------------------------------------- switches


@dataclass(frozen=True)
class Switch:
    group: FailoverGroup
    region: str
    check: Check

    @property
    def off(self) -> bool:
        return self.check.inverted

    @property
    def by_tool(self) -> str | None:
        """Who turned it off, when this tool did (its mark); None when on, or turned off by hand."""
        return self.check.tags.get(TAG_SWITCHED_OFF) if self.off else None


def switches(topology: Topology, found: Match) -> list[Switch]:
    return [
        Switch(g, m, found.checks[CheckRef(CheckRole.SWITCH, m, g.name)]) for g in failover_groups(topology) for m in g.members
    ]


@dataclass(frozen=True)
class Change:
    switch: Switch
    off: bool  # the state after

    def describe(self) -> str:
        s = self.switch
        return f"  switch {s.check.id} ({s.region} in {s.group.name}): {'on -> off' if self.off else 'off -> on'}"


def _set(r53: Any, check_id: str, off: bool, mark: str | None) -> None:
    """Set a switch; the mark is written before inverting and removed after, so an inverted switch is marked."""
    if off:
        if mark is not None:
            call(
                r53.change_tags_for_resource,
                ResourceType="healthcheck",
                ResourceId=check_id,
                AddTags=[{"Key": TAG_SWITCHED_OFF, "Value": mark}],
            )
        call(r53.update_health_check, HealthCheckId=check_id, Inverted=True)
    else:
        call(r53.update_health_check, HealthCheckId=check_id, Inverted=False)
        call(r53.change_tags_for_resource, ResourceType="healthcheck", ResourceId=check_id, RemoveTagKeys=[TAG_SWITCHED_OFF])


# ----------------------------------------------------------------------------------------- verbs


def _promote(group: FailoverGroup, region: str) -> dict[str, bool]:
    # Promoting the secondary turns the primary off; promoting the primary only turns it (back) on, so the
    # secondary stays ready to take over: failover keeps working.
    primary = group.members[0]
    return {region: True} if region == primary else {primary: False, region: True}


def _answers_only(a: Answer, region: str) -> bool:
    return a.regions == (region,) and not a.all_unhealthy


def _no_longer(a: Answer, region: str) -> bool:
    return bool(a.regions) and region not in a.regions and not a.all_unhealthy


@dataclass(frozen=True)
class Verb:
    routing: Routing
    wants: Callable[[FailoverGroup, str], dict[str, bool]]  # member → on, for the members it touches
    expect: Callable[[Answer, str], bool]
    promise: str


VERBS: dict[str, Verb] = {
    "promote": Verb(Routing.FAILOVER, _promote, _answers_only, "answers with {region}"),
    "drain": Verb(Routing.LATENCY, lambda g, r: {r: False}, _no_longer, "no longer answers with {region}"),
    "route-all": Verb(Routing.LATENCY, lambda g, r: {m: m == r for m in g.members}, _answers_only, "answers with {region} only"),
}


def verbs_for(routing: Routing) -> list[str]:
    return [name for name, v in VERBS.items() if v.routing is routing]


def groups_for(topology: Topology, region: str, domain: str | None) -> list[FailoverGroup]:
    every = failover_groups(topology)
    if not every:
        raise RefusedError(
            f"{topology.architecture.value} has nothing to fail over: every name is answered by one region "
            "(clients choose a region by name); status shows what each name answers"
        )
    if domain is not None and domain not in {g.domain for g in every}:
        served = sorted(g.domain for g in every if g.domain)
        raise FailoverError(f"domain {domain!r} is not served by several regions; use one of {served}")
    chosen = [g for g in every if region in g.members and (domain is None or g.domain == domain)]
    if not chosen:
        names = ", ".join(f"{g.name} ({', '.join(g.members)})" for g in every)
        raise RefusedError(f"{region} answers none of the failover names: {names}")
    return chosen


def endpoint_up(found: Match, region: str) -> bool | None:
    check = found.checks.get(CheckRef(CheckRole.ENDPOINT, region))
    return None if check is None or check.inverted else check.observed


def _require_up(found: Match, regions: set[str], why: str) -> None:
    for region in sorted(regions):
        up = endpoint_up(found, region)
        if up is not True:
            state = "reports it down" if up is False else "cannot say whether it is up"
            raise RefusedError(f"{why}: {region}'s endpoint check {state}; DNS must not send clients to a region that is down")


def plan(verb_name: str, region: str, domain: str | None, topology: Topology, *, snap: Snapshot, found: Match) -> list[Change]:
    verb = VERBS[verb_name]
    groups = groups_for(topology, region, domain)
    for g in groups:
        if g.routing is not verb.routing:
            raise FailoverError(
                f"{g.name} routes by {g.routing.value}: `{verb_name}` does not apply; use {' or '.join(verbs_for(g.routing))}"
            )
    by_key = {(s.group.name, s.region): s for s in switches(topology, found)}
    changes: list[Change] = []
    for g in groups:
        for member, on in verb.wants(g, region).items():
            s = by_key[(g.name, member)]
            if s.off != on:
                continue  # already so
            if on and s.by_tool is None:
                raise RefusedError(
                    f"{member}'s switch for {g.name} was turned off by hand, not by this tool; turn it on yourself if "
                    f"you mean to: aws route53 update-health-check --health-check-id {s.check.id} --no-inverted"
                )
            changes.append(Change(s, not on))
    targets = {region} if verb.expect is _answers_only else set()
    _require_up(found, targets | {c.switch.region for c in changes if not c.off}, f"{verb_name} {region} refused")
    predicted = snap.assuming({c.switch.check.id: c.off for c in changes})
    for name in (n for g in groups for n in g.names):  # a name following a group's gates moves with it
        for a in answers(topology, predicted, found.endpoints, name):
            if not verb.expect(a, region):
                raise RefusedError(
                    f"{verb_name} {region} refused: afterwards {name} would answer with {', '.join(a.regions) or 'nothing'}"
                    + (" (every record unhealthy)" if a.all_unhealthy else "")
                    + f", not what `{verb_name}` promises ({verb.promise.format(region=region)})"
                )
    return changes


def plan_rollback(topology: Topology, found: Match, say: Callable[[str], None]) -> list[Change]:
    """Turn on every switch this tool turned off; switches turned off by hand are left, and said so."""
    changes = []
    for s in switches(topology, found):
        if s.off and s.by_tool is None:
            say(
                f"  left alone: {s.region}'s switch for {s.group.name} was turned off by hand; to undo: "
                f"aws route53 update-health-check --health-check-id {s.check.id} --no-inverted"
            )
        elif s.off:
            changes.append(Change(s, False))
    _require_up(found, {c.switch.region for c in changes}, "rollback refused")
    return changes


# ----------------------------------------------------------------------------------------- applying


def switch_states(snap: Snapshot) -> dict[str, tuple[bool, str | None]]:
    return {
        i: (c.inverted, c.tags.get(TAG_SWITCHED_OFF))
        for i, c in snap.checks.items()
        if c.ref is not None and c.ref.role is CheckRole.SWITCH
    }


def apply(ctx: Context, changes: list[Change], original: Snapshot, mark: str, retry: str) -> Snapshot:
    """Make the changes; on any error, restore what the read-back shows changed. Returns Route53 as read after."""
    try:
        for c in changes:
            _set(ctx.r53, c.switch.check.id, c.off, mark)
        return read(ctx.r53, ctx.topology)
    except FailoverError as exc:
        asked = {c.switch.check.id: c.off for c in changes}
        raise recover(ctx, exc, original, retry, asked=asked) from None


def restore(ctx: Context, original: Snapshot) -> Snapshot:
    """Put every switch back as ``original`` had it, judged by what Route53 reads back (an undo whose answer was
    lost may well have been applied); returns the read-back."""
    want = switch_states(original)
    failure: FailoverError | None = None
    for _ in range(3):
        now = read(ctx.r53, ctx.topology)
        have = switch_states(now)
        wrong = {i: w for i, w in want.items() if i in have and have[i] != w}
        if not wrong:
            return now
        for check_id, (inverted, mark) in wrong.items():
            # Judged by the next read-back, not by the answers. The mark stays while the switch is inverted and
            # is written before it is inverted, so an inverted switch never loses the sign this tool made it.
            steps: list[dict[str, Any]] = []
            if have[check_id][1] != mark and (mark is not None or have[check_id][0] == inverted):
                tags: dict[str, Any] = (
                    {"AddTags": [{"Key": TAG_SWITCHED_OFF, "Value": mark}]} if mark else {"RemoveTagKeys": [TAG_SWITCHED_OFF]}
                )
                steps.append(
                    {"fn": ctx.r53.change_tags_for_resource, "ResourceType": "healthcheck", "ResourceId": check_id, **tags}
                )
            if have[check_id][0] != inverted:
                steps.append({"fn": ctx.r53.update_health_check, "HealthCheckId": check_id, "Inverted": inverted})
            for step in steps:
                try:
                    call(**step)
                except FailoverError as exc:
                    failure = exc
                    break
    now = read(ctx.r53, ctx.topology)
    have = switch_states(now)
    if all(have.get(i, w) == w for i, w in want.items()):
        return now
    raise failure or LeftChangedError("switches still differ from how they were after restoring them three times")


def _back_commands(ctx: Context, original: Snapshot) -> list[str]:
    """How to return to ``original``: this tool's rollback when nothing was switched off before."""
    states = switch_states(original)
    if not any(inverted for inverted, _ in states.values()):
        return [f"to return to how it was: {command('rollback', '--stack', ctx.stack_file)}"]
    return [
        f"to return to how it was: aws route53 update-health-check --health-check-id {i} {'--inverted' if inv else '--no-inverted'}"
        for i, (inv, _) in sorted(states.items())
    ]


def recover(
    ctx: Context, exc: FailoverError, original: Snapshot, retry: str, *, asked: dict[str, bool] | None = None
) -> FailoverError:
    """After ``exc``: read back, undo what changed (unless all of ``asked`` is already done: a change is not
    undone because only the answer or the read after it was lost), and say how Route53 was left (as read)."""
    ctx.deadline.extend(RECOVERY_SECONDS)
    back = _back_commands(ctx, original)
    try:
        before = read(ctx.r53, ctx.topology)
    except FailoverError as again:
        return LeftChangedError(
            f"{exc}; then Route53 could not be read back ({again}): whether the change was applied is unknown",
            commands=[
                f"see what Route53 holds: {command('status', '--stack', ctx.stack_file)}",
                f"to finish what was asked: {retry}",
                *back,
            ],
        )
    if switch_states(before) == switch_states(original):
        return type(exc)(f"{exc}; read back: Route53 is as it was", state=before, commands=[f"to try again: {retry}"])
    have = switch_states(before)
    if asked and all(have.get(i, (None, None))[0] == off for i, off in asked.items()):
        return type(exc)(f"{exc}; read back: the change is complete, Route53 is as asked", state=before)
    try:
        after = restore(ctx, original)
    except FailoverError as again:
        try:
            now: Snapshot | None = read(ctx.r53, ctx.topology)
        except FailoverError:
            now = before
        return LeftChangedError(
            f"{exc}; Route53 had changed, and undoing it failed ({again}): it is left as shown below",
            state=now,
            commands=[f"to finish what was asked: {retry}", *back],
        )
    return type(exc)(f"{exc}; the change had been applied, and is undone: read back, Route53 is as it was", state=after,
                     commands=[f"to try again: {retry}"])  # fmt: skip


def mark(verb: str, region: str) -> str:
    return f"tools.failover {verb} {region} {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


# ----------------------------------------------------------------------------------------- verifying


def group_answers(topology: Topology, snap: Snapshot, found: Match) -> dict[str, list[Answer]]:
    return {n: answers(topology, snap, found.endpoints, n) for g in failover_groups(topology) for n in g.names}


def wait_until(ctx: Context, ok: Callable[[Snapshot, Match], bool], timeout: float) -> tuple[bool, Snapshot]:
    """Re-read Route53 until what it would answer satisfies ``ok`` (bounded by ``timeout`` and the deadline)."""
    start = time.monotonic()
    for attempt in range(10_000):
        snap = read(ctx.r53, ctx.topology)
        if ok(snap, match(ctx.topology, snap)):
            return True, snap
        if time.monotonic() - start > timeout or ctx.deadline.remaining() < 2:
            return False, snap
        time.sleep(min(2.0, 0.1 * (attempt + 1)))
    return False, snap


def dns_answer(ctx: Context, zone: str, name: str) -> list[str] | None:
    """What Route53's TestDNSAnswer says for ``name``; None where the endpoint does not offer it (moto)."""
    from botocore.exceptions import ClientError

    try:
        got = ctx.r53.test_dns_answer(HostedZoneId=zone, RecordName=name, RecordType="CNAME")
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (404, 501):
            return None
        raise classify(exc) from None
    except Exception as exc:
        raise classify(exc) from None
    return [str(v).rstrip(".") for v in got.get("RecordData", [])]
