"""The typed topology model: what one environment's declaration may say, split by concern, one module each.

Owns: the public names of the model, re-exported here so that code outside it writes ``from stacks.model import
Topology, Region, ...`` whatever module a class lives in:

| module | what it holds |
|---|---|
| ``base`` | ``Strict`` (frozen, unknown keys rejected), ``Resources``, ``ReplicationPolicy``, shared name patterns |
| ``clusters`` | architecture, roles, tier, flavor, listener types, Kubernetes access, ``KafkaCluster``, ``Region`` |
| ``topics`` | ``Topic`` |
| ``access`` | the super users, ACLs, ``Quotas``, ``User`` |
| ``tenants`` | ``Tenant`` |
| ``replication`` | the replication section (one class per engine), ``Objectives``, ``Flow``, ``derive_flows`` |
| ``dns`` | ``Dns``, ``HealthCheck``, ``Domain`` |
| ``security``, ``monitoring`` | ``Security``, ``Monitoring`` |
| ``registry`` | the ``schema_registry`` section and its derived queries (``registry.writer(topology)``, ...) |
| ``topology`` | ``Topology`` and its derived queries |

Each class checks its own values (single fields, and small consistency checks on one object); the modules of the
model import each other directly, never this package, and nothing of ``stacks.rules``.

Deliberately not here: the cross-field rules (``stacks.rules``, run by ``stacks.loader`` after the model accepts a
file), reading files and turning errors into messages (``stacks.loader``), the names the model derives
(``stacks.naming``) and who owns them (``stacks.ownership``), and anything that knows about Pulumi or deploy-time
values. A model instance is plain, frozen data.
"""

from __future__ import annotations

from stacks.model.access import (
    ADMIN_USER,
    OPERATOR_USER,
    RESERVED_USER_PREFIXES,
    SUPER_USERS,
    Acl,
    AclEffect,
    AclOperation,
    AclResource,
    AclResourceType,
    PatternType,
    Quotas,
    User,
)
from stacks.model.base import (
    CPU_RE,
    DNS1123_LABEL_RE,
    DNS1123_SUBDOMAIN_RE,
    DNS_NAME_RE,
    QUANTITY_RE,
    ReplicationPolicy,
    Resources,
    Strict,
)
from stacks.model.clusters import (
    AWS_REGION_RE,
    DEFAULT_KAFKA_VERSION,
    KAFKA_KEYS_FILE,
    KAFKA_VERSIONS,
    ROLES_BY_ARCHITECTURE,
    Architecture,
    ContextAccess,
    Flavor,
    KafkaCluster,
    KubeconfigAccess,
    KubernetesAccess,
    ListenerType,
    Region,
    Role,
    Storage,
    Tier,
)
from stacks.model.dns import Dns, Domain, HealthCheck, HealthCheckKind
from stacks.model.monitoring import Monitoring
from stacks.model.registry import RegistryAuth, SchemaRegistry
from stacks.model.replication import (
    DEFAULT_RPO_SECONDS,
    DEFAULT_RTO_SECONDS,
    ClusterLinkingReplication,
    Flow,
    HeaderFilter,
    MirrorMaker2Replication,
    Objectives,
    OffsetSync,
    OnFlow,
    Replication,
    ReplicationQuota,
    derive_flows,
    failback_flows,
)
from stacks.model.security import KeyAlgorithm, Security
from stacks.model.tenants import Tenant
from stacks.model.topics import TOPIC_NAME_RE, ConfigValue, Topic
from stacks.model.topology import Topology

__all__ = [
    "ADMIN_USER",
    "AWS_REGION_RE",
    "CPU_RE",
    "DEFAULT_KAFKA_VERSION",
    "DEFAULT_RPO_SECONDS",
    "DEFAULT_RTO_SECONDS",
    "DNS1123_LABEL_RE",
    "DNS1123_SUBDOMAIN_RE",
    "DNS_NAME_RE",
    "KAFKA_KEYS_FILE",
    "KAFKA_VERSIONS",
    "OPERATOR_USER",
    "QUANTITY_RE",
    "RESERVED_USER_PREFIXES",
    "ROLES_BY_ARCHITECTURE",
    "SUPER_USERS",
    "TOPIC_NAME_RE",
    "Acl",
    "AclEffect",
    "AclOperation",
    "AclResource",
    "AclResourceType",
    "Architecture",
    "ClusterLinkingReplication",
    "ConfigValue",
    "ContextAccess",
    "Dns",
    "Domain",
    "Flavor",
    "Flow",
    "HeaderFilter",
    "HealthCheck",
    "HealthCheckKind",
    "KafkaCluster",
    "KeyAlgorithm",
    "KubeconfigAccess",
    "KubernetesAccess",
    "ListenerType",
    "MirrorMaker2Replication",
    "Monitoring",
    "Objectives",
    "OffsetSync",
    "OnFlow",
    "PatternType",
    "Quotas",
    "Region",
    "RegistryAuth",
    "Replication",
    "ReplicationPolicy",
    "ReplicationQuota",
    "Resources",
    "Role",
    "SchemaRegistry",
    "Security",
    "Storage",
    "Strict",
    "Tenant",
    "Tier",
    "Topic",
    "Topology",
    "User",
    "derive_flows",
    "failback_flows",
]
