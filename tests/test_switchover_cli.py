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

import pytest

from components.dns_records import TAG_OPERATION, TAG_ROLE
from tests.e2e.cluster import Pki
from tests.failover_zone import Zone
from tests.moto_server import free_port
from tools.switchover import Progress, Step


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


def _tag_switches(z: Zone, progress: Progress) -> None:
    for hc in z.r53.list_health_checks()["HealthChecks"]:
        tags = {
            t["Key"]: t["Value"]
            for t in z.r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=hc["Id"])["ResourceTagSet"]["Tags"]
        }
        if tags.get(TAG_ROLE) == "switch":
            z.r53.change_tags_for_resource(
                ResourceType="healthcheck", ResourceId=hc["Id"], AddTags=[{"Key": TAG_OPERATION, "Value": progress.to_tag()}]
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
