"""Certificates, SCRAM users and ACLs: listener certificates chain to the environment CA and name every way a
client reaches a region (failover names included); every password and key stays a Pulumi secret; each user
has exactly its declared ACLs and each MirrorMaker principal exactly the minimal set."""

from __future__ import annotations

import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from components import access, kube, variants
from components.access import principals_in
from components.engines.mirrormaker2 import bodies as mirror
from components.engines.mirrormaker2 import plan as mirror_plan
from components.flavors.strimzi import bodies as strimzi
from stacks.loader import load_topology
from tests.conftest import ROOT, STACK_FILES, raw, topology_of
from tools.plan.harness import is_secret, unwrap

USER = "kubernetes:kafka.strimzi.io/v1:KafkaUser"
SECRET = "kubernetes:core/v1:Secret"


def _listener_certs(rec):
    out = {}
    for reg in rec.of_type(SECRET):
        if reg.name.endswith("-listener-cert"):
            chain = unwrap(reg.inputs["stringData"])["tls.crt"]
            certs = x509.load_pem_x509_certificates(chain.encode())
            out[reg.inputs["metadata"]["labels"]["kafka-multiregion.io/region"]] = certs
    return out


def _sans(cert: x509.Certificate) -> list[str]:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


def test_each_listener_certificate_chains_to_the_environment_ca_and_names_every_route_to_its_region(program):
    rec = program("stacks/prod.yaml", real_pki=True)
    t = rec.topology
    ca = x509.load_pem_x509_certificate(rec.outputs["ca_cert_pem"].encode())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    certs = _listener_certs(rec)
    assert set(certs) == set(t.region_names)
    for region, (leaf, chain_ca) in certs.items():
        assert chain_ca == ca, "the chain carries the CA after the leaf"
        assert leaf.issuer == ca.subject
        ca.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(leaf.signature_hash_algorithm))
        sans = set(_sans(leaf))
        assert f"{region}.prod.kafka.example.com" in sans
        assert "prod.kafka.example.com" in sans, "the failover name, so clients that fail over pass hostname checks"
        assert {f"broker-{b}.{region}.prod.kafka.example.com" for b in t.region(region).kafka.broker_ids} <= sans
        usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in usage


def test_renaming_the_failover_record_changes_every_certificates_names(tmp_path, program):
    data = raw("stacks/dev.yaml")
    data["dns"]["bootstrap"] = "kafka-dev.kafka.example.com"
    rec = program(data, tmp_path, real_pki=True)
    for leaf, _ in _listener_certs(rec).values():
        sans = _sans(leaf)
        assert "kafka-dev.kafka.example.com" in sans
        assert "dev.kafka.example.com" not in sans


def test_domain_names_are_in_the_certificates_of_the_regions_serving_the_domain():
    t = load_topology(ROOT / "examples/partitioned-domain.yaml")
    assert "eu.retail.kafka.example.com" in kube.listener_names(t, t.region("eu-central-1"))
    assert "eu.retail.kafka.example.com" not in kube.listener_names(t, t.region("us-east-1"))


def test_certificates_renew_early_and_the_ca_only_signs(program):
    rec = program("stacks/prod.yaml")
    for reg in rec.of_type("tls:index/locallySignedCert:LocallySignedCert"):
        assert reg.inputs["earlyRenewalHours"] == 30 * 24
        assert reg.inputs["validityPeriodHours"] == 365 * 24
        assert set(reg.inputs["allowedUses"]) == {"digital_signature", "key_encipherment", "server_auth"}
    (ca,) = rec.of_type("tls:index/selfSignedCert:SelfSignedCert")
    assert ca.inputs["isCaCertificate"] is True
    assert set(ca.inputs["allowedUses"]) == {"cert_signing", "crl_signing", "digital_signature"}


def test_every_password_and_private_key_reaching_a_resource_or_an_output_is_a_pulumi_secret(program):
    rec = program("stacks/prod.yaml", real_pki=True)
    secrets_checked = 0
    for reg in rec.of_type(SECRET):
        assert is_secret(reg.inputs["stringData"]), reg.name
        secrets_checked += 1
    for reg in rec.of_type("tls:index/locallySignedCert:LocallySignedCert"):
        assert is_secret(reg.inputs["caPrivateKeyPem"])
    for reg in rec.of_type("tls:index/certRequest:CertRequest"):
        assert is_secret(reg.inputs["privateKeyPem"])
    for reg in rec.registrations:
        if reg.type == "pulumi:providers:kubernetes":
            assert is_secret(reg.inputs["kubeconfig"])
            # Otherwise the engine replaces a ConfigMap or Secret whose data changes, where the mocks see an update.
            assert unwrap(reg.inputs["enableConfigMapMutable"]) and unwrap(reg.inputs["enableSecretMutable"]), reg.name
    for user, settings in rec.outputs["clients"].items():
        assert is_secret(settings["password"]), user
        assert not is_secret(settings["bootstrap_servers"])
    assert secrets_checked >= 3 * 5


def test_users_share_one_password_across_regions_so_credentials_survive_failover(program):
    rec = program("stacks/prod.yaml")
    by_user: dict[str, set[str]] = {}
    for reg in rec.of_type(SECRET):
        name = reg.inputs["metadata"]["name"]
        if name.endswith("-scram-password"):
            by_user.setdefault(name, set()).add(unwrap(reg.inputs["stringData"])["password"])
    assert by_user["orders-service-scram-password"] and all(len(pw) == 1 for pw in by_user.values())
    assert len(by_user) > 5


def test_a_kafka_user_exists_where_the_user_does_and_uses_the_supplied_scram_password(program):
    rec = program("stacks/prod.yaml")
    users = [r for r in rec.of_type(USER) if r.inputs["metadata"]["name"] == "analytics"]
    assert [u.inputs["metadata"]["labels"]["kafka-multiregion.io/region"] for u in users] == ["us-east-1"]
    auth = users[0].inputs["spec"]["authentication"]
    assert auth == {
        "type": "scram-sha-512",
        "password": {"valueFrom": {"secretKeyRef": {"name": "analytics-scram-password", "key": "password"}}},
    }


def test_each_application_user_gets_exactly_its_declared_acls():
    for path in STACK_FILES:
        t = load_topology(path)
        for region in t.region_names:
            for principal in principals_in(t, region):
                if principal.kind != "application" or not t.users[principal.name].acls:
                    continue  # a tenant's user without ACLs gets its tenant's prefixes (the table below)
                declared = t.users[principal.name].acls
                canon = sorted([access.acl(a) for a in declared], key=lambda a: json.dumps(a, sort_keys=True))
                assert principal.acls == canon
                body = strimzi.kafka_user(t, t.region(region), principal.name, principal.acls)
                assert body["spec"]["authorization"] == {"type": "simple", "acls": canon}


def _allow(rtype: str, name: str, *ops: str) -> dict:
    return {
        "type": "allow",
        "resource": {"type": rtype, "name": name, "patternType": "prefix"},
        "operations": list(ops),
        "host": "*",
    }


# A tenant's user that declares no ACLs: its tenant's topics, groups and transactional ids, and the remote
# copies of its topics (prefixed policy), nothing else.
TENANT_USER_ACLS = {
    ("examples/multi-tenant.yaml", "payments-api"): [
        _allow("group", "payments.", "Describe", "Read"),
        _allow("topic", "eu-west-1.payments.", "Describe", "Read"),
        _allow("topic", "payments.", "Describe", "DescribeConfigs", "Read", "Write"),
        _allow("topic", "us-east-1.payments.", "Describe", "Read"),
        _allow("transactionalId", "payments.", "Describe", "Write"),
    ],
    ("examples/multi-tenant.yaml", "analytics-etl"): [
        _allow("group", "analytics.", "Describe", "Read"),
        _allow("topic", "analytics.", "Describe", "DescribeConfigs", "Read", "Write"),
        _allow("transactionalId", "analytics.", "Describe", "Write"),
    ],
}


@pytest.mark.parametrize(("stack", "user"), sorted(TENANT_USER_ACLS))
def test_a_tenant_user_without_acls_gets_exactly_its_tenants_prefixes(stack, user):
    t = load_topology(ROOT / stack)
    assert access.application_acls(t, user) == sorted(
        TENANT_USER_ACLS[(stack, user)], key=lambda a: json.dumps(a, sort_keys=True)
    )


def test_a_cluster_acl_carries_no_name_and_a_prefix_acl_keeps_its_pattern():
    t = load_topology(ROOT / "stacks/prod.yaml")
    (payments,) = (p for p in principals_in(t, "us-east-1") if p.name == "payments-service")
    acls = {a["resource"]["type"]: a for a in payments.acls}
    assert acls["cluster"]["resource"] == {"type": "cluster"}
    assert acls["transactionalId"]["resource"] == {"type": "transactionalId", "name": "payments-", "patternType": "prefix"}


def _acl(rtype, name, pattern, ops):
    res = {"type": rtype} if rtype == "cluster" else {"type": rtype, "name": name, "patternType": pattern}
    return {"type": "allow", "resource": res, "operations": sorted(ops), "host": "*"}


READ = ["Describe", "DescribeConfigs", "Read"]
MIRROR = ["Alter", "AlterConfigs", "Create", "Describe", "DescribeConfigs", "Write"]
INTERNAL = [*MIRROR, "Read"]

MINIMAL = {
    # (stack, flow name, region side) -> exact ACL list
    ("stacks/dev.yaml", "mm2-us-east-1-to-us-west-2", "source"): [
        _acl("topic", "orders", "literal", READ),
        _acl("topic", "payments", "literal", READ),
        _acl("group", "*", "literal", ["Describe"]),
    ],
    ("stacks/dev.yaml", "mm2-us-east-1-to-us-west-2", "target"): [
        _acl("topic", "orders", "literal", INTERNAL),
        _acl("topic", "payments", "literal", INTERNAL),
        _acl("topic", "mm2-us-east-1-to-us-west-2", "prefix", INTERNAL),
        _acl("topic", "mm2-offset-syncs.us-east-1.internal", "literal", INTERNAL),
        _acl("topic", "us-east-1.checkpoints.internal", "literal", INTERNAL),
        _acl("group", "mm2-us-east-1-to-us-west-2", "literal", ["Describe", "Read"]),
        _acl("group", "*", "literal", ["Describe", "Read"]),
    ],
    ("examples/aggregation-hub.yaml", "mm2-eu-west-1-to-us-east-2", "source"): [
        _acl("topic", "device-events", "literal", READ),
        _acl("topic", "telemetry", "literal", READ),
        _acl("topic", "us-east-2.", "prefix", ["Describe"]),
        _acl("group", "*", "literal", ["Describe"]),
        _acl("topic", "heartbeats", "literal", READ),
    ],
    ("examples/aggregation-hub.yaml", "mm2-eu-west-1-to-us-east-2", "target"): [
        _acl("topic", "eu-west-1.device-events", "literal", INTERNAL),
        _acl("topic", "eu-west-1.telemetry", "literal", INTERNAL),
        _acl("topic", "mm2-eu-west-1-to-us-east-2", "prefix", INTERNAL),
        _acl("topic", "mm2-offset-syncs.eu-west-1.internal", "literal", INTERNAL),
        _acl("topic", "eu-west-1.checkpoints.internal", "literal", INTERNAL),
        _acl("topic", "eu-west-1.heartbeats", "literal", MIRROR),
        _acl("group", "mm2-eu-west-1-to-us-east-2", "literal", ["Describe", "Read"]),
        _acl("group", "*", "literal", ["Describe", "Read"]),
    ],
}


def test_each_mirrormaker_principal_gets_exactly_the_minimal_acls_on_each_side():
    for (stack, flow, side), expected in MINIMAL.items():
        t = load_topology(ROOT / stack)
        plan = next(p for p in mirror_plan.flow_plans(t) if p.name == flow)
        region = plan.source if side == "source" else plan.target
        (principal,) = [p for p in principals_in(t, region) if p.name == flow]
        assert principal.acls == expected, (stack, flow, side)


def test_exactly_once_adds_only_the_transactional_rights_mirrormaker_needs():
    t = load_topology(ROOT / "stacks/prod.yaml")
    plan = mirror_plan.flow_plans(t)[0]
    extra = [a for a in mirror.target_acls(t, plan) if a["resource"]["type"] in ("transactionalId", "cluster")]
    assert extra == [
        _acl("transactionalId", plan.name, "prefix", ["Describe", "Write"]),
        _acl("cluster", "", "literal", ["IdempotentWrite"]),
    ]


def test_a_replication_principal_never_writes_to_its_source_topics():
    for path in STACK_FILES:
        t = load_topology(path)
        engine = variants.engine(t)
        for run in engine.flows(t):
            (principal,) = [p for p in principals_in(t, run.source) if p.name == run.name]
            assert principal.kind == engine.principal_kind
            for acl in principal.acls or []:
                if acl["resource"].get("name") in run.topics:
                    assert set(acl["operations"]) == {"Describe", "DescribeConfigs", "Read"}


def test_no_acl_grants_all_operations_on_everything_to_anyone_but_super_users():
    for path in STACK_FILES:
        t = load_topology(path)
        for region in t.region_names:
            for principal in principals_in(t, region):
                if principal.acls is None:
                    assert principal.name in ("kafka-admin", "kafka-operator")
                    continue
                for acl in principal.acls:
                    wildcard = acl["resource"].get("name") in ("*", "") or acl["resource"]["type"] == "cluster"
                    assert not (wildcard and "All" in acl["operations"]), (principal.name, acl)


def test_client_outputs_carry_what_makes_failover_work(program):
    rec = program("stacks/dev.yaml")
    client = rec.outputs["clients"]["orders-service"]
    assert client["bootstrap_servers"] == "dev.kafka.example.com:9094"
    assert client["properties"]["metadata.recovery.strategy"] == "rebootstrap"
    assert client["properties"]["client.dns.lookup"] == "use_all_dns_ips"
    assert client["properties"]["sasl.mechanism"] == "SCRAM-SHA-512"
    assert client["ca_cert_pem"].startswith("-----BEGIN CERTIFICATE-----")


def test_a_user_limited_to_one_region_exists_only_there():
    data = raw("stacks/dev.yaml")
    data["users"]["orders-service"]["regions"] = ["us-west-2"]
    t = topology_of(data)
    assert "orders-service" not in [p.name for p in principals_in(t, "us-east-1")]
    assert "orders-service" in [p.name for p in principals_in(t, "us-west-2")]
