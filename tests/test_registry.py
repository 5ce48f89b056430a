"""The schema registry: one writer, the journal copied from it under its own name, read-only elsewhere.

Pure-builder tests over shipped and generated topologies (the journal's route, ACLs, the writer through a
failover), and the program under mocks for what only a plan shows (clients output, upstream schemas).
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components import registry as builders
from components.engines.mirrormaker2 import bodies as mirror
from components.engines.mirrormaker2 import plan as mirror_plan
from stacks import naming
from stacks.model import Topology, registry
from tests.conftest import raw, run_oracle, topology_of
from tests.generated import topologies
from tools.plan import invariants
from tools.plan.cli import write_plan
from tools.plan.harness import is_secret, run_program, unwrap
from tools.plan.recorded import Plan

JOURNAL, SNAPSHOTS, EVENTS = naming.REGISTRY_TOPICS
IDENTITY = mirror_plan.POLICY_CLASS[mirror.ReplicationPolicy.IDENTITY]
GROUP = naming.registry_group_prefix()


def _with_registry(data: dict[str, Any], writer: str | None = None) -> dict[str, Any]:
    data = dict(data)
    data["schema_registry"] = {"writer": writer} if writer else {}
    return data


def _dev(failback_from: str | None = None) -> Topology:
    data = _with_registry(raw("stacks/dev.yaml"))
    if failback_from:
        data["replication"] = {**data.get("replication", {}), "failback_from": failback_from}
    return topology_of(data)


def _acl(name: str, ops: list[str], rtype: str = "topic", pattern: str = "literal") -> dict[str, Any]:
    return {"type": "allow", "resource": {"type": rtype, "name": name, "patternType": pattern}, "operations": ops, "host": "*"}


# The registry principal's ACLs, exactly: (writer region?, ACLs). Topics are pre-created (no Create); every
# registry writes a bootstrap marker into its journal at start; only the writer writes snapshots and events.
PRINCIPAL_ACLS = {
    True: [
        _acl(JOURNAL, ["Describe", "DescribeConfigs", "Read", "Write"]),
        _acl(SNAPSHOTS, ["Describe", "DescribeConfigs", "Read", "Write"]),
        _acl(EVENTS, ["Describe", "DescribeConfigs", "Write"]),
        _acl(GROUP, ["Describe", "Read"], "group", "prefix"),
    ],
    False: [
        _acl(JOURNAL, ["Describe", "DescribeConfigs", "Read", "Write"]),
        _acl(SNAPSHOTS, ["Describe", "DescribeConfigs", "Read"]),
        _acl(EVENTS, ["Describe", "DescribeConfigs"]),
        _acl(GROUP, ["Describe", "Read"], "group", "prefix"),
    ],
}


@pytest.mark.parametrize("writes", [True, False], ids=["writer", "read-only"])
def test_the_registry_principal_has_exactly_the_acls_kafkasql_needs(writes):
    t = _dev()
    region = next(r for r in registry.regions(t) if registry.read_only(t, r) is not writes)
    assert builders.principal_acls(t, region) == PRINCIPAL_ACLS[writes]


def _journal_routes(t: Topology) -> dict[str, list[tuple[str, str, str]]]:
    """Target → (source alias, policy, name on the target) of every mirror that copies the journal."""
    routes: dict[str, list[tuple[str, str, str]]] = {}
    for plan in mirror_plan.flow_plans(t):
        body = mirror.kafka_mirror_maker2(t, plan)
        for m in body["spec"]["mirrors"]:
            if re.fullmatch(m["topicsPattern"], JOURNAL):
                policy = m["sourceConnector"]["config"]["replication.policy.class"]
                remote = JOURNAL if policy == IDENTITY else f"{m['source']['alias']}.{JOURNAL}"
                routes.setdefault(plan.target, []).append((m["source"]["alias"], policy, remote))
    return routes


@st.composite
def _registry_topologies(draw: st.DrawFn) -> Topology:
    data = draw(topologies())
    names = [r["name"] for r in data["regions"] if not r.get("decommission")]
    writer = draw(st.sampled_from(names)) if data["architecture"] in ("active-active", "partitioned-domain") else None
    return topology_of(_with_registry(data, writer))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_registry_topologies())
def test_the_journal_reaches_every_read_only_registry_once_from_the_writer_under_its_own_name(t):
    writer = registry.writer(t)
    routes = _journal_routes(t)
    readers = {r for r in registry.regions(t) if r != writer}
    assert set(routes) == readers  # never into the writer (no loop), never where no registry runs
    for target, via in routes.items():
        assert len(via) == 1, (target, via)
        alias, policy, remote = via[0]
        assert alias in (writer, naming.identity_alias(writer))
        assert (policy, remote) == (IDENTITY, JOURNAL)
    for r in registry.regions(t):
        assert JOURNAL in t.topic_census(r)


def test_failover_makes_the_promoted_region_the_writer_and_failback_returns_it():
    before, during = _dev(), _dev(failback_from="us-west-2")
    assert registry.writer(before) == "us-east-1" and registry.writer(during) == "us-west-2"
    assert _journal_routes(before) == {"us-west-2": [("us-east-1", IDENTITY, JOURNAL)]}
    assert _journal_routes(during) == {"us-east-1": [("us-west-2", IDENTITY, JOURNAL)]}
    read_only = {
        (label, r): builders.apicurio_registry(t, r)["spec"]["app"]["env"][-1]
        for label, t in (("before", before), ("during", during))
        for r in ("us-east-1", "us-west-2")
    }
    assert {k: v["value"] for k, v in read_only.items()} == {
        ("before", "us-east-1"): "false",
        ("before", "us-west-2"): "true",
        ("during", "us-east-1"): "true",
        ("during", "us-west-2"): "false",
    }
    assert all(v["name"] == "APICURIO_STORAGE_READ_ONLY_ENABLED" for v in read_only.values())
    # In active-passive the journal is one more topic of the flow, so a switchover drains it with the data.
    assert JOURNAL in mirror_plan.plan_flow(before, before.flows[0]).topics


@pytest.mark.parametrize(
    ("architecture_file", "writer", "expected"),
    [
        ("stacks/dev.yaml", None, "https://registry.dev.kafka.example.com/apis/registry/v3"),
        ("examples/schema-registry.yaml", "eu-west-1", "https://registry.eu-west-1.payments.kafka.example.com/apis/registry/v3"),
    ],
)
def test_clients_get_the_registry_url_that_reaches_the_writer(architecture_file, writer, expected):
    t = topology_of(_with_registry(raw(architecture_file), writer))
    settings_ = builders.client_settings(t, "app")
    assert settings_ is not None
    assert settings_["url"] == expected == settings_["properties"]["apicurio.registry.url"]
    assert set(settings_["regional_urls"]) == set(registry.regions(t))


def test_clients_authenticate_to_every_registry_through_one_realm_and_get_their_secret_only_as_a_secret(program):
    rec = program("examples/schema-registry.yaml")
    realm = "https://sso.example.com/realms/payments"
    auths = [unwrap(r.inputs)["spec"]["app"]["auth"] for r in rec.of_type("kubernetes:registry.apicur.io/v1:ApicurioRegistry3")]
    # The same realm in every region: a token a client got keeps working after the shared name fails over.
    assert len(auths) == len(registry.regions(rec.topology)) and all(a == auths[0] for a in auths)
    assert auths[0]["authServerUrl"] == realm and auths[0]["enabled"] and not auths[0]["anonymousReadsEnabled"]
    for user, entry in rec.outputs["clients"].items():
        sr = entry["schema_registry"]
        assert is_secret(sr["client_secret"]) and not is_secret(sr["properties"]), user
        assert sr["properties"]["apicurio.registry.auth.client.id"] == user
        assert sr["properties"]["apicurio.registry.auth.service.token.endpoint"] == f"{realm}/protocol/openid-connect/token"


@pytest.mark.parametrize(
    ("secrets", "secret", "fragment"),
    [
        (None, True, "schema_registry.auth needs registryClientSecrets"),
        ({"payments-service": "s3cret-value"}, False, "stored in plain text"),
        ({}, True, "no client secret for payments-service"),
        ({"payments-service": "s3cret-value", "ghost": "other-value"}, True, "names ghost, not users"),
    ],
)
def test_the_client_secrets_setting_is_checked_before_anything_is_registered(secrets, secret, fragment):
    t = topology_of(raw("examples/schema-registry.yaml"))
    key = f"kafka-multiregion:{registry.CLIENT_SECRETS_SETTING}"
    config = {} if secrets is None else {key: json.dumps(secrets)}
    pulumi.runtime.set_all_config(config, secret_keys=list(config) if secret else [])
    try:
        with pytest.raises(builders.SettingError, match=fragment) as info:
            builders.client_secrets(t, pulumi.Config("kafka-multiregion"))
        assert "s3cret-value" not in str(info.value)
    finally:
        pulumi.runtime.set_all_config({}, secret_keys=[])


def _public(value: Any) -> Any:
    if is_secret(value):
        return None
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items()}
    return [_public(v) for v in value] if isinstance(value, list) else value


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topologies(), st.sampled_from(["https://sso.example.com/realms/kafka", "https://id.corp.example:8443/auth/realms/x/"]))
def test_every_generated_estate_with_registry_auth_gives_each_user_its_secret_as_a_secret_only(data, issuer):
    names = [r["name"] for r in data["regions"] if not r.get("decommission")]
    writer = names[0] if data["architecture"] in ("active-active", "partitioned-domain") else None
    data = _with_registry(data, writer)
    data["schema_registry"]["auth"] = {"issuer": issuer}
    t = topology_of(data)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stack.yaml"
        path.write_text(yaml.safe_dump(data))
        rec = run_program(str(path), t)
    assert invariants.check(rec) == []
    auths = [unwrap(r.inputs)["spec"]["app"]["auth"] for r in rec.of_type("kubernetes:registry.apicur.io/v1:ApicurioRegistry3")]
    assert len(auths) == len(registry.regions(t)) and all(a["authServerUrl"] == issuer.rstrip("/") for a in auths)
    assert set(rec.outputs["clients"]) == set(t.users)
    plain = json.dumps(_public(rec.outputs["clients"]))  # every leaf not marked secret
    for user, entry in rec.outputs["clients"].items():
        assert is_secret(entry["schema_registry"]["client_secret"]), user
        assert entry["schema_registry"]["properties"]["apicurio.registry.auth.client.id"] == user
    assert not [s for s in rec.secrets if len(s) >= 12 and s in plain]


def test_an_estate_without_application_users_needs_no_client_secrets():
    data = raw("examples/schema-registry.yaml")
    data["users"] = {}
    pulumi.runtime.set_all_config({}, secret_keys=[])
    assert builders.client_secrets(topology_of(data), pulumi.Config("kafka-multiregion")) == {}


def test_registry_off_leaves_clients_and_flows_alone():
    t = topology_of(raw("stacks/dev.yaml"))
    assert builders.client_settings(t, "app") is None
    assert registry.regions(t) == ()
    assert all(JOURNAL not in p.topics for p in mirror_plan.flow_plans(t))


def test_an_active_passive_plan_with_a_registry_passes_apicurio_3_3_1_and_the_invariants(program, tmp_path):
    data = _with_registry(raw("stacks/dev.yaml"))
    rec = program(data, tmp_path)
    assert invariants.check(rec) == []
    out = tmp_path / "plan"
    write_plan(Plan(rec.topology, rec), out)
    result = run_oracle(out / "manifests")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ApicurioRegistry3=2" in result.stdout and result.stdout.strip().endswith(", 0 problems")
    clients = yaml.safe_load((out / "outputs.json").read_text())
    assert any("schema_registry" in c for c in clients["clients"].values())


def test_the_invariant_catches_a_journal_copied_from_a_reader(program, tmp_path):
    rec = program(_with_registry(raw("stacks/dev.yaml")), tmp_path)
    for reg in rec.registrations:
        if reg.type.endswith(":KafkaMirrorMaker2"):
            reg.inputs["spec"]["mirrors"][0]["source"]["alias"] = "us-west-2"
    assert any("not the registry writer" in p for p in invariants.check(rec))


@pytest.mark.parametrize(
    ("source", "target", "setting"),
    [
        ("us-east-1", "us-west-2", "set replication.failback_from: us-west-2"),
        ("us-west-2", "us-east-1", "remove replication.failback_from"),
    ],
)
def test_switchover_and_failover_make_the_target_registry_the_writer(source, target, setting, tmp_path):
    from types import SimpleNamespace

    from components.engines.mirrormaker2.switchover import MirrorSteps
    from tools.switchover.kafka_admin import WaitingError
    from tools.switchover.steps import Operation, Platform, Progress, Step

    said: list[str] = []
    ctx = SimpleNamespace(topology=_dev(), stack_file="dev.yaml", say=said.append)
    progress = Progress("switchover", source, target, Step.FENCED, 0.0, 0.0)
    log = tmp_path / "hook.log"
    hook = ("sh", "-c", f'echo "$0 $1" >> {log}')
    # The target's Kafka as the tool reads it: its registry principal may write snapshots once the platform ran.
    target_kafka = SimpleNamespace(registry_writer=log.exists)

    def operation(platform: Platform) -> MirrorSteps:
        return MirrorSteps(Operation(ctx, None, platform, 0, 1, progress, clusters={target: target_kafka}))  # type: ignore[arg-type]

    operation(Platform(hook, 10, "again")).move_registry_writer()
    assert log.read_text() == f"registry-writer {target}\n"
    assert said == [f"  {target}'s schema registry is the writer (its principal's ACLs, read back)"]
    # Resumed after it was done: read back, nothing asked again.
    operation(Platform(None, 10, "again")).move_registry_writer()
    assert log.read_text() == f"registry-writer {target}\n"
    # Without a hook, and not yet the writer, the operator is told exactly what to change.
    log.unlink()
    with pytest.raises(WaitingError) as info:
        operation(Platform(None, 10, "again")).move_registry_writer()
    assert setting in str(info.value) and "APICURIO_STORAGE_READ_ONLY_ENABLED" in str(info.value)


def test_the_apicurio_operator_bundle_is_a_stack_setting(program, tmp_path, monkeypatch):
    from tools.plan import harness

    def bundles() -> set[str]:
        rec = program(_with_registry(raw("stacks/dev.yaml")), tmp_path)
        return {unwrap(r.inputs)["file"] for r in rec.of_type("kubernetes:yaml/v2:ConfigFile")}

    assert bundles() == {builders.OPERATOR_BUNDLE}
    real = harness.fake_config
    mirror_file = "/mirror/apicurio-registry-operator-3.3.1.yaml"
    monkeypatch.setattr(harness, "fake_config", lambda t, f: {**real(t, f), "kafka-multiregion:apicurioBundle": mirror_file})
    assert bundles() == {mirror_file}
