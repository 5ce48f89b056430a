"""The topology model: every shipped file is accepted, and every rule rejects what it must with a usable message.

Each negative case mutates a valid stack file in one way and names the path the message must carry and a
fragment of the fix. A rule with no case here is a rule nobody can trust.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from stacks.loader import TopologyError, load_topology, parse_yaml, validate_data
from stacks.model import KAFKA_KEYS_FILE, ReplicationPolicy, Role
from tests.conftest import ROOT, STACK_FILES, STACK_IDS, raw

Mutation = Callable[[dict[str, Any]], None]


@pytest.mark.parametrize("path", STACK_FILES, ids=STACK_IDS)
def test_every_shipped_stack_and_example_is_accepted(path):
    topology = load_topology(path)
    assert len(topology.regions) >= 2


def test_a_minimal_two_region_dev_environment_fits_in_under_forty_lines():
    lines = [line for line in (ROOT / "stacks/dev.yaml").read_text().splitlines() if line.strip()]
    assert len(lines) < 40
    t = load_topology(ROOT / "stacks/dev.yaml")
    assert t.architecture.value == "active-passive"
    assert [r.role for r in sorted(t.regions, key=lambda r: r.name)] == [Role.PRIMARY, Role.SECONDARY]


def test_the_four_architectures_are_all_covered_by_shipped_files():
    archs = {load_topology(p).architecture.value for p in STACK_FILES}
    assert archs == {"active-passive", "active-active", "aggregation-hub", "partitioned-domain"}


def test_defaults_pick_the_replication_policy_by_architecture():
    assert load_topology(ROOT / "stacks/dev.yaml").policy is ReplicationPolicy.IDENTITY
    assert load_topology(ROOT / "stacks/prod.yaml").policy is ReplicationPolicy.PREFIXED


def _set(path: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        parts = [int(p) if p.isdigit() else p for p in path.split("/")]
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value

    return mutate


def _del(path: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        parts = [int(p) if p.isdigit() else p for p in path.split("/")]
        for part in parts[:-1]:
            node = node[part]
        del node[parts[-1]]

    return mutate


def _both(*mutations: Mutation) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        for m in mutations:
            m(data)

    return mutate


def _drop_second_region(data: dict[str, Any]) -> None:
    del data["regions"][1]


def _duplicate_region(data: dict[str, Any]) -> None:
    data["regions"][1]["name"] = data["regions"][0]["name"]


# (base file, mutation, path the message names, fragment of the message)
CASES: dict[str, tuple[str, Mutation, str, str]] = {
    "fewer than two regions": ("stacks/dev.yaml", _drop_second_region, "regions", "at least two regions"),
    "a region declared twice": ("stacks/dev.yaml", _duplicate_region, "regions[1].name", "declared twice"),
    "an invalid AWS region code": (
        "stacks/dev.yaml",
        _set("regions/1/name", "us-weast-2"),
        "regions[1].name",
        "not an AWS region code",
    ),
    "two primaries": ("stacks/dev.yaml", _set("regions/1/role", "primary"), "regions", "exactly one region with role 'primary'"),
    "no primary": ("stacks/dev.yaml", _set("regions/0/role", "secondary"), "regions", "exactly one region with role 'primary'"),
    "a role foreign to the architecture": (
        "stacks/dev.yaml",
        _set("regions/1/role", "hub"),
        "regions[1].role",
        "use primary or secondary",
    ),
    "an unknown role": ("stacks/dev.yaml", _set("regions/1/role", "leader"), "regions[1].role", "use one of"),
    "two hubs": ("examples/aggregation-hub.yaml", _set("regions/1/role", "hub"), "regions", "exactly one region with role 'hub'"),
    "a hub without edges": (
        "examples/aggregation-hub.yaml",
        _both(*(_set(f"regions/{i}/role", "hub") for i in (1, 2, 3)), _set("regions/0/role", "hub")),
        "regions",
        "at least one region with role 'edge'",
    ),
    "a domain served by no region": (
        "examples/partitioned-domain.yaml",
        _both(_set("regions/2/domains", ["eu"]), _set("regions/3/domains", ["eu"])),
        "domains.us",
        "served by no region",
    ),
    "replication factor above the broker count": (
        "stacks/dev.yaml",
        _set("topics/orders/replication_factor", 3),
        "topics.orders.replication_factor",
        "exceeds the 1 brokers",
    ),
    "min ISR not below the replication factor": (
        "stacks/prod.yaml",
        _set("topics/orders/config/min.insync.replicas", 3),
        "topics.orders",
        "must be below replication_factor",
    ),
    "zero partitions": (
        "stacks/dev.yaml",
        _set("topics/orders/partitions", 0),
        "topics.orders.partitions",
        "greater than or equal to 1",
    ),
    "an even number of controllers": (
        "stacks/prod.yaml",
        _set("regions/0/kafka/controllers", 4),
        "regions[0].kafka.controllers",
        "odd number",
    ),
    "a combined pool with brokers unequal to controllers": (
        "stacks/dev.yaml",
        _set("regions/0/kafka/brokers", 2),
        "regions[0].kafka",
        "brokers == controllers",
    ),
    "failback from a region that is not a secondary": (
        "stacks/dev.yaml",
        _set("replication", {"failback_from": "us-east-1"}),
        "replication.failback_from",
        "not the failover secondary",
    ),
    "failback from a secondary clients never failed over to": (
        "stacks/dev.yaml",
        _both(
            lambda d: d["regions"].append(
                {**d["regions"][1], "name": "eu-west-1", "kubernetes": {"kind": "context", "context": "eu"}}
            ),
            _set("dns/failover_secondary", "us-west-2"),
            _set("replication", {"failback_from": "eu-west-1"}),
        ),
        "replication.failback_from",
        "clients only ever fail over to 'us-west-2'",
    ),
    "an aggregation hub merging edges under the identity policy": (
        "examples/aggregation-hub.yaml",
        _set("replication/policy", "identity"),
        "replication.policy",
        "use policy: prefixed",
    ),
    "a user named like a heartbeat principal": (
        "stacks/prod.yaml",
        lambda d: d["users"].update({"heartbeats-us-east-1": {}}),
        "users.heartbeats-us-east-1",
        "is already the heartbeat principal of us-east-1",
    ),
    "a user named like a Secret Strimzi creates": (
        "stacks/dev.yaml",
        lambda d: d["users"].update({"us-east-1-cluster-ca": {}}),
        "users.us-east-1-cluster-ca",
        "a Secret Strimzi creates",
    ),
    "a user named like another user's password Secret": (
        "stacks/dev.yaml",
        lambda d: d["users"].update({"orders-service-scram-password": {}}),
        "users.orders-service-scram-password",
        "the password of 'orders-service'",
    ),
    "two regions on one Kubernetes cluster": (
        "stacks/dev.yaml",
        _set("regions/1/kubernetes", {"kind": "kubeconfig", "secret_key": "kubeconfig-us-east-1"}),
        "regions[1].kubernetes",
        "reaches the same Kubernetes cluster as us-east-1",
    ),
    "a namespace Kubernetes owns": (
        "stacks/dev.yaml",
        _set("regions/0/namespace", "kube-system"),
        "regions[0].namespace",
        "belongs to Kubernetes itself",
    ),
    "a declared topic named like a remote copy": (
        "stacks/prod.yaml",
        lambda d: d["topics"].update({"us-east-1.orders": {"partitions": 3}}),
        "topics['us-east-1.orders']",
        "two writers of one topic",
    ),
    "a declared topic named like a heartbeat Connect topic": (
        "stacks/prod.yaml",
        lambda d: d["topics"].update({"heartbeats-us-east-1-configs": {"partitions": 1}}),
        "topics.heartbeats-us-east-1-configs",
        "the heartbeat Connect of us-east-1",
    ),
    "two topics Kafka treats as one": (
        "stacks/dev.yaml",
        lambda d: d["topics"].update({"orders.v1": {"replication_factor": 1}, "orders_v1": {"replication_factor": 1}}),
        "topics.orders_v1",
        "Kafka reads '.' and '_' as the same character",
    ),
    "a remote topic name past Kafka's limit": (
        "stacks/prod.yaml",
        lambda d: d["topics"].update({"t" * 240: {"partitions": 3}}),
        f"topics.{'t' * 240}",
        "past Kafka's 249",
    ),
    "a replicated topic MirrorMaker treats as internal": (
        "stacks/dev.yaml",
        lambda d: d["topics"].update({"audit-internal": {"replication_factor": 1}}),
        "topics.audit-internal",
        "treats 'audit-internal' as internal",
    ),
    "a replicated topic MirrorMaker's default exclude skips": (
        "stacks/dev.yaml",
        lambda d: d["topics"].update({"orders.replica": {"replication_factor": 1}}),
        "topics['orders.replica']",
        "default topics.exclude",
    ),
    "a DNS label past 63 characters": (
        "stacks/dev.yaml",
        _set("dns/zone", "k" * 64 + ".example.com"),
        "dns.zone",
        "is not a DNS name",
    ),
    "a DNS name past 253 characters": (
        "stacks/dev.yaml",
        _set("dns/zone", ".".join(["k" * 60] * 4) + ".com"),
        "dns.zone",
        "DNS names are at most 253",
    ),
    "a domain DNS name with capitals and underscores": (
        "examples/partitioned-domain.yaml",
        _set("domains/eu/dns_name", "EU_Kafka.kafka.example.com"),
        "domains.eu.dns_name",
        "not a DNS name",
    ),
    "a domain DNS name taken by a region": (
        "examples/partitioned-domain.yaml",
        _set("domains/eu/dns_name", "eu-west-1.retail.kafka.example.com"),
        "domains.eu.dns_name",
        "is also the name of region eu-west-1",
    ),
    "a domain DNS name taken by a registry": (
        "examples/partitioned-domain.yaml",
        _both(
            _set("schema_registry", {"writer": "eu-west-1"}),
            _set("domains/eu/dns_name", "registry.eu-west-1.retail.kafka.example.com"),
        ),
        "domains.eu.dns_name",
        "is also the registry name of region eu-west-1",
    ),
    "a bootstrap name whose registry name is a region's registry": (
        "stacks/dev.yaml",
        _both(_set("schema_registry", {}), _set("dns/bootstrap", "us-east-1.dev.kafka.example.com")),
        "dns.bootstrap",
        "'registry.us-east-1.dev.kafka.example.com' is also the registry name of region us-east-1",
    ),
    "a bootstrap name at the zone apex": (
        "stacks/dev.yaml",
        _set("dns/bootstrap", "kafka.example.com"),
        "dns.bootstrap",
        "zone apex",
    ),
    "an endpoint override written as a URL": (
        "stacks/dev.yaml",
        _set("regions/0/endpoint_override", "https://kafka.example.net:9094"),
        "regions[0].endpoint_override",
        "not a hostname",
    ),
    "two domains with one geolocation": (
        "examples/partitioned-domain.yaml",
        _set("domains/us/geolocation", "EU"),
        "domains.us.geolocation",
        "Route53 answers one record per location",
    ),
    "a topic pattern MirrorMaker would split at its comma": (
        "stacks/dev.yaml",
        _set("replication", {"topics_exclude": ["tmp-[0-9]{1,3}"]}),
        "replication.topics_exclude",
        "splits its patterns",
    ),
    "a topic outside every tenant": (
        "examples/multi-tenant.yaml",
        lambda d: d["topics"].update({"orders": {"partitions": 3}}),
        "topics.orders",
        "carries no tenant's prefix (analytics., payments.)",
    ),
    "two default tenants": (
        "examples/multi-tenant.yaml",
        _both(_set("tenants/payments/default", True), _set("tenants/analytics/default", True)),
        "tenants.payments.default",
        "one tenant at most owns the unprefixed topics",
    ),
    "two tenants with one prefix": (
        "examples/multi-tenant.yaml",
        _set("tenants/analytics/prefix", "payments."),
        "tenants.payments.prefix",
        "is also tenant 'analytics''s",
    ),
    "a user without a tenant among tenants": (
        "examples/multi-tenant.yaml",
        _del("users/payments-api/tenant"),
        "users.payments-api.tenant",
        "every user belongs to one",
    ),
    "a user of an undeclared tenant": (
        "examples/multi-tenant.yaml",
        _set("users/payments-api/tenant", "billing"),
        "users.payments-api.tenant",
        "tenant 'billing' is not declared",
    ),
    "a tenant's user outside its regions": (
        "examples/multi-tenant.yaml",
        _set("users/analytics-etl/regions", ["us-east-1", "eu-west-1"]),
        "users.analytics-etl.regions",
        "cannot exist in ['eu-west-1']",
    ),
    "a tenant's user with an ACL on another tenant's topic": (
        "examples/multi-tenant.yaml",
        _set("users/payments-ledger/acls/0/resource/name", "analytics.clicks"),
        "users.payments-ledger.acls[0].resource.name",
        "outside tenant 'payments''s prefix 'payments.'",
    ),
    "a tenant's user with a group outside its prefix": (
        "examples/multi-tenant.yaml",
        _both(_set("users/payments-ledger/groups", ["ledger"]), _set("users/payments-ledger/acls/3/resource/name", "ledger")),
        "users.payments-ledger.groups",
        "name it 'payments.ledger'",
    ),
    "a tenant prefix nested in another's": (
        "examples/multi-tenant.yaml",
        _set("tenants/analytics/prefix", "pay"),
        "tenants.analytics.prefix",
        "prefix 'pay' reaches names starting 'payments.' (tenant 'payments''s prefix)",
    ),
    "a tenant prefix that starts a region's remote copies": (
        "examples/multi-tenant.yaml",
        _set("tenants/analytics/prefix", "us-"),
        "tenants.analytics.prefix",
        "reaches names starting 'us-east-1.' (the copies and MirrorMaker topics from us-east-1)",
    ),
    "a tenant prefix over the schema registry's topics": (
        "examples/multi-tenant.yaml",
        _set("tenants/analytics/prefix", "kafkasql"),
        "tenants.analytics.prefix",
        "reaches 'kafkasql-journal' (the schema registry's topic)",
    ),
    "a tenant prefix over MirrorMaker's own topics, groups and transactional ids": (
        "examples/multi-tenant.yaml",
        _set("tenants/analytics/prefix", "mm"),
        "tenants.analytics.prefix",
        "reaches names starting 'mm2-' (MirrorMaker 2's Connect storage and offset-sync topics)",
    ),
    "a tenant prefix over the heartbeat Connect's topics": (
        "examples/multi-tenant.yaml",
        _set("tenants/analytics/prefix", "heart"),
        "tenants.analytics.prefix",
        "reaches names starting 'heartbeats-'",
    ),
    "a tenant's user whose prefix ACL reaches another tenant": (
        "examples/multi-tenant.yaml",
        _set("users/payments-ledger/acls/0/resource", {"type": "topic", "name": "a", "pattern": "prefix"}),
        "users.payments-ledger.acls[0].resource.name",
        "prefix 'a' reaches names starting 'analytics.' (tenant 'analytics''s prefix)",
    ),
    "a tenant's user whose transactional-id prefix is another tenant's": (
        "examples/multi-tenant.yaml",
        _set("users/payments-ledger/acls/0/resource", {"type": "transactionalId", "name": "analytics.", "pattern": "prefix"}),
        "users.payments-ledger.acls[0].resource.name",
        "start the prefix with 'payments.'",
    ),
    "a tenant's user reading every name with '*'": (
        "examples/multi-tenant.yaml",
        _set("users/payments-ledger/acls/0/resource", {"type": "topic", "name": "*"}),
        "users.payments-ledger.acls[0].resource.name",
        "('*' matches every name)",
    ),
    "a user's prefix ACL over MirrorMaker's topics, without tenants": (
        "stacks/prod.yaml",
        _set("users/analytics/acls/0/resource/name", "mm"),
        "users.analytics.acls[0].resource.name",
        "prefix 'mm' reaches names starting 'mm2-'",
    ),
    "a user's prefix ACL over a region's copies and MirrorMaker's checkpoints": (
        "stacks/prod.yaml",
        _set("users/analytics/acls/0/resource/name", "us-east-1."),
        "users.analytics.acls[0].resource.name",
        "reaches names starting 'us-east-1.' (the copies and MirrorMaker topics from us-east-1)",
    ),
    "a user's group named like MirrorMaker's Connect group": (
        "stacks/dev.yaml",
        _both(
            _set("users/orders-service/groups", ["mm2-us-east-1-to-us-west-2"]),
            _set("users/orders-service/acls/1/resource/name", "mm2-us-east-1-to-us-west-2"),
        ),
        "users.orders-service.groups",
        "falls under 'mm2-us-east-1-to-us-west-2' (the group of mm2-us-east-1-to-us-west-2)",
    ),
    "another tenant's user naming the default tenant's topic": (
        "examples/multi-tenant.yaml",
        _both(
            _set("tenants/payments/default", True),
            _set("topics/orders", {"partitions": 3}),
            _set("users/analytics-etl/acls", [{"resource": {"type": "topic", "name": "orders"}, "operations": ["Read"]}]),
        ),
        "users.analytics-etl.acls[0].resource.name",
        "reaches 'orders' (tenant 'payments''s topic)",
    ),
    "a tenant's topic hosted outside its regions": (
        "examples/multi-tenant.yaml",
        _set("topics/analytics.clicks/regions", ["eu-west-1"]),
        "topics['analytics.clicks'].regions",
        "may not live in ['eu-west-1']",
    ),
    "a replication quota that cannot catch up within the RPO": (
        "examples/multi-tenant.yaml",
        _set("topics/payments.orders/bytes_per_second", 40000000),
        "replication.quota",
        "in eu-west-1 (3 brokers) the busiest broker leads payments.orders 40000000 B/s x 4/12 + payments.refunds "
        "500000 B/s x 2/6 = 13500000 B/s; a backlog of one RPO (13500000 B/s x 60 s) drains at 25000000 - 13500000 = "
        "11500000 B/s, taking 71 s",
    ),
    "a replication quota a topic with fewer partitions than brokers cannot get through": (
        "examples/multi-tenant.yaml",
        _both(_set("topics/payments.orders/partitions", 1), _set("topics/payments.orders/bytes_per_second", 15000000)),
        "replication.quota",
        "payments.orders 15000000 B/s x 1/1 + payments.refunds 500000 B/s x 2/6 = 15166667 B/s; a backlog of one RPO "
        "(15166667 B/s x 60 s) drains at 25000000 - 15166667 = 9833334 B/s, taking 93 s, more than the RPO 60 s; "
        "raise the quota to at least 30333334 B/s per broker",
    ),
    "a tenant's producer quota its topics' leaders cannot carry": (
        "examples/multi-tenant.yaml",
        _both(_set("topics/payments.refunds/partitions", 1), _set("topics/payments.refunds/bytes_per_second", 6000000)),
        "tenants.payments.quotas.producer_byte_rate",
        "payments-api may produce 5000000 B/s per broker, and a partition is served by its leader only: in eu-west-1 "
        "(3 brokers) the busiest broker leading the topics it writes takes payments.orders 4000000 B/s x 4/12 + "
        "payments.refunds 6000000 B/s x 1/1 = 7333334 B/s",
    ),
    "a user's own producer quota below one partition's declared rate": (
        "examples/multi-tenant.yaml",
        _both(_set("users/payments-api/quotas", {"producer_byte_rate": 1000000}), _set("topics/payments.orders/partitions", 3)),
        "users.payments-api.quotas.producer_byte_rate",
        "payments.orders 4000000 B/s x 1/3 + payments.refunds 500000 B/s x 2/6 = 1500000 B/s",
    ),
    "a replication quota with nothing to take a share of": (
        "examples/multi-tenant.yaml",
        _both(_del("regions/0/kafka/capacity_bytes_per_second"), _del("regions/1/kafka/capacity_bytes_per_second")),
        "replication.quota",
        "has no byte rate",
    ),
    "a topic config key Kafka does not know": (
        "stacks/dev.yaml",
        _set("topics/orders/config", {"retention.msec": 1000}),
        "topics.orders.config",
        "did you mean 'retention.ms'?",
    ),
    "a broker config key Kafka does not know": (
        "stacks/dev.yaml",
        _set("regions/0/kafka/config", {"num.io.thread": 8}),
        "regions[0].kafka.config",
        "did you mean 'num.io.threads'?",
    ),
    "identity policy between active regions": (
        "stacks/prod.yaml",
        _set("replication/policy", "identity"),
        "replication.policy",
        "would replicate records back forever",
    ),
    "a topic replicated outside its domain": (
        "examples/partitioned-domain.yaml",
        _set("topics/eu-customers/replicate_to", ["us-east-1"]),
        "topics.eu-customers.replicate_to",
        "flow of 'eu-customers' to us-east-1 breaks residency",
    ),
    "a region serving a domain it may not hold": (
        "examples/partitioned-domain.yaml",
        _set("regions/2/domains", ["us", "eu"]),
        "regions[2].domains",
        "data residency forbids it",
    ),
    "an ACL on an undeclared topic": (
        "stacks/dev.yaml",
        _set("users/orders-service/acls/0/resource/name", "ordres"),
        "users.orders-service.acls[0].resource.name",
        "topic 'ordres' is not declared",
    ),
    "an ACL on an undeclared group": (
        "stacks/dev.yaml",
        _set("users/orders-service/acls/1/resource/name", "other"),
        "users.orders-service.acls[1].resource.name",
        "group 'other' is not declared",
    ),
    "a user in an undeclared region": (
        "stacks/dev.yaml",
        _set("users/orders-service/regions", ["eu-west-1"]),
        "users.orders-service.regions",
        "region 'eu-west-1' is not declared",
    ),
    "a user taking a reserved name": (
        "stacks/dev.yaml",
        lambda d: d["users"].update({"kafka-admin": {"acls": []}}),
        "users.kafka-admin",
        "reserved",
    ),
    "a user named like a MirrorMaker principal": (
        "stacks/dev.yaml",
        lambda d: d["users"].update({"mm2-sneaky": {}}),
        "users.mm2-sneaky",
        "reserved",
    ),
    "a user named like a cluster link's principal": (
        "examples/cluster-linking-active-passive.yaml",
        lambda d: d["users"].update({"link-eu-west-1-to-eu-central-1": {}}),
        "users.link-eu-west-1-to-eu-central-1",
        "is already the cluster link's principal of eu-west-1 → eu-central-1",
    ),
    "a topic Cluster Linking never mirrors": (
        "examples/cluster-linking-active-passive.yaml",
        lambda d: d["topics"].update({"_confluent-audit": {"replication_factor": 3}}),
        "topics._confluent-audit",
        "Confluent Server's internal topics",
    ),
    "all operations on every topic": (
        "stacks/dev.yaml",
        _set("users/orders-service/acls/0", {"resource": {"type": "topic", "name": "*"}, "operations": ["All"]}),
        "users.orders-service.acls[0]",
        "super-user power",
    ),
    "an environment name that is not a DNS label": (
        "stacks/dev.yaml",
        _set("environment", "Dev_1"),
        "environment",
        "lowercase DNS label",
    ),
    "a namespace that is not a DNS label": (
        "stacks/dev.yaml",
        _set("regions/0/namespace", "Kafka!"),
        "regions[0].namespace",
        "lowercase DNS label",
    ),
    "a topic name Kafka refuses": (
        "stacks/dev.yaml",
        lambda d: d["topics"].update({"bad topic": {"replication_factor": 1}}),
        "topics['bad topic']",
        "not a Kafka topic name",
    ),
    "a topic name reserved for MirrorMaker": (
        "stacks/dev.yaml",
        lambda d: d["topics"].update({"heartbeats": {"replication_factor": 1}}),
        "topics.heartbeats",
        "reserved",
    ),
    "a user name that is not a DNS label": (
        "stacks/dev.yaml",
        lambda d: d["users"].update({"Orders_App": {}}),
        "users.Orders_App",
        "lowercase DNS label",
    ),
    "an RPO the intervals cannot reach": (
        "stacks/dev.yaml",
        _set("replication", {"rpo_seconds": 30, "offset_sync": {"checkpoint_interval_seconds": 60}}),
        "replication",
        "checkpoint interval 60 s + offset-sync interval 7 s = 67 s",
    ),
    "a bootstrap name outside the hosted zone": (
        "stacks/dev.yaml",
        _set("dns/bootstrap", "kafka.other.org"),
        "dns.bootstrap",
        "outside the hosted zone",
    ),
    "a failover TTL above sixty seconds": ("stacks/dev.yaml", _set("dns/ttl", 300), "dns.ttl", "at most 60 s"),
    "an unsupported Kafka version": (
        "stacks/dev.yaml",
        _set("regions/0/kafka/version", "3.9.0"),
        "regions[0].kafka.version",
        "not run by Strimzi 1.2.0",
    ),
    "a broker config key Strimzi drops": (
        "stacks/dev.yaml",
        _set("regions/0/kafka/config", {"listeners": "PLAINTEXT://:9092"}),
        "regions[0].kafka.config",
        "managed by Strimzi",
    ),
    "fewer brokers than zones": (
        "stacks/prod.yaml",
        _both(
            _set("regions/0/kafka/brokers", 2),
            _set("topics/orders/replication_factor", 2),
            _set("topics/orders/config/min.insync.replicas", 1),
        ),
        "regions[0].kafka.brokers",
        "cannot cover 3 zones",
    ),
    "a zone outside its region": (
        "stacks/prod.yaml",
        _set("regions/0/kafka/zones", ["eu-west-1a", "us-east-1b", "us-east-1c"]),
        "regions[0].kafka.zones",
        "not in region us-east-1",
    ),
    "early renewal longer than validity": (
        "stacks/dev.yaml",
        _set("security", {"cert_validity_days": 30, "early_renewal_days": 30}),
        "security",
        "would renew on every run",
    ),
    "domains outside partitioned-domain": (
        "stacks/dev.yaml",
        _set("domains", {"eu": {"allowed_regions": ["us-east-1"]}}),
        "domains",
        "only for partitioned-domain",
    ),
    "cluster linking for an architecture it does not serve": (
        "stacks/prod.yaml",
        _set("replication", {"engine": "cluster-linking"}),
        "architecture",
        "bidirectional cluster links",
    ),
    "cluster linking asked for header filters": (
        "examples/cluster-linking-active-passive.yaml",
        _set("replication/filters", [{"header": "x-residency-local"}]),
        "replication.filters",
        "Connect transform (SMT)",
    ),
    "cluster linking on Strimzi clusters": (
        "examples/cluster-linking-active-passive.yaml",
        _set("flavor", "strimzi"),
        "flavor",
        "set flavor: confluent",
    ),
    "a combined pool on Confluent for Kubernetes": (
        "stacks/dev.yaml",
        _set("flavor", "confluent"),
        "regions[0].kafka.combined",
        "set combined: false",
    ),
    "MirrorMaker 2 on Confluent for Kubernetes": (
        "stacks/prod.yaml",
        _set("flavor", "confluent"),
        "flavor",
        "set flavor: strimzi (or remove it), or use engine: cluster-linking",
    ),
    "a link offset-sync interval beyond the RPO": (
        "examples/cluster-linking-active-passive.yaml",
        _set("replication/offset_sync_interval_seconds", 90),
        "replication.offset_sync_interval_seconds",
        "lower offset_sync_interval_seconds to at most 60 s",
    ),
    "an RPO declared in both places": (
        "stacks/dev.yaml",
        _both(_set("objectives", {"rpo_seconds": 60}), _set("replication", {"rpo_seconds": 60})),
        "replication.rpo_seconds",
        "keep objectives.rpo_seconds",
    ),
    "an unknown kubernetes access kind": (
        "stacks/dev.yaml",
        _set("regions/0/kubernetes", {"kind": "token", "context": "x"}),
        "regions[0].kubernetes",
        "'token' is not one of",
    ),
    "DNS managed elsewhere without the names it publishes": (
        "stacks/dev.yaml",
        _del("dns"),
        "regions[0].endpoint_override",
        "without a dns section, set endpoint_override",
    ),
    "a non-load-balancer listener without an endpoint": (
        "stacks/dev.yaml",
        _set("regions/0/kafka/listener_type", "nodeport"),
        "regions[0].endpoint_override",
        "no load balancer for DNS to point at",
    ),
    "two regions with one endpoint": (
        "stacks/dev.yaml",
        lambda d: [r.update(endpoint_override="kafka.example.net") for r in d["regions"]],
        "regions[1].endpoint_override",
        "is also us-east-1's endpoint",
    ),
    "a cluster-ip listener with Route53 records": (
        "stacks/dev.yaml",
        lambda d: [
            r.update(endpoint_override=f"{r['name']}.example.net") or r["kafka"].update(listener_type="cluster-ip")
            for r in d["regions"]
        ],
        "regions[0].kafka.listener_type",
        "Route53 records cannot answer for",
    ),
    "regions whose listeners serve different ports": (
        "stacks/dev.yaml",
        lambda d: d["regions"][0].update(
            endpoint_override="ingress.example.net", kafka={**d["regions"][0]["kafka"], "listener_type": "ingress"}
        ),
        "regions",
        "us-east-1 ingress -> 443, us-west-2 loadbalancer -> 9094",
    ),
    "a storage class name Kubernetes refuses": (
        "stacks/dev.yaml",
        _set("regions/0/kafka/storage", {"storage_class": "Fast_SSD"}),
        "regions[0].kafka.storage.storage_class",
        "should match pattern",
    ),
    "a storage class name with a dot on CFK": (
        "examples/cluster-linking-active-passive.yaml",
        _set("regions/0/kafka/storage", {"storage_class": "gp3.encrypted"}),
        "regions[0].kafka.storage.storage_class",
        "take a DNS label here",
    ),
    "every region of a domain decommissioned": (
        "examples/partitioned-domain.yaml",
        lambda d: [r.update(decommission=True) for r in d["regions"] if "us" in r["domains"]],
        "domains.us",
        "its DNS name would answer nothing",
    ),
    "a topic MirrorMaker's identity policy renames": (
        "stacks/dev.yaml",
        _set("topics/service-heartbeats", {"partitions": 3, "replication_factor": 1}),
        "topics.service-heartbeats",
        "as 'us-east-1.service-heartbeats'",
    ),
    "a topic MirrorMaker's cycle detection drops": (
        "stacks/prod.yaml",
        _set("topics/audit.eu-west-1.events", {"partitions": 3}),
        "topics['audit.eu-west-1.events']",
        "never copies it back there (cycle detection)",
    ),
    "several secondaries without a failover target": (
        "stacks/dev.yaml",
        lambda d: d["regions"].append(
            {**d["regions"][1], "name": "eu-west-1", "kubernetes": {"kind": "context", "context": "eu"}}
        ),
        "dns.failover_secondary",
        "say which one the failover record sends clients to",
    ),
    "an RTO that DNS failover cannot meet": (
        "stacks/dev.yaml",
        _set("replication", {"rto_seconds": 60}),
        "dns.health_check",
        "health checks need 30 s x 3 failures = 90 s to notice, plus a 30 s TTL = 120 s",
    ),
    "an explicit flow from a region to itself": (
        "stacks/prod.yaml",
        _set("replication/flows", [{"source": "us-east-1", "target": "us-east-1"}]),
        "replication.flows[0]",
        "to itself",
    ),
    "a registry without a writer where several regions write": (
        "examples/schema-registry.yaml",
        _del("schema_registry/writer"),
        "schema_registry.writer",
        "declare writer: one of",
    ),
    "a registry writer declared where the architecture decides": (
        "stacks/dev.yaml",
        _set("schema_registry", {"writer": "us-west-2"}),
        "schema_registry.writer",
        "follows the architecture ('us-east-1' now)",
    ),
    "an undeclared registry writer": (
        "examples/schema-registry.yaml",
        _set("schema_registry/writer", "eu-central-1"),
        "schema_registry.writer",
        "'eu-central-1' is not declared",
    ),
    "a registry writer being decommissioned": (
        "examples/schema-registry.yaml",
        _set("regions/0/decommission", True),
        "schema_registry.writer",
        "is being decommissioned",
    ),
    "replication excluding the registry's journal": (
        "examples/schema-registry.yaml",
        _set("replication/topics_exclude", ["kafkasql-.*"]),
        "replication.topics_exclude",
        "excludes the schema registry's topic 'kafkasql-journal'",
    ),
    "a registry on an engine that does not copy its journal": (
        "examples/cluster-linking-active-passive.yaml",
        _set("schema_registry", {}),
        "schema_registry",
        "engine cluster-linking does not copy it yet",
    ),
    "a registry realm that is not an https URL": (
        "examples/schema-registry.yaml",
        _set("schema_registry/auth/issuer", "http://sso.example.com/realms/kafka"),
        "schema_registry.auth.issuer",
        "is not an https URL",
    ),
    "a topic named like the registry's journal": (
        "examples/schema-registry.yaml",
        _set("topics/kafkasql-journal", {"partitions": 1, "replication_factor": 3}),
        "topics.kafkasql-journal",
        "two writers of one topic",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
def test_each_rule_rejects_with_the_path_the_value_and_the_fix(case):
    base, mutate, path, fragment = CASES[case]
    data = raw(base)
    mutate(data)
    with pytest.raises(TopologyError) as info:
        validate_data(data, base)
    problems = info.value.problems
    matching = [p for p in problems if p.path == path and fragment in p.message]
    assert matching, f"expected {path}: …{fragment}… in:\n{info.value}"


def test_an_unknown_key_is_rejected_with_a_did_you_mean_suggestion():
    data = raw("stacks/dev.yaml")
    data["topics"]["orders"]["replicaton_factor"] = data["topics"]["orders"].pop("replication_factor")
    with pytest.raises(TopologyError) as info:
        validate_data(data, "dev")
    assert any(
        p.path == "topics.orders.replicaton_factor" and "did you mean 'replication_factor'?" in p.message
        for p in info.value.problems
    ), str(info.value)


def test_an_unknown_key_deep_in_a_region_suggests_the_key_of_that_section():
    data = raw("stacks/dev.yaml")
    data["regions"][0]["kafka"]["combind"] = True
    with pytest.raises(TopologyError) as info:
        validate_data(data, "dev")
    assert "regions[0].kafka.combind: unknown key 'combind'; did you mean 'combined'?" in str(info.value)


def test_the_message_shows_the_bad_value():
    data = raw("stacks/dev.yaml")
    data["regions"][1]["kafka"]["brokers"] = 0
    with pytest.raises(TopologyError) as info:
        validate_data(data, "dev")
    assert "regions[1].kafka.brokers: Input should be greater than or equal to 1" in str(info.value)
    assert "(got 0)" in str(info.value)


# Nine levels of ten references each: 10**9 values from a dozen lines.
BILLION_LAUGHS = b"l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + b"".join(
    b"l%d: &l%d [%s]\n" % (i, i, b", ".join([b"*l%d" % (i - 1)] * 10)) for i in range(1, 10)
)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (b"this: is: not: [yaml", "is not valid YAML: line 1"),
        (b"", "is empty"),
        (b"- a\n- b\n", "holds a list, not a mapping"),
        (b"environment: a\nenvironment: b\n", "appears twice"),
        (b"\xff\xfe\x00bad", "is not UTF-8"),
        (BILLION_LAUGHS, "nested YAML aliases"),
        (b"a: " + b"[" * 60 + b"]" * 60, "nesting deeper"),
    ],
    ids=["not yaml", "empty", "a list", "duplicate key", "not utf-8", "alias bomb", "deep nesting"],
)
def test_files_that_are_not_a_topology_get_one_clear_message(text, fragment):
    with pytest.raises(TopologyError) as info:
        validate_data(parse_yaml(text, "bad.yaml"), "bad.yaml")
    assert fragment in str(info.value)


def test_a_directory_or_a_missing_file_is_refused_by_name(tmp_path):
    with pytest.raises(TopologyError, match="is a directory"):
        load_topology(tmp_path)
    with pytest.raises(TopologyError, match="no such file"):
        load_topology(tmp_path / "nope.yaml")


def test_reordering_regions_topics_and_users_gives_an_equal_topology():
    data = raw("stacks/prod.yaml")
    shuffled = raw("stacks/prod.yaml")
    shuffled["regions"].reverse()
    shuffled["topics"] = dict(reversed(list(shuffled["topics"].items())))
    shuffled["users"] = dict(reversed(list(shuffled["users"].items())))
    a, b = validate_data(data, "a"), validate_data(shuffled, "b")
    assert a.region_names == b.region_names
    assert a.flows == b.flows
    assert {r: a.topics_in(r) for r in a.region_names} == {r: b.topics_in(r) for r in b.region_names}


def test_merge_keys_and_top_level_extension_keys_read_as_teams_write_them(tmp_path):
    # YAML 1.1 merge keys and Compose-style 'x-' anchors, as Kubernetes tooling accepts them.
    plain = raw("stacks/dev.yaml")
    text = (ROOT / "stacks/dev.yaml").read_text()
    text = "x-pool: &pool {brokers: 1, controllers: 1, combined: true, storage: {size: 20Gi}}\n" + text
    text = text.replace("kafka: {brokers: 1, controllers: 1, combined: true, storage: {size: 20Gi}}", "kafka: {<<: *pool}")
    assert text.count("<<: *pool") == 2
    path = tmp_path / "merged.yaml"
    path.write_text(text)
    assert load_topology(path) == validate_data(plain, "plain")


def test_the_config_key_tables_are_kafka_4_3_1s_own():
    # Generated from the jars (tests/kafka_facts/KafkaConfigKeys.java); the oracle read the same jars independently.
    oracle = ROOT.parent / "shared/oracle/kafka/kafka-4.3.1-config-keys.json"
    if not oracle.exists():
        pytest.skip("../shared/oracle is not next to the project")
    ours = json.loads(KAFKA_KEYS_FILE.read_text())
    theirs = json.loads(oracle.read_text())
    assert {k: ours[k] for k in ("kafka_version", "topic", "broker")} == {
        k: theirs[k] for k in ("kafka_version", "topic", "broker")
    }


def test_a_default_tenants_user_uses_the_unprefixed_topics_its_tenant_owns():
    # Found by issue 24: its user without ACLs was given only the tenant's prefix, and one naming such a topic
    # was refused; it must get them by name (and their copies), never a prefix reaching another tenant.
    from components.access import application_acls

    data = raw("examples/multi-tenant.yaml")
    data["tenants"]["payments"]["default"] = True
    data["topics"]["orders"] = {"partitions": 3}
    data["users"]["payments-ledger"]["acls"].append({"resource": {"type": "topic", "name": "orders"}, "operations": ["Read"]})
    t = validate_data(data, "default-tenant")
    acls = {
        (a["resource"]["type"], a["resource"]["name"], a["resource"]["patternType"]): a["operations"]
        for a in application_acls(t, "payments-api")
    }
    assert acls[("topic", "orders", "literal")] == ["Describe", "DescribeConfigs", "Read", "Write"]
    assert acls[("topic", "us-east-1.orders", "literal")] == ["Describe", "Read"]
    assert acls[("topic", "payments.", "prefix")] == ["Describe", "DescribeConfigs", "Read", "Write"]
    assert not [
        k for k in acls if k[2] == "prefix" and not k[1].startswith(("payments.", "us-east-1.payments.", "eu-west-1.payments."))
    ]
