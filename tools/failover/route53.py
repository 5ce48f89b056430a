"""The Route53 API calls that the program's declared DNS resources amount to.

Owns: translating the recorded ``aws:route53/healthCheck:HealthCheck`` and ``aws:route53/record:Record``
registrations (what ``pulumi up`` would ask the AWS provider for) into ``CreateHealthCheck``,
``ChangeTagsForResource`` and ``ChangeResourceRecordSets`` parameters: the zone ``tools.failover --offline`` judges
(``tools.failover.offline``), and the one the tests seed moto with.

Deliberately not here: deciding the records (``components.dns_records``), failing over (``tools.failover``), and
making these calls on a Route53 (only tests do: ``tests/route53_seed.py``, against botocore's parameter validation
and moto).
"""

from __future__ import annotations

import hashlib
from typing import Any

from tools.plan.harness import Recording, unwrap

HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"


def health_check_calls(rec: Recording) -> list[tuple[str, dict[str, Any], list[dict[str, str]]]]:
    """(mock id, CreateHealthCheck parameters, tags) per declared health check."""
    out = []
    for reg in rec.of_type(HEALTH_CHECK):
        i = unwrap(reg.inputs)
        config: dict[str, Any] = {"Type": i["type"]}
        if i["type"] == "TCP":
            config.update(
                FullyQualifiedDomainName=i["fqdn"],
                Port=int(i["port"]),
                RequestInterval=int(i["requestInterval"]),
                FailureThreshold=int(i["failureThreshold"]),
            )
        elif i["type"] == "CALCULATED":
            # Children are the mock ids of checks declared earlier; ``apply`` swaps in the created ones.
            config.update(ChildHealthChecks=list(i.get("childHealthchecks", [])), HealthThreshold=int(i["childHealthThreshold"]))
        else:
            config.update(
                AlarmIdentifier={"Region": i["cloudwatchAlarmRegion"], "Name": i["cloudwatchAlarmName"]},
                InsufficientDataHealthStatus=i["insufficientDataHealthStatus"],
            )
        caller = hashlib.sha256(reg.urn.encode()).hexdigest()[:32]
        tags = [{"Key": k, "Value": v} for k, v in sorted(i.get("tags", {}).items())]
        out.append((f"{reg.name}-id", {"CallerReference": caller, "HealthCheckConfig": config}, tags))
    return out


def record_changes(rec: Recording, health_check_ids: dict[str, str]) -> list[dict[str, Any]]:
    """UPSERT changes for every declared record; ``health_check_ids`` maps mock ids to real ones."""
    changes = []
    for reg in rec.of_type(RECORD):
        i = unwrap(reg.inputs)
        rrset: dict[str, Any] = {
            "Name": i["name"],
            "Type": i["type"],
            "TTL": int(i["ttl"]),
            "ResourceRecords": [{"Value": v} for v in i["records"]],
        }
        if i.get("setIdentifier"):
            rrset["SetIdentifier"] = i["setIdentifier"]
        if i.get("healthCheckId"):
            rrset["HealthCheckId"] = health_check_ids[i["healthCheckId"]]
        if i.get("failoverRoutingPolicies"):
            rrset["Failover"] = i["failoverRoutingPolicies"][0]["type"]
        if i.get("latencyRoutingPolicies"):
            rrset["Region"] = i["latencyRoutingPolicies"][0]["region"]
        if i.get("geolocationRoutingPolicies"):
            geo = i["geolocationRoutingPolicies"][0]
            rrset["GeoLocation"] = (
                {"ContinentCode": geo["continent"]} if geo.get("continent") else {"CountryCode": geo["country"]}
            )
        changes.append({"Action": "UPSERT", "ResourceRecordSet": rrset})
    return changes
