"""Guard rails across the whole project: bad input is refused everywhere with its path and fix and nothing
registered or written; no secret leaks into anything the tools print or write; data is protected and leaves
only through decommissioning; adding things never disturbs what exists, and reordering the file changes nothing.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stacks.loader import load_topology, validate_data
from tests.conftest import ROOT, STACK_FILES, STACK_IDS, raw
from tools import validate
from tools.plan import cli as plan
from tools.plan import harness

INVALID = ROOT / "tests" / "data" / "invalid"
EXPECTED: dict[str, dict[str, str]] = json.loads((INVALID / "expectations.json").read_text())
CORPUS = sorted(EXPECTED)
DEV = load_topology(ROOT / "stacks/dev.yaml")


def test_the_corpus_is_large_and_every_file_has_an_expectation():
    files = {p.name for p in INVALID.iterdir() if p.name != "expectations.json"}
    assert files == set(EXPECTED)
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("name", CORPUS)
def test_validate_rejects_each_bad_file_with_exit_two_and_its_message(name, capsys):
    code = validate.main([str(INVALID / name)])
    err = capsys.readouterr().err
    assert code == 2
    assert EXPECTED[name]["fragment"] in err, err
    assert err.startswith(str(INVALID / name) + ": ")


@pytest.mark.parametrize("name", CORPUS)
def test_plan_rejects_each_bad_file_and_writes_nothing(name, tmp_path, capsys):
    out = tmp_path / "plan"
    assert plan.main([str(INVALID / name), "--out", str(out)]) == 2
    assert EXPECTED[name]["fragment"] in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("name", CORPUS)
def test_the_pulumi_program_refuses_each_bad_file_before_registering_anything(name, monkeypatch):
    monitors: list[harness.RecordingMonitor] = []
    original = harness.RecordingMonitor

    class Spy(original):  # type: ignore[misc, valid-type]
        def __init__(self, mocks: Any) -> None:
            super().__init__(mocks)
            monitors.append(self)

    monkeypatch.setattr(harness, "RecordingMonitor", Spy)
    with pytest.raises(pulumi.RunError) as info:
        harness.run_program(str(INVALID / name), DEV)
    assert EXPECTED[name]["fragment"] in str(info.value)
    assert monitors[0].registrations == []


@pytest.mark.parametrize(
    "name", ["syntax-error.yaml", "not-utf8.yaml", "alias-bomb.yaml", "a-directory.yaml", "rf-above-brokers.yaml"]
)
def test_as_separate_processes_the_tools_print_no_traceback(name):
    for tool in ("tools.validate", "tools.plan"):
        result = subprocess.run(
            [sys.executable, "-m", tool, str(INVALID / name)], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert result.returncode == 2
        assert "Traceback" not in result.stdout + result.stderr
        assert EXPECTED[name]["fragment"] in result.stderr


# ------------------------------------------------------------------------------------------ secrets


@pytest.mark.parametrize("path", STACK_FILES, ids=STACK_IDS)
def test_no_generated_secret_appears_in_anything_the_plan_prints_or_writes(path, tmp_path):
    topology = load_topology(path)
    secrets = {s for s in harness.run_program(str(path), topology).secrets if len(s) >= 12}
    kinds = {"password": any(s.startswith("Pw") for s in secrets), "key": any("PRIVATE KEY" in s for s in secrets)}
    assert all(kinds.values()), kinds
    out = tmp_path / "plan"
    result = subprocess.run(
        [sys.executable, "-m", "tools.plan", str(path), "--out", str(out), "--format", "markdown"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    texts = [result.stdout, result.stderr, *(p.read_text() for p in out.rglob("*") if p.is_file())]
    hits = [(s[:10], i) for s in secrets for i, text in enumerate(texts) if s in text]
    assert hits == []
    outputs = json.loads((out / "outputs.json").read_text())
    assert all(client["password"] == "[secret]" for client in outputs["clients"].values())


# -------------------------------------------------------------------------------------- data safety


def test_a_decommissioned_region_loses_protection_flows_and_shared_dns_but_keeps_running(program, tmp_path):
    data = raw("stacks/prod.yaml")
    data["regions"][2]["decommission"] = True
    gone = data["regions"][2]["name"]
    rec = program(data, tmp_path)
    t = rec.topology
    assert all(gone not in (f.source, f.target) for f in t.flows)
    kafkas = {r.inputs["metadata"]["name"]: r for r in rec.of_type("kubernetes:kafka.strimzi.io/v1:Kafka")}
    assert not kafkas[gone].protect and not kafkas[gone].retain_on_delete
    assert all(k.protect and k.retain_on_delete for n, k in kafkas.items() if n != gone)
    shared = [harness.unwrap(r.inputs) for r in rec.of_type("aws:route53/record:Record")]
    assert not [r for r in shared if r["name"] == t.bootstrap_name and r.get("setIdentifier") == gone]


# ------------------------------------------------------------------------------- stable identities

POOL = ["eu-north-1", "ca-central-1", "sa-east-1", "ap-south-1", "eu-west-3", "us-west-1"]
FAST = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _identities(data: dict[str, Any], tmp: Path, name: str) -> dict[str, Any]:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    rec = harness.run_program(str(path), validate_data(data, name))
    return {r.urn: harness.redact(r.inputs) for r in rec.registrations}


def _add_region(data: dict[str, Any], draw: Any) -> None:
    used = {r["name"] for r in data["regions"]}
    name = draw(st.sampled_from([p for p in POOL if p not in used]))
    template = copy.deepcopy(next(r for r in data["regions"] if r["role"] in ("secondary", "active", "edge", "domain")))
    template.update(name=name, kubernetes={"kind": "context", "context": name})
    template["kafka"].pop("zones", None)
    data["regions"].append(template)
    if data["architecture"] == "active-passive":
        data.setdefault("dns", {})["failover_secondary"] = next(r["name"] for r in data["regions"] if r["role"] == "secondary")
    for domain in template.get("domains", []):
        data["domains"][domain]["allowed_regions"].append(name)


def _add_topic(data: dict[str, Any], draw: Any) -> None:
    name = draw(
        st.from_regex(r"[a-z][a-z0-9-]{2,15}", fullmatch=True).filter(
            lambda n: n not in data["topics"] and not n.startswith("mm2-") and not n.endswith("-internal")
        )
    )
    if data.get("tenants"):  # with tenants, every topic carries one's prefix
        name = draw(st.sampled_from(sorted(t["prefix"] for t in data["tenants"].values()))) + name
    topic: dict[str, Any] = {"partitions": draw(st.integers(1, 12)), "replication_factor": 1}
    if data["architecture"] == "partitioned-domain":
        domain = draw(st.sampled_from(sorted(data["domains"])))
        topic.update(domain=domain, regions=[data["domains"][domain]["allowed_regions"][0]])
    data["topics"][name] = topic


def _add_user(data: dict[str, Any], draw: Any) -> None:
    name = draw(st.from_regex(r"app-[a-z0-9]{2,10}", fullmatch=True).filter(lambda n: n not in data["users"]))
    user: dict[str, Any] = {}
    topics = sorted(data["topics"])
    if data.get("tenants"):  # with tenants, a user belongs to one, lives in its regions and reads its topics
        tenant_name = draw(st.sampled_from(sorted(data["tenants"])))
        tenant = data["tenants"][tenant_name]
        user["tenant"] = tenant_name
        if tenant.get("regions"):
            user["regions"] = tenant["regions"]
        topics = [t for t in topics if t.startswith(tenant["prefix"])]
    if topics:
        topic = draw(st.sampled_from(topics))
        user["acls"] = [{"resource": {"type": "topic", "name": topic}, "operations": ["Read", "Describe"]}]
    data["users"][name] = user


@FAST
@given(st.sampled_from(STACK_FILES), st.sampled_from(["region", "topic", "user"]), st.data())
def test_adding_a_region_topic_or_user_changes_no_existing_urn_or_name(tmp_path, path, kind, data):
    before = yaml.safe_load(path.read_text())
    after = copy.deepcopy(before)
    {"region": _add_region, "topic": _add_topic, "user": _add_user}[kind](after, data.draw)
    old, new = _identities(before, tmp_path, "old"), _identities(after, tmp_path, "new")
    missing = set(old) - set(new)
    assert not missing, sorted(missing)[:5]
    for urn, inputs in old.items():
        meta = inputs.get("metadata") if isinstance(inputs.get("metadata"), dict) else None
        if meta and "name" in meta:
            assert new[urn]["metadata"]["name"] == meta["name"], urn


def _shuffle(node: Any, rng: random.Random) -> Any:
    if isinstance(node, dict):
        items = [(k, _shuffle(v, rng)) for k, v in node.items()]
        rng.shuffle(items)
        return dict(items)
    if isinstance(node, list):
        items = [_shuffle(v, rng) for v in node]
        rng.shuffle(items)
        return items
    return node


@FAST
@given(st.sampled_from(STACK_FILES), st.integers(0, 2**32 - 1))
def test_reordering_every_list_and_mapping_in_the_file_changes_nothing(tmp_path, path, seed):
    before = yaml.safe_load(path.read_text())
    shuffled = _shuffle(before, random.Random(seed))
    assert _identities(before, tmp_path, "a") == _identities(shuffled, tmp_path, "b")
