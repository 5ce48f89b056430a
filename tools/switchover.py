"""Moving an active-passive stack's clients and replication between its two regions, on Kafka and in Route53:
``switchover`` (planned, nothing acknowledged lost), ``failover`` (unplanned) and ``failback``; every one
resumable, its progress recorded where it survives either region being down.

Owns: the steps of each operation and their order (``STEPS``), the progress record (``Progress``, a Route53 tag on
both regions' switches, written after each step is done and read back, with the command that last ran it beside
it), what ``status`` says about an operation (``status_lines``: its last step, the next, the exact command that
continues it, how to undo it), what a run prints of RPO and RTO (only what was measured, by it or as recorded), and
the platform actions the tool does not perform itself (``Platform``: stopping and starting a MirrorMaker flow,
closing and opening a region's listener to clients), done by ``--hook`` or, without one, by the operator from the
printed instructions.

switchover TARGET (from the region clients use now, SOURCE):
  checked          TARGET answers; the flow SOURCE → TARGET runs (workers in its group, connectors RUNNING) and
                   its lag is under ``--max-lag`` records
  fenced           SOURCE refuses application writes and commits (``tools.kafka_admin``: the write fence)
  drained          every mirrored partition is copied to its end (MirrorMaker's committed positions on TARGET)
  groups-moved     each selected group's final offsets on SOURCE, translated, are set on TARGET (exact at the
                   log end; MirrorMaker's rule before it)
  reverse-seeded   the reverse flow TARGET → SOURCE will start at TARGET's log ends: SOURCE already has all of it
  forward-stopped  the flow SOURCE → TARGET has no workers
  target-open      TARGET has no write fence (a former primary keeps one); with a schema registry, TARGET's is the
                   writer and SOURCE's read-only (a platform action: ``move_registry_writer``)
  dns-moved        Route53 answers the shared name with TARGET (``tools.failover_actions``: promote)
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

Deliberately not here: Kafka calls (``tools.kafka_admin``), Route53 switches (``tools.failover_actions``),
arguments and printing (``tools.failover``), the client settings that make clients follow (the cluster flavors'
``CLIENT_PROPERTIES``).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum

from components import mirror
from components.dns_records import TAG_OPERATION
from stacks import naming, registry
from stacks.model import Architecture, Flow, Topology
from tools.failover_actions import Context, apply, command, group_answers, mark, plan, switches
from tools.kafka_admin import (
    Cluster,
    KafkaAccess,
    KafkaError,
    Positions,
    WaitingError,
    connection_cut,
    open_connection,
    tcp_open,
)
from tools.kube_fence import KubeAccess, KubeError, KubeFence
from tools.mirror_records import translate
from tools.route53_zone import FailoverError, RefusedError, call


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


# Each operation's steps in order, per replication engine (the runners below and in ``tools.switchover_links``
# run them in this order): what `status` names as the next one.
STEPS: dict[tuple[str, str], tuple[Step, ...]] = {
    ("mirrormaker2", "switchover"): (
        Step.CHECKED, Step.FENCED, Step.DRAINED, Step.GROUPS_MOVED, Step.REVERSE_SEEDED, Step.FORWARD_STOPPED,
        Step.TARGET_OPEN, Step.DNS_MOVED, Step.CLIENTS_MOVED, Step.REVERSE_STARTED,
    ),
    ("cluster-linking", "switchover"): (
        Step.CHECKED, Step.FENCED, Step.DRAINED, Step.FORWARD_STOPPED, Step.TARGET_OPEN, Step.DNS_MOVED,
        Step.CLIENTS_MOVED, Step.REVERSE_STARTED,
    ),
    **{
        (engine, "failover"): (
            Step.CHECKED, Step.FENCED, Step.FORWARD_STOPPED, Step.TARGET_OPEN, Step.DNS_MOVED, Step.CLIENTS_MOVED,
        )
        for engine in ("mirrormaker2", "cluster-linking")
    },
}  # fmt: skip
STEPS[("mirrormaker2", "failback")] = STEPS[("mirrormaker2", "switchover")]
STEPS[("cluster-linking", "failback")] = STEPS[("cluster-linking", "switchover")]


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

    def flow(self, source: str, target: str) -> mirror.FlowPlan:
        return mirror.plan_flow(self.t, Flow(source=source, target=target))

    @property
    def forward(self) -> mirror.FlowPlan:
        return self.flow(self.progress.source, self.progress.target)

    @property
    def reverse(self) -> mirror.FlowPlan:
        return self.flow(self.progress.target, self.progress.source)

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

    def check(self, *, planned: bool) -> None:
        src, dst = self.cluster(self.progress.source), self.cluster(self.progress.target)
        if not dst.reachable():
            raise RefusedError(
                f"{dst.region}'s Kafka does not answer at {self.access.bootstrap[dst.region]}: it cannot take over"
            )
        if not planned:
            return
        if not src.reachable():
            raise RefusedError(f"{src.region}'s Kafka does not answer: a switchover needs both; use `failover {dst.region}`")
        plan_ = self.forward
        connector = self.access.deployment.source_connector(plan_)
        problem: list[str] = []

        def healthy() -> bool:
            # Workers in the flow's group, and its source connector and every task RUNNING as last recorded (a
            # worker that just started records RUNNING a few seconds after it joins).
            states = {k: v for k, v in dst.connector_states(plan_).items() if connector in k}
            problem[:] = [f"{k}: {v}" for k, v in sorted(states.items()) if v != "RUNNING"] or ([] if states else ["no status"])
            if not dst.worker_members(plan_):
                problem.append("no worker in its group")
            return not problem

        try:
            self.until(f"flow {plan_.name} to be healthy", healthy)
        except RefusedError:
            raise RefusedError(f"flow {plan_.name} is not healthy ({'; '.join(problem)}): fix it first") from None
        lag = self.lag(src, dst, plan_)
        total = sum(lag.values())
        self.ctx.say(f"  lag of {plan_.name}: {total} record(s) " + _per_partition(lag))
        if total > self.max_lag:
            raise RefusedError(f"{plan_.name} is {total} records behind (--max-lag {self.max_lag}): wait, or raise the bound")
        # Before the fence, while clients still write: waiting here costs no write downtime.
        self.wait_departed(src.groups(plan_))

    def wait_departed(self, groups: list[str]) -> set[str]:
        """Wait until a fenced target lists no members in ``groups``; the groups with members it keeps (live ones,
        on a target that is not fenced).

        A fenced cluster refuses its applications' heartbeats and LeaveGroup alike (DENY Read on every group), so
        consumers that left it while it was fenced (a failback soon after a switchover) stay listed until their
        session times out (45 s by default). They are gone, not live, but their group's offsets cannot be moved
        while they are listed; left as they are, the group would re-read everything since it left.
        """
        dst = self.cluster(self.progress.target)
        listed = {g for g in groups if dst.group_active(g)}
        if not listed or dst.fenced(self.t, self.reverse) is not True:
            return listed
        for group in sorted(listed):
            self.ctx.say(f"  {group}: members that left fenced {dst.region} are listed until their session times out")
            self.until(f"{group}'s members on fenced {dst.region} to time out", lambda: not dst.group_active(group))  # noqa: B023 (called at once)
        return set()

    def lag(self, src: Cluster, dst: Cluster, plan_: mirror.FlowPlan) -> Positions:
        ends, copied = src.end_offsets(plan_.topics), dst.copied(plan_)
        return {tp: max(0, end - copied.get(tp, 0)) for tp, end in ends.items()}

    def set_fence(self, region: str, plan_: mirror.FlowPlan, on: bool) -> str | None:
        """Put (or lift) a region's write fence until Kafka's own ACLs read it back; how, or None if it already was.
        With the region's kubeconfig the rules go into its KafkaUsers and the User Operator makes them ACLs."""
        cluster = self.cluster(region)
        path = self.access.kubeconfig.get(region)
        if path is not None:
            fence = KubeFence(KubeAccess.load(region, path, self.access.timeout), self.t, plan_)
            changed = fence.set(on, f"{self.progress.op} {self.progress.source} -> {self.progress.target}")
            if fence.fenced() is not on:
                raise KubeError(
                    f"{region}: the write fence did not read back {'complete' if on else 'removed'} in its KafkaUsers"
                )
            if not changed and cluster.fenced(self.t, plan_) is on:
                return None
            self.until(
                f"the User Operator to {'create' if on else 'delete'} {region}'s fence ACLs",
                lambda: cluster.fenced(self.t, plan_) is on,
            )
            return "its KafkaUsers' specs, then Kafka's ACLs, read back"
        if cluster.fenced(self.t, plan_) is on:
            return None
        cluster.fence(self.t, plan_, on=on)
        # Created ACLs are committed by the controller before the broker that answers describes them.
        self.until(
            f"{region}'s fence ACLs to read back {'complete' if on else 'removed'}", lambda: cluster.fenced(self.t, plan_) is on
        )
        return "DENY ACLs through the Admin API, read back"

    def fence(self, *, required: bool) -> None:
        src, plan_ = self.cluster(self.progress.source), self.forward
        if not required and not src.reachable():
            self.ctx.say(f"  {src.region} does not answer: not fenced (it is being failed over)")
            return
        try:
            how = self.set_fence(src.region, plan_, on=True)
            self.ctx.say(f"  {src.region} refuses application writes and commits ({how or 'already fenced'})")
        except (KafkaError, KubeError) as exc:
            if required:
                raise
            self.ctx.say(f"  {src.region} could not be fenced ({exc}); continuing: it is being failed over")

    def drain(self) -> int:
        src, dst, plan_ = self.cluster(self.progress.source), self.cluster(self.progress.target), self.forward
        start = self.lag(src, dst, plan_)
        self.until(f"{plan_.name} to copy every partition to its end", lambda: not any(self.lag(src, dst, plan_).values()))
        self.ctx.say(f"  drained {sum(start.values())} record(s) in flight at the fence; every partition copied to its end")
        return sum(self.lag(src, dst, plan_).values())

    def move_groups(self) -> None:
        src, dst, plan_ = self.cluster(self.progress.source), self.cluster(self.progress.target), self.forward
        ends, target_ends = src.end_offsets(plan_.topics), dst.end_offsets(plan_.remote_topics)
        syncs = dst.offset_syncs(plan_)
        groups = src.groups(plan_)
        live = self.wait_departed(groups)  # waited at `checked`, before the fence; a run resumed after it waits here
        for group in groups:
            committed = src.group_offsets(group, plan_.topics)
            if not committed:
                continue
            moved: Positions = {}
            for (topic, p), c in sorted(committed.items()):
                remote = (self.t.remote_topic(plan_.flow, topic), p)
                got = translate(c, ends.get((topic, p), 0), target_ends.get(remote, 0), syncs.get((topic, p), []))
                if got is not None:
                    moved[remote] = got
            if group in live:
                self.ctx.say(f"  {group}: members already on {dst.region}; its offsets there are left as they are")
                continue
            dst.set_group_offsets(group, moved)
            if dst.group_offsets(group, plan_.remote_topics) != moved:
                raise KafkaError(f"{dst.region}: {group}'s offsets did not read back as set")
            self.ctx.say(
                f"  {group}: committed {_per_partition(committed)} on {src.region} -> {_per_partition(moved)} on {dst.region}"
            )

    def seed_reverse(self, start: Positions) -> None:
        src, rev = self.cluster(self.progress.source), self.reverse
        src.set_start(rev, start)
        self.until(f"{rev.name}'s start positions to read back", lambda: src.copied(rev) == start)
        self.ctx.say(f"  {rev.name} will start at {_per_partition(start)}")

    def stop_forward(self) -> None:
        plan_, dst = self.forward, self.cluster(self.progress.target)
        self.ask(
            "stop-flow", plan_.name, f"stop MirrorMaker flow {plan_.name} in {plan_.target} (KafkaMirrorMaker2 "
            f"{plan_.name}: every connector's state: stopped)", done=lambda: not dst.worker_members(plan_),
        )  # fmt: skip
        self.until(f"{plan_.name} to have no workers", lambda: not dst.worker_members(plan_))
        # Nothing is copied into TARGET any more, and clients do not write there yet: its log ends are where a
        # later reverse flow must start. Kept on TARGET (the region that survives) as a group's offsets.
        ends = dst.end_offsets(plan_.remote_topics)
        dst.set_group_offsets(naming.reverse_start_group(plan_.target, plan_.source), ends)
        self.ctx.say(f"  {plan_.target}'s log ends kept for the reverse flow: {_per_partition(ends)}")

    def start_reverse(self) -> None:
        rev, src = self.reverse, self.cluster(self.progress.source)
        back = self.t.replication.failback_from is None
        how = (f"set replication.failback_from: {rev.source} in {self.ctx.stack_file} and `pulumi up`" if back
               else f"remove replication.failback_from from {self.ctx.stack_file} and `pulumi up`")  # fmt: skip
        self.ask("start-flow", rev.name, f"start MirrorMaker flow {rev.name} ({how})", done=lambda: src.worker_members(rev))
        self.until(f"{rev.name} to have workers", lambda: src.worker_members(rev))

    def open_target_writes(self) -> None:
        dst, plan_ = self.cluster(self.progress.target), self.flow(self.progress.target, self.progress.source)
        if how := self.set_fence(dst.region, plan_, on=False):
            self.ctx.say(f"  {dst.region}'s write fence removed ({how})")
        if registry.enabled(self.t):
            self.move_registry_writer()

    def move_registry_writer(self) -> None:
        """TARGET's schema registry assigns schema IDs from now on; SOURCE's only serves reads (``stacks.registry``:
        one writer, the region clients write in). A platform action, as the registry is a Kubernetes workload;
        judged by reading back the registry principal's ACLs on TARGET, so a resumed run does not ask again."""
        target, source = self.progress.target, self.progress.source
        dst = self.cluster(target)
        if dst.registry_writer():
            return
        back = _primary(self.t) == target
        setting = "remove replication.failback_from" if back else f"set replication.failback_from: {target}"
        self.platform.do(
            "registry-writer", target,
            f"make {target}'s schema registry the writer and {source}'s read-only ({setting} in {self.ctx.stack_file} "
            f"and `pulumi up`: ApicurioRegistry3 {naming.REGISTRY_RESOURCE} env APICURIO_STORAGE_READ_ONLY_ENABLED, "
            f"and the registry principal's ACLs)",
        )  # fmt: skip
        self.until(f"{target}'s schema registry principal to be the writer", dst.registry_writer)
        self.ctx.say(f"  {target}'s schema registry is the writer (its principal's ACLs, read back)")

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
        from tools.route53_answer import match

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
    steps = STEPS.get((t.replication.engine, p.op), ())
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
    steps = STEPS.get((ctx.topology.replication.engine, p.op), ())
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


def _stepper(o: Operation) -> Callable[[Step, Callable[[], None]], None]:
    """Runs each step not yet recorded, then records it: running the operation again resumes after the last one."""
    done = list(Step).index(o.progress.step)
    if o.progress.step is Step.STARTED:
        o.record(Step.STARTED)

    def step(s: Step, action: Callable[[], None]) -> None:
        if list(Step).index(s) > done:
            action()
            o.record(s)

    return step


def run_switchover(o: Operation) -> None:
    """switchover TARGET, and failback (which first prepares the flow into the primary)."""

    def checked() -> None:
        if o.progress.op == "failback":
            prepare_failback(o)
        o.open_target()
        o.check(planned=True)

    step = _stepper(o)

    step(Step.CHECKED, checked)
    step(Step.FENCED, lambda: o.fence(required=True))
    residual: list[int] = []
    step(Step.DRAINED, lambda: residual.append(o.drain()))
    step(Step.GROUPS_MOVED, o.move_groups)
    step(Step.REVERSE_SEEDED, lambda: o.seed_reverse(o.cluster(o.progress.target).end_offsets(o.reverse.topics)))
    step(Step.FORWARD_STOPPED, o.stop_forward)
    step(Step.TARGET_OPEN, o.open_target_writes)
    step(Step.DNS_MOVED, o.move_dns)
    step(Step.CLIENTS_MOVED, o.move_clients)
    # Clients write on TARGET from here; the reverse flow starts at the positions seeded above, so starting it
    # now (a pod to schedule, in production) keeps nothing waiting and loses nothing.
    step(Step.REVERSE_STARTED, o.start_reverse)
    o.record(Step.DONE)
    if residual:
        o.ctx.say(f"RPO: {residual[0]} record(s) acknowledged on {o.progress.source} and not on {o.progress.target} "
                  "(measured by this run after the drain)")  # fmt: skip
    else:
        # The drain was read back by the run that recorded it; this one has nothing of its own to report.
        o.ctx.say(
            "RPO: not measured by this run: an earlier run of it drained the flow (it records `drained` only "
            f"once every partition of {o.progress.source} is copied to its end on {o.progress.target})"
        )
    say_rto(o)


def run_failover(o: Operation) -> None:

    step = _stepper(o)

    def checked() -> None:
        o.open_target()
        o.check(planned=False)

    def fenced() -> None:
        o.fence(required=False)
        # Said within the step, so that the run which records `fenced` is the one that printed it (a run resumed
        # after it says so instead of printing nothing).
        dst, plan_ = o.cluster(o.progress.target), o.forward
        copied = dst.copied(plan_)
        try:
            lag = o.lag(o.cluster(o.progress.source), dst, plan_)
            o.ctx.say(
                f"  estimated loss: {sum(lag.values())} record(s) {o.progress.source} holds that {o.progress.target} lacks {_per_partition(lag)}"
            )
        except KafkaError:
            o.ctx.say(
                f"  estimated loss: unknown ({o.progress.source} does not answer); {o.progress.target} has copied {_per_partition(copied)}"
            )

    step(Step.CHECKED, checked)
    step(Step.FENCED, fenced)
    if o.resumed is not None and Step.FENCED not in o.times:
        o.ctx.say("  estimated loss: not measured by this run (the earlier run that recorded `fenced` printed it)")
    step(Step.FORWARD_STOPPED, o.stop_forward)
    step(Step.TARGET_OPEN, o.open_target_writes)
    finish_failover(o, step)


def finish_failover(o: Operation, step: Callable[[Step, Callable[[], None]], None]) -> None:
    """A failover's last steps, the same for every engine: DNS and clients move, then what to do next."""
    step(Step.DNS_MOVED, o.move_dns)
    step(Step.CLIENTS_MOVED, o.move_clients)
    o.record(Step.DONE)
    resumed = "" if o.resumed is None else f" (resumed from step {o.resumed.value})"
    o.ctx.say(
        f"RTO: {o.progress.at - o.progress.started:.1f} s from the start until clients are sent to {o.progress.target}" + resumed
    )
    o.ctx.say(f"to bring {o.progress.source} back: {command('failback', '--stack', o.ctx.stack_file)}")


def prepare_failback(o: Operation) -> None:
    """After a failover: the reverse flow starts where TARGET (the primary) stops having what SOURCE has."""
    rev_into_primary = o.forward  # SOURCE (promoted) -> TARGET (primary)
    primary = o.cluster(o.progress.target)
    o.open_target()
    if primary.reachable():
        # Back after a failover, it was never fenced: clients still resolving it by an old answer would write
        # records nobody copies, and the consumers it lists from before are gone. Fenced like a switchover leaves
        # its source; the failback lifts it at target-open.
        if how := o.set_fence(primary.region, o.reverse, on=True):
            o.ctx.say(f"  {primary.region} refuses application writes and commits until the failback opens it ({how})")
        if primary.worker_members(rev_into_primary):
            return
    promoted = o.cluster(o.progress.source)
    start = promoted.group_offsets(
        naming.reverse_start_group(rev_into_primary.source, rev_into_primary.target), rev_into_primary.topics
    )
    if not start:
        raise RefusedError(
            f"{o.progress.source} keeps no record of where its copies from {o.progress.target} end: the reverse flow's "
            f"start is unknown; rebuild {o.progress.target} (empty its topics) and start {rev_into_primary.name} from the beginning"
        )
    kept = primary.end_offsets(rev_into_primary.topics)
    copied = promoted.copied(o.flow(o.progress.target, o.progress.source))
    tail = {tp: (copied.get(tp, 0), end) for tp, end in kept.items() if end > copied.get(tp, 0)}
    if tail:
        o.ctx.say(f"  {o.progress.target} holds records {o.progress.source} never got (offset ranges): "
                  + ", ".join(f"{t}/{p}: [{a}, {b})" for (t, p), (a, b) in sorted(tail.items())))  # fmt: skip
    primary.set_start(rev_into_primary, start)
    o.until(f"{rev_into_primary.name}'s start positions", lambda: primary.copied(rev_into_primary) == start)
    o.ctx.say(f"  {rev_into_primary.name} will start at {_per_partition(start)} (the records written since the failover)")
    o.platform.do("start-flow", rev_into_primary.name, f"start MirrorMaker flow {rev_into_primary.name} (set replication.failback_from: "
                  f"{o.progress.source} in {o.ctx.stack_file} and `pulumi up`)")  # fmt: skip
    o.until(f"{rev_into_primary.name} to have workers", lambda: primary.worker_members(rev_into_primary))
    o.until(
        f"{rev_into_primary.name} to catch up within --max-lag",
        lambda: sum(o.lag(promoted, primary, rev_into_primary).values()) <= o.max_lag,
    )
