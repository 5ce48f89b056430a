"""``switchover``, ``failover`` and ``failback`` of ``python -m tools.failover`` where Kafka is not needed to judge
them: bad input, the wrong architecture, a cluster that does not answer, and the progress record in Route53 (an
operation in progress is shown by ``status`` and refuses another). The Kafka side is proved on real brokers by
``tests/e2e/test_switchover.py``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from components.dns_records import TAG_OPERATION, TAG_ROLE
from tests.e2e.cluster import Pki
from tests.failover_zone import Zone
from tests.moto_server import free_port
from tools.switchover import steps as switchover
from tools.switchover.steps import Progress, Step, command_from_tags, command_tags


@pytest.fixture
def kafka_file(tmp_path: Path) -> Path:
    """An access file whose clusters are a closed port: nothing answers."""
    pw = tmp_path / "pw"
    pw.write_text("secret")
    (tmp_path / "ca.crt").write_text(Pki(tmp_path).ca_cert)
    closed = f"127.0.0.1:{free_port()}"
    path = tmp_path / "kafka.json"
    path.write_text(
        json.dumps(
            {
                "password_file": str(pw),
                "ca_file": str(tmp_path / "ca.crt"),
                "bootstrap": {"us-east-1": closed, "us-west-2": closed},
            }
        )
    )
    return path


def _tag_switches(z: Zone, progress: Progress, command: str | None = None) -> None:
    extra = command_tags(command) if command else []
    for hc in z.r53.list_health_checks()["HealthChecks"]:
        tags = {
            t["Key"]: t["Value"]
            for t in z.r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=hc["Id"])["ResourceTagSet"]["Tags"]
        }
        if tags.get(TAG_ROLE) == "switch":
            z.r53.change_tags_for_resource(
                ResourceType="healthcheck",
                ResourceId=hc["Id"],
                AddTags=[{"Key": TAG_OPERATION, "Value": progress.to_tag()}, *extra],
            )


def test_bad_input_is_one_line_and_exit_2(zone: Callable[..., Zone], tmp_path: Path) -> None:
    z = zone("stacks/dev.yaml")
    code, text, _ = z.run("switchover", "us-west-2", "--kafka", str(tmp_path / "missing.json"))
    assert code == 2 and text.startswith("error: --kafka") and len(text.strip().splitlines()) == 1, text
    code, text, _ = z.run("switchover", "us-west-2")
    assert code == 2 and "--kafka" in text, text
    wrong = tmp_path / "kafka.json"
    wrong.write_text(json.dumps({"password_file": "/dev/null", "ca_file": "/dev/null", "kubeconfig": {"eu-west-9": "k"}}))
    code, text, _ = z.run("switchover", "us-west-2", "--kafka", str(wrong))
    assert code == 2 and "kubeconfig names regions not in the stack: ['eu-west-9']" in text, text


def test_an_active_active_stack_has_no_switchover(zone: Callable[..., Zone], kafka_file: Path) -> None:
    z = zone("stacks/prod.yaml")
    code, text, _ = z.run("switchover", "us-east-1", "--kafka", str(kafka_file))
    assert code == 2 and "moves an active-passive stack" in text, text


def test_a_target_that_does_not_answer_is_refused_in_bounded_time(zone: Callable[..., Zone], kafka_file: Path) -> None:
    z = zone("stacks/dev.yaml")
    code, text, seconds = z.run("switchover", "us-west-2", "--kafka", str(kafka_file), "--hook", "true", "--wait", "2")
    assert code == 4 and "gave up waiting 2 s for us-west-2's listener to accept connections" in text, text
    assert seconds < 30
    code, text, _ = z.run("status")
    assert "operation: switchover us-east-1 -> us-west-2: step started" in text, text
    assert "dev.kafka.example.com answers with us-east-1: as intended" in text


def test_an_operation_in_progress_is_shown_and_refuses_another(zone: Callable[..., Zone], kafka_file: Path) -> None:
    z = zone("stacks/dev.yaml")
    now = time.time()
    _tag_switches(z, Progress("switchover", "us-east-1", "us-west-2", Step.DRAINED, now - 30, now - 5))
    code, text, _ = z.run("status")
    assert code == 0 and "operation: switchover us-east-1 -> us-west-2: step drained" in text, text
    assert "us-east-1: leaving, step drained" in text and "us-west-2: taking over, step drained" in text
    code, text, _ = z.run("failover", "us-east-1", "--kafka", str(kafka_file))
    assert code == 4 and "is not finished: run `switchover us-west-2` again to finish it first" in text, text


def test_without_a_hook_a_platform_step_waits_for_the_operator(zone: Callable[..., Zone], kafka_file: Path) -> None:
    """A resumed failover whose next step is the operator's prints it and exits 8; Route53 is left as it was."""
    z = zone("stacks/dev.yaml")
    now = time.time()
    _tag_switches(z, Progress("failover", "us-east-1", "us-west-2", Step.FENCED, now - 30, now - 5))
    before = z.switches()
    code, text, _ = z.run("failover", "us-west-2", "--kafka", str(kafka_file))
    assert code == 8 and "next step, not done by this tool: stop MirrorMaker flow mm2-us-east-1-to-us-west-2" in text, text
    assert "then run again: python -m tools.failover failover us-west-2" in text
    assert z.switches() == before


def test_status_of_an_unfinished_operation_names_its_step_and_the_command_that_continues_it(
    zone: Callable[..., Zone], kafka_file: Path
) -> None:
    """Issue 31: the operation, the last step recorded, the next one, the exact command that continues it (as the
    operator last ran it, with their --kafka file and --hook), and how it could be undone instead."""
    z = zone("stacks/dev.yaml")
    now = time.time()
    cmd = f"python -m tools.failover switchover us-west-2 --stack stacks/dev.yaml --kafka {kafka_file} --hook './hook.sh'"
    _tag_switches(z, Progress("switchover", "us-east-1", "us-west-2", Step.DRAINED, now - 30, now - 5, fenced=now - 20), cmd)
    code, text, _ = z.run("status")
    assert code == 0, text
    assert "operation: switchover us-east-1 -> us-west-2: step drained" in text, text
    assert "UNFINISHED: last step recorded drained at " in text and "; next groups-moved" in text, text
    assert f"  continue it: {cmd}\n" in text, text
    assert "undo it: by hand, before dns-moved only: lift us-east-1's write fence" in text, text
    assert "start the flow" not in text  # the forward flow was not stopped yet


def test_status_without_a_recorded_command_shows_its_shape(zone: Callable[..., Zone]) -> None:
    """A record written before the command was kept beside it: the command with the operator's parts named."""
    z = zone("stacks/dev.yaml")
    now = time.time()
    _tag_switches(z, Progress("failover", "us-east-1", "us-west-2", Step.DNS_MOVED, now - 30, now - 5))
    code, text, _ = z.run("status")
    assert code == 0, text
    assert "; next clients-moved" in text, text
    assert (
        "continue it: python -m tools.failover failover us-west-2 --stack " in text and "--kafka KAFKA_FILE [--hook CMD]" in text
    )
    assert "undo it: not by hand: Route53 already sends clients to us-west-2" in text, text


def test_failback_is_refused_while_a_switchover_to_the_standby_is_unfinished(zone: Callable[..., Zone], kafka_file: Path) -> None:
    """A failback starts from a finished switch: the half-done switchover is finished first (its own command, as
    recorded), or undone by hand as `status` says; Route53 is left as it was."""
    z = zone("stacks/dev.yaml")
    now = time.time()
    cmd = "python -m tools.failover switchover us-west-2 --stack stacks/dev.yaml --kafka k.json --hook h"
    _tag_switches(z, Progress("switchover", "us-east-1", "us-west-2", Step.FENCED, now - 30, now - 5), cmd)
    before = z.switches()
    code, text, _ = z.run("failback", "--kafka", str(kafka_file))
    assert code == 4, text
    assert "is not finished (a failback starts from a finished switch): run `switchover us-west-2` again to finish" in text
    assert f"finish it first: {cmd}; `status` says how to undo it instead" in text, text
    assert z.switches() == before


def test_the_recorded_command_fits_route53_tags() -> None:
    """At most two tags of 256 characters; what does not fit is cut and reads back marked as cut."""
    short = "python -m tools.failover failback --stack s.yaml --kafka k.json"
    tags = command_tags(short)
    assert all(len(t["Value"]) <= 256 for t in tags) and len(tags) == 2
    assert command_from_tags({t["Key"]: t["Value"] for t in tags}) == short
    long = "python -m tools.failover failback --stack " + "x" * 600
    back = command_from_tags({t["Key"]: t["Value"] for t in command_tags(long)})
    assert back is not None and back.endswith(" ...") and len(back) < len(long)
    assert command_from_tags({}) is None


def test_a_resumed_run_prints_the_rto_from_recorded_times_and_says_whose() -> None:
    """The write downtime runs from the fence recorded by the interrupted run to the clients' move, whoever
    recorded them; without those times it says it did not measure it."""
    said: list[str] = []
    p = Progress("switchover", "us-east-1", "us-west-2", Step.DONE, 1000.0, 1300.0, fenced=1010.0, moved=1250.0)
    op = SimpleNamespace(
        progress=p, times={Step.CLIENTS_MOVED: 1250.0}, resumed=Step.TARGET_OPEN, ctx=SimpleNamespace(say=said.append)
    )
    switchover.say_rto(op)  # type: ignore[arg-type]
    assert said == [
        "RTO: 240.0 s without writes (the fence, recorded by an earlier run of it, to clients moved); 300.0 s "
        "for the whole switchover (resumed from step target-open)"
    ]
    said.clear()
    op.progress = Progress("switchover", "us-east-1", "us-west-2", Step.DONE, 1000.0, 1300.0)
    switchover.say_rto(op)  # type: ignore[arg-type]
    assert said[0].startswith("RTO: not measured: when the fence or the clients' move was recorded is not known")
