"""The pull-request review (`tools.plan --diff ... --format review`): risk first, by region and kind, element-wise,
within GitHub's comment limit. Every case is a real diff of the repository's own stacks, changed as a pull
request would change them."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys

import yaml

from tests.conftest import ROOT, raw
from tests.test_plan import decommissioned_then_removed
from tools.plan import cli as plan_tool
from tools.plan import harness, review, review_elements
from tools.plan.diff import diff
from tools.plan.recorded import Plan


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.plan", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def _review(tmp_path, old, new, *extra: str, code: int = 0) -> tuple[str, dict]:
    sides = []
    for name, data in (("old", old), ("new", new)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data))
        sides.append(str(path))
    out = tmp_path / "review.json"
    result = _run("--diff", *sides, "--format", "review", "--label", "stacks/x.yaml", "--json", str(out), *extra)
    assert result.returncode == code, result.stderr
    return result.stdout, json.loads(out.read_text())


def _risks(r: dict, category: str) -> list[str]:
    return [x["text"] for x in r["risks"] if x["category"] == category]


def _add_region(data: dict, name: str = "eu-central-1") -> None:
    template = data["regions"][1]
    data["regions"].append(
        {
            **template,
            "name": name,
            "kubernetes": {"kind": "kubeconfig", "secret_key": f"kubeconfig-{name}"},
            "kafka": {**template["kafka"], "zones": [f"{name}a", f"{name}b", f"{name}c"]},
        }
    )


def _updates(r: dict, what: str) -> dict[str, list[str]]:
    return {u["region"]: u["lines"] for u in r["updates"] if u["what"] == what}


def test_a_region_added_is_summarised_by_what_a_reviewer_checks_and_names_the_secret_it_needs(tmp_path):
    old, new = raw("stacks/prod.yaml"), raw("stacks/prod.yaml")
    _add_region(new)
    md, r = _review(tmp_path, old, new)
    assert r["totals"]["create"] > 40 and (r["totals"]["update"], r["totals"]["replace"], r["totals"]["delete"]) == (0, 0, 0)
    created = r["by_region"]["eu-central-1"]["create"]
    assert (created["KafkaTopic"], created["KafkaNodePool"], created["Kafka"]) == (3, 2, 1)
    summaries = r["creates"]["eu-central-1"]["summarised"]
    assert "topic orders: 12 partitions, RF 3, retention 7 d, min.insync.replicas 2" in summaries["KafkaTopic"]
    assert "node pool broker of eu-central-1: 3 x broker, storage 500Gi gp3, cpu 4, memory 16Gi" in summaries["KafkaNodePool"]
    assert "public loadbalancer:9094 tls scram-sha-512" in summaries["Kafka"][0]
    orders = next(u for u in summaries["KafkaUser"] if u.startswith("user orders-service:"))
    assert "Describe, Read, Write on topic orders" in orders and "Read on group orders-service" in orders
    # The new region's kubeconfig is the one new setting; Pulumi.prod.yaml does not set it: a risk with the command.
    assert [s["key"] for s in r["config"]["settings"] if s["new"]] == ["kubeconfig-eu-central-1"]
    [config] = _risks(r, "config")
    assert "`pulumi config set --secret --stack prod kubeconfig-eu-central-1 < path/to/eu-central-1.kubeconfig`" in config
    assert _risks(r, "data") == [] and _risks(r, "protection") == []
    assert any(
        "prod.kafka.example.com (CNAME, eu-central-1) is added to a name clients already resolve" in t for t in _risks(r, "dns")
    )
    # Risk first: the header, then the risks, then the collapsed parts.
    assert md.startswith(review.marker("stacks/x.yaml") + "\n## stacks/x.yaml (prod): ")
    assert md.index("What can lose data or access") < md.index("<details>")
    settled = tmp_path / "Pulumi.prod.yaml"
    settled.write_text(yaml.safe_dump({"config": {"kafka-multiregion:kubeconfig-eu-central-1": {"secure": "v1:abc"}}}))
    _, r = _review(tmp_path, old, new, "--stack-config", str(settled))
    assert _risks(r, "config") == []


def test_a_region_decommissioned_says_that_deletion_protection_is_lifted(tmp_path):
    old, new = raw("stacks/prod.yaml"), raw("stacks/prod.yaml")
    new["regions"][2]["decommission"] = True
    md, r = _review(tmp_path, old, new)
    [lifted] = _risks(r, "protection")
    assert "deletion protection (protect, retainOnDelete) is lifted from" in lifted and "in ap-southeast-1:" in lifted
    for name in ("Kafka cluster ap-southeast-1", "node pool broker of ap-southeast-1", "topic orders", "namespace kafka"):
        assert name in lifted
    assert _updates(r, "topic orders") == {"ap-southeast-1": ["~ protect: true -> false", "~ retainOnDelete: true -> false"]}
    assert (
        "MirrorMaker 2 replication us-east-1 -> ap-southeast-1 stops: records written in its source no longer reach ap-southeast-1"
        in _risks(r, "replication")
    )
    assert lifted in md.split("<details>")[0]
    text = _run("--diff", str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml")).stdout
    assert "protect: true -> false" in text, "the plain diff shows it too"


def test_a_decommissioned_region_removed_says_what_data_goes(tmp_path):
    old, new = decommissioned_then_removed()
    md, r = _review(tmp_path, old, new, "--fail-on-destructive", code=3)
    data = _risks(r, "data")
    assert "topic orders in ap-southeast-1 will be deleted with its data" in data
    assert "Kafka cluster ap-southeast-1 in ap-southeast-1 will be deleted with the data of every topic on it" in data
    assert "namespace kafka in ap-southeast-1 will be deleted with everything in it" in data
    assert r["risks"][0]["category"] == "data" and data[0] in md.split("<details>")[0]
    assert any("orders-service" in t and "loses Describe, Read on topic ap-southeast-1.orders" in t for t in _risks(r, "access"))


def test_one_acl_removed_and_one_operation_added_read_as_exactly_that(tmp_path):
    old, new = raw("stacks/prod.yaml"), raw("stacks/prod.yaml")
    acls = new["users"]["orders-service"]["acls"]
    new["users"]["orders-service"]["acls"] = [a for a in acls if a["resource"]["name"] != "eu-west-1.orders"]
    new["users"]["orders-service"]["acls"][0]["operations"].append("DescribeConfigs")
    md, r = _review(tmp_path, old, new)
    exactly = [
        "- ACL topic eu-west-1.orders (literal, any host): removed, it allowed Describe, Read",
        "+ ACL topic orders (literal, any host): operations + DescribeConfigs",
    ]
    assert _updates(r, "user orders-service") == dict.fromkeys(("ap-southeast-1", "eu-west-1", "us-east-1"), exactly)
    assert [u["what"] for u in r["updates"]] == ["user orders-service"] * 3
    assert "user orders-service in us-east-1 gains: DescribeConfigs on topic orders (literal, any host)" in _risks(r, "access")
    assert any(
        t.startswith("user orders-service in us-east-1 loses Describe, Read on topic eu-west-1.orders")
        for t in _risks(r, "access")
    )
    assert "-     ACL topic eu-west-1.orders (literal, any host): removed, it allowed Describe, Read" in md


def test_a_topics_partitions_raised_is_one_line_per_region_and_no_risk(tmp_path):
    old, new = raw("stacks/dev.yaml"), raw("stacks/dev.yaml")
    new["topics"]["orders"]["partitions"] = 12
    _, r = _review(tmp_path, old, new)
    assert _updates(r, "topic orders") == {
        "us-east-1": ["~ spec.partitions: 6 -> 12"],
        "us-west-2": ["~ spec.partitions: 6 -> 12"],
    }
    assert r["risks"] == []


def _estate() -> dict:
    """prod's regions and settings with 300 topics in 10 domains and 30 users, each reading a domain by prefix
    and writing ten topics of the next."""
    data = raw("stacks/prod.yaml")
    data["topics"] = {
        f"domain-{i // 30:02d}.events-{i:03d}": {"partitions": 6, "replication_factor": 3, "config": {"retention.ms": 604800000}}
        for i in range(300)
    }
    data["users"] = {
        f"service-{u:02d}": {
            "groups": [f"service-{u:02d}"],
            "acls": [
                {
                    "resource": {"type": "topic", "name": f"domain-{u % 10:02d}.", "pattern": "prefix"},
                    "operations": ["Read", "Describe"],
                },
                *(
                    {
                        "resource": {"type": "topic", "name": f"domain-{(u + 1) % 10:02d}.events-{(u + 1) % 10 * 30 + k:03d}"},
                        "operations": ["Write"],
                    }
                    for k in range(10)
                ),
                {"resource": {"type": "group", "name": f"service-{u:02d}"}, "operations": ["Read"]},
            ],
        }
        for u in range(30)
    }
    return data


def test_a_region_added_to_a_300_topic_estate_stays_under_githubs_limit_and_says_what_it_left_out(tmp_path):
    old, new = _estate(), _estate()
    _add_region(new)
    md, r = _review(tmp_path, old, new)
    print(f"Markdown: {len(md)} characters")
    assert len(md) <= review.MAX_CHARS < 65_536
    assert len(r["creates"]["eu-central-1"]["summarised"]["KafkaTopic"]) == 300, "the JSON keeps every section whole"
    note = re.search(
        r"\*\*Truncated to fit one GitHub comment \(60,000 characters\):\*\* left out (\d+) of (\d+) create lines", md
    )
    assert note and 0 < int(note[1]) < int(note[2]), md[-600:]
    assert "full review (Markdown and JSON) and the full diff are in the workflow artifact offline-plan" in md
    # What is cut is the least risky: the risks and the configuration survive whole.
    assert all(f"{x['text']}" in md for x in r["risks"]) and "kubeconfig-eu-central-1" in md
    assert md.count("<details>") == md.count("</details>") and md.count("```") % 2 == 0


def test_an_unchanged_stack_is_one_line_and_a_new_stack_is_all_creates(tmp_path):
    same = _run("--diff", "stacks/dev.yaml", "stacks/dev.yaml", "--format", "review", "--label", "stacks/dev.yaml")
    assert same.returncode == 0, same.stderr
    assert same.stdout == review.marker("stacks/dev.yaml") + "\n**stacks/dev.yaml** (dev): no changes.\n"
    out = tmp_path / "new.json"
    fresh = _run("--diff", "/dev/null", "stacks/dev.yaml", "--format", "review", "--json", str(out))
    assert fresh.returncode == 0, fresh.stderr
    r = json.loads(out.read_text())
    assert r["new_stack"] and r["totals"]["create"] > 40 and set(r["totals"].values()) - {r["totals"]["create"]} == {0}
    assert all(s["new"] for s in r["config"]["settings"])


def test_bad_review_arguments_are_refused_without_a_traceback(tmp_path):
    alone = _run("stacks/dev.yaml", "--format", "review")
    assert alone.returncode == 2 and "--format review needs --diff OLD NEW" in alone.stderr
    nowhere = _run(
        "--diff", "stacks/dev.yaml", "stacks/dev.yaml", "--format", "review", "--json", str(tmp_path / "no" / "r.json")
    )
    assert nowhere.returncode == 2 and "cannot write it" in nowhere.stderr
    missing = _run(
        "--diff", "stacks/dev.yaml", "stacks/dev.yaml", "--format", "review", "--stack-config", str(tmp_path / "Pulumi.x.yaml")
    )
    assert missing.returncode == 2 and "--stack-config" in missing.stderr and "no such file" in missing.stderr
    negative = _run("--diff", "stacks/dev.yaml", "stacks/dev.yaml", "--format", "review", "--max-chars", "-1")
    assert negative.returncode == 2 and "--max-chars" in negative.stderr
    assert "Traceback" not in alone.stderr + nowhere.stderr + missing.stderr + negative.stderr


def test_keyed_diffs_match_named_things_by_name_and_plain_lists_as_sets():
    listeners = [{"name": "tls", "port": 9093, "type": "internal"}, {"name": "public", "port": 9094, "type": "loadbalancer"}]
    assert review_elements.keyed_diff({"l": listeners}, {"l": listeners[1:]}) == [
        "- l[tls]: " + json.dumps(listeners[0], sort_keys=True)
    ]
    moved = [listeners[0], {**listeners[1], "port": 9095}]
    assert review_elements.keyed_diff({"l": listeners}, {"l": moved}) == ["~ l[public].port: 9094 -> 9095"]
    assert review_elements.keyed_diff({"r": ["a", "b"]}, {"r": ["b", "c"]}) == ['+ r: "c"', '- r: "a"']
    assert review_elements.keyed_diff({"r": ["a", "b"]}, {"r": ["b", "a"]}) == ["~ r: reordered"]


def test_a_listener_opened_and_a_password_rotated_by_a_code_change_are_risks():
    """No topology field opens a listener or changes a password, a code change does: the recording of dev is
    changed as such a change would change it."""
    old = plan_tool.make_plan(str(ROOT / "stacks/dev.yaml"))
    registrations = copy.deepcopy(old.recording.registrations)
    kafka = next(r for r in registrations if r.type == "kubernetes:kafka.strimzi.io/v1:Kafka")
    internal = next(li for li in kafka.inputs["spec"]["kafka"]["listeners"] if li["type"] == "internal")
    internal |= {"type": "nodeport", "tls": False}
    secret = next(
        r for r in registrations if r.type == "kubernetes:core/v1:Secret" and harness.is_secret(r.inputs.get("stringData"))
    )
    secret.inputs["stringData"]["value"] = dict.fromkeys(secret.inputs["stringData"]["value"], "another-value")
    new = Plan(old.topology, harness.Recording(old.topology, registrations, {}, set()))
    r = review.review(old, new, diff(old, new), stack="stacks/dev.yaml")
    region = kafka.inputs["metadata"]["labels"]["kafka-multiregion.io/region"]
    exposure = _risks(r, "exposure")
    assert (
        f"Kafka cluster {region} in {region}: listener {internal['name']} becomes reachable outside the cluster (internal -> nodeport)"
        in exposure
    )
    assert f"Kafka cluster {region} in {region}: listener {internal['name']} drops TLS" in exposure
    [rotated] = _risks(r, "secret")
    assert rotated.startswith(f"Secret {secret.inputs['metadata']['name']} in ") and "is rotated" in rotated
    assert "another-value" not in json.dumps(r), "the review shows that a secret changed, never its value"
