"""Tenants: the teams or workloads sharing the regional clusters, as a topology declares them.

Owns: ``Tenant`` (its prefix, the regions its data may live in, its users' default quotas, whether it owns the
unprefixed topics, its throttle alert).

Deliberately not here: which tenant owns a name (``Topology.tenant_of``, ``stacks.ownership``) and the tenancy
rules (``stacks.rules.tenancy``).
"""

from __future__ import annotations

from pydantic import Field

from stacks.model.access import Quotas
from stacks.model.base import Strict


class Tenant(Strict):
    """A team or workload sharing the regional clusters: it owns a topic and group prefix, its users, the regions
    its data may live in, and its users' default quotas."""

    prefix: str = Field(
        pattern=r"^[a-zA-Z0-9._-]{1,100}$",
        description="Topic and consumer-group prefix the tenant owns, e.g. 'payments.'; its topics must start with it.",
    )
    regions: tuple[str, ...] | None = Field(default=None, description="Regions where its data may live; all by default.")
    quotas: Quotas = Field(default_factory=Quotas, description="Quotas of each of its users unless the user sets its own.")
    default: bool = Field(default=False, description="Owns every topic that carries no tenant's prefix (one tenant at most).")
    throttle_alert_minutes: int = Field(
        default=10, ge=1, le=1440, description="Alert when one of its users has been throttled this long."
    )
