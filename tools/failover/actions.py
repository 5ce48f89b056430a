"""What each failover verb changes, and changing it so that Route53 ends as asked or as it was: the engine of
``tools.failover``.

Owns: the verbs (per verb, which members of each failover group to switch on or off and what the group must
answer afterwards), refusing a plan whose predicted answer (computed from the whole zone as it would be) is not
what was asked, and applying switch changes. A switch's state is one value, its inversion and its mark (turning
off: mark who did it, then invert; turning on: un-invert, then unmark, so every switch this tool inverted
carries its mark, and one it turned on carries none). A command is done only when Route53 read back holds what
it asked, switch by switch, state by state; after any error the read-back decides, never the answers: what was
asked is done (an answer lost after Route53 applied a call is no failure), what was there before is the error,
anything else is undone from the read-back or, failing that, reported as left changed with the state as read
and the commands that finish or undo it.

Deliberately not here: parsing arguments and printing (``tools.failover.cli``), reading and judging Route53
(``tools.failover.zone``, ``tools.failover.answer``).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from components.dns_records import TAG_SWITCHED_OFF, CheckRef, CheckRole, FailoverGroup, Routing, failover_groups
from stacks.model import Topology
from tools.failover.answer import Answer, Match, answers, match
from tools.failover.zone import (
    Check,
    Deadline,
    FailoverError,
    LeftChangedError,
    RefusedError,
    Snapshot,
    UnreachableError,
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


class State(NamedTuple):
    """A switch as Route53 holds it, one value: inverted (off) or not, and this tool's mark (who turned it off).

    Compared whole everywhere (what a command asks, what it reads back, what it restores): a switch turned back
    on that kept its mark is not on as asked, since a later hand inversion would then read as this tool's doing.
    """

    off: bool
    mark: str | None

    def describe(self) -> str:
        if self.off:
            return f"off (marked {self.mark!r})" if self.mark is not None else "off (unmarked)"
        return "on" if self.mark is None else f"on with a leftover mark {self.mark!r}"


ON = State(off=False, mark=None)


@dataclass(frozen=True)
class Switch:
    group: FailoverGroup
    region: str
    check: Check

    @property
    def off(self) -> bool:
        return self.check.inverted

    @property
    def state(self) -> State:
        return State(self.check.inverted, self.check.tags.get(TAG_SWITCHED_OFF))

    @property
    def by_tool(self) -> str | None:
        """Who turned it off, when this tool did (its mark); None when on, or turned off by hand."""
        return self.state.mark if self.off else None


def switches(topology: Topology, found: Match) -> list[Switch]:
    return [
        Switch(g, m, found.checks[CheckRef(CheckRole.SWITCH, m, g.name)]) for g in failover_groups(topology) for m in g.members
    ]


@dataclass(frozen=True)
class Change:
    switch: Switch
    off: bool  # the state after; on also means unmarked

    def wanted(self, mark: str) -> State:
        return State(True, mark) if self.off else ON

    @property
    def turns_on(self) -> bool:
        """Un-inverts the switch (a switch already on only loses a leftover mark, which moves no answer)."""
        return not self.off and self.switch.off

    def describe(self) -> str:
        s = self.switch
        what = "on -> off" if self.off else "off -> on" if s.off else "on: its leftover mark removed"
        return f"  switch {s.check.id} ({s.region} in {s.group.name}): {what}"


@dataclass(frozen=True)
class Step:
    """One Route53 call that moves a switch towards a state, and how a read-back shows it applied."""

    check_id: str
    what: str
    kwargs: dict[str, Any]
    applied: Callable[[State], bool]

    def run(self, r53: Any) -> None:
        fn = r53.update_health_check if "HealthCheckId" in self.kwargs else r53.change_tags_for_resource
        call(fn, **self.kwargs)


def steps(check_id: str, have: State, want: State) -> list[Step]:
    """The calls from ``have`` to ``want``: ending off, the mark is set before inverting; ending on, it is set
    after un-inverting. So every switch this tool inverted carries its mark at every moment in between."""
    tag: list[Step] = []
    if have.mark != want.mark:
        change: dict[str, Any] = (
            {"AddTags": [{"Key": TAG_SWITCHED_OFF, "Value": want.mark}]}
            if want.mark is not None
            else {"RemoveTagKeys": [TAG_SWITCHED_OFF]}
        )
        what = "write its mark" if want.mark is not None else "remove its mark"
        tag.append(
            Step(check_id, what, {"ResourceType": "healthcheck", "ResourceId": check_id, **change},
                 lambda st: st.mark == want.mark)
        )  # fmt: skip
    invert: list[Step] = []
    if have.off != want.off:
        what = "invert it" if want.off else "un-invert it"
        invert.append(Step(check_id, what, {"HealthCheckId": check_id, "Inverted": want.off}, lambda st: st.off == want.off))
    return tag + invert if want.off else invert + tag


def cli(check_id: str, want: State) -> list[str]:
    """The AWS CLI commands that put a switch in ``want`` (in the order ``steps`` uses)."""
    base = ["aws", "route53", "change-tags-for-resource", "--resource-type", "healthcheck", "--resource-id", check_id]
    tag = shlex.join(
        [*base, "--add-tags", f"Key={TAG_SWITCHED_OFF},Value={want.mark}"]
        if want.mark is not None
        else [*base, "--remove-tag-keys", TAG_SWITCHED_OFF]
    )
    invert = f"aws route53 update-health-check --health-check-id {check_id} {'--inverted' if want.off else '--no-inverted'}"
    return [tag, invert] if want.off else [invert, tag]


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


def check_verb(verb_name: str, region: str, domain: str | None, topology: Topology) -> list[FailoverGroup]:
    """The names a verb turns, from the stack alone: a verb the architecture does not have (``promote`` on a latency
    group, ``drain`` on a failover pair) is bad input, refused before any AWS call."""
    groups = groups_for(topology, region, domain)
    for g in groups:
        if g.routing is not VERBS[verb_name].routing:
            raise FailoverError(
                f"{g.name} routes by {g.routing.value}: `{verb_name}` does not apply; use {' or '.join(verbs_for(g.routing))}"
            )
    return groups


def plan(verb_name: str, region: str, domain: str | None, topology: Topology, *, snap: Snapshot, found: Match) -> list[Change]:
    verb = VERBS[verb_name]
    groups = check_verb(verb_name, region, domain, topology)
    by_key = {(s.group.name, s.region): s for s in switches(topology, found)}
    changes: list[Change] = []
    for g in groups:
        for member, on in verb.wants(g, region).items():
            s = by_key[(g.name, member)]
            if (s.state == ON) if on else s.off:
                continue  # already so (off by hand is off too; on means unmarked as well)
            if on and s.off and s.by_tool is None:
                raise RefusedError(
                    f"{member}'s switch for {g.name} was turned off by hand, not by this tool; turn it on yourself if "
                    f"you mean to: aws route53 update-health-check --health-check-id {s.check.id} --no-inverted"
                )
            changes.append(Change(s, not on))
    targets = {region} if verb.expect is _answers_only else set()
    _require_up(found, targets | {c.switch.region for c in changes if c.turns_on}, f"{verb_name} {region} refused")
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
    """Turn on every switch this tool turned off, and remove the marks left on switches already on (a mark on a
    switch someone later inverts by hand would make it read as this tool's); switches turned off by hand are left,
    and said so."""
    changes = []
    for s in switches(topology, found):
        if s.off and s.by_tool is None:
            say(
                f"  left alone: {s.region}'s switch for {s.group.name} was turned off by hand; to undo: "
                f"aws route53 update-health-check --health-check-id {s.check.id} --no-inverted"
            )
        elif s.state != ON:
            changes.append(Change(s, False))
    _require_up(found, {c.switch.region for c in changes if c.turns_on}, "rollback refused")
    return changes


# ----------------------------------------------------------------------------------------- applying


def switch_states(snap: Snapshot) -> dict[str, State]:
    return {
        i: State(c.inverted, c.tags.get(TAG_SWITCHED_OFF))
        for i, c in snap.checks.items()
        if c.ref is not None and c.ref.role is CheckRole.SWITCH
    }


def _differences(have: dict[str, State], want: dict[str, State]) -> list[str]:
    return [
        f"switch {i}: {have[i].describe() if i in have else 'missing'}, not {w.describe()}"
        for i, w in sorted(want.items())
        if have.get(i) != w
    ]


def apply(ctx: Context, changes: list[Change], original: Snapshot, mark: str, retry: str) -> Snapshot:
    """Make the changes and return Route53 as read after, which holds exactly what was asked, switch by switch
    (inversion and mark); otherwise ``settle`` decides from the read-back and raises."""
    have = switch_states(original)
    asked = {c.switch.check.id: c.wanted(mark) for c in changes}
    try:
        for check_id, want in asked.items():
            for step in steps(check_id, have[check_id], want):
                _run(ctx, step)
        after = read(ctx.r53, ctx.topology)
    except FailoverError as exc:
        return settle(ctx, exc, original, asked, retry)
    wrong = _differences(switch_states(after), asked)
    if wrong:
        # Every call was answered as done, yet Route53 does not hold it: the answers were not Route53's truth (a
        # proxy answering in its place) or another writer was at work. The read-back is what counts.
        contradicted = UnreachableError(f"Route53 answered every change as done, but the read-back differs: {'; '.join(wrong)}")
        return settle(ctx, contradicted, original, asked, retry)
    return after


def _run(ctx: Context, step: Step) -> None:
    """One call; when it fails, the read-back says whether Route53 applied it all the same (an answer lost after
    the change, a proxy's page in its place): then it is done, and the next call follows."""
    try:
        step.run(ctx.r53)
    except FailoverError as exc:
        try:
            now = switch_states(read(ctx.r53, ctx.topology)).get(step.check_id)
        except FailoverError:
            raise exc from None  # settle reads back again, with a budget of its own
        if now is None or not step.applied(now):
            raise
        ctx.say(f"  switch {step.check_id}, {step.what}: {exc}; read back, it is applied")


def restore(ctx: Context, original: Snapshot, only: Collection[str] | None = None) -> Snapshot:
    """Put every switch (or those in ``only``) back as ``original`` had it, inversion and mark, judged by what
    Route53 reads back (an undo whose answer was lost may well have been applied); returns the read-back."""
    want = {i: w for i, w in switch_states(original).items() if only is None or i in only}
    failure: FailoverError | None = None
    for _ in range(3):
        now = read(ctx.r53, ctx.topology)
        have = switch_states(now)
        if not _differences(have, want):
            return now
        for check_id, w in want.items():
            if check_id not in have or have[check_id] == w:
                continue
            # Judged by the next read-back, not by the answers; one call at a time in ``steps``' order.
            for step in steps(check_id, have[check_id], w):
                try:
                    step.run(ctx.r53)
                except FailoverError as exc:
                    failure = exc
                    break
    now = read(ctx.r53, ctx.topology)
    wrong = _differences(switch_states(now), want)
    if not wrong:
        return now
    raise failure or LeftChangedError(f"after restoring three times: {'; '.join(wrong)}")


def _back_commands(ctx: Context, original: Snapshot, ids: Collection[str]) -> list[str]:
    """How to return to ``original``: this tool's rollback when no switch was off before (it turns on and unmarks
    every switch this tool marked), else the commands that put each switch in ``ids`` back as it was."""
    states = switch_states(original)
    if not any(w.off for w in states.values()):
        return [f"to return to how it was: {command('rollback', '--stack', ctx.stack_file)}"]
    return [f"to return to how it was: {c}" for i, w in sorted(states.items()) if i in ids for c in cli(i, w)]


def settle(ctx: Context, exc: FailoverError, original: Snapshot, asked: dict[str, State], retry: str) -> Snapshot:
    """After ``exc``, Route53 read back decides, switch by switch (inversion and mark together):

    - it holds what was asked: done (an answer lost after the change was applied is not a failure); returned;
    - it holds what was there before: ``exc``'s class, "as it was";
    - anything else: undone from the read-back to how it was (``exc``'s class, "undone"), or, when that fails or
      Route53 cannot be read, ``LeftChangedError`` (exit 7) with the state as read and the commands that finish
      or undo it.
    """
    ctx.deadline.extend(RECOVERY_SECONDS)
    back = _back_commands(ctx, original, asked)
    try:
        before = read(ctx.r53, ctx.topology)
    except FailoverError as again:
        raise LeftChangedError(
            f"{exc}; then Route53 could not be read back ({again}): whether the change was applied is unknown",
            commands=[
                f"see what Route53 holds: {command('status', '--stack', ctx.stack_file)}",
                f"to finish what was asked: {retry}",
                *back,
            ],
        ) from None
    have = switch_states(before)
    if not _differences(have, asked):
        ctx.say(f"  {exc}; read back, Route53 holds what was asked")
        return before
    if not _differences(have, {i: w for i, w in switch_states(original).items() if i in asked}):
        raise type(exc)(f"{exc}; read back: Route53 is as it was", state=before, commands=[f"to try again: {retry}"])
    try:
        after = restore(ctx, original, asked)
    except FailoverError as again:
        try:
            now = read(ctx.r53, ctx.topology)
        except FailoverError:
            now = before
        raise LeftChangedError(
            f"{exc}; Route53 had changed, and undoing it failed ({again}): it is left as shown below",
            state=now,
            commands=[f"to finish what was asked: {retry}", *back],
        ) from None
    raise type(exc)(
        f"{exc}; the change had been applied in part, and is undone: read back, Route53 is as it was",
        state=after,
        commands=[f"to try again: {retry}"],
    )


def mark(verb: str, region: str) -> str:
    return f"tools.failover {verb} {region} {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


# ----------------------------------------------------------------------------------------- verifying


def group_answers(topology: Topology, snap: Snapshot, found: Match) -> dict[str, list[Answer]]:
    return {n: answers(topology, snap, found.endpoints, n) for g in failover_groups(topology) for n in g.names}


def unchanged(topology: Topology, snap: Snapshot, found: Match) -> str:
    """What a verb that changes nothing says (live and ``--offline`` alike): what the failover names answer."""
    now = group_answers(topology, snap, found)
    said = "; ".join(f"{n} answers with {', '.join(a.regions)}" for n, ans in now.items() for a in ans)
    return f"nothing to change: {said or 'no switch is off'}"


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
