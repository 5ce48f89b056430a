"""Moving an active-passive stack's clients and replication between its two regions, on Kafka and in Route53:
``switchover`` (planned, nothing acknowledged lost), ``failover`` (unplanned) and ``failback``; every one
resumable, its progress recorded where it survives either region being down.

Owns: the machinery every engine's steps run on (``Operation``: recording each step, waiting, platform actions, the
Route53 and client moves every engine ends with; each engine's own steps and their order are its ``switchover``
module's, ``engine_steps``), the progress record (``Progress``, a Route53 tag on
both regions' switches, written after each step is done and read back, with the command that last ran it beside
it), what ``status`` says about an operation (``status_lines``: its last step, the next, the exact command that
continues it, how to undo it), what a run prints of RPO and RTO (only what was measured, by it or as recorded), and
the platform actions the tool does not perform itself (``Platform``: stopping and starting a MirrorMaker flow,
closing and opening a region's listener to clients), done by ``--hook`` or, without one, by the operator from the
printed instructions.

switchover TARGET (from the region clients use now, SOURCE):
  checked          TARGET answers; the flow SOURCE → TARGET runs (workers in its group, connectors RUNNING) and
                   its lag is under ``--max-lag`` records
  fenced           SOURCE refuses application writes and commits (``tools.switchover.kafka_admin``: the write fence)
  drained          every mirrored partition is copied to its end (MirrorMaker's committed positions on TARGET)
  groups-moved     each selected group's final offsets on SOURCE, translated, are set on TARGET (exact at the
                   log end; MirrorMaker's rule before it)
  reverse-seeded   the reverse flow TARGET → SOURCE will start at TARGET's log ends: SOURCE already has all of it
  forward-stopped  the flow SOURCE → TARGET has no workers
  target-open      TARGET has no write fence (a former primary keeps one); with a schema registry, TARGET's is the
                   writer and SOURCE's read-only (a platform action: ``move_registry_writer``)
  dns-moved        Route53 answers the shared name with TARGET (``tools.failover.actions``: promote)
  clients-moved    SOURCE's listener refuses clients and cut the connections it carried (a connection the tool
                   holds through it across the close): they rebootstrap, and DNS sends them to TARGET
  reverse-started  the reverse flow has workers (it copies only what clients write on TARGET from now on)
failover TARGET: checked (TARGET only), fenced (when SOURCE answers at all), forward-stopped, target-open,
  dns-moved, clients-moved; the loss is estimated from what SOURCE still says, else from TARGET alone.
failback: back to the primary. After a failover the reverse flow first starts at the offsets TARGET had when the
  forward flow stopped (kept there as the offsets of a group of its own), so the primary gets exactly what it
  lacks; then a switchover.

Running a command again continues after the last step recorded (each step checks by reading back before it acts,
so one interrupted midway is done again safely); another operation is refused until it is finished (a failback
too, while a switchover to the standby is unfinished: its half-done steps are not the start of a switch back).
Steps before dns-moved can be undone by hand; the printed lines say what each did.

Deliberately not here: Kafka calls (``tools.switchover.kafka_admin``), Route53 switches (``tools.failover.actions``),
arguments and printing (``tools.failover.cli``), the client settings that make clients follow (the cluster flavors'
``CLIENT_PROPERTIES``).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Protocol, cast

from components import variants
from components.dns_records import TAG_OPERATION
from stacks.model import Architecture, Topology
from tools.failover.actions import Context, apply, command, group_answers, mark, plan, switches
from tools.failover.zone import FailoverError, RefusedError, call
from tools.switchover.kafka_admin import (
    Cluster,
    KafkaAccess,
    KafkaError,
    Positions,
    WaitingError,
    connection_cut,
    open_connection,
    tcp_open,
)


class Step(StrEnum):
    STARTED = "started"
    CHECKED = "checked"
    FENCED = "fenced"
    DRAINED = "drained"
    GROUPS_MOVED = "groups-moved"
    REVERSE_SEEDED = "reverse-seeded"
    FORWARD_STOPPED = "forward-stopped"
    TARGET_OPEN = "target-open"
    DNS_MOVED = "dns-moved"
    CLIENTS_MOVED = "clients-moved"
    REVERSE_STARTED = "reverse-started"
    DONE = "done"


@dataclass(frozen=True)
class Progress:
    """One operation's progress, as recorded on both regions' switches (JSON within Route53's 256 characters)."""

    op: str
    source: str
    target: str
    step: Step
    started: float  # epoch seconds
    at: float  # when the step was recorded
    # When `fenced` and `clients-moved` were recorded, by whichever run did them: a resumed run measures the
    # write downtime from these, never from its own start (the killed run may have put the fence up long before).
    fenced: float | None = None
    moved: float | None = None

    def to_tag(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, separators=(",", ":"))

    @classmethod
    def from_tag(cls, value: str) -> Progress | None:
        try:
            d = json.loads(value)
            opt = {k: float(d[k]) for k in ("fenced", "moved") if d.get(k) is not None}
            return cls(d["op"], d["source"], d["target"], Step(d["step"]), float(d["started"]), float(d["at"]), **opt)
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        return f"{self.op} {self.source} -> {self.target}: step {self.step.value} ({time.time() - self.at:.0f} s ago)"


# The command that last ran the operation, beside its progress record, so that `status` and a refused command can
# print the exact command that continues it (with the operator's own --kafka file and --hook). Route53 allows 256
# characters per tag value and 10 tags per check (a switch carries 7), so it is split over at most two tags.
TAG_COMMAND = "kafka-multiregion/operation-command"
_COMMAND_TAGS = (TAG_COMMAND, f"{TAG_COMMAND}-2")
_TAG_VALUE_MAX = 256
_PREFIX = "python -m tools.failover "


def command_tags(cmd: str) -> list[dict[str, str]]:
    """The recorded command as tags (without the constant ``python -m tools.failover``); a longer one is cut, and
    reads back marked as cut."""
    args = cmd.removeprefix(_PREFIX)
    room = _TAG_VALUE_MAX * len(_COMMAND_TAGS)
    if len(args) > room:
        args = args[: room - 4] + " ..."
    chunks = [args[i : i + _TAG_VALUE_MAX] for i in range(0, len(args), _TAG_VALUE_MAX)] or [""]
    chunks += [""] * (len(_COMMAND_TAGS) - len(chunks))
    return [{"Key": k, "Value": v} for k, v in zip(_COMMAND_TAGS, chunks, strict=True)]


def command_from_tags(tags: dict[str, str]) -> str | None:
    if TAG_COMMAND not in tags:
        return None
    return _PREFIX + "".join(tags.get(k, "") for k in _COMMAND_TAGS)


class EngineChecks(Protocol):
    """What every engine checks before an operation (see ``Operation.checked``)."""

    def check(self, *, planned: bool) -> None: ...

    def prepare_failback(self) -> None: ...


class EngineSteps(Protocol):
    """What an engine's switchover module answers (``ReplicationEngine.switchover`` names it): each operation's
    steps in order (what `status` names as the next one) and the runners that take them in that order."""

    STEPS: Mapping[str, tuple[Step, ...]]

    def run_switchover(self, o: Operation) -> None: ...  # switchover TARGET, and failback

    def run_failover(self, o: Operation) -> None: ...


def engine_steps(topology: Topology) -> EngineSteps:
    """The topology's engine's steps (imported here, when a switch runs: the program never loads them)."""
    return cast(EngineSteps, importlib.import_module(variants.engine(topology).switchover))


@dataclass(frozen=True)
class Platform:
    """Platform actions: by ``hook`` (a command run as ``HOOK ACTION SUBJECT``), or by the operator (exit 8)."""

    hook: tuple[str, ...] | None
    timeout: float
    retry: str

    def do(self, action: str, subject: str, how: str) -> None:
        if self.hook is None:
            raise WaitingError(f"next step, not done by this tool: {how}; then run again: {self.retry}")
        try:
            done = subprocess.run(
                [*self.hook, action, subject], capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise FailoverError(f"--hook {action} {subject}: {type(exc).__name__}: {exc}") from None
        if done.returncode != 0:
            raise FailoverError(
                f"--hook {action} {subject} exited {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]}"
            )


@dataclass
class Operation:
    ctx: Context
    access: KafkaAccess
    platform: Platform
    max_lag: int
    wait: float  # seconds each waiting step may take
    progress: Progress
    times: dict[Step, float] = field(default_factory=dict)  # steps recorded by this run
    clusters: dict[str, Cluster] = field(default_factory=dict)
    resumed: Step | None = None  # the step an interrupted run had recorded last, when this run continues it

    @property
    def t(self) -> Topology:
        return self.ctx.topology

    def cluster(self, region: str) -> Cluster:
        # One admin connection per region for the whole run (each new one is a TLS and SCRAM handshake).
        if region not in self.clusters:
            self.clusters[region] = Cluster(self.access, region)
        return self.clusters[region]

    def stepper(self) -> Callable[[Step, Callable[[], None]], None]:
        """Runs each step not yet recorded, then records it: running the operation again resumes after the last one."""
        done = list(Step).index(self.progress.step)
        if self.progress.step is Step.STARTED:
            self.record(Step.STARTED)

        def step(s: Step, action: Callable[[], None]) -> None:
            if list(Step).index(s) > done:
                action()
                self.record(s)

        return step

    def checked(self, engine: EngineChecks, *, planned: bool) -> Callable[[], None]:
        """The `checked` step of every engine: a failback first prepares the flow into the primary, then the
        target's listener is open to clients and the engine's checks pass (both regions when ``planned``)."""

        def run() -> None:
            if planned and self.progress.op == "failback":
                engine.prepare_failback()
            self.open_target()
            engine.check(planned=planned)

        return run

    def run_steps(
        self,
        order: tuple[Step, ...],
        actions: Mapping[Step, Callable[[], None]],
        *,
        skipped: Mapping[Step, Callable[[], None]] | None = None,
    ) -> None:
        """Take the engine's steps in ``order`` (its ``STEPS``, which `status` reads too, so both agree): each one
        not yet recorded is done by its action and recorded; Route53's and the clients' moves are every engine's
        own. ``skipped``: what to say for a step an earlier run recorded (this run has nothing of its own then)."""
        step = self.stepper()
        shared = {Step.DNS_MOVED: self.move_dns, Step.CLIENTS_MOVED: self.move_clients}
        for s in order:
            step(s, actions[s] if s in actions else shared[s])
            if skipped and s in skipped and s not in self.times:
                skipped[s]()
        self.record(Step.DONE)

    def record(self, step: Step) -> None:
        """Write the progress record on both regions' switches, and read it back."""
        now = round(time.time(), 3)
        self.progress = replace(self.progress, step=step, at=now)
        if step is Step.FENCED:
            self.progress = replace(self.progress, fenced=now)
        elif step is Step.CLIENTS_MOVED:
            self.progress = replace(self.progress, moved=now)
        self.times[step] = self.progress.at
        _, found = self.ctx.read_matching()
        for s in switches(self.t, found):
            if s.region in (self.progress.source, self.progress.target):
                call(
                    self.ctx.r53.change_tags_for_resource,
                    ResourceType="healthcheck",
                    ResourceId=s.check.id,
                    AddTags=[{"Key": TAG_OPERATION, "Value": self.progress.to_tag()}, *command_tags(self.platform.retry)],
                )
        if read_progress(self.ctx) != self.progress:
            raise FailoverError(f"the progress record did not read back as written after {step.value}; see status")
        # Seconds since the start, and the wall clock (epoch) so client logs can be compared with each step.
        self.ctx.say(f"[{self.progress.at - self.progress.started:7.2f} s, {self.progress.at:.3f}] {step.value}")

    def until(self, what: str, ok: Callable[[], bool]) -> None:
        end = time.monotonic() + self.wait
        for attempt in range(100_000):
            if ok():
                return
            if time.monotonic() > end or self.ctx.deadline.remaining() < 1:
                raise RefusedError(f"gave up waiting {self.wait:.0f} s for {what}; run again to keep waiting")
            time.sleep(min(1.0, 0.1 * (attempt + 1)))

    def ask(self, action: str, subject: str, how: str, *, done: Callable[[], bool]) -> None:
        """A platform step. The hook is asked every time (asking twice is harmless, and a flow's group without
        members for a moment may be a rebalance, not a stop); the operator only until it reads back ``done``:
        they do it and run the same command again, which then goes on (read again: it may not be readable now)."""
        if self.platform.hook is None:
            try:
                if done():
                    return
            except KafkaError:
                pass
        self.platform.do(action, subject, how)

    # ------------------------------------------------------------------------------------- steps

    def open_target(self) -> None:
        region = self.progress.target
        if not tcp_open(self.access.clients[region], 3):
            self.platform.do("open-listener", region, f"open {region}'s external listener to clients again")
            self.until(f"{region}'s listener to accept connections", lambda: tcp_open(self.access.clients[region], 3))

    def move_dns(self) -> None:
        target = self.progress.target
        snap, found = self.ctx.read_matching()
        changes = plan("promote", target, None, self.t, snap=snap, found=found)
        after = (
            apply(
                self.ctx,
                changes,
                snap,
                mark(self.progress.op, target),
                command("promote", target, "--stack", self.ctx.stack_file),
            )
            if changes
            else snap
        )
        from tools.failover.answer import match

        now = group_answers(self.t, after, match(self.t, after))
        for name, ans in now.items():
            if any(a.regions != (target,) for a in ans):
                raise FailoverError(f"Route53 read back: {name} does not answer with {target} alone")
            self.ctx.say(f"  {name} answers with {target} (read back)")

    def move_clients(self) -> None:
        """Close SOURCE's listener to clients, and see that the close is complete: new connections refused *and*
        the connections already made cut. A client rebootstraps only when it has no broker left; one whose
        connection to SOURCE survives the close stays there: SOURCE is fenced but answers its metadata,
        so neither "all brokers down" nor the rebootstrap timer fires (issue 31). With ``--hook`` the tool holds
        a connection of its own through the listener across the close and waits for it to be cut."""
        region = self.progress.source
        where = self.access.clients[region]
        how = (
            f"close {region}'s external listener to clients (its load balancers), refusing new connections and "
            "resetting the ones it carries, so connected clients rebootstrap"
        )
        if self.platform.hook is None:
            # The operator closes it between two runs: no connection of ours can be held across that.
            self.ask("close-listener", region, how, done=lambda: not tcp_open(where, 3))
            self.ctx.say(
                f"  {region}'s listener refuses new connections; the ones it carried: not seen cut (no --hook: "
                "the tool cannot hold one across your action); a close that lets them drain leaves clients on it"
            )
            return
        held = open_connection(where, 3)
        if held is None and self.cluster(region).reachable():
            # Closed already, by an earlier run of this command that was interrupted before it saw that close cut
            # the clients' connections (or by hand): that cannot be known now, so open it again and close it with
            # a connection held. SOURCE is fenced: a client that reconnects meanwhile can neither write nor commit.
            self.ctx.say(f"  {region}'s listener was closed already: opened again, to close it holding a connection")
            self.platform.do("open-listener", region, f"open {region}'s external listener to clients again")
            self.until(f"{region}'s listener to accept connections", lambda: tcp_open(where, 3))
            held = open_connection(where, 3)
        try:
            self.platform.do("close-listener", region, how)
            self.until(f"{region}'s listener to refuse connections", lambda: not tcp_open(where, 3))
            if held is None:
                self.ctx.say(
                    f"  {region}'s listener refuses new connections; {region}'s Kafka does not answer, so no client "
                    "can stay on it"
                )
                return
            try:
                self.until(f"{region}'s listener to cut a connection made before the close", lambda: connection_cut(held, 1))
            except RefusedError:
                raise RefusedError(
                    f"{region}'s listener refuses new connections but kept one made before the close: clients "
                    f"connected through it stay on {region} (fenced) and never rebootstrap; make the close reset "
                    f"established connections (a load balancer's listener removed, not a security group or a "
                    f"target deregistration that lets connections drain), then run again: {self.platform.retry}"
                ) from None
            self.ctx.say(f"  {region}'s listener refuses new connections and cut the ones it carried (read back)")
        finally:
            if held is not None:
                held.close()


def say_rto(o: Operation) -> None:
    """The write downtime and the whole switch's duration, from the times recorded with the progress (by this run
    or by the interrupted one before it); said as not measured when a time was never recorded (a record written
    before these times were kept)."""
    p, by = o.progress, ("this run" if Step.FENCED in o.times else "an earlier run of it")
    if p.fenced is not None and p.moved is not None:
        o.ctx.say(
            f"RTO: {p.moved - p.fenced:.1f} s without writes (the fence, recorded by {by}, to clients moved); "
            f"{p.at - p.started:.1f} s for the whole {p.op}"
            + ("" if o.resumed is None else f" (resumed from step {o.resumed.value})")
        )
    else:
        o.ctx.say(
            "RTO: not measured: when the fence or the clients' move was recorded is not known (recorded by an "
            f"older version of this tool); {p.at - p.started:.1f} s for the whole {p.op}"
        )


def _per_partition(positions: Positions) -> str:
    return "{" + ", ".join(f"{t}/{p}: {o}" for (t, p), o in sorted(positions.items())) + "}"


def read_progress(ctx: Context) -> Progress | None:
    """The newest operation recorded on any switch (both members carry the same record)."""
    found = read_operation(ctx)
    return found[0] if found else None


def read_operation(ctx: Context) -> tuple[Progress, str | None] | None:
    """The newest operation recorded on any switch, and the command that last ran it (None: not recorded)."""
    _, found = ctx.read_matching()
    seen = [
        (p, command_from_tags(dict(s.check.tags)))
        for s in switches(ctx.topology, found)
        if TAG_OPERATION in s.check.tags and (p := Progress.from_tag(s.check.tags[TAG_OPERATION])) is not None
    ]
    return max(seen, key=lambda pc: pc[0].at) if seen else None


def _continue_command(ctx: Context, p: Progress, recorded: str | None) -> str:
    """The exact command that continues ``p``: as it was last run, else its shape with the parts only the
    operator knows left as placeholders."""
    if recorded is not None:
        return recorded
    args = [p.op] + ([] if p.op == "failback" else [p.target])
    return command(*args, "--stack", ctx.stack_file, "--kafka", "KAFKA_FILE") + " [--hook CMD]"


def _undo(t: Topology, p: Progress) -> str:
    """How to undo an unfinished operation, from the last step recorded (no command does it: it is the reverse
    of steps another operator may be about to continue)."""
    steps = engine_steps(t).STEPS.get(p.op, ())
    done = set(steps[: steps.index(p.step) + 1]) if p.step in steps else set()
    if Step.DNS_MOVED in done:
        return (
            f"not by hand: Route53 already sends clients to {p.target}; finish it (the command above), then switch "
            f"back with `switchover {p.source}`" + (" or `failback`" if p.source == _primary(t) else "")
        )
    if Step.FENCED not in done:
        extra = (
            f"; a failback may already have fenced {p.target} and started the flow into it: lift that fence, stop that flow"
            if p.op == "failback"
            else ""
        )
        return f"nothing to undo on Kafka yet{extra}; the record stays until the operation is finished"
    parts = [f"lift {p.source}'s write fence (its DENY ACLs, or the write-fence entries of its KafkaUsers)"]
    if Step.FORWARD_STOPPED in done:
        parts.append(f"start the flow {p.source} -> {p.target} again")
    if Step.TARGET_OPEN in done:
        parts.append(f"fence {p.target} again if it was fenced before")
    return "by hand, before dns-moved only: " + ", ".join(parts) + "; the record stays until the operation is finished"


def status_lines(ctx: Context) -> list[str]:
    """What `status` says about the operation recorded: which, its last step, each region's part, and, while it
    is unfinished, the next step, the exact command that continues it and how it could be undone."""
    found = read_operation(ctx)
    if found is None:
        return []
    p, recorded = found
    lines = [f"operation: {p.describe()}"]
    lines += [f"  {r}: {'leaving' if r == p.source else 'taking over'}, step {p.step.value}" for r in (p.source, p.target)]
    if p.step is Step.DONE:
        return lines
    steps = engine_steps(ctx.topology).STEPS.get(p.op, ())
    after = steps[steps.index(p.step) + 1 :] if p.step in steps else steps
    at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(p.at))
    lines.append(
        f"  UNFINISHED: last step recorded {p.step.value} at {at}; next {after[0].value if after else 'done'} "
        f"(a step interrupted midway is done again)"
    )
    lines.append(f"  continue it: {_continue_command(ctx, p, recorded)}")
    lines.append(f"  undo it: {_undo(ctx.topology, p)}")
    return lines


def _other(topology: Topology, region: str) -> str:
    (primary,) = [r for r in topology.region_names if topology.region(r).role.value == "primary"]
    return topology.failover_secondary if region == primary else primary


def _primary(topology: Topology) -> str:
    return next(r for r in topology.region_names if topology.region(r).role.value == "primary")


def begin(ctx: Context, op: str, target: str, *, access: KafkaAccess, platform: Platform, max_lag: int, wait: float) -> Operation:
    """The operation to run: the one in progress when it is this one, else a new one (refused while another is)."""
    t = ctx.topology
    if t.architecture is not Architecture.ACTIVE_PASSIVE:
        raise FailoverError(
            f"{op} moves an active-passive stack between its regions; {t.architecture.value} uses drain/route-all"
        )
    members = {_primary(t), t.failover_secondary}
    if target not in members:
        raise FailoverError(f"{target} is not one of the shared name's regions: {sorted(members)}")
    last = read_operation(ctx)
    if last is not None and last[0].step is not Step.DONE:
        now, recorded = last
        if (now.op, now.target) != (op, target):
            # One operation at a time, continued by its own command. A failback goes back from a finished switch:
            # the steps of a switchover to the standby that is half done (the primary fenced, groups moved, the
            # forward flow stopped...) are not those of a switch back, so it is finished first (or undone by
            # hand before dns-moved: `status` says how).
            named = f"{now.op}" if now.op == "failback" else f"{now.op} {now.target}"
            why = " (a failback starts from a finished switch)" if op == "failback" else ""
            raise RefusedError(
                f"{now.describe()} is not finished{why}: run `{named}` again to finish it first: "
                f"{_continue_command(ctx, now, recorded)}; `status` says how to undo it instead"
            )
        ctx.say(f"resuming {now.describe()}")
        return Operation(ctx, access, platform, max_lag, wait, now, resumed=now.step)
    snap, found = ctx.read_matching()
    answering = {r for ans in group_answers(t, snap, found).values() for a in ans for r in a.regions}
    if answering == {target}:
        raise RefusedError(f"clients are already sent to {target}: nothing to {op}")
    fresh = Progress(op, _other(t, target), target, Step.STARTED, time.time(), time.time())
    return Operation(ctx, access, platform, max_lag, wait, fresh)


def say_failed_over(o: Operation) -> None:
    """What a finished failover says, whatever the engine: its RTO, and how to come back."""
    resumed = "" if o.resumed is None else f" (resumed from step {o.resumed.value})"
    o.ctx.say(
        f"RTO: {o.progress.at - o.progress.started:.1f} s from the start until clients are sent to {o.progress.target}" + resumed
    )
    o.ctx.say(f"to bring {o.progress.source} back: {command('failback', '--stack', o.ctx.stack_file)}")
