"""Switchover, failover and failback of an active-passive Cluster Linking stack: the mirror-topic steps.

The same operations, progress record, platform hook and Route53 moves as ``tools.switchover.steps`` (whose ``Operation``
runs these steps), with Cluster Linking's semantics in place of MirrorMaker's:

switchover TARGET (from SOURCE):
  checked          both regions' Admin REST APIs answer; every mirror topic of the link from SOURCE into TARGET is
                   ACTIVE and the link is at most ``--max-lag`` messages behind
  fenced           SOURCE refuses application writes and commits (DENY ACLs through its REST API, read back)
  drained          the mirror topics are *promoted*: Confluent stops each one only once it has caught up with the
                   source (and syncs the consumer offsets a last time): read back STOPPED with no lag. Offsets are
                   the source's own, so no group needs translating (no groups-moved step)
  forward-stopped  read back: no mirror topic of the link is mirroring any more
  target-open      TARGET has no write fence
  dns-moved        Route53 answers the shared name with TARGET
  clients-moved    SOURCE's listener refuses clients
  reverse-started  the link TARGET → SOURCE mirrors into SOURCE (``replication.failback_from`` and ``pulumi up``,
                   after SOURCE's old copies of the topics are deleted: a mirror topic is never created over a topic)
failover TARGET: checked (TARGET only), fenced (when SOURCE answers), forward-stopped (the mirror topics are
  *failed over*: mirroring stops at once; what had not arrived stays on SOURCE, printed as the estimated loss),
  target-open, dns-moved, clients-moved.
failback: the link from the promoted side into the primary must be mirroring (the platform step sets it up), then
  a switchover to the primary.

Deliberately not here: REST calls (``.links``), the shared machinery (``tools.switchover.steps``).
"""

from __future__ import annotations

from components.engines.base import FlowRun
from components.engines.cluster_linking.engine import run_of
from components.engines.cluster_linking.links import STOPPED, Links, Mirror
from stacks import naming
from stacks.model import Flow
from tools.failover.zone import RefusedError
from tools.switchover.kafka_admin import KafkaError
from tools.switchover.steps import Operation, Step, say_failed_over, say_rto

# Each operation's steps in order (the runners below run them in this order): what `status` names as the next one.
STEPS: dict[str, tuple[Step, ...]] = {
    "switchover": (
        Step.CHECKED, Step.FENCED, Step.DRAINED, Step.FORWARD_STOPPED, Step.TARGET_OPEN, Step.DNS_MOVED,
        Step.CLIENTS_MOVED, Step.REVERSE_STARTED,
    ),
    "failover": (Step.CHECKED, Step.FENCED, Step.FORWARD_STOPPED, Step.TARGET_OPEN, Step.DNS_MOVED, Step.CLIENTS_MOVED),
}  # fmt: skip
STEPS["failback"] = STEPS["switchover"]


class LinkSteps:
    def __init__(self, o: Operation, links: Links | None = None) -> None:
        self.o = o
        self.links = links or Links(o.access, o.t)

    def run(self, source: str, target: str) -> FlowRun:
        return run_of(self.o.t, Flow(source=source, target=target))

    @property
    def forward(self) -> FlowRun:
        return self.run(self.o.progress.source, self.o.progress.target)

    def mirrors(self, run: FlowRun) -> dict[str, Mirror]:
        """The run's mirror topics in its target (missing ones are left out)."""
        found = self.links.mirrors(run.target, naming.cluster_link(run.source))
        return {t: found[t] for t in run.remote_topics if t in found}

    def _say_lag(self, run: FlowRun, mirrors: dict[str, Mirror]) -> int:
        total = sum(m.lag for m in mirrors.values())
        per = ", ".join(f"{t}: {m.status} lag {m.lag}" for t, m in sorted(mirrors.items()))
        self.o.ctx.say(f"  link {naming.cluster_link(run.source)} into {run.target}: {total} message(s) behind {{{per}}}")
        return total

    # ------------------------------------------------------------------------------------------------ steps

    def check(self, *, planned: bool) -> None:
        o, run = self.o, self.forward
        if not self.links.reachable(run.target):
            raise RefusedError(f"{run.target}'s Admin REST API does not answer: it cannot take over")
        if not planned:
            return
        if not self.links.reachable(run.source):
            raise RefusedError(f"{run.source}'s Kafka does not answer: a switchover needs both; use `failover {run.target}`")
        mirrors = self.mirrors(run)
        idle = sorted(t for t in run.remote_topics if t not in mirrors or mirrors[t].status != "ACTIVE")
        if idle:
            raise RefusedError(f"mirror topics not mirroring into {run.target}: {idle}; fix the link first")
        if self._say_lag(run, mirrors) > o.max_lag:
            raise RefusedError(
                f"the link into {run.target} is more than --max-lag {o.max_lag} messages behind: wait, or raise the bound"
            )

    def fence(self, *, required: bool) -> None:
        run = self.forward
        if not required and not self.links.reachable(run.source):
            self.o.ctx.say(f"  {run.source} does not answer: not fenced (it is being failed over)")
            return
        try:
            if self.links.fenced(run.source, run.topics) is not True:
                self.links.fence(run.source, run.topics, on=True)
            if self.links.fenced(run.source, run.topics) is not True:
                raise KafkaError(f"{run.source}: the write fence did not read back complete")
            self.o.ctx.say(f"  {run.source} refuses application writes and commits (DENY ACLs, read back)")
        except KafkaError as exc:
            if required:
                raise
            self.o.ctx.say(f"  {run.source} could not be fenced ({exc}); continuing: it is being failed over")

    def _stop(self, verb: str) -> dict[str, Mirror]:
        run, link = self.forward, naming.cluster_link(self.forward.source)
        before = self.mirrors(run)
        if any(m.status != STOPPED for m in before.values()):
            act = {"promote": self.links.promote, "failover": self.links.failover}[verb]
            act(run.target, link, run.remote_topics)
        self.o.until(
            f"the mirror topics of {link} to stop ({verb})",
            lambda: (
                all(m.status == STOPPED for m in self.mirrors(run).values()) and len(self.mirrors(run)) == len(run.remote_topics)
            ),
        )
        return before

    def promote(self) -> None:
        before = self._stop("promote")
        self.o.ctx.say(
            f"  promoted {sorted(before)} in {self.forward.target}: each stopped once caught up (read back STOPPED); "
            "offsets are the source's own, consumer offsets synced a last time"
        )

    def stopped(self) -> None:
        run = self.forward
        mirrors = self.mirrors(run)
        if any(m.status != STOPPED for m in mirrors.values()):
            raise KafkaError(f"{run.target}: mirror topics still mirroring after promotion: {sorted(mirrors)}")
        self.o.ctx.say(f"  {run.target}: no mirror topic of {naming.cluster_link(run.source)} mirrors any more (read back)")

    def fail_over(self) -> None:
        before = self._stop("failover")
        lost = {t: m.lag for t, m in before.items() if m.lag}
        self.o.ctx.say(
            f"  failed over {sorted(before)} in {self.forward.target}: mirroring stopped at once; estimated loss "
            f"{sum(lost.values())} message(s) {self.forward.source} held that {self.forward.target} lacked {lost}"
        )

    def open_target_writes(self) -> None:
        run = self.forward
        if self.links.fenced(run.target, run.remote_topics) is not False:
            self.links.fence(run.target, run.remote_topics, on=False)
            if self.links.fenced(run.target, run.remote_topics) is not False:
                raise KafkaError(f"{run.target}: the write fence did not read back removed")
            self.o.ctx.say(f"  {run.target}'s write fence removed")

    def start_reverse(self) -> None:
        o = self.o
        back = self.run(o.progress.target, o.progress.source)
        link = naming.cluster_link(back.source)
        how = (
            f"delete {list(back.remote_topics)} on {back.target} (its copies from before the switch), set "
            f"replication.failback_from: {back.source} in {o.ctx.stack_file} and `pulumi up`"
            if o.t.replication.failback_from is None
            else f"delete {list(back.remote_topics)} on {back.target}, remove replication.failback_from from {o.ctx.stack_file} and `pulumi up`"
        )
        o.platform.do("start-flow", link, f"start cluster link {link} into {back.target} ({how})")
        o.until(f"{link} to mirror into {back.target}", lambda: self._all_active(back))

    def _all_active(self, run: FlowRun) -> bool:
        mirrors = self.mirrors(run)
        return len(mirrors) == len(run.remote_topics) and all(m.status == "ACTIVE" for m in mirrors.values())

    def prepare_failback(self) -> None:
        """The link from the promoted side into the primary must mirror (and be caught up) before the switch."""
        o, run = self.o, self.forward
        o.open_target()
        if self.links.reachable(run.target) and self._all_active(run):
            return
        link = naming.cluster_link(run.source)
        o.platform.do(
            "start-flow",
            link,
            f"start cluster link {link} into {run.target}: delete {list(run.remote_topics)} on {run.target} (what it holds "
            f"that {run.source} never got is lost with them: read it first), set replication.failback_from: {run.source} "
            f"in {o.ctx.stack_file} and `pulumi up`",
        )
        o.until(f"{link} to mirror into {run.target}", lambda: self._all_active(run))
        o.until(f"{link} to catch up within --max-lag", lambda: sum(m.lag for m in self.mirrors(run).values()) <= o.max_lag)


def run_switchover(o: Operation, links: Links | None = None) -> None:
    """switchover TARGET, and failback (which first makes the link into the primary mirror)."""
    s = LinkSteps(o, links)

    o.run_steps(
        STEPS[o.progress.op],
        {
            Step.CHECKED: o.checked(s, planned=True),
            Step.FENCED: lambda: s.fence(required=True),
            Step.DRAINED: s.promote,
            Step.FORWARD_STOPPED: s.stopped,
            Step.TARGET_OPEN: s.open_target_writes,
            Step.REVERSE_STARTED: s.start_reverse,
        },
    )
    if Step.DRAINED in o.times:
        o.ctx.say(
            f"RPO: 0 messages acknowledged on {o.progress.source} and not on {o.progress.target} (promoted at lag 0, "
            "read back by this run)"
        )
    else:
        o.ctx.say(
            "RPO: not measured by this run: an earlier run of it promoted the mirror topics (recorded only once "
            "each was read back STOPPED with no lag)"
        )
    say_rto(o)


def run_failover(o: Operation, links: Links | None = None) -> None:
    s = LinkSteps(o, links)

    o.run_steps(
        STEPS["failover"],
        {
            Step.CHECKED: o.checked(s, planned=False),
            Step.FENCED: lambda: s.fence(required=False),
            Step.FORWARD_STOPPED: s.fail_over,
            Step.TARGET_OPEN: s.open_target_writes,
        },
    )
    say_failed_over(o)
