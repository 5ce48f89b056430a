"""Test support: a Route53 zone seeded with what the program declares, through ``tools.failover.route53``'s calls.

Owns: ``apply``, making the translated calls with a boto3 client (moto's, in the tests): the health checks first,
tagged, children before the checks that count them, then the records with the created checks' ids. The moto-server
zone (``tests/moto_server.py``) and the botocore validation tests (``tests/test_dns.py``) seed with it.

Deliberately not here: the translation itself (``tools.failover.route53``, which ``tools.failover --offline`` uses
too), deciding the records (``components.dns_records``).
"""

from __future__ import annotations

from typing import Any

from tools.failover.route53 import health_check_calls, record_changes
from tools.plan.harness import Recording


def apply(client: Any, rec: Recording, zone_id: str) -> dict[str, str]:
    """Create the health checks (tagged) and upsert the records; return mock id → created health check id."""
    ids: dict[str, str] = {}
    for mock_id, declared, tags in health_check_calls(rec):  # in declaration order: children first
        config = declared["HealthCheckConfig"]
        if "ChildHealthChecks" in config:
            config = {**config, "ChildHealthChecks": [ids[c] for c in config["ChildHealthChecks"]]}
        created = client.create_health_check(**{**declared, "HealthCheckConfig": config})["HealthCheck"]["Id"]
        client.change_tags_for_resource(ResourceType="healthcheck", ResourceId=created, AddTags=tags)
        ids[mock_id] = created
    changes = record_changes(rec, ids)
    if changes:
        client.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Comment": "kafka-multiregion", "Changes": changes})
    return ids
