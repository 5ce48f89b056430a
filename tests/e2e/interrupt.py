"""Test support: ``tools.failover`` killed with SIGKILL at a chosen point of a switch operation, as an operator's
bad day kills it (the terminal closed, the host lost): ``python -m tests.e2e.interrupt POINT ARGS...``.

Owns: where the kill lands, in the tool's own process and at a point named by a step, so every run of a matrix
hits the same place whatever the machine's speed:

- ``after:STEP``: right after STEP's progress record is written and read back on Route53;
- ``mid:STEP``: in the middle of STEP: right after its first change returns (a fence's ACLs created, a group's
  offsets set, a flow's start positions written, a platform action done by the hook, Route53 changed), before it
  is read back; a step that changes nothing (it only checks or waits) is killed once its checks pass, just
  before it would be recorded.

SIGKILL: no handler runs, no ``finally``, nothing flushed but what the tool already flushed (it prints with
``flush=True``); the hook's processes it had started and waited for are done. The exit status seen by the test is
-9. Deliberately not here: choosing the points and judging the outcome (``test_interruptions.py``).
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from tools.failover import cli as failover
from tools.switchover import kafka_admin
from tools.switchover import steps as switchover


def _die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(point: str) -> None:
    when, _, name = point.partition(":")
    target = switchover.Step(name)
    if when not in ("after", "mid"):
        raise SystemExit(f"unknown kill point {point!r}: after:STEP or mid:STEP")
    current: list[switchover.Step | None] = [None]

    # The step being run: set by the operation's stepper just before it runs a step's action.
    stepper = switchover.Operation.stepper

    def tracking(o: switchover.Operation) -> Callable[[switchover.Step, Callable[[], None]], None]:
        step = stepper(o)

        def run(s: switchover.Step, action: Callable[[], None]) -> None:
            def act() -> None:
                current[0] = s
                action()

            step(s, act)

        return run

    switchover.Operation.stepper = tracking  # type: ignore[method-assign]

    record = switchover.Operation.record

    def recording(self: switchover.Operation, step: switchover.Step) -> None:
        if when == "mid" and step is target:
            print(f"[interrupt] killed in {step.value}: its checks passed, not recorded", flush=True)
            _die()
        record(self, step)
        if when == "after" and step is target:
            print(f"[interrupt] killed after {step.value} was recorded", flush=True)
            _die()

    switchover.Operation.record = recording  # type: ignore[method-assign]
    if when != "mid":
        return

    def killing(fn: Callable[..., Any], what: str) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            out = fn(*args, **kwargs)
            if current[0] is target:
                print(f"[interrupt] killed in {target.value}, after {what}", flush=True)
                _die()
            return out

        return wrapper

    # Every call of the operations that changes something (the rest only read).
    kafka_admin.Cluster.fence = killing(kafka_admin.Cluster.fence, "a fence change")  # type: ignore[method-assign]
    kafka_admin.Cluster.set_group_offsets = killing(kafka_admin.Cluster.set_group_offsets, "a group's offsets set")  # type: ignore[method-assign]
    kafka_admin.Cluster.set_start = killing(kafka_admin.Cluster.set_start, "a flow's start positions written")  # type: ignore[method-assign]
    switchover.Platform.do = killing(switchover.Platform.do, "the hook's platform action")  # type: ignore[method-assign]
    switchover.apply = killing(switchover.apply, "the Route53 change")


def main(argv: list[str]) -> int:
    install(argv[0])
    return failover.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
