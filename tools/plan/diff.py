"""Comparing two plans resource by resource: what `pulumi up` would create, update, replace or delete, and why.

Owns: pairing the registrations of two plans by URN (a URN that moved with the same Kubernetes identity, or a
rename Kafka cannot carry out, is a replacement), the property-by-property details of each change (resource
options `protect` and `retainOnDelete` and a changed secret value included, values redacted), which property
changes make the provider replace rather than update, what is destructive (deleting or replacing what holds
data), the URN-level text/Markdown/JSON rendering, and the rule that a region leaves a file only after it was
decommissioned.

Deliberately not here: planning (``tools.plan.cli``), what a plan is (``tools.plan.recorded``), the reviewer's view
of these changes (``tools.plan.review``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stacks.loader import Problem, TopologyError
from stacks.model import Topology
from tools.plan.harness import Registration, redact, unwrap

if TYPE_CHECKING:
    from tools.plan.recorded import Plan

# Resources whose deletion or replacement loses data (or everything inside them).
DATA_TYPES = {
    "kubernetes:kafka.strimzi.io/v1:Kafka",
    "kubernetes:kafka.strimzi.io/v1:KafkaNodePool",
    "kubernetes:kafka.strimzi.io/v1:KafkaTopic",
    "kubernetes:platform.confluent.io/v1beta1:Kafka",
    "kubernetes:platform.confluent.io/v1beta1:KRaftController",
    "kubernetes:platform.confluent.io/v1beta1:KafkaTopic",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:PersistentVolumeClaim",
}
# Properties whose change makes the provider replace the resource rather than update it in place.
REPLACE_KEYS = ("metadata.name", "metadata.namespace", "apiVersion", "kind", "spec.topicName")
# Per type, fields Kubernetes will not change in place, so pulumi-kubernetes replaces the object (its forceNew table):
# a Job's pod template, for one, so the confluent flavor's ACL job is replaced whenever its script changes.
REPLACE_PREFIXES = {"kubernetes:batch/v1:Job": ("spec.template", "spec.selector", "spec.completions", "spec.parallelism")}


@dataclass
class Change:
    urn: str
    type: str
    action: str  # create | delete | update | replace
    details: list[str]

    @property
    def destructive(self) -> bool:
        return self.action in ("delete", "replace") and self.type in DATA_TYPES


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def replaces(type_: str, key: str) -> bool:
    """Whether a change of the (flattened) input ``key`` makes the provider replace a resource of ``type_``."""
    prefixes = REPLACE_PREFIXES.get(type_, ())
    return key in REPLACE_KEYS or any(key == p or key.startswith((f"{p}.", f"{p}[")) for p in prefixes)


def replaced(type_: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether going from inputs ``old`` to ``new`` replaces a resource of ``type_`` rather than updating it."""
    a, b = _flatten(old), _flatten(new)
    return any(replaces(type_, key) for key in a.keys() | b.keys() if a.get(key) != b.get(key))


def _identity(reg: Registration) -> tuple[str, str, str] | None:
    meta = reg.inputs.get("metadata") or {}
    if not reg.custom or "name" not in meta:
        return None
    return (reg.type, str(meta.get("namespace", "")), str(meta["name"]))


def _rename_key(reg: Registration) -> tuple[str, str, str] | None:
    """Same kind of resource in the same place, identical but for its name: a rename, which Kubernetes and
    Kafka carry out as delete + create (a topic's records do not follow it). Resources with equal keys pair up."""
    if not reg.custom:
        return None
    strip = ("metadata.name", "spec.topicName")
    body = {k: v for k, v in _flatten(redact(reg.inputs)).items() if k not in strip}
    return (reg.type, reg.parent, json.dumps(body, sort_keys=True))


def diff(old: Plan, new: Plan) -> list[Change]:
    old_by = {r.urn: r for r in old.registrations if not r.read}
    new_by = {r.urn: r for r in new.registrations if not r.read}
    changes: list[Change] = []
    removed = sorted(old_by.keys() - new_by.keys())
    added = sorted(new_by.keys() - old_by.keys())
    # A resource whose URN changed but whose Kubernetes identity did not is still replaced (no alias).
    new_ids = {_identity(new_by[u]): u for u in added if _identity(new_by[u])}
    by_rename_key: dict[tuple[str, str, str], list[str]] = {}
    for u in added:
        added_key = _rename_key(new_by[u])
        if added_key is not None:
            by_rename_key.setdefault(added_key, []).append(u)
    paired: set[str] = set()
    for urn in removed:
        reg = old_by[urn]
        identity = _identity(reg)
        moved = new_ids.get(identity) if identity else None
        rename_key = _rename_key(reg)
        renamed = next((u for u in by_rename_key.get(rename_key, []) if u not in paired), None) if rename_key else None
        if moved:
            paired.add(moved)
            changes.append(Change(urn, reg.type, "replace", [f"URN changes to {moved}: delete then create (add an alias)"]))
        elif renamed:
            paired.add(renamed)
            changes.append(
                Change(urn, reg.type, "replace", [f"renamed to {renamed}: the old one is deleted, its data is not carried over"])
            )
        else:
            changes.append(
                Change(urn, reg.type, "delete", ["protected: pulumi refuses until unprotected"] if reg.protect else [])
            )
    changes += [Change(u, new_by[u].type, "create", []) for u in added if u not in paired]
    for urn in sorted(old_by.keys() & new_by.keys()):
        was, now = old_by[urn], new_by[urn]
        a, b = _flatten(redact(was.inputs)), _flatten(redact(now.inputs))
        details = []
        replace = False
        for key in sorted(a.keys() | b.keys()):
            if a.get(key) != b.get(key):
                details.append(f"{key}: {json.dumps(a.get(key))} -> {json.dumps(b.get(key))}")
                replace |= replaces(now.type, key)
        if not details and unwrap(was.inputs) != unwrap(now.inputs):
            # Redaction hides which secret changed, not that one did: a rotation must not read as "no change".
            details.append("[secret]: its value changes")
        # Resource options are not inputs, but lifting protection is what makes the next change able to delete.
        for option, before, after in (
            ("protect", was.protect, now.protect),
            ("retainOnDelete", was.retain_on_delete, now.retain_on_delete),
        ):
            if before != after:
                details.append(f"{option}: {json.dumps(before)} -> {json.dumps(after)}")
        if details:
            changes.append(Change(urn, new_by[urn].type, "replace" if replace else "update", details))
    return changes


def render_diff(changes: list[Change], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([c.__dict__ | {"destructive": c.destructive} for c in changes], indent=1, sort_keys=True) + "\n"
    md = fmt == "markdown"
    head: list[str] = []
    destructive = [c for c in changes if c.destructive]
    if destructive:
        title = "DESTRUCTIVE CHANGES: data will be deleted or replaced"
        head.append(f"## ⚠ {title}\n" if md else f"!!! {title} !!!")
        for c in destructive:
            head.append(f"- **{c.action.upper()}** `{c.urn}`" if md else f"  {c.action.upper()} {c.urn}")
            head += [f"  - {d}" if md else f"      {d}" for d in c.details]
        head.append("")
    counts = Counter(c.action for c in changes)
    totals = f"{counts['create']} to create, {counts['update']} to update, {counts['replace']} to replace, {counts['delete']} to delete"
    head.append(f"## Changes: {totals}\n" if md else f"Changes: {totals}")
    symbols = {"create": "+", "delete": "-", "update": "~", "replace": "!"}
    body: list[str] = []
    for c in changes:
        body.append(f"{symbols[c.action]} {c.action} {c.urn}")
        body += [f"{symbols[c.action]}     {d}" for d in c.details]
    if md:
        return "\n".join(head) + "\n```diff\n" + "\n".join(body) + "\n```\n"
    return "\n".join(head + body) + "\n"


def check_removals(old: Topology, new: Topology, source: str) -> None:
    """A region may leave the file only after a change that marked it ``decommission: true`` was applied."""
    gone = [r for r in old.region_names if r not in new.region_names and not old.region(r).decommission]
    if gone:
        raise TopologyError(
            source,
            [
                Problem(
                    "regions",
                    f"region {r} was removed without being decommissioned first; put it back with decommission: true, "
                    "apply that (it lifts protection and stops replication and DNS to it), then remove it",
                )
                for r in gone
            ],
        )
