"""The cross-field rules: what a topology that fits the model must also obey, each reported with its path and fix.

Owns: ``check(topology)``, which runs the rules in their one order and returns every ``(path, message)`` found;
``stacks.loader`` runs it once ``Topology.model_validate`` has accepted a file, and turns each into a ``Problem``.
The order, and where it stops, is part of the messages' contract (the first problems are the ones to fix first):

1. ``regions`` (regions, roles, domains), ``topics``, ``users``, ``dns``: all of them, whatever the others found;
2. only if those found nothing: ``replication.check_declared`` (the flows and objectives as written); only if that
   found nothing either, ``replication.check`` (the derived flows, then the engine's own rules) and ``flavors``;
3. only if nothing was found so far: ``tenancy`` then ``registry``;
4. only if nothing was found so far: ``identities`` (every generated name, once), which read a topology that is
   otherwise sound.

Every rule imports the model (``stacks.model``) and the derivations (``stacks.naming``, ``stacks.ownership``);
none of those imports a rule.

Deliberately not here: the checks of single values and of one object (the model's validators, run by pydantic),
reading files and rendering messages (``stacks.loader``).
"""

from __future__ import annotations

from stacks.model import Topology
from stacks.rules import dns, flavors, identities, regions, registry, replication, tenancy, topics, users
from stacks.rules.base import Errors, Loc

__all__ = ["Errors", "Loc", "check"]


def check(topology: Topology) -> list[tuple[Loc, str]]:
    """Every rule violation of ``topology``, in the order above; empty when it obeys them all."""
    errors: Errors = []
    regions.check(topology, errors)
    topics.check(topology, errors)
    users.check(topology, errors)
    dns.check(topology, errors)
    if not errors:
        replication.check_declared(topology, errors)
        if not errors:
            replication.check(topology, errors)
            flavors.check(topology, errors)  # what the cluster flavor cannot do
    if not errors:
        tenancy.check(topology, errors)
        registry.check(topology, errors)
    if not errors:
        identities.check(topology, errors)
    return errors
