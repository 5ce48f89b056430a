"""``clients-moved`` on real Kafka: the tool says a switch is done only once no client can stay on the old primary.

A client rebootstraps only when it has no broker left. One whose connection to the old primary outlives the close
of its listener stays there: the old primary is fenced but answers its metadata, so neither "all brokers
down" nor the rebootstrap timer (``metadata.recovery.rebootstrap.trigger.ms``) ever fires (issue 31: a Python
consumer stayed on the fenced old primary after a resumed switchover; the estate's load balancer had forwarded,
for good, a connection made as it closed). Here the close is one that keeps the connections already made (a
security group changed, targets deregistered with a drain): every client keeps its connections to the old
primary. The tool must not record ``clients-moved`` (before issue 31 it did, and said done while no consumer was
back on the target); run again with a close that cuts them, it re-opens the listener it cannot vouch for, closes it
holding a connection of its own, sees that connection cut, and finishes; then every consumer is back on the target
within the bound the README states.
"""

from __future__ import annotations

import time

from tests.e2e.estate import PRIMARY, SECONDARY, Estate
from tests.e2e.test_switchover import STEADY, Traffic, _step_times, _wait_idle, _wait_replicating, namespaces  # noqa: F401

# Seconds after the tool says done within which every client is consuming on the target (docs/failover.md): the
# shared name's TTL (here the hosts file follows Route53 within a second or two) plus a rebootstrap and a group
# join; generous for a machine shared with other tests.
BACK_WITHIN = 30.0


def wait_back(traffic: Traffic, moved: float, until: float) -> dict[str, float | None]:
    """``back_on_target``, polled until every consumer is back or the epoch ``until`` has passed."""
    while True:
        back = back_on_target(traffic, moved)
        if all(t is not None for t in back.values()) or time.time() > until:
            return back
        time.sleep(1)


def back_on_target(traffic: Traffic, moved: float) -> dict[str, float | None]:
    """Per consumer, when it first processed a record acknowledged after ``moved`` (only the target acknowledges
    then): it is consuming on the target from that moment."""
    after = {k for k, t in traffic.acked().items() if t > moved}
    out: dict[str, float | None] = {}
    for i, kind in enumerate(("python", "java")):
        times = [float(e[2]) for e in traffic.consumed(i) if e[1] in after]
        out[kind] = min(times) if times else None
    return out


def test_a_close_that_keeps_connections_is_not_taken_for_clients_moved(tmp_path, libs, namespaces):  # noqa: F811
    estate = Estate(tmp_path, libs)
    try:
        estate.start()
        estate.hook("start-flow", estate.plan(PRIMARY, SECONDARY).name)
        traffic = Traffic(estate, "k")
        _wait_replicating(estate, SECONDARY)
        time.sleep(STEADY)

        # --wait 35: how long the tool waits for its connection to be cut (and for the hook: MirrorMaker's stop).
        rc, out, _ = estate.tool("switchover", SECONDARY, hook="tests.e2e.keep_hook", wait=35)
        if rc == 0:  # what the tool did before issue 31: done, with the clients still on the fenced old primary
            steps = _step_times(out)
            done = steps["done"]
            back = wait_back(traffic, steps["clients-moved"], done + BACK_WITHIN + 5)
            assert all(t is not None and t - done <= BACK_WITHIN for t in back.values()), (
                f"the tool said done, yet consumers were not back on {SECONDARY} within {BACK_WITHIN} s: {back}"
            )
        assert rc == 4, out
        assert f"{PRIMARY}'s listener refuses new connections but kept one made before the close" in out, out
        assert "clients-moved" not in _step_times(out), out
        rc, status, _ = estate.tool("status")
        assert f"operation: switchover {PRIMARY} -> {SECONDARY}: step dns-moved" in status, status

        rc, out, _ = estate.tool("switchover", SECONDARY)
        assert rc == 0, out
        assert f"{PRIMARY}'s listener refuses new connections and cut the ones it carried (read back)" in out, out
        steps = _step_times(out)
        done = steps["done"]
        back = wait_back(traffic, steps["clients-moved"], done + BACK_WITHIN + 5)
        print(f"\n[e2e] clients-moved: consumers back on {SECONDARY}, seconds after done: "
              + ", ".join(f"{k}={None if t is None else round(t - done, 2)}" for k, t in back.items()), flush=True)  # fmt: skip
        for kind, t in back.items():
            assert t is not None and t - done <= BACK_WITHIN, (kind, back)
        traffic.stop_producers()
        _wait_idle([log for log, _ in traffic.producers], 3, 60)
        _wait_idle([log for log, _ in traffic.consumers], 5, 90)
        traffic.stop_consumers()
        acked = set(traffic.acked())
        for i, kind in enumerate(("python", "java")):
            missed = acked - {e[1] for e in traffic.consumed(i)}
            assert not missed, f"{kind} consumer never processed {len(missed)} acknowledged records"
    finally:
        estate.stop()
