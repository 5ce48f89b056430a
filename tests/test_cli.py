"""The command-line contract: exit 0 for valid files, 2 for invalid ones, messages without tracebacks, and a
Pulumi program that refuses a bad topology with a Pulumi error before registering anything."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from stacks.loader import load_topology
from tests.conftest import ROOT, STACK_FILES, raw
from tools.harness import RecordingMonitor

PY = sys.executable


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_validate_accepts_every_shipped_file_and_says_what_it_read():
    result = run("tools.validate", *map(str, STACK_FILES))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok: ") == len(STACK_FILES)
    assert "ok: " + str(ROOT / "stacks/dev.yaml") + " (2 regions, 2 topics, 1 users, 1 flows)" in result.stdout


def test_replication_factor_above_the_brokers_exits_two_with_the_path_and_no_traceback(tmp_path):
    data = raw("stacks/prod.yaml")
    data["regions"][1]["kafka"].update(brokers=2, zones=["eu-west-1a", "eu-west-1b"])
    bad = tmp_path / "rf.yaml"
    bad.write_text(yaml.safe_dump(data))
    result = run("tools.validate", str(bad))
    assert result.returncode == 2
    assert "topics.orders.replication_factor: replication_factor 3 exceeds the 2 brokers of eu-west-1" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_file_that_is_not_yaml_exits_two_without_a_traceback(tmp_path):
    bad = tmp_path / "junk.yaml"
    bad.write_text("::: {{ not yaml\n\t- [")
    result = run("tools.validate", str(bad))
    assert result.returncode == 2
    assert "is not valid YAML" in result.stderr
    assert "Traceback" not in result.stderr


def test_one_bad_file_among_good_ones_fails_the_run_but_reports_the_good_ones(tmp_path):
    bad = tmp_path / "empty.yaml"
    bad.write_text("")
    result = run("tools.validate", str(ROOT / "stacks/dev.yaml"), str(bad))
    assert result.returncode == 2
    assert "ok: " in result.stdout and "is empty" in result.stderr


def test_plan_refuses_bad_input_with_exit_two_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("environment: dev\n")
    out = tmp_path / "out"
    result = run("tools.plan", str(bad), "--out", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "architecture: Field required" in result.stderr
    assert not out.exists()


def test_the_schema_committed_for_editors_is_current():
    result = run("tools.schema", "--check")
    assert result.returncode == 0, result.stderr


def test_stack_files_point_editors_at_the_schema():
    for path in STACK_FILES:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=") and first.endswith("topology.schema.json")


def test_the_pulumi_program_raises_a_pulumi_error_and_registers_nothing_for_a_bad_topology(tmp_path, monkeypatch):
    import pulumi

    from tools import harness

    bad = tmp_path / "bad.yaml"
    bad.write_text("environment: dev\narchitecture: active-passive\nregions: []\ndns: {zone: example.com}\n")
    recorded: list[RecordingMonitor] = []
    original = harness.RecordingMonitor

    class Spy(original):  # type: ignore[misc, valid-type]
        def __init__(self, mocks):
            super().__init__(mocks)
            recorded.append(self)

    monkeypatch.setattr(harness, "RecordingMonitor", Spy)
    # The harness is told about a valid topology (for its fake config); the program itself reads the bad file.
    with pytest.raises(pulumi.RunError, match=r"invalid topology:\n.*regions: a multi-region estate needs at least two regions"):
        harness.run_program(str(bad), load_topology(ROOT / "stacks/dev.yaml"))
    assert recorded and recorded[0].registrations == []


def test_failover_refuses_a_stack_whose_dns_is_managed_elsewhere_in_one_line(tmp_path):
    data = raw("stacks/dev.yaml")
    del data["dns"]
    for region in data["regions"]:
        region["endpoint_override"] = f"kafka.{region['name']}.internal.example.net"
    path = tmp_path / "external-dns.yaml"
    path.write_text(yaml.safe_dump(data))
    result = run("tools.failover", "status", "--stack", str(path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {path} has no dns section: its DNS is managed elsewhere, so failover is that system's to do, not Route53's"
    ]


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (
            ["promote", "eu-west-1", "--stack", "stacks/prod.yaml"],
            "routes by latency: `promote` does not apply; use drain or route-all",
        ),
        (
            ["drill", "drain", "us-west-2", "--stack", "stacks/dev.yaml"],
            "routes by failover: `drain` does not apply; use promote",
        ),
    ],
)
def test_failover_refuses_a_verb_the_architecture_does_not_have_before_any_aws_call(argv, why):
    # No credentials, and an endpoint where nothing listens: any AWS call would be exit 5 or 6, not 2.
    env = {"PATH": "/usr/bin:/bin", "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_CONFIG_FILE": "/dev/null"}
    result = subprocess.run(
        [sys.executable, "-m", "tools.failover", *argv], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().endswith(why), result.stderr
