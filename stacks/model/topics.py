"""Topics: what a topology may declare about one topic, each value checked on its own.

Owns: ``Topic`` (partitions, replication factor, config with Kafka's own keys checked, the partitioned domain
that owns it, where it lives and where it is copied, its declared write rate), its own consistency
(min.insync.replicas below the replication factor, the cleanup policies Kafka knows) and ``TOPIC_NAME_RE``.

Deliberately not here: which regions host a topic and which flows carry it (``stacks.model.topology``), and the
rules that compare a topic with the regions, domains and brokers (``stacks.rules.topics``).
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from stacks.model.base import Strict
from stacks.model.clusters import known_kafka_key

# Kafka topic names: legal characters, at most 249; Strimzi also needs a DNS-1123 resource name, which
# we derive from it (see ``Topic.resource_name``), so only the Kafka rule applies to the name itself.
TOPIC_NAME_RE = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")


ConfigValue = str | int | float | bool


class Topic(Strict):
    partitions: int = Field(default=6, ge=1, le=10000, description="Partition count.")
    replication_factor: int = Field(default=3, ge=1, le=100, description="Replicas of each partition.")
    config: dict[str, ConfigValue] = Field(
        default_factory=dict,
        description="Topic configuration (min.insync.replicas, retention.ms, cleanup.policy, ...).",
    )
    domain: str | None = Field(default=None, description="Partitioned domain: the domain that owns this topic.")
    regions: tuple[str, ...] | None = Field(
        default=None, description="Regions that host the topic; by default the architecture decides."
    )
    replicated: bool = Field(default=True, description="Whether MirrorMaker 2 replicates this topic.")
    replicate_to: tuple[str, ...] = Field(
        default=(), description="Partitioned domain: regions this domain's topic is copied to (must respect residency)."
    )
    bytes_per_second: int | None = Field(
        default=None, ge=1, description="Declared write rate; a replication quota must carry it within the RPO."
    )

    @property
    def min_insync_replicas(self) -> int | None:
        value = self.config.get("min.insync.replicas")
        return int(value) if value is not None else None

    @field_validator("config")
    @classmethod
    def _known_keys(cls, v: dict[str, ConfigValue]) -> dict[str, ConfigValue]:
        for key in v:
            known_kafka_key(key, "topic", "a Kafka topic setting", "refuse the topic")
        return v

    @model_validator(mode="after")
    def _min_isr(self) -> Topic:
        isr = self.min_insync_replicas
        if isr is not None and self.replication_factor > 1 and isr >= self.replication_factor:
            raise ValueError(
                f"min.insync.replicas {isr} must be below replication_factor {self.replication_factor}, "
                "or one broker down stops all writes; lower min.insync.replicas or raise the replication factor"
            )
        cleanup = self.config.get("cleanup.policy")
        if cleanup is not None and str(cleanup) not in {"delete", "compact", "compact,delete", "delete,compact"}:
            raise ValueError(f"cleanup.policy {cleanup!r} is not one of delete, compact, 'compact,delete'")
        return self
