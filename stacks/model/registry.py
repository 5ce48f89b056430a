"""The schema registry section: one Apicurio Registry 3 per region, one writer, the same schema IDs everywhere.

Owns: the ``schema_registry:`` model (off when the section is absent), which region writes and which regions
run a registry, which flows carry the registry's storage topics, and the topics it keeps in each region (for
the topic census). Schema IDs are assigned by the registry that writes, in its KafkaSQL journal; every
other region's registry rebuilds its state from a copy of that journal under the same name, so the IDs a
producer got in one region decode the same records in every other one, before and after a failover.

Which region writes (one global writer, whatever the architecture):

| architecture | writer | registry regions |
|---|---|---|
| active-passive | the region clients write in: the primary, or ``replication.failback_from`` while failing back (a switchover or failover sets it, so the promoted region's registry becomes the writer and failback returns it) | the writer and every region its flows reach |
| aggregation hub | the hub | the hub (no flow leaves it, so edges use the hub's registry) |
| active-active, partitioned domain | ``schema_registry.writer``, declared (several regions write data, only one may assign IDs) | the writer and every region a flow from it reaches |

The journal travels only on flows that leave the writer, so it is never looped back, and always under its own
name (``components.engines.mirrormaker2.bodies`` copies it with the identity policy even where the architecture prefixes application
topics), since the registry reads exactly one journal topic. Registries outside the writer run read-only
(``apicurio.storage.read-only.enabled``).

DNS names: ``registry.<region name>`` per registry region, and ``registry.<shared name>`` only where the shared
name answers with the writer (``shared_dns_name``); their records are ``components.dns_records``'.

Clients' credentials (``auth``): OIDC client credentials from one realm that every region's registry trusts, so
they survive a failover unchanged; each application user is a client of that realm named after the user. Without
``auth`` the API is open to whoever reaches it.

Deliberately not here: the section's rules (``stacks.rules.registry``), the ApicurioRegistry3 bodies, ACLs and
monitoring (``components.registry``), the names (``stacks.naming``), and the copying itself
(``components.engines.mirrormaker2.bodies``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stacks import naming
from stacks.model.clusters import Architecture, Role

if TYPE_CHECKING:
    from stacks.model.replication import Flow
    from stacks.model.topology import Topology


HTTPS_URL_RE = re.compile(r"https://[a-z0-9.-]+(:[0-9]+)?(/[^\s]*)?")
# The stack setting (a Pulumi secret) holding each application user's client secret in the OIDC realm.
CLIENT_SECRETS_SETTING = "registryClientSecrets"


class RegistryAuth(BaseModel):
    """OIDC for the registry's API: the registry validates bearer tokens from one realm, which every region
    trusts alike (so a client's credentials keep working when the shared name fails over). Each application user
    is a confidential client of that realm whose client id is the user's name (client-credentials grant); its
    secret comes from the stack setting ``registryClientSecrets`` and reaches the ``clients`` output as a secret.
    Any authenticated client reads; registering a schema takes the realm role ``sr-developer``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str = Field(
        description="The OIDC realm's URL (Keycloak: 'https://<host>/realms/<realm>'); tokens are validated against it."
    )
    registry_client_id: str = Field(
        default="registry-api", min_length=1, description="The registry's own client in the realm (the tokens' audience)."
    )
    token_endpoint: str | None = Field(
        default=None,
        description="Where clients get tokens; '<issuer>/protocol/openid-connect/token' (Keycloak's) when unset.",
    )

    @field_validator("issuer", "token_endpoint")
    @classmethod
    def _https(cls, v: str | None) -> str | None:
        if v is not None and not HTTPS_URL_RE.fullmatch(v):
            raise ValueError(f"{v!r} is not an https URL; give the realm's URL, e.g. 'https://sso.example.com/realms/kafka'")
        return v.rstrip("/") if v else v


class SchemaRegistry(BaseModel):
    """A schema registry (Apicurio Registry 3, KafkaSQL storage in the region's Kafka) in the registry regions."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    writer: str | None = Field(
        default=None,
        description=(
            "The one region whose registry accepts writes (assigns schema IDs). Active-active and partitioned "
            "domain must declare it; active-passive follows the primary (failback_from while failing back), an "
            "aggregation hub uses the hub."
        ),
    )
    replicas: int = Field(default=1, ge=1, le=10, description="Registry pods per region.")
    auth: RegistryAuth | None = Field(
        default=None,
        description=(
            "OIDC client credentials for the registry's API (one realm for every region). Unset: the API answers "
            "anyone who reaches it (reads everywhere, schema registration at the writer)."
        ),
    )


def enabled(topology: Topology) -> bool:
    return topology.schema_registry is not None


def derived_writer(topology: Topology) -> str | None:
    """The writer the architecture decides (active-passive, aggregation hub); None where it is declared."""
    if topology.architecture is Architecture.ACTIVE_PASSIVE:
        return topology.mm2.failback_from or topology.regions_with(Role.PRIMARY)[0].name
    if topology.architecture is Architecture.AGGREGATION_HUB:
        return topology.regions_with(Role.HUB)[0].name
    return None


def writer(topology: Topology) -> str:
    """The region whose registry writes (the rules guarantee one when the section is present)."""
    assert topology.schema_registry is not None
    chosen = derived_writer(topology) or topology.schema_registry.writer
    assert chosen is not None
    return chosen


def follows_primary(topology: Topology) -> bool:
    """Whether the writer is the region the shared name answers (active-passive, aggregation hub), so clients
    can register schemas through the name that fails over."""
    return derived_writer(topology) is not None


def regional_dns_name(topology: Topology, region: str) -> str:
    """``registry.<region name>``: the region's registry (its Ingress host; a Route53 record with a dns section)."""
    return naming.registry_dns_name(topology.region_dns_name(region))


def shared_dns_name(topology: Topology) -> str | None:
    """``registry.<shared name>``, failing over with the shared name, where that name answers with the writer
    (active-passive, aggregation hub); None elsewhere: several regions answer the shared name in active-active
    and partitioned domains, but only the declared writer's registry accepts schemas (clients use its regional
    name), and without a dns section nothing publishes a shared name."""
    if not enabled(topology) or not follows_primary(topology) or topology.bootstrap_name is None:
        return None
    return naming.registry_dns_name(topology.bootstrap_name)


def token_endpoint(topology: Topology) -> str | None:
    """Where clients get their tokens, with an ``auth`` section; None without."""
    sr = topology.schema_registry
    if sr is None or sr.auth is None:
        return None
    return sr.auth.token_endpoint or f"{sr.auth.issuer}/protocol/openid-connect/token"


def regions(topology: Topology) -> tuple[str, ...]:
    """Regions that run a registry, sorted: the writer and the targets of its flows."""
    if topology.schema_registry is None:
        return ()
    w = writer(topology)
    return tuple(sorted({w, *(f.target for f in topology.flows if f.source == w)}))


def read_only(topology: Topology, region: str) -> bool:
    return region != writer(topology)


def carried(topology: Topology, flow: Flow) -> tuple[str, ...]:
    """The registry topics ``flow`` copies (under their own names): the journal and snapshots, on flows leaving
    the writer only."""
    if topology.schema_registry is None or flow.source != writer(topology):
        return ()
    return naming.REGISTRY_REPLICATED_TOPICS


def census(topology: Topology, region: str, owners: dict[str, list[tuple[str, str]]]) -> None:
    """Add the registry's topics in ``region`` to the topic census: declared (a KafkaTopic each), and written
    into by the flow from the writer (the one intended sharing, as for an identity copy)."""
    if region not in regions(topology):
        return
    for t in naming.REGISTRY_TOPICS:
        owners.setdefault(t, []).append(("declared", t))
    for flow in topology.flows:
        if flow.target == region:
            for t in carried(topology, flow):
                owners.setdefault(t, []).append(("copy", t))
