"""DNS: the Route53 section (zone, shared name, TTL, health checks, failover target) and partitioned domains' names.

Owns: ``Dns`` and ``HealthCheck``, and ``Domain`` (a partitioned domain: the regions its data may live in, its
bootstrap name and Route53 geolocation). Each checks its own names.

Deliberately not here: the names derived from them (``stacks.naming``, ``Topology.region_dns_name``,
``Topology.dns_answers``), the rules on zones, TTLs and timing (``stacks.rules.dns``) and on domains
(``stacks.rules.regions``), and the records (``components.dns_records``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator

from stacks.model.base import DNS_NAME_RE, Strict


class HealthCheckKind(StrEnum):
    TCP = "tcp"
    CLOUDWATCH = "cloudwatch"


class HealthCheck(Strict):
    interval_seconds: Literal[10, 30] = Field(default=30, description="Route53 request interval (10 or 30).")
    failure_threshold: int = Field(default=3, ge=1, le=10, description="Failures before a check turns unhealthy.")


class Dns(Strict):
    zone: str = Field(description="Route53 public hosted zone name, e.g. 'kafka.example.com'.")
    bootstrap: str | None = Field(
        default=None, description="The failover bootstrap name clients use; '<environment>.<zone>' when unset."
    )
    ttl: int = Field(default=30, ge=1, le=86400, description="Record TTL in seconds; failover records need ≤ 60.")
    health_check: HealthCheck = Field(default_factory=HealthCheck)
    failover_secondary: str | None = Field(
        default=None,
        description=(
            "Active-passive: the secondary the failover record sends clients to (Route53 allows one). "
            "Needed when there are several secondaries, so adding a region never retargets failover."
        ),
    )

    @field_validator("zone", "bootstrap")
    @classmethod
    def _dns_name(cls, v: str | None) -> str | None:
        if v is not None and not DNS_NAME_RE.fullmatch(v.rstrip(".")):
            raise ValueError(f"{v!r} is not a DNS name; use lowercase labels such as 'kafka.example.com'")
        return v.rstrip(".") if v else v


class Domain(Strict):
    """Partitioned domain: a slice of data owned by a geography or workload, with residency rules."""

    allowed_regions: tuple[str, ...] = Field(
        min_length=1, description="Regions where this domain's data may be stored (data residency)."
    )
    dns_name: str | None = Field(default=None, description="Bootstrap name for this domain; defaults from the DNS section.")
    geolocation: str | None = Field(
        default=None,
        pattern=r"^([A-Z]{2}|EU|NA|SA|AS|AF|OC|AN|\*)$",
        description="Route53 geolocation (continent code such as 'EU' or a country code) that resolves to this domain.",
    )

    @field_validator("dns_name")
    @classmethod
    def _dns_name(cls, v: str | None) -> str | None:
        if v is not None and not DNS_NAME_RE.fullmatch(v.rstrip(".")):
            raise ValueError(
                f"{v!r} is not a DNS name; use lowercase labels of letters, digits and '-' such as 'eu.kafka.example.com'"
            )
        return v.rstrip(".") if v else v
