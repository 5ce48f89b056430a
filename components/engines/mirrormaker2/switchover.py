"""Switchover, failover and failback of an active-passive MirrorMaker 2 stack: the flow's steps.

The same operations, progress record, platform hook and Route53 moves as ``tools.switchover.steps`` (whose
``Operation`` runs these steps), with MirrorMaker 2's semantics: the flow is checked healthy and within
``--max-lag``, the source fenced, the flow drained to every partition's end, each group's offsets translated
(``.records``: MirrorMaker's offset syncs) and set on the target, the reverse flow seeded at the target's log
ends, the forward flow stopped, the target opened; after a failover, a failback first starts the reverse flow
where the primary stops having what the promoted side has. ``STEPS`` is their order.

Deliberately not here: Kafka and Kubernetes calls (``tools.switchover.kafka_admin``, ``.kube_fence``), the
machinery every engine shares (``tools.switchover.steps``), the bodies (``.bodies``).
"""

from __future__ import annotations

from components.engines.mirrormaker2 import plan as mirror_plan
from components.engines.mirrormaker2.records import translate
from stacks import naming
from stacks.model import Flow, registry
from tools.failover.zone import RefusedError
from tools.switchover.kafka_admin import Cluster, KafkaError, Positions
from tools.switchover.kube_fence import KubeAccess, KubeError, KubeFence
from tools.switchover.steps import Operation, Step, _per_partition, _primary, say_failed_over, say_rto

# Each operation's steps in order (the runners below run them in this order): what `status` names as the next one.
STEPS: dict[str, tuple[Step, ...]] = {
    "switchover": (
        Step.CHECKED, Step.FENCED, Step.DRAINED, Step.GROUPS_MOVED, Step.REVERSE_SEEDED, Step.FORWARD_STOPPED,
        Step.TARGET_OPEN, Step.DNS_MOVED, Step.CLIENTS_MOVED, Step.REVERSE_STARTED,
    ),
    "failover": (Step.CHECKED, Step.FENCED, Step.FORWARD_STOPPED, Step.TARGET_OPEN, Step.DNS_MOVED, Step.CLIENTS_MOVED),
}  # fmt: skip
STEPS["failback"] = STEPS["switchover"]


class MirrorSteps:
    """MirrorMaker 2's steps of one operation ``o``."""

    def __init__(self, o: Operation) -> None:
        self.o = o

    def prepare_failback(self) -> None:
        _prepare_failback(self)

    def flow(self, source: str, target: str) -> mirror_plan.FlowPlan:
        return mirror_plan.plan_flow(self.o.t, Flow(source=source, target=target))

    @property
    def forward(self) -> mirror_plan.FlowPlan:
        return self.flow(self.o.progress.source, self.o.progress.target)

    @property
    def reverse(self) -> mirror_plan.FlowPlan:
        return self.flow(self.o.progress.target, self.o.progress.source)

    def check(self, *, planned: bool) -> None:
        src, dst = self.o.cluster(self.o.progress.source), self.o.cluster(self.o.progress.target)
        if not dst.reachable():
            raise RefusedError(
                f"{dst.region}'s Kafka does not answer at {self.o.access.bootstrap[dst.region]}: it cannot take over"
            )
        if not planned:
            return
        if not src.reachable():
            raise RefusedError(f"{src.region}'s Kafka does not answer: a switchover needs both; use `failover {dst.region}`")
        plan_ = self.forward
        connector = self.o.access.deployment.source_connector(plan_)
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
            self.o.until(f"flow {plan_.name} to be healthy", healthy)
        except RefusedError:
            raise RefusedError(f"flow {plan_.name} is not healthy ({'; '.join(problem)}): fix it first") from None
        lag = self.lag(src, dst, plan_)
        total = sum(lag.values())
        self.o.ctx.say(f"  lag of {plan_.name}: {total} record(s) " + _per_partition(lag))
        if total > self.o.max_lag:
            raise RefusedError(f"{plan_.name} is {total} records behind (--max-lag {self.o.max_lag}): wait, or raise the bound")
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
        dst = self.o.cluster(self.o.progress.target)
        listed = {g for g in groups if dst.group_active(g)}
        if not listed or dst.fenced(self.o.t, self.reverse) is not True:
            return listed
        for group in sorted(listed):
            self.o.ctx.say(f"  {group}: members that left fenced {dst.region} are listed until their session times out")
            self.o.until(f"{group}'s members on fenced {dst.region} to time out", lambda: not dst.group_active(group))  # noqa: B023 (called at once)
        return set()

    def lag(self, src: Cluster, dst: Cluster, plan_: mirror_plan.FlowPlan) -> Positions:
        ends, copied = src.end_offsets(plan_.topics), dst.copied(plan_)
        return {tp: max(0, end - copied.get(tp, 0)) for tp, end in ends.items()}

    def set_fence(self, region: str, plan_: mirror_plan.FlowPlan, on: bool) -> str | None:
        """Put (or lift) a region's write fence until Kafka's own ACLs read it back; how, or None if it already was.
        With the region's kubeconfig the rules go into its KafkaUsers and the User Operator makes them ACLs."""
        cluster = self.o.cluster(region)
        path = self.o.access.kubeconfig.get(region)
        if path is not None:
            fence = KubeFence(KubeAccess.load(region, path, self.o.access.timeout), self.o.t, plan_)
            changed = fence.set(on, f"{self.o.progress.op} {self.o.progress.source} -> {self.o.progress.target}")
            if fence.fenced() is not on:
                raise KubeError(
                    f"{region}: the write fence did not read back {'complete' if on else 'removed'} in its KafkaUsers"
                )
            if not changed and cluster.fenced(self.o.t, plan_) is on:
                return None
            self.o.until(
                f"the User Operator to {'create' if on else 'delete'} {region}'s fence ACLs",
                lambda: cluster.fenced(self.o.t, plan_) is on,
            )
            return "its KafkaUsers' specs, then Kafka's ACLs, read back"
        if cluster.fenced(self.o.t, plan_) is on:
            return None
        cluster.fence(self.o.t, plan_, on=on)
        # Created ACLs are committed by the controller before the broker that answers describes them.
        self.o.until(
            f"{region}'s fence ACLs to read back {'complete' if on else 'removed'}", lambda: cluster.fenced(self.o.t, plan_) is on
        )
        return "DENY ACLs through the Admin API, read back"

    def fence(self, *, required: bool) -> None:
        src, plan_ = self.o.cluster(self.o.progress.source), self.forward
        if not required and not src.reachable():
            self.o.ctx.say(f"  {src.region} does not answer: not fenced (it is being failed over)")
            return
        try:
            how = self.set_fence(src.region, plan_, on=True)
            self.o.ctx.say(f"  {src.region} refuses application writes and commits ({how or 'already fenced'})")
        except (KafkaError, KubeError) as exc:
            if required:
                raise
            self.o.ctx.say(f"  {src.region} could not be fenced ({exc}); continuing: it is being failed over")

    def drain(self) -> int:
        src, dst, plan_ = self.o.cluster(self.o.progress.source), self.o.cluster(self.o.progress.target), self.forward
        start = self.lag(src, dst, plan_)
        self.o.until(f"{plan_.name} to copy every partition to its end", lambda: not any(self.lag(src, dst, plan_).values()))
        self.o.ctx.say(f"  drained {sum(start.values())} record(s) in flight at the fence; every partition copied to its end")
        return sum(self.lag(src, dst, plan_).values())

    def move_groups(self) -> None:
        src, dst, plan_ = self.o.cluster(self.o.progress.source), self.o.cluster(self.o.progress.target), self.forward
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
                remote = (self.o.t.remote_topic(plan_.flow, topic), p)
                got = translate(c, ends.get((topic, p), 0), target_ends.get(remote, 0), syncs.get((topic, p), []))
                if got is not None:
                    moved[remote] = got
            if group in live:
                self.o.ctx.say(f"  {group}: members already on {dst.region}; its offsets there are left as they are")
                continue
            dst.set_group_offsets(group, moved)
            if dst.group_offsets(group, plan_.remote_topics) != moved:
                raise KafkaError(f"{dst.region}: {group}'s offsets did not read back as set")
            self.o.ctx.say(
                f"  {group}: committed {_per_partition(committed)} on {src.region} -> {_per_partition(moved)} on {dst.region}"
            )

    def seed_reverse(self, start: Positions) -> None:
        src, rev = self.o.cluster(self.o.progress.source), self.reverse
        src.set_start(rev, start)
        self.o.until(f"{rev.name}'s start positions to read back", lambda: src.copied(rev) == start)
        self.o.ctx.say(f"  {rev.name} will start at {_per_partition(start)}")

    def stop_forward(self) -> None:
        plan_, dst = self.forward, self.o.cluster(self.o.progress.target)
        self.o.ask(
            "stop-flow", plan_.name, f"stop MirrorMaker flow {plan_.name} in {plan_.target} (KafkaMirrorMaker2 "
            f"{plan_.name}: every connector's state: stopped)", done=lambda: not dst.worker_members(plan_),
        )  # fmt: skip
        self.o.until(f"{plan_.name} to have no workers", lambda: not dst.worker_members(plan_))
        # Nothing is copied into TARGET any more, and clients do not write there yet: its log ends are where a
        # later reverse flow must start. Kept on TARGET (the region that survives) as a group's offsets.
        ends = dst.end_offsets(plan_.remote_topics)
        dst.set_group_offsets(naming.reverse_start_group(plan_.target, plan_.source), ends)
        self.o.ctx.say(f"  {plan_.target}'s log ends kept for the reverse flow: {_per_partition(ends)}")

    def start_reverse(self) -> None:
        rev, src = self.reverse, self.o.cluster(self.o.progress.source)
        back = self.o.t.replication.failback_from is None
        how = (f"set replication.failback_from: {rev.source} in {self.o.ctx.stack_file} and `pulumi up`" if back
               else f"remove replication.failback_from from {self.o.ctx.stack_file} and `pulumi up`")  # fmt: skip
        self.o.ask("start-flow", rev.name, f"start MirrorMaker flow {rev.name} ({how})", done=lambda: src.worker_members(rev))
        self.o.until(f"{rev.name} to have workers", lambda: src.worker_members(rev))

    def open_target_writes(self) -> None:
        dst, plan_ = self.o.cluster(self.o.progress.target), self.flow(self.o.progress.target, self.o.progress.source)
        if how := self.set_fence(dst.region, plan_, on=False):
            self.o.ctx.say(f"  {dst.region}'s write fence removed ({how})")
        if registry.enabled(self.o.t):
            self.move_registry_writer()

    def move_registry_writer(self) -> None:
        """TARGET's schema registry assigns schema IDs from now on; SOURCE's only serves reads (``stacks.model.registry``:
        one writer, the region clients write in). A platform action, as the registry is a Kubernetes workload;
        judged by reading back the registry principal's ACLs on TARGET, so a resumed run does not ask again."""
        target, source = self.o.progress.target, self.o.progress.source
        dst = self.o.cluster(target)
        if dst.registry_writer():
            return
        back = _primary(self.o.t) == target
        setting = "remove replication.failback_from" if back else f"set replication.failback_from: {target}"
        self.o.platform.do(
            "registry-writer", target,
            f"make {target}'s schema registry the writer and {source}'s read-only ({setting} in {self.o.ctx.stack_file} "
            f"and `pulumi up`: ApicurioRegistry3 {naming.REGISTRY_RESOURCE} env APICURIO_STORAGE_READ_ONLY_ENABLED, "
            f"and the registry principal's ACLs)",
        )  # fmt: skip
        self.o.until(f"{target}'s schema registry principal to be the writer", dst.registry_writer)
        self.o.ctx.say(f"  {target}'s schema registry is the writer (its principal's ACLs, read back)")


def run_switchover(o: Operation) -> None:
    """switchover TARGET, and failback (which first prepares the flow into the primary)."""
    m = MirrorSteps(o)
    residual: list[int] = []

    o.run_steps(
        STEPS[o.progress.op],
        {
            Step.CHECKED: o.checked(m, planned=True),
            Step.FENCED: lambda: m.fence(required=True),
            Step.DRAINED: lambda: residual.append(m.drain()),
            Step.GROUPS_MOVED: m.move_groups,
            Step.REVERSE_SEEDED: lambda: m.seed_reverse(o.cluster(o.progress.target).end_offsets(m.reverse.topics)),
            Step.FORWARD_STOPPED: m.stop_forward,
            Step.TARGET_OPEN: m.open_target_writes,
            # Clients write on TARGET from here (after dns-moved, clients-moved); the reverse flow starts at the
            # positions seeded above, so starting it now (a pod to schedule, in production) keeps nothing waiting
            # and loses nothing.
            Step.REVERSE_STARTED: m.start_reverse,
        },
    )
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
    m = MirrorSteps(o)

    def fenced() -> None:
        m.fence(required=False)
        # Said within the step, so that the run which records `fenced` is the one that printed it (a run resumed
        # after it says so instead of printing nothing).
        dst, plan_ = o.cluster(o.progress.target), m.forward
        copied = dst.copied(plan_)
        try:
            lag = m.lag(o.cluster(o.progress.source), dst, plan_)
            o.ctx.say(
                f"  estimated loss: {sum(lag.values())} record(s) {o.progress.source} holds that {o.progress.target} lacks {_per_partition(lag)}"
            )
        except KafkaError:
            o.ctx.say(
                f"  estimated loss: unknown ({o.progress.source} does not answer); {o.progress.target} has copied {_per_partition(copied)}"
            )

    o.run_steps(
        STEPS["failover"],
        {
            Step.CHECKED: o.checked(m, planned=False),
            Step.FENCED: fenced,
            Step.FORWARD_STOPPED: m.stop_forward,
            Step.TARGET_OPEN: m.open_target_writes,
        },
        skipped={
            Step.FENCED: lambda: o.ctx.say(
                "  estimated loss: not measured by this run (the earlier run that recorded `fenced` printed it)"
            )
        },
    )
    say_failed_over(o)


def _prepare_failback(m: MirrorSteps) -> None:
    """After a failover: the reverse flow starts where TARGET (the primary) stops having what SOURCE has."""
    o = m.o
    rev_into_primary = m.forward  # SOURCE (promoted) -> TARGET (primary)
    primary = o.cluster(o.progress.target)
    o.open_target()
    if primary.reachable():
        # Back after a failover, it was never fenced: clients still resolving it by an old answer would write
        # records nobody copies, and the consumers it lists from before are gone. Fenced like a switchover leaves
        # its source; the failback lifts it at target-open.
        if how := m.set_fence(primary.region, m.reverse, on=True):
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
    copied = promoted.copied(m.flow(o.progress.target, o.progress.source))
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
        lambda: sum(m.lag(promoted, primary, rev_into_primary).values()) <= o.max_lag,
    )
