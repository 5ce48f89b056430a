"""The offline plan: complete, deterministic, free of secrets, and a diff that says loudly when data goes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT, STACK_FILES, STACK_IDS, raw, run_oracle
from tools.plan import cli as plan_tool
from tools.plan.recorded import Plan


def _plan(tmp_path, data, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.plan", *args], cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("path", STACK_FILES, ids=STACK_IDS)
def test_the_plan_writes_every_part_and_its_manifests_pass_the_upstream_schemas(path, tmp_path):
    out = tmp_path / "plan"
    result = _run(str(path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    for part in ("plan.md", "plan.json", "summary.json", "tree.txt", "outputs.json", "manifests", "mm2", "helm"):
        assert (out / part).exists(), part
    regions = {p.name for p in (out / "manifests").iterdir()}
    assert regions == set(plan_tool.load_topology(path).region_names)
    oracle = run_oracle(out / "manifests")
    assert oracle.returncode == 0 and oracle.stdout.strip().endswith(", 0 problems"), oracle.stdout
    assert "```mermaid\nflowchart LR" in (out / "plan.md").read_text()


def test_two_runs_give_byte_identical_output(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert _run("stacks/prod.yaml", "--out", str(out), "--format", "markdown").returncode == 0
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 100
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files_a)


@pytest.mark.parametrize("path", STACK_FILES, ids=STACK_IDS)
def test_no_secret_value_the_mocks_produced_appears_in_any_plan_file_or_printed_output(path, tmp_path):
    topology = plan_tool.load_topology(path)
    rec = plan_tool.run_program(str(path), topology)
    out = tmp_path / "plan"
    plan_tool.write_plan(Plan(topology, rec), out)
    printed = plan_tool.render(Plan(topology, rec), "markdown")
    secrets = {s for s in rec.secrets if len(s) >= 12}
    assert len(secrets) >= len(topology.users) + 2, "passwords and keys were produced"
    texts = [printed, *(p.read_text() for p in out.rglob("*") if p.is_file())]
    leaks = [s[:12] for s in secrets for text in texts if s in text or s.strip() in text]
    assert leaks == []
    assert "[secret]" in (out / "outputs.json").read_text()


def test_the_tree_shows_components_and_their_children(tmp_path):
    topology = plan_tool.load_topology(ROOT / "stacks/dev.yaml")
    tree = plan_tool.tree(Plan(topology, plan_tool.run_program(str(ROOT / "stacks/dev.yaml"), topology)))
    assert tree[0] == "kafka-multiregion:index:KafkaEstate  dev"
    assert "  kafka-multiregion:index:RegionalCluster  us-east-1" in tree
    assert "    kubernetes:kafka.strimzi.io/v1:Kafka  us-east-1-kafka" in tree


def _diff(tmp_path, old, new):
    result = _run("--diff", _plan(tmp_path, old, "old"), _plan(tmp_path, new, "new"), "--format", "json", "--fail-on-destructive")
    assert result.returncode in (0, 3), result.stderr
    return result.returncode, yaml.safe_load(result.stdout)


def test_adding_a_region_shows_only_additions(tmp_path):
    old = raw("stacks/prod.yaml")
    new = raw("stacks/prod.yaml")
    new["regions"].append(
        {
            **old["regions"][1],
            "name": "eu-central-1",
            "kubernetes": {"kind": "context", "context": "eu-central"},
            "kafka": {**old["regions"][1]["kafka"], "zones": ["eu-central-1a", "eu-central-1b", "eu-central-1c"]},
        }
    )
    code, changes = _diff(tmp_path, old, new)
    assert code == 0
    assert {c["action"] for c in changes} == {"create"}, [c for c in changes if c["action"] != "create"][:3]
    assert len(changes) > 40


def test_adding_a_secondary_to_active_passive_is_only_additions_once_failover_is_pinned(tmp_path):
    old = raw("stacks/dev.yaml")
    new = raw("stacks/dev.yaml")
    new["regions"].append({**old["regions"][1], "name": "eu-west-1", "kubernetes": {"kind": "context", "context": "eu"}})
    new["dns"]["failover_secondary"] = "us-west-2"
    _, changes = _diff(tmp_path, old, new)
    assert {c["action"] for c in changes} == {"create"}


def test_removing_a_region_that_was_not_decommissioned_is_refused(tmp_path):
    old = raw("stacks/prod.yaml")
    new = raw("stacks/prod.yaml")
    gone = new["regions"].pop(2)["name"]
    new["users"]["orders-service"]["acls"] = [
        a for a in new["users"]["orders-service"]["acls"] if not a["resource"]["name"].startswith(gone)
    ]
    result = _run("--diff", _plan(tmp_path, old, "old"), _plan(tmp_path, new, "new"))
    assert result.returncode == 2
    assert f"regions: region {gone} was removed without being decommissioned first" in result.stderr


def decommissioned_then_removed() -> tuple[dict, dict]:
    """prod with its third region decommissioned, then with it removed (and the ACLs on its copies): the second step."""
    old = raw("stacks/prod.yaml")
    old["regions"][2]["decommission"] = True
    new = raw("stacks/prod.yaml")
    gone = new["regions"].pop(2)["name"]
    acls = new["users"]["orders-service"]["acls"]
    new["users"]["orders-service"]["acls"] = [a for a in acls if not a["resource"]["name"].startswith(gone)]
    return old, new


def test_removing_a_decommissioned_region_fills_the_destructive_section(tmp_path):
    old, new = decommissioned_then_removed()
    code, changes = _diff(tmp_path, old, new)
    assert code == 3
    destructive = {c["type"].rsplit(":", 1)[1] for c in changes if c["destructive"]}
    assert destructive == {"Kafka", "KafkaNodePool", "KafkaTopic", "Namespace"}
    text = _run("--diff", _plan(tmp_path, old, "o"), _plan(tmp_path, new, "n")).stdout
    assert text.startswith("!!! DESTRUCTIVE CHANGES: data will be deleted or replaced !!!")
    head = text.split("Changes:")[0]
    assert "$kubernetes:kafka.strimzi.io/v1:Kafka::ap-southeast-1-kafka\n" in head and "  DELETE urn:pulumi:prod::" in head
    assert "protected: pulumi refuses until unprotected" not in head, "decommissioning lifted the protection"


def test_renaming_a_topic_shows_a_replacement(tmp_path):
    old = raw("stacks/dev.yaml")
    new = raw("stacks/dev.yaml")
    new["topics"]["payments-v2"] = new["topics"].pop("payments")
    code, changes = _diff(tmp_path, old, new)
    assert code == 3
    replaced = [c for c in changes if c["action"] == "replace" and c["type"].endswith("KafkaTopic")]
    assert len(replaced) == 2 and all(c["destructive"] for c in replaced)
    assert "renamed to" in replaced[0]["details"][0] and replaced[0]["urn"].endswith("-topic-payments")


def test_a_property_change_is_an_update_with_the_property_path(tmp_path):
    old = raw("stacks/dev.yaml")
    new = raw("stacks/dev.yaml")
    new["topics"]["orders"]["partitions"] = 12
    code, changes = _diff(tmp_path, old, new)
    assert code == 0
    updates = [c for c in changes if c["urn"].endswith("-topic-orders")]
    assert [c["action"] for c in updates] == ["update", "update"]
    assert updates[0]["details"] == ["spec.partitions: 6 -> 12"]


def test_the_diff_reads_a_stack_from_a_git_ref(tmp_path):
    result = _run("--diff", "HEAD:stacks/dev.yaml", "stacks/dev.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Changes: ")
    bad = _run("--diff", "no-such-ref:stacks/dev.yaml", "stacks/dev.yaml")
    assert bad.returncode == 2 and "cannot read it from git" in bad.stderr


def test_the_diagram_shows_flows_by_policy_and_dns_names_by_routing():
    dev = plan_tool.mermaid(Plan(plan_tool.load_topology(ROOT / "stacks/dev.yaml"), None))  # type: ignore[arg-type]
    assert "us_east_1 -- identity --> us_west_2" in dev
    assert '(["dev.kafka.example.com"])' in dev
    assert "-. PRIMARY .-> us_east_1" in dev and "-. SECONDARY .-> us_west_2" in dev
    domains = plan_tool.mermaid(Plan(plan_tool.load_topology(ROOT / "examples/partitioned-domain.yaml"), None))  # type: ignore[arg-type]
    assert "-. geo EU .->" in domains and "eu_west_1 -- prefixed --> eu_central_1" in domains


def test_summary_and_diagram_group_resources_by_tenant():
    plan = plan_tool.make_plan(str(ROOT / "examples/multi-tenant.yaml"))
    tenants = plan_tool.summary(plan)["tenants"]
    # payments: 2 topics in 2 regions, 2 users with a KafkaUser and a password Secret in each; analytics: us-east-1 only
    assert {n: (t["regions"], t["resources"]) for n, t in tenants.items()} == {
        "analytics": (["us-east-1"], 3),
        "payments": (["eu-west-1", "us-east-1"], 12),
    }
    diagram = plan_tool.mermaid(plan)
    assert 'subgraph tenant_payments_group["tenant payments"]' in diagram
    assert "tenant_analytics --- us_east_1" in diagram and "tenant_analytics --- eu_west_1" not in diagram


def test_a_component_change_shows_in_the_diff_of_an_unchanged_stack_file(tmp_path):
    """The base side is planned with the base ref's own code: a changed broker default is an update of every
    Kafka even though stacks/dev.yaml did not change (planned with today's code on both sides, it is 0 changes)."""
    repo = tmp_path / "repo"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_bytes((ROOT / name).read_bytes())

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q", "-b", "base")
    git("add", "-A")
    git("commit", "-qm", "base")
    strimzi = repo / "components" / "kube.py"
    before = '"unclean.leader.election.enable": False'
    assert before in strimzi.read_text()
    strimzi.write_text(strimzi.read_text().replace(before, '"unclean.leader.election.enable": True'))

    def diff(*sides: str) -> list[dict]:
        result = subprocess.run(
            [sys.executable, "-m", "tools.plan", "--diff", *sides, "--format", "json"],
            cwd=repo, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    assert diff("stacks/dev.yaml", "stacks/dev.yaml") == []
    changes = diff("base:stacks/dev.yaml", "stacks/dev.yaml")
    assert {(c["urn"].rsplit("::", 1)[1], c["action"]) for c in changes} == {
        ("us-east-1-kafka", "update"),
        ("us-west-2-kafka", "update"),
    }
    assert all(c["details"] == ["spec.kafka.config.unclean.leader.election.enable: false -> true"] for c in changes)
    reviewed = subprocess.run(
        [sys.executable, "-m", "tools.plan", "--diff", "base:stacks/dev.yaml", "stacks/dev.yaml", "--format", "review"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert reviewed.returncode == 0, reviewed.stderr
    assert "## stacks/dev.yaml (dev): 0 to create, 2 to update, 0 to replace, 0 to delete" in reviewed.stdout
    assert reviewed.stdout.count("~ update Kafka cluster ") == 2
    assert reviewed.stdout.count("~     spec.kafka.config.unclean.leader.election.enable: false -> true") == 2
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=repo, capture_output=True, text=True, check=True).stdout
    assert len(worktrees.splitlines()) == 1, "the base worktree was not removed"


def test_out_refuses_a_folder_the_tool_did_not_write_unless_forced(tmp_path):
    mine = tmp_path / "mine"
    (mine / "notes").mkdir(parents=True)
    (mine / "notes" / "keep.txt").write_text("not a plan")
    result = _run("stacks/dev.yaml", "--out", str(mine))
    assert result.returncode == 2 and "was not written by tools.plan" in result.stderr and "--force" in result.stderr
    assert (mine / "notes" / "keep.txt").read_text() == "not a plan", "the refused folder was left as it was"
    assert "Traceback" not in result.stderr
    written = tmp_path / "plan"
    assert _run("stacks/dev.yaml", "--out", str(written)).returncode == 0
    assert (written / plan_tool.OUT_MARKER).is_file()
    (written / "stale.yaml").write_text("from an earlier plan")
    assert _run("stacks/dev.yaml", "--out", str(written)).returncode == 0, "a folder it wrote is replaced"
    assert not (written / "stale.yaml").exists()
    assert _run("stacks/dev.yaml", "--out", str(mine), "--force").returncode == 0
    assert not (mine / "notes").exists() and (mine / "plan.json").is_file()
