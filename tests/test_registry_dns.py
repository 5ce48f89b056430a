"""The schema registry's DNS names: ``registry.<region name>`` per registry region at its Ingress, and
``registry.<shared name>`` following the shared name's gates where that name answers with the writer.

Pure builders over generated topologies (no check or failover group of its own, a record for every URL clients
get), the program under mocks (what the records point at, which gates they use), and ``tools.failover`` against
the moto server (promote moves the registry name with the cluster, judged from what Route53 reads back).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components import registry as builders
from components.dns_records import (
    Bootstrap,
    RegistryIngress,
    failover_groups,
    health_checks,
    records,
)
from stacks.model import registry
from tests.conftest import raw, topology_of
from tests.generated import topologies
from tools.plan.harness import unwrap

REC = "aws:route53/record:Record"
HC = "aws:route53/healthCheck:HealthCheck"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
APICURIO = "kubernetes:registry.apicur.io/v1:ApicurioRegistry3"


def _with_registry(data: dict[str, Any], writer: str | None = None) -> dict[str, Any]:
    return {**data, "schema_registry": {"writer": writer} if writer else {}}


@st.composite
def _pairs(draw: st.DrawFn) -> tuple[Any, Any]:
    """A generated topology with a dns section, without and with a registry."""
    data = draw(topologies().filter(lambda d: "dns" in d))
    data.pop("schema_registry", None)
    names = [r["name"] for r in data["regions"] if not r.get("decommission")]
    writer = draw(st.sampled_from(names)) if data["architecture"] in ("active-active", "partitioned-domain") else None
    return topology_of(data), topology_of(_with_registry(data, writer))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_pairs())
def test_registry_names_add_no_check_and_no_failover_group_and_every_client_url_has_a_record(pair):
    without, t = pair
    assert health_checks(t) == health_checks(without)
    assert [(g.name, g.members) for g in failover_groups(t)] == [(g.name, g.members) for g in failover_groups(without)]
    added = [r for r in records(t) if r not in records(without)]
    assert all(isinstance(r.target, RegistryIngress) and r.target.region in registry.regions(t) for r in added)
    shared = registry.shared_dns_name(t)
    gates = {r.health_check for r in records(t) if r.name == t.bootstrap_name}
    for rec in added:
        if rec.name == shared:  # the shared name's routing and gates, at the registry
            assert rec.health_check in gates and not rec.owns_gate
        else:
            assert rec.name == registry.regional_dns_name(t, rec.target.region) and rec.health_check is None
    follows = {f for g in failover_groups(t) for f in g.followers}
    assert follows == ({shared} & {r.name for r in added if r.health_check is not None})
    client = builders.client_settings(t, "app")
    assert client is not None
    names = {r.name for r in records(t)}
    assert client["url"].split("/")[2] in names
    assert {u.split("/")[2] for u in client["regional_urls"].values()} <= names


def _records(rec: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for reg in rec.of_type(REC):
        i = unwrap(reg.inputs)
        out[reg.name] = {
            "name": i["name"], "set": i.get("setIdentifier"), "hc": i.get("healthCheckId"),
            "failover": (i.get("failoverRoutingPolicies") or [{}])[0].get("type"),
            "provider": reg.provider.split("::")[3], "value": i["records"][0],
        }  # fmt: skip
    return out


def test_active_passive_registry_names_point_at_each_registrys_ingress_and_fail_over_with_the_shared_name(program, tmp_path):
    rec = program(_with_registry(raw("stacks/dev.yaml")), tmp_path)
    r = _records(rec)
    reads = {x.name: x for x in rec.of_type(INGRESS) if x.read}
    for region, kind in (("us-east-1", "primary"), ("us-west-2", "secondary")):
        read = reads[f"{region}-registry-ingress"]
        assert f"k8s-{region}" in read.provider  # read from the region's own cluster
        own = r[f"dns-{region}-registry"]
        assert own["name"] == f"registry.{region}.dev.kafka.example.com" and own["hc"] is None
        assert own["value"].endswith(f".elb.{region}.amazonaws.com") and own["value"] != r[f"dns-{region}-bootstrap"]["value"]
        assert r[f"dns-registry-{kind}"] == {
            "name": "registry.dev.kafka.example.com", "set": f"{region}-{kind}", "hc": f"bootstrap-{kind}-gate-id",
            "failover": kind.upper(), "provider": f"aws-{region}", "value": own["value"],
        }  # fmt: skip
    assert len(rec.of_type(HC)) == len(program("stacks/dev.yaml").of_type(HC))
    # The Ingress exists once the operator has reconciled the registry: `up` waits for Ready before reading it.
    waits = {unwrap(x.inputs)["metadata"]["annotations"]["pulumi.com/waitFor"] for x in rec.of_type(APICURIO)}
    assert waits == {"condition=Ready"}


@pytest.mark.parametrize(
    ("stack", "writer", "shared"),
    [
        ("examples/aggregation-hub.yaml", None, "registry.iot.kafka.example.com"),
        ("examples/schema-registry.yaml", "eu-west-1", None),
        ("examples/partitioned-domain.yaml", "eu-west-1", None),
    ],
)
def test_only_a_shared_name_that_answers_with_the_writer_gets_a_registry_name(stack, writer, shared):
    t = topology_of(_with_registry(raw(stack), writer))
    assert registry.shared_dns_name(t) == shared
    named = {r.name: r for r in records(t) if r.name.startswith("registry.")}
    assert set(named) == {registry.regional_dns_name(t, x) for x in registry.regions(t)} | ({shared} if shared else set())
    if shared:  # the hub: one simple record at the hub's registry, as the shared name is at its bootstrap
        (hub,) = [r for r in records(t) if r.name == t.bootstrap_name]
        assert isinstance(hub.target, Bootstrap) and named[shared].target == RegistryIngress(hub.target.region)


# ----------------------------------------------------------------------------------------- the failover tool


@pytest.fixture
def registry_stack(tmp_path: Path) -> Path:
    path = tmp_path / "dev-registry.yaml"
    path.write_text(yaml.safe_dump(_with_registry(raw("stacks/dev.yaml"))))
    return path


def test_promote_moves_the_registry_name_with_the_cluster_as_read_back(zone, registry_stack):
    z = zone(registry_stack)
    seeded = z.switches()
    code, text, _ = z.run("status")
    assert code == 0 and "registry.dev.kafka.example.com answers with us-east-1: as intended" in text, text
    assert "registry.us-east-1.dev.kafka.example.com" not in text, "a region's own names are not shared names"
    code, text, _ = z.run("promote", "us-west-2")
    read_back = text.split("Route53 read back:")[-1]
    assert code == 0 and "changing 1 switch(es)" in text, text
    assert "registry.dev.kafka.example.com answers with us-west-2: FAILED OVER" in read_back, text
    assert "dev.kafka.example.com answers with us-west-2: FAILED OVER" in read_back
    code, text, _ = z.run("drill", "promote", "us-west-2")
    assert code != 0 and "nothing to drill" in text, "already promoted"
    assert z.run("rollback")[0] == 0
    code, text, _ = z.run("drill", "promote", "us-west-2")
    assert code == 0 and "drill passed" in text, text
    assert z.switches() == seeded


def test_a_registry_record_edited_by_hand_is_refused_with_the_difference(zone, registry_stack):
    z = zone(registry_stack)
    zid = z.r53.list_hosted_zones_by_name(DNSName="kafka.example.com")["HostedZones"][-1]["Id"]
    rrs = z.r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
    (rr,) = [x for x in rrs if x["Name"].startswith("registry.dev.") and x.get("SetIdentifier") == "us-west-2-secondary"]
    rr = {**rr, "ResourceRecords": [{"Value": "elsewhere.example.net"}]}
    z.r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": rr}]})
    before = z.switches()
    code, text, _ = z.run("promote", "us-west-2")
    assert code == 3 and "record registry.dev.kafka.example.com (us-west-2-secondary): value is ['elsewhere.example.net']" in text
    assert z.switches() == before
