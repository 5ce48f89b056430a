"""The command-line contract: exit 0 for valid files, 2 for invalid ones, messages without tracebacks, and a
Pulumi program that refuses a bad topology with a Pulumi error before registering anything."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import jsonschema
import pulumi
import pytest
import yaml

from components import settings
from stacks.loader import load_topology
from tests.conftest import ROOT, STACK_FILES, raw
from tools.plan import harness
from tools.plan.harness import RecordingMonitor

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

    from tools.plan import harness

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


# ----------------------------------------------------------------------------------------- stack settings


def _run_main(config: dict[str, str], stack: str) -> tuple[list[Any], dict[str, Any]]:
    """``__main__.py`` under fresh mocks with exactly ``config`` (keys listed in ``secret`` are secrets): the
    registrations and the exports. Settings are what this file tests, so it does not take the harness's fakes."""
    mocks = harness.EstateMocks()
    monitor = harness.RecordingMonitor(mocks)
    main = ROOT / "__main__.py"
    code = compile(main.read_text(encoding="utf-8"), str(main), "exec")

    def program() -> None:
        exec(code, {"__name__": "__pulumi_program__", "__file__": str(main)})

    try:
        exported = harness.run_under_mocks(program, mocks, monitor, stack=stack, config=config)
    finally:
        pulumi.runtime.set_all_config({}, secret_keys=[])
    return monitor.registrations, exported


def test_the_program_names_every_missing_or_unsafe_setting_with_its_command_in_one_error(tmp_path, monkeypatch):
    data = raw("stacks/dev.yaml")
    data["schema_registry"] = {"auth": {"issuer": "https://sso.example.com/realms/kafka"}}
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data))
    config = {
        "kafka-multiregion:topology": str(path),
        "kafka-multiregion:kubeconfig-us-east-1": "apiVersion: v1\nkind: Config\n",  # set without --secret
        "aws:accessKey": "AKIAEXAMPLE",
    }
    # Only the topology and the plain-text kubeconfig are "set"; nothing is a secret.
    monkeypatch.setattr(pulumi.runtime, "set_all_config", _plain(pulumi.runtime.set_all_config))
    with pytest.raises(pulumi.RunError) as info:
        _run_main(config, "dev")
    assert str(info.value).splitlines() == [
        "stack 'dev' is missing settings or holds them unsafely (4); nothing was registered:",
        "  kubeconfig-us-east-1 is stored in plain text: `pulumi config rm --stack dev kubeconfig-us-east-1`, then "
        "`pulumi config set --secret --stack dev kubeconfig-us-east-1 < path/to/us-east-1.kubeconfig`",
        "  kubeconfig-us-west-2 is not set (us-west-2's cluster): "
        "`pulumi config set --secret --stack dev kubeconfig-us-west-2 < path/to/us-west-2.kubeconfig`",
        "  registryClientSecrets.orders-service is not set (its client secret in the registry's realm): "
        "`pulumi config set --secret --stack dev --path 'registryClientSecrets.orders-service' CLIENT_SECRET`",
        "  aws:accessKey: static AWS keys are not taken from the stack; remove it (`pulumi config rm --stack dev "
        "aws:accessKey`) and use a profile (aws:profile) or the environment (AWS_ACCESS_KEY_ID)",
    ]
    assert "AKIAEXAMPLE" not in str(info.value) and "kind: Config" not in str(info.value)


def _plain(set_all_config: Any) -> Any:
    def without_secrets(config: dict[str, str], secret_keys: list[str] | None = None) -> None:
        set_all_config(config, secret_keys=[])

    return without_secrets


def test_without_a_topology_setting_the_program_says_how_to_set_it_and_registers_nothing():
    with pytest.raises(pulumi.RunError) as info:
        _run_main({}, "staging")
    assert str(info.value).splitlines()[1:] == [
        "  topology is not set: `pulumi config set --stack staging topology stacks/staging.yaml`"
    ]


def test_pulumi_yaml_declares_the_settings_the_program_reads_with_the_programs_defaults():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert set(declared) == {"topology", "strimziChart", "apicurioBundle", "cfkChart", "registryClientSecrets"}
    assert all(d.get("description") for d in declared.values())
    assert "default" not in declared["topology"] and declared["topology"]["type"] == "string"  # Pulumi requires it
    for setting in settings.OPTIONAL:
        assert declared[setting.key] == {**declared[setting.key], "type": "string", "default": setting.default}
    assert declared["registryClientSecrets"]["type"] == "object" and declared["registryClientSecrets"]["default"] == {}


def test_every_aws_provider_takes_the_stacks_profile_and_assumed_roles():
    config = harness.fake_config(load_topology(ROOT / "stacks/dev.yaml"), "stacks/dev.yaml")
    roles = [{"roleArn": "arn:aws:iam::123456789012:role/kafka-dns", "sessionName": "kafka-multiregion"}]
    config |= {"aws:profile": "kafka-dev", "aws:assumeRoles": json.dumps(roles), "aws:region": "eu-west-1"}
    registrations, _ = _run_main(config, "dev")
    providers = {r.name: harness.unwrap(r.inputs) for r in registrations if r.type == "pulumi:providers:aws"}
    assert set(providers) == {"aws-us-east-1", "aws-us-west-2", "aws-global"}
    for name, inputs in providers.items():
        assert inputs["profile"] == "kafka-dev" and json.loads(inputs["assumeRoles"]) == roles, name
        # Each provider stays in its own region whatever aws:region says.
        assert inputs["region"] == {"aws-global": "us-east-1"}.get(name, name.removeprefix("aws-")), name


# ----------------------------------------------------------------------------------------- failover --offline


def test_failover_offline_answers_from_the_stack_alone_with_no_aws_call():
    env = {"PATH": "/usr/bin:/bin", "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_CONFIG_FILE": "/dev/null"}
    argv = ["promote", "us-west-2", "--stack", "stacks/dev.yaml", "--offline"]
    result = subprocess.run(
        [sys.executable, "-m", "tools.failover", *argv], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "would change 1 switch(es):" in lines
    assert lines[-1] == "dev.kafka.example.com answers with us-west-2: FAILED OVER (intended us-east-1: us-east-1 switched off)"


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (["status", "--stack", "stacks/dev.yaml", "--down", "us-east-1"], "--down is for --offline"),
        (["status", "--stack", "stacks/dev.yaml", "--offline", "--down", "eu-west-9"], "--down 'eu-west-9' is not a region"),
    ],
)
def test_failover_down_is_checked_before_anything_is_read(argv, why):
    env = {"PATH": "/usr/bin:/bin", "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_CONFIG_FILE": "/dev/null"}
    result = subprocess.run(
        [sys.executable, "-m", "tools.failover", *argv], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and why in result.stderr, result.stderr


# ----------------------------------------------------------------------------------------- the editor's schema


def _raw_yaml(text: str) -> Any:
    """A file as an editor's schema sees it: merge keys unresolved, `x-` keys present."""

    class Unmerged(yaml.SafeLoader):
        def flatten_mapping(self, node: Any) -> None:
            for key, _ in node.value:
                if key.tag == "tag:yaml.org,2002:merge":
                    key.tag = "tag:yaml.org,2002:str"

    return yaml.load(text, Loader=Unmerged)  # a SafeLoader: no arbitrary objects


def _schema_errors(data: Any) -> list[str]:
    schema = json.loads((ROOT / "stacks/topology.schema.json").read_text())
    return [f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]


ANCHORED = """x-pool: &pool {brokers: 1, controllers: 1, combined: true, storage: {size: 20Gi}}
x-access: &access {kind: context}
environment: dev
architecture: active-passive
replication: {exactly_once: false}
regions:
  - {name: us-east-1, role: primary, kubernetes: {<<: *access, context: a}, kafka: {<<: *pool}}
  - {name: us-west-2, role: secondary, kubernetes: {<<: *access, context: b}, kafka: {<<: *pool, storage: {size: 50Gi}}}
topics:
  orders: {partitions: 6, replication_factor: 1}
dns: {zone: kafka.example.com}
"""


@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_the_schema_accepts_every_shipped_file(path):
    assert _schema_errors(_raw_yaml(path.read_text())) == []


def test_the_schema_accepts_x_keys_and_merge_keys_as_the_validator_does(tmp_path):
    path = tmp_path / "anchored.yaml"
    path.write_text(ANCHORED)
    assert load_topology(path).regions[1].kafka.storage.size == "50Gi"
    assert _schema_errors(_raw_yaml(ANCHORED)) == []


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda d: d["regions"].pop(), "['regions']"),
        (lambda d: d["regions"][0].update(name="us-east-9x"), "['regions', 0, 'name']"),
        (lambda d: d.update(environment="Dev_1"), "['environment']"),
        (lambda d: d["users"].update({"Orders": d["users"]["orders-service"]}), "['users']"),
        (lambda d: d["regions"][0]["kafka"].update(controllers=2), "['regions', 0, 'kafka', 'controllers']"),
        (lambda d: d.update({"y-notes": "x"}), "[]"),
    ],
    ids=["one region", "region code", "environment label", "user name", "even controllers", "other top-level key"],
)
def test_the_schema_refuses_what_the_validator_refuses_where_a_schema_can_say_it(edit, where, tmp_path):
    data = raw("stacks/dev.yaml")
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    assert run("tools.validate", str(path)).returncode == 2
    assert any(e.startswith(where) for e in _schema_errors(data)), _schema_errors(data)
