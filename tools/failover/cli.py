"""Fail a stack over, and back, through Route53 health-check switches: ``python -m tools.failover``.

    status    --stack FILE                        what each name answers now, and why (endpoints, switches)
    promote   REGION --stack FILE [--dry-run]     active-passive: clients go to REGION (the primary or secondary)
    drain     REGION --stack FILE [--domain D]    latency names (active-active, a partitioned domain's names):
                                                  stop answering with REGION
    route-all REGION --stack FILE [--domain D]    latency names: answer with REGION only
    rollback  --stack FILE [--dry-run]            turn back on every switch this tool turned off
    drill     VERB REGION --stack FILE            VERB, verify, roll back, verify; time each step
    switchover REGION --stack FILE --kafka FILE [--hook CMD]   active-passive, planned: nothing acknowledged lost
    failover   REGION --stack FILE --kafka FILE [--hook CMD]   active-passive, unplanned: the estimated loss printed
    failback   --stack FILE --kafka FILE [--hook CMD]          back to the primary (``tools.switchover``)

    status, promote, drain, route-all ... --offline [--down REGION]...
        no AWS: from the stack alone, which switches the verb would turn and what each name would then answer,
        with every switch on and every endpoint healthy, or those named down (``tools.failover.offline``)

Every name several regions answer has, per region, a *switch* (a health check Route53 always calls healthy
until this tool inverts it) and a *gate* (healthy when the region's endpoint check and its switch both are),
which its record uses (``components.dns_records``). Failing over turns switches off, whatever the region's real
health; turning one back on is refused while that region's endpoint check says it is down. Before acting, the
zone must match the stack exactly, and the answer the change would produce (computed from the whole zone) must
be what the verb promises; afterwards Route53 is read back and shown as read. Records are never edited.

Every call is bounded (``--call-timeout`` per attempt, three attempts, ``--deadline`` for the command), and
an answer counts only when it is Route53's by its content (the XML document of the call's type), whatever its
HTTP status. A change succeeds only when Route53 read back holds what was asked, switch by switch, inversion and
``kafka-multiregion/switched-off-by`` mark together. After any error (or a read-back that differs) Route53 is
read back and decides: holding what was asked, the command is done (an answer lost after Route53 applied the
change is not a failure); holding what was there before, the error's class; anything in between is undone
from the read-back, and if that fails, exit 7. The state as read and the commands that finish or undo it are
printed. Exit status, one per class:

    0  done, read back as asked (or nothing to do)
    1  a drill did not verify                4  refused: acting would not do what was asked (target down...)
    2  bad input (arguments, stack file)     5  AWS refused: credentials, profile, permissions, throttling
    3  the zone does not match the stack     6  AWS unreachable or not the API: closed port, timeout, deadline,
                                                answers that are not Route53's, a change not read back as asked
                                                (Route53 read back as it was)
    7  Route53 left changed, or not readable: run the printed commands
    8  waiting for a step the operator does (no --hook): do it, then run the same command again
    9  Kafka refused or did not answer in time (switchover, failover, failback)
   10  Kubernetes refused or did not answer in time (the write fence in KafkaUsers, with "kubeconfig" in --kafka)

Deliberately not here: creating DNS (the Pulumi program does); reading and judging Route53
(``tools.failover.zone``, ``tools.failover.answer``); what each verb changes (``tools.failover.actions``); the
zone a stack declares, for ``--offline`` (``tools.failover.offline``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from components.dns_records import failover_groups, records, regional
from stacks.loader import TopologyError, load_topology
from stacks.model import Topology
from tools.failover.actions import (
    VERBS,
    Context,
    Switch,
    apply,
    check_verb,
    command,
    dns_answer,
    endpoint_up,
    group_answers,
    mark,
    plan,
    plan_rollback,
    restore,
    switches,
    unchanged,
    wait_until,
)
from tools.failover.answer import Match, answers, match
from tools.failover.zone import EXIT_DRILL_FAILED, Deadline, FailoverError, LeftChangedError, RefusedError, Snapshot, client, read
from tools.switchover import steps as switchover
from tools.switchover.kafka_admin import KafkaAccess

if TYPE_CHECKING:
    from tools.plan.harness import Recording

# How --offline gets the program's declared DNS: the program run under mocks, for (stack file, its topology).
Record = Callable[[str, Topology], "Recording"]


def shared_names(topology: Topology) -> list[str]:
    """Names clients use that are not one region's own (those always answer with that region)."""
    own = {r.name for r in regional(topology)}
    return sorted({r.name for r in records(topology) if r.name not in own})


def _switch_word(s: Switch) -> str:
    if not s.off:
        # A mark on a switch that is on is a leftover: inverted by hand later, it would read as this tool's.
        return "on" if s.state.mark is None else f"on (leftover mark {s.state.mark!r}: rollback removes it)"
    return f"OFF ({s.by_tool})" if s.by_tool else "OFF (by hand)"


def state_lines(topology: Topology, snap: Snapshot, found: Match) -> list[str]:
    """Route53 as read: each region's endpoint, each switch, and what each name answers against the intent."""
    lines = [f"zone {topology.route53.zone} ({snap.zone_id}), environment {topology.environment}"]
    for region in topology.region_names:
        up = endpoint_up(found, region)
        lines.append(f"  {region}: endpoint " + {True: "healthy", False: "DOWN", None: "health unknown (assumed healthy)"}[up])
    bound = _bound_switches(topology, found)
    for g in failover_groups(topology):
        members = ", ".join(f"{s.region} {_switch_word(s)}" for s in bound if s.group == g)
        lines.append(f"  {g.name} ({g.routing.value}) switches: {members or 'missing'}")
    # What the stack means: every switch on, every endpoint up.
    intended = snap.assuming({s.check.id: False for s in bound}, all_up=True)
    why = [f"{s.region} switched off" for s in bound if s.off]
    why += [f"{r} is down" for r in topology.region_names if endpoint_up(found, r) is False]
    for name in shared_names(topology):
        now_all = answers(topology, snap, found.endpoints, name)
        for now, meant in zip(now_all, answers(topology, intended, found.endpoints, name), strict=True):
            where = f" [{now.location}]" if now.location else ""
            verdict = (
                "as intended"
                if now.regions == meant.regions
                else f"FAILED OVER (intended {', '.join(meant.regions)}: {', '.join(why)})"
            )
            down = " (every record unhealthy: Route53 answers as if all were healthy)" if now.all_unhealthy else ""
            said = ", ".join(now.regions) or ", ".join(now.values) or "nothing"
            lines.append(f"{name}{where} answers with {said}: {verdict}{down}")
    return lines


def _bound_switches(topology: Topology, found: Match) -> list[Switch]:
    try:
        return switches(topology, found)
    except KeyError:
        return []  # some switch is missing: the differences say which


# ----------------------------------------------------------------------------------------- commands


def status(ctx: Context) -> int:
    snap = read(ctx.r53, ctx.topology)
    found = match(ctx.topology, snap)
    for line in state_lines(ctx.topology, snap, found):
        ctx.say(line)
    for note in found.ignored:
        ctx.say(f"  ignored: {note}, tagged for this environment but not declared by the stack")
    for d in found.differences:
        ctx.say(f"  differs: {d}")
    if not found.differences:
        for line in switchover.status_lines(ctx):
            ctx.say(line)
    if found.differences:
        ctx.say(f"the zone does not match {ctx.stack_file}: failover commands refuse until it does (`pulumi up`)")
        return 3
    return 0


def change(ctx: Context, verb: str, region: str | None, *, domain: str | None, dry_run: bool, argv: list[str]) -> int:
    snap, found = ctx.read_matching()
    if verb == "rollback":
        changes = plan_rollback(ctx.topology, found, ctx.say)
    else:
        assert region is not None
        changes = plan(verb, region, domain, ctx.topology, snap=snap, found=found)
    if not changes:
        ctx.say(unchanged(ctx.topology, snap, found))
        return 0
    ctx.say(f"{'would change' if dry_run else 'changing'} {len(changes)} switch(es):")
    for c in changes:
        ctx.say(c.describe())
    if dry_run:
        return 0
    after = apply(ctx, changes, snap, mark(verb, region or "all"), command(*argv))
    ctx.say("done; Route53 read back:")
    for line in state_lines(ctx.topology, after, match(ctx.topology, after)):
        ctx.say(line)
    if verb != "rollback":
        ctx.say(f"undo with: {command('rollback', '--stack', ctx.stack_file)}")
    return 0


def drill(ctx: Context, verb: str, region: str, domain: str | None, timeout: float) -> int:
    t = ctx.topology
    snap, found = ctx.read_matching()
    changes = plan(verb, region, domain, t, snap=snap, found=found)
    if not changes:
        raise RefusedError(f"nothing to drill: `{verb} {region}` would change nothing (it is already so); roll back first")
    before = group_answers(t, snap, found)
    names = sorted({n for c in changes for n in c.switch.group.names})
    timings: list[tuple[str, float]] = []
    start = time.monotonic()
    apply(ctx, changes, snap, mark(f"drill-{verb}", region), command("rollback", "--stack", ctx.stack_file))
    timings.append((verb, time.monotonic() - start))

    def promised(s: Snapshot, m: Match) -> bool:
        return all(VERBS[verb].expect(a, region) for n in names for a in answers(t, s, m.endpoints, n))

    start = time.monotonic()
    ok, now = wait_until(ctx, promised, timeout)
    ok &= _ask_route53(ctx, now, names)
    timings.append((f"verify {verb}" + ("" if ok else " (FAILED)"), time.monotonic() - start))
    for line in state_lines(t, now, match(t, now)):
        ctx.say(f"  {line}")
    start = time.monotonic()
    try:
        restore(ctx, snap)
    except FailoverError as exc:
        raise LeftChangedError(
            f"drill: rolling back failed ({exc}); the stack is left after `{verb} {region}`",
            commands=[f"roll back: {command('rollback', '--stack', ctx.stack_file)}"],
        ) from None
    timings.append(("roll back", time.monotonic() - start))
    start = time.monotonic()
    back, now = wait_until(ctx, lambda s, m: group_answers(t, s, m) == before, timeout)
    timings.append(("verify restored" + ("" if back else " (FAILED)"), time.monotonic() - start))
    for step, seconds in timings:
        ctx.say(f"  {step:<24} {seconds * 1000:8.1f} ms")
    if ok and back:
        ctx.say("drill passed")
        return 0
    ctx.say("drill FAILED: Route53 would not answer as promised in time; status shows why")
    return EXIT_DRILL_FAILED


def _ask_route53(ctx: Context, snap: Snapshot, names: list[str]) -> bool:
    """Against real AWS, Route53's own TestDNSAnswer must agree with the computed answer."""
    found = match(ctx.topology, snap)
    ok = True
    for name in names:
        got = dns_answer(ctx, snap.zone_id, name)
        if got is None:
            ctx.say("  TestDNSAnswer: not offered by this endpoint; verified from the zone alone")
            return True
        allowed = {v for a in answers(ctx.topology, snap, found.endpoints, name) for v in a.values}
        ctx.say(f"  TestDNSAnswer {name}: {', '.join(got)}")
        ok &= bool(got) and set(got) <= allowed
    return ok


# ----------------------------------------------------------------------------------------- entry


def _epilog() -> str:
    """What ``--help`` says about outcomes and exit statuses: the module docstring's paragraph on them (which the
    table of exit statuses in docs/failover.md repeats), so the two cannot drift apart."""
    doc = __doc__ or ""
    start, end = doc.find("Every call is bounded"), doc.find("Deliberately not here")
    return doc[start:end].replace("``", "").rstrip() if 0 <= start < end else ""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stack", required=True, help="the stack file, e.g. stacks/prod.yaml")
    common.add_argument(
        "--call-timeout", type=float, default=10.0, help="seconds per attempt to connect and to read (default 10)"
    )
    common.add_argument("--deadline", type=float, default=120.0, help="seconds for the whole command (default 120)")
    epilog, raw = _epilog(), argparse.RawDescriptionHelpFormatter  # the verbs that change Route53 say what follows
    parser = argparse.ArgumentParser(
        prog="python -m tools.failover", description="Route53 failover for a stack.", epilog=epilog, formatter_class=raw
    )
    offline = argparse.ArgumentParser(add_help=False)
    offline.add_argument(
        "--offline",
        action="store_true",
        help="read nothing: the zone as the stack declares it (every switch on), what the verb would turn and what "
        "each name would then answer",
    )
    offline.add_argument(
        "--down",
        action="append",
        default=[],
        metavar="REGION",
        help="with --offline: take REGION's endpoint as down (repeatable)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status", parents=[common, offline])
    for verb in VERBS:
        p = sub.add_parser(verb, parents=[common, offline], epilog=epilog, formatter_class=raw)
        p.add_argument("region")
        p.add_argument("--domain", help="partitioned domain: only this domain's name")
        p.add_argument("--dry-run", action="store_true", help="print the changes, make none")
    sub.add_parser("rollback", parents=[common], epilog=epilog, formatter_class=raw).add_argument(
        "--dry-run", action="store_true", help="print the changes, make none"
    )
    d = sub.add_parser("drill", parents=[common], epilog=epilog, formatter_class=raw)
    d.add_argument("verb", choices=list(VERBS))
    d.add_argument("region")
    d.add_argument("--domain", help="partitioned domain: only this domain's name")
    d.add_argument(
        "--timeout", type=float, default=None, help="seconds to wait for Route53 to answer as promised (default: the RTO)"
    )
    for name in ("switchover", "failover", "failback"):
        p = sub.add_parser(name, parents=[common])
        if name != "failback":
            p.add_argument("region")
        p.add_argument(
            "--kafka",
            required=True,
            help="JSON: password_file, ca_file[, username, mirror_deployment, bootstrap, clients, rest (Cluster Linking)]",
        )
        p.add_argument(
            "--hook", help="command run as `HOOK ACTION SUBJECT` for stop-flow, start-flow, close-listener, open-listener"
        )
        p.add_argument(
            "--max-lag", type=int, default=100_000, help="records a flow may be behind to start a switch (default 100000)"
        )
        p.add_argument("--wait", type=float, default=None, help="seconds each waiting step may take (default: the RTO)")
    return parser


def kafka_operation(ctx: Context, args: argparse.Namespace, argv: list[str]) -> int:
    t = ctx.topology
    target = args.region if args.command != "failback" else next(r for r in t.region_names if t.region(r).role.value == "primary")
    wait = args.wait if args.wait is not None else float(t.rto_seconds)
    access = KafkaAccess.load(args.kafka, t, args.call_timeout)
    hook = tuple(shlex.split(args.hook)) if args.hook else None
    platform = switchover.Platform(hook, wait, command(*argv))
    op = switchover.begin(ctx, args.command, target, access=access, platform=platform, max_lag=args.max_lag, wait=wait)
    ctx.say(f"{args.command} {op.progress.source} -> {op.progress.target}")
    steps = switchover.engine_steps(t)  # the engine's steps (its failover semantics)
    (steps.run_failover if args.command == "failover" else steps.run_switchover)(op)
    return 0


def run(argv: list[str], say: Callable[[str], None], record: Record | None = None) -> int:
    """The command ``argv``; ``record`` runs the program under mocks for ``--offline`` (tests pass a shared one)."""
    args = _parser().parse_args(argv)
    topology = load_topology(args.stack)
    if topology.dns is None:
        raise FailoverError(
            f"{args.stack} has no dns section: its DNS is managed elsewhere, so failover is that system's to do, not Route53's"
        )
    region = getattr(args, "region", None)
    if region is not None and region not in topology.region_names:
        raise FailoverError(f"region {region!r} is not in {args.stack}; use one of {list(topology.region_names)}")
    for named in getattr(args, "down", []):
        if named not in topology.region_names:
            raise FailoverError(f"--down {named!r} is not a region of {args.stack}; use one of {list(topology.region_names)}")
    verb = args.verb if args.command == "drill" else args.command
    if verb in VERBS:  # the verb against the architecture, from the stack alone: exit 2 with no AWS call
        check_verb(verb, args.region, getattr(args, "domain", None), topology)
    if getattr(args, "offline", False):
        return offline(args, topology, say, record or _record)
    if getattr(args, "down", []):
        raise FailoverError("--down is for --offline; without it, whether an endpoint is down is what Route53's checkers observe")
    timeout = args.timeout if getattr(args, "timeout", None) is not None else float(topology.rto_seconds)
    waits = 12 * (getattr(args, "wait", None) or timeout) if args.command in ("switchover", "failover", "failback") else 0
    deadline = Deadline(args.deadline + (2 * timeout if args.command == "drill" else 0) + waits)
    ctx = Context(client(args.call_timeout, deadline), topology, args.stack, deadline, say)
    if args.command == "status":
        return status(ctx)
    if args.command == "drill":
        return drill(ctx, args.verb, args.region, args.domain, timeout)
    if args.command in ("switchover", "failover", "failback"):
        return kafka_operation(ctx, args, argv)
    return change(ctx, args.command, region, domain=getattr(args, "domain", None), dry_run=args.dry_run, argv=argv)


def _record(stack_file: str, topology: Topology) -> Recording:
    from tools.plan.harness import run_program  # the Pulumi SDK is loaded for --offline only

    return run_program(stack_file, topology)


def offline(args: argparse.Namespace, topology: Topology, say: Callable[[str], None], record: Record) -> int:
    """``status`` or a verb on the zone the stack declares (``tools.failover.offline``): the live tool's plan, refusals
    and answers, with nothing read and nothing changed."""
    from tools.failover import offline as failover_offline

    down = sorted(set(args.down))
    snap = failover_offline.declared_zone(record(args.stack, topology), down)
    found = match(topology, snap)
    if found.differences:  # the program's own records and checks: a difference is this tool's defect
        raise RuntimeError(f"the declared zone does not match the stack: {'; '.join(found.differences)}")
    health = f"every endpoint healthy but {', '.join(down)} (--down)" if down else "every endpoint healthy"
    say(f"offline: Route53 as `pulumi up` declares it for {args.stack}, nothing read: every switch on, {health}")
    if args.command == "status":
        for line in state_lines(topology, snap, found):
            say(line)
        return 0
    changes = plan(args.command, args.region, args.domain, topology, snap=snap, found=found)
    if not changes:
        say(unchanged(topology, snap, found))
        return 0
    say(f"would change {len(changes)} switch(es):")
    for c in changes:
        say(c.describe())
    after = failover_offline.after(snap, changes, f"tools.failover {args.command} {args.region}")
    say("afterwards:")
    for line in state_lines(topology, after, match(topology, after)):
        say(line)
    return 0


def _report(exc: FailoverError, topology_file: str | None) -> None:
    print(f"error: {exc}", file=sys.stderr)
    if exc.state is not None and topology_file:
        topology = load_topology(topology_file)
        print("Route53 as read back:", file=sys.stderr)
        for line in state_lines(topology, exc.state, match(topology, exc.state)):
            print(f"  {line}", file=sys.stderr)
    for c in exc.commands:
        print(c, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv

    def say(line: str) -> None:
        print(line, flush=True)

    stack = argv[argv.index("--stack") + 1] if "--stack" in argv[:-1] else None
    try:
        return run(argv, say)
    except TopologyError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except FailoverError as exc:
        _report(exc, stack)
        return exc.status
    except KeyboardInterrupt:
        print(
            f"error: interrupted; Route53 may be half-changed: {command('status', '--stack', stack or 'FILE')}", file=sys.stderr
        )
        return LeftChangedError.status
    except Exception as exc:
        if os.environ.get("KMR_DEBUG"):
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {exc} (a bug in tools.failover; KMR_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        print(f"see what Route53 holds: {command('status', '--stack', stack or 'FILE')}", file=sys.stderr)
        return LeftChangedError.status


if __name__ == "__main__":
    sys.exit(main())
