"""The rules on topics against the rest of the estate.

Owns: topic names (Kafka's rule, the names Kafka and MirrorMaker 2 keep), declared regions, the owning domain and
residency in a partitioned domain, at least one hosting region, replication factors within every hosting
region's brokers.

Deliberately not here: what one topic may say (``stacks.model.topics``), the names a topic's copies take and
their collisions (``stacks.rules.identities``), tenants' prefixes (``stacks.rules.tenancy``).
"""

from __future__ import annotations

from stacks.model import TOPIC_NAME_RE, Architecture, Topology
from stacks.rules.base import Errors


def check(topology: Topology, errors: Errors) -> None:
    names = {r.name for r in topology.regions}
    for name, topic in sorted(topology.topics.items()):
        path: tuple[str | int, ...] = ("topics", name)
        if not TOPIC_NAME_RE.fullmatch(name) or name in {".", ".."}:
            errors.append(
                (path, f"topic name {name!r} is not a Kafka topic name; use letters, digits, '.', '_' and '-' (at most 249)")
            )
            continue
        if (
            name.startswith("__")
            or name.startswith("mm2-")
            or name.endswith((".checkpoints.internal", ".heartbeats"))
            or name == "heartbeats"
        ):
            errors.append((path, f"topic name {name!r} is reserved for Kafka or MirrorMaker 2 internals; choose another name"))
        unknown = [r for r in (topic.regions or ()) + topic.replicate_to if r not in names]
        if unknown:
            errors.append(((*path, "regions"), f"regions {unknown} are not declared; use some of {sorted(names)}"))
            continue
        if topology.architecture is Architecture.PARTITIONED_DOMAIN:
            if topic.domain is None:
                errors.append(
                    (
                        (*path, "domain"),
                        f"in partitioned-domain every topic is owned by a domain; set domain to one of {sorted(topology.domains)}",
                    )
                )
                continue
            if topic.domain not in topology.domains:
                errors.append(
                    ((*path, "domain"), f"domain {topic.domain!r} is not declared; use one of {sorted(topology.domains)}")
                )
                continue
            allowed = topology.domains[topic.domain].allowed_regions
            for r in (*topology.hosting_regions(name), *topic.replicate_to):
                if r not in allowed:
                    errors.append(
                        (
                            (*path, "replicate_to" if r in topic.replicate_to else "regions"),
                            f"flow of {name!r} to {r} breaks residency of domain {topic.domain!r} (allowed: {list(allowed)}); remove {r}",
                        )
                    )
        elif topic.domain is not None or topic.replicate_to:
            errors.append(
                (
                    (*path, "domain"),
                    f"domain and replicate_to are only for partitioned-domain, not {topology.architecture.value}; remove them",
                )
            )
        hosts = topology.hosting_regions(name)
        if not hosts:
            errors.append(
                ((*path, "regions"), f"topic {name!r} is hosted in no region; list regions or serve its domain somewhere")
            )
        for r in hosts:
            brokers = topology.region(r).kafka.brokers
            if topic.replication_factor > brokers:
                errors.append(
                    (
                        (*path, "replication_factor"),
                        f"replication_factor {topic.replication_factor} exceeds the {brokers} brokers of {r}; lower it to at most {brokers} or add brokers",
                    )
                )
        # A copy on a region that does not host the topic is created by MirrorMaker with the target's
        # default replication factor (replication.factor=-1), so only hosting regions bound it.
