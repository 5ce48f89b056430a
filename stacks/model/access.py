"""Users and what they may do: application principals, their ACLs and quotas, and the principals the project keeps.

Owns: the super users and the name prefixes reserved for the project's own principals, the ACL enums and
classes (``Acl`` refuses All on every resource itself), ``Quotas`` (with a tenant's as defaults: ``over``) and
``User``.

Deliberately not here: which regions a user exists in and its effective quotas (``stacks.model.topology``), what
its grants reach (``stacks.ownership``), the rules on user names and ACL targets (``stacks.rules.users``) and on
tenants' reach and quota arithmetic (``stacks.rules.tenancy``).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from stacks import naming
from stacks.model.base import Strict

# Principals the project creates itself; an application user may not take these names.
ADMIN_USER = naming.ADMIN_USER
OPERATOR_USER = naming.OPERATOR_USER
SUPER_USERS = naming.SUPER_USERS
RESERVED_USER_PREFIXES = ("mirrormaker-", "mm2-", "strimzi-", "kafka-")


class AclResourceType(StrEnum):
    TOPIC = "topic"
    GROUP = "group"
    CLUSTER = "cluster"
    TRANSACTIONAL_ID = "transactionalId"


class PatternType(StrEnum):
    LITERAL = "literal"
    PREFIX = "prefix"


class AclOperation(StrEnum):
    READ = "Read"
    WRITE = "Write"
    CREATE = "Create"
    DELETE = "Delete"
    ALTER = "Alter"
    DESCRIBE = "Describe"
    CLUSTER_ACTION = "ClusterAction"
    ALTER_CONFIGS = "AlterConfigs"
    DESCRIBE_CONFIGS = "DescribeConfigs"
    IDEMPOTENT_WRITE = "IdempotentWrite"
    ALL = "All"


class AclEffect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class AclResource(Strict):
    type: AclResourceType
    name: str = Field(default="*", min_length=1, max_length=249, description="Resource name or prefix; '*' for all.")
    pattern: PatternType = Field(default=PatternType.LITERAL, description="literal or prefix match.")


class Acl(Strict):
    resource: AclResource
    operations: tuple[AclOperation, ...] = Field(min_length=1, description="Kafka operations granted or denied.")
    effect: AclEffect = Field(default=AclEffect.ALLOW)
    host: str = Field(default="*", description="Client host the rule applies to.")

    @model_validator(mode="after")
    def _not_everything(self) -> Acl:
        if AclOperation.ALL in self.operations and self.resource.name == "*" and self.effect is AclEffect.ALLOW:
            raise ValueError(
                f"granting All on every {self.resource.type.value} is super-user power; "
                "list the operations the application needs on named resources or prefixes"
            )
        return self


class Quotas(Strict):
    """Kafka client quotas (enforced by every broker on its own: a byte rate is per broker)."""

    producer_byte_rate: int | None = Field(
        default=None, ge=1, description="Bytes/s per broker a client may produce before it is throttled."
    )
    consumer_byte_rate: int | None = Field(
        default=None, ge=1, description="Bytes/s per broker a client may fetch before it is throttled."
    )
    request_percentage: int | None = Field(
        default=None,
        ge=1,
        le=10000,
        description="Share of the broker's network and I/O thread time, in percent (100 = one thread).",
    )
    controller_mutation_rate: float | None = Field(
        default=None, gt=0, description="Partitions a second the client may create or delete."
    )

    def over(self, defaults: Quotas | None) -> Quotas:
        """These quotas, with every unset one taken from ``defaults`` (a tenant's)."""
        if defaults is None:
            return self
        mine = self.model_dump(exclude_none=True)
        return Quotas(**{**defaults.model_dump(exclude_none=True), **mine})

    @property
    def empty(self) -> bool:
        return not self.model_dump(exclude_none=True)


class User(Strict):
    """An application principal: SCRAM-SHA-512 credentials in every region it uses, with its ACLs."""

    regions: tuple[str, ...] | None = Field(default=None, description="Regions the user exists in; all by default.")
    groups: tuple[str, ...] = Field(default=(), description="Consumer groups the application uses.")
    acls: tuple[Acl, ...] = Field(
        default=(), description="What the user may do; a tenant's user without ACLs gets its tenant's prefixes."
    )
    tenant: str | None = Field(default=None, description="The tenant the user belongs to.")
    quotas: Quotas | None = Field(default=None, description="Its quotas; unset ones come from its tenant.")
