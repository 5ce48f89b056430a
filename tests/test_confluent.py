"""The confluent cluster flavor and the cluster-linking engine, planned: what each region gets, what each link
mirrors, who the link logs in as, and that the CFK 2.9.3 schemas hold every generated topology's manifests.

The shipped examples are also planned, validated and searched for secrets by ``tests/test_plan.py`` (they are in
``STACK_FILES``); the refusals are cases in ``tests/test_model.py``; failover is ``tests/test_switchover_links.py``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter

import yaml

from components import variants
from components.engines.cluster_linking import engine as cluster_linking
from components.flavors.confluent import bodies as confluent
from stacks import naming
from stacks.loader import validate_data
from tests.conftest import ROOT, run_oracle
from tools.plan import harness, invariants
from tools.plan.cli import make_plan
from tools.plan.diff import diff
from tools.plan.harness import Recording, unwrap
from tools.plan.recorded import region_of

CFK = "kubernetes:platform.confluent.io/v1beta1"


def _check_regions_and_links(rec: Recording) -> None:
    t = rec.topology
    runs = variants.engine(t).flows(t)
    for kind in ("KRaftController", "Kafka", "KafkaRestClass"):
        assert Counter(region_of(r, t) for r in rec.of_type(f"{CFK}:{kind}")) == Counter(t.region_names), kind
    # A topic a link mirrors into a region is the link's: no KafkaTopic there (a mirror is never created over one).
    mirrored = {(r.target, name) for r in runs for name in r.remote_topics}
    hosted = {(region_of(r, t), r.inputs["spec"]["name"]) for r in rec.of_type(f"{CFK}:KafkaTopic")}
    assert hosted == {(r, name) for r in t.region_names for name in t.topics_in(r)} - mirrored
    links = {(region_of(r, t), r.inputs["metadata"]["name"]): r.inputs["spec"] for r in rec.of_type(f"{CFK}:ClusterLink")}
    assert set(links) == {(r.target, naming.cluster_link(r.source)) for r in runs}
    for run in runs:
        spec = links[(run.target, naming.cluster_link(run.source))]
        mirrors = {m["name"]: m.get("sourceTopicName", m["name"]) for m in spec["mirrorTopics"]}
        assert mirrors == dict(zip(run.remote_topics, run.topics, strict=True))
        assert spec["sourceKafkaCluster"]["clusterID"] == naming.kraft_cluster_id(t.environment, run.source)
        # Only ALLOW ACLs travel: a write fence (DENY) on the old primary never reaches the side taking over.
        assert all(f["accessFilter"]["permissionType"] == "allow" for f in spec.get("aclFilters", []))


def test_each_region_and_each_link_of_the_examples(program):
    for name in ("cluster-linking-active-passive.yaml", "cluster-linking-aggregation-hub.yaml"):
        _check_regions_and_links(program(ROOT / "examples" / name))


def test_a_link_principal_exists_only_on_its_source_and_only_reads_there(program):
    rec = program(ROOT / "examples/cluster-linking-active-passive.yaml")
    t = rec.topology
    (run,) = variants.engine(t).flows(t)
    script = {
        region_of(r, t): r.inputs["data"]["apply-acls.sh"]
        for r in rec.of_type("kubernetes:core/v1:ConfigMap")
        if r.inputs["metadata"]["name"] == naming.CFK_ACLS
    }
    assert f"User:{run.name}" in script[run.source] and f"User:{run.name}" not in script[run.target]
    ops = {op for acl in cluster_linking.source_acls(t, run) for op in acl["operations"]}
    assert ops == {"Describe", "DescribeConfigs", "Read"}
    users = [r for r in rec.of_type("kubernetes:core/v1:Secret") if r.inputs["metadata"]["name"] == naming.CFK_USERS_SECRET]
    assert {region_of(r, t) for r in users} == set(t.region_names)


def test_a_misspelled_field_in_a_rendered_cluster_link_is_caught_by_the_cfk_schema(tmp_path):
    t = validate_data(yaml.safe_load((ROOT / "examples/cluster-linking-active-passive.yaml").read_text()), "x")
    (run,) = variants.engine(t).flows(t)
    body = cluster_linking.cluster_link(t, run)
    body["spec"]["mirrorTopics"][0]["sourceTopic"] = body["spec"]["mirrorTopics"][0]["name"]
    (tmp_path / "link.yaml").write_text(yaml.safe_dump(body))
    result = run_oracle(tmp_path)
    assert result.returncode == 1 and "'sourceTopic' was unexpected" in result.stdout, result.stdout
    kafka = confluent.kafka(t, t.region(run.source))
    kafka["spec"]["listeners"]["external"]["authentication"]["type"] = "scram-sha-512"  # not a CFK 2.9.3 type
    (tmp_path / "link.yaml").write_text(yaml.safe_dump(kafka))
    assert run_oracle(tmp_path).returncode == 1


def test_the_checker_sees_a_link_that_mirrors_what_must_stay_or_a_secret_name_cfk_refuses(program):
    rec = program(ROOT / "examples/cluster-linking-active-passive.yaml")
    assert invariants.check(rec) == []
    regs = copy.deepcopy(rec.registrations)
    link = next(r for r in regs if r.type == f"{CFK}:ClusterLink")
    link.inputs["spec"]["mirrorTopics"].append({"name": "local-audit"})
    link.inputs["spec"]["sourceKafkaCluster"]["authentication"]["jaasConfig"]["secretRef"] = "x" * 31
    problems = invariants.check(dataclasses.replace(rec, registrations=regs))
    assert any("copies 'local-audit', which is declared replicated: false" in p for p in problems), problems
    assert any("is not a DNS label of at most 30" in p for p in problems), problems


def test_the_cfk_chart_is_a_stack_setting(program, monkeypatch):
    """Confluent's repository by default; a local chart directory or an OCI reference is the chart itself (no
    repository: Helm would look the path up in it), a mirror's URL a repository holding the same chart."""

    def release() -> tuple[str, str | None]:
        rec = program(ROOT / "examples/cluster-linking-active-passive.yaml")
        found = {
            (unwrap(r.inputs)["chart"], (unwrap(r.inputs).get("repositoryOpts") or {}).get("repo"), unwrap(r.inputs)["version"])
            for r in rec.of_type("kubernetes:helm.sh/v3:Release")
        }
        (chart,) = found
        assert chart[2] == confluent.CFK_CHART_VERSION_PINNED
        return chart[0], chart[1]

    assert release() == (confluent.CFK_CHART, confluent.CFK_REPO)
    real = harness.fake_config
    for setting, expected in (
        ("/mirror/confluent-for-kubernetes", ("/mirror/confluent-for-kubernetes", None)),
        ("oci://mirror.example/helm/confluent-for-kubernetes", ("oci://mirror.example/helm/confluent-for-kubernetes", None)),
        ("https://mirror.example/helm", (confluent.CFK_CHART, "https://mirror.example/helm")),
    ):
        monkeypatch.setattr(harness, "fake_config", lambda t, f, s=setting: {**real(t, f), "kafka-multiregion:cfkChart": s})
        assert release() == expected, setting


def test_the_plan_says_a_changed_acl_list_replaces_the_acl_job(tmp_path):
    """A Job's pod template is immutable: the provider replaces the ACL job when its script changes (the real engine
    showed it; the offline plan called it an update). Its ConfigMap is updated in place."""
    data = yaml.safe_load((ROOT / "examples/cluster-linking-active-passive.yaml").read_text())
    grown = copy.deepcopy(data)
    grown["users"]["audit"] = {"acls": [{"resource": {"type": "topic", "name": "payments"}, "operations": ["Read"]}]}
    plans = []
    for name, topology in (("old", data), ("new", grown)):
        stack = tmp_path / f"{name}.yaml"
        stack.write_text(yaml.safe_dump(topology, sort_keys=False))
        plans.append(make_plan(str(stack)))
    actions = {(c.type, c.urn.rsplit("::", 1)[-1]): c.action for c in diff(*plans)}
    regions = [r["name"] for r in data["regions"]]
    assert {actions[("kubernetes:batch/v1:Job", f"{r}-users-acl-job")] for r in regions} == {"replace"}
    assert {actions[("kubernetes:core/v1:ConfigMap", f"{r}-users-acls")] for r in regions} == {"update"}


def test_dns_reads_cfk_services_only_once_cfk_reports_the_kafka_deployed(program):
    """The Services DNS reads (their ids wait on the Kafka's id, ``components.dns``) exist only once CFK has deployed
    the Kafka, so `up` must wait for its status.phase, as it waits for the Strimzi flavor's Ready."""
    rec = program(ROOT / "examples/cluster-linking-active-passive.yaml")
    kafkas = rec.of_type(f"{CFK}:Kafka")
    assert kafkas and any(r.read and r.type == "kubernetes:core/v1:Service" for r in rec.registrations)
    for k in kafkas:
        assert unwrap(k.inputs["metadata"])["annotations"]["pulumi.com/waitFor"] == "jsonpath={.status.phase}=RUNNING"
