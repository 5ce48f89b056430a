"""The pull-request review of a plan diff: risk first, grouped by region and kind, element-wise, within GitHub's limits.

Owns: turning ``tools.plan.diff``'s changes into what a reviewer judges. A header per stack (creates, updates,
replaces and deletes by region and kind); the risks, each in words (data deleted or replaced, protection lifted,
access granted or lost, listeners exposed, replication stopped or redirected, DNS and health checks changed,
secrets rotated, configuration `pulumi up` will ask for); the configuration the new state needs, checked against
``Pulumi.<stack>.yaml``; updates as keyed diffs (ACLs by resource, pattern and host with their operations as a
set, lists of named things by name: ``tools.plan.review_elements``); creates summarised by the properties a reviewer
checks per kind (also there). The same
sections as JSON (complete) and as Markdown for one pull-request comment per stack (a hidden marker to update it
in place, long parts collapsed, a hard cap that drops the least risky lines first and says what it dropped).

Deliberately not here: planning (``tools.plan.cli``); pairing resources by URN, or deciding what is an update, a
replace or destructive (``tools.plan.diff``); posting the comment (the workflow). Values are read from redacted inputs only.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tools.plan.harness import PROJECT, ROOT, Registration, fake_config, redact
from tools.plan.recorded import region_of
from tools.plan.review_elements import (
    NAMES_SHOWN,
    acl_changes,
    keyed_diff,
    kind_of,
    listener_words,
    names_line,
    resource_name,
    summarise,
    what,
)

if TYPE_CHECKING:
    from stacks.model import Topology
    from tools.plan.diff import Change
    from tools.plan.recorded import Plan

# GitHub refuses a comment body over 65,536 characters; the margin is for the workflow's own lines around it.
MAX_CHARS = 60_000
ACTIONS = ("create", "update", "replace", "delete")
SIGNS = {"create": "+", "update": "~", "replace": "!", "delete": "-"}
EXTERNAL_LISTENERS = {"loadbalancer", "nodeport", "route", "ingress", "cluster-ip-external"}
REPLICATION_KINDS = {"KafkaMirrorMaker2", "ClusterLink", "KafkaMirrorMaker"}
ROTATING_TYPES = {
    "kubernetes:core/v1:Secret",
    "random:index/randomPassword:RandomPassword",
    "tls:index/privateKey:PrivateKey",
    "tls:index/selfSignedCert:SelfSignedCert",
    "tls:index/locallySignedCert:LocallySignedCert",
}
QUOTA_KEYS = ("producerByteRate", "consumerByteRate", "requestPercentage", "controllerMutationRate")


# ------------------------------------------------------------------------------------------------ risks


@dataclass
class Risks:
    items: list[dict[str, str]] = field(default_factory=list)
    gone_users: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # one line per region

    def add(self, category: str, region: str, text: str) -> None:
        self.items.append({"category": category, "region": region, "text": text})


def _data_loss(c: Change, reg: Registration, region: str) -> str:
    kind, subject = kind_of(c.type), f"{what(reg)} in {region}"
    if c.action == "replace":
        why = f" ({c.details[0]})" if c.details else ""
        return f"{subject} will be deleted and created again, empty: what it holds is lost{why}"
    consequence = {
        "Kafka": "with the data of every topic on it",
        "KafkaNodePool": "with its brokers and their volumes",
        "KRaftController": "with its controllers' metadata",
        "Namespace": "with everything in it",
        "PersistentVolumeClaim": "with its volume",
    }.get(kind, "with its data")
    still = " (it is still protected: `pulumi up` refuses until a change that lifts protection is applied)" if reg.protect else ""
    return f"{subject} will be deleted {consequence}{still}"


def risks(old: Plan, new: Plan, changes: list[Change], config: dict[str, Any]) -> list[dict[str, str]]:
    old_by, new_by = old.recording.by_urn(), new.recording.by_urn()
    out = Risks()
    lifted: dict[str, list[str]] = defaultdict(list)
    old_dns_names = {str(r.inputs.get("name")) for r in old.registrations if r.type == "aws:route53/record:Record"}
    for c in changes:
        reg = new_by.get(c.urn) or old_by[c.urn]
        was = old_by.get(c.urn)
        topology = new.topology if c.urn in new_by else old.topology
        region, kind = region_of(reg, topology), kind_of(c.type)
        if c.destructive:
            out.add("data", region, _data_loss(c, was or reg, region))
        if (
            c.action == "update"
            and was is not None
            and ((was.protect and not reg.protect) or (was.retain_on_delete and not reg.retain_on_delete))
        ):
            lifted[region].append(what(reg))
        if not reg.custom:
            continue
        if kind == "KafkaUser":
            _access(out, c, was, reg, region)
        if kind == "Kafka" and c.action in ("update", "replace") and was is not None:
            _exposure(out, was, reg, region)
        if kind in REPLICATION_KINDS:
            _replication(out, c, was, reg, region)
        if c.type in ("aws:route53/record:Record", "aws:route53/healthCheck:HealthCheck"):
            _dns(out, c, was, reg, old_dns_names)
        if c.type in ROTATING_TYPES and (c.action == "replace" or any(d.startswith("[secret]") for d in c.details)):
            out.add(
                "secret",
                region,
                f"{what(reg)} in {region} is rotated: clients holding the old value are refused until they get the new one",
            )
        if c.type.startswith("kubernetes:core/v1:ConfigMap") and c.action == "update" and was is not None:
            acl_lines = [
                line
                for line in keyed_diff(redact(was.inputs), redact(reg.inputs))
                if "kafka-acls" in line or "kafka-configs" in line
            ]
            if acl_lines:
                out.add("access", region, f"ACL or quota commands change in {region}: " + "; ".join(acl_lines[:NAMES_SHOWN]))
    for region, labels in sorted(lifted.items()):
        out.add(
            "protection",
            region,
            f"deletion protection (protect, retainOnDelete) is lifted from {len(labels)} resources in {region}: {names_line(labels)}; "
            "the next change can delete them, and with them their data",
        )
    for region, users in sorted(out.gone_users.items()):
        out.add(
            "access",
            region,
            f"{len(users)} users are deleted in {region}, their clients can no longer connect there: {names_line(users)}",
        )
    for setting in config.get("settings", []):
        if setting["new"] and setting["present"] is False:
            out.add(
                "config",
                "global",
                f"`pulumi up` needs {setting['key']}, which {config['checked_against']} does not set: `{setting['command']}`",
            )
    order = ["data", "protection", "access", "exposure", "replication", "dns", "secret", "config"]
    return sorted(out.items, key=lambda r: order.index(r["category"]))


def _access(out: Risks, c: Change, was: Registration | None, reg: Registration, region: str) -> None:
    user = resource_name(reg)
    if c.action == "delete":
        out.gone_users[region].append(user)
        return
    if was is None:
        return
    acls = [redact((r.inputs.get("spec") or {}).get("authorization") or {}).get("acls") or [] for r in (was, reg)]
    for a in acl_changes(user, acls[0], acls[1]):
        if a.added:
            verb = "gets a new ACL" if a.status == "new" else "gains"
            out.add("access", region, f"user {user} in {region} {verb}: {', '.join(a.added)} on {a.acl}")
        if a.removed:
            out.add(
                "access", region, f"user {user} in {region} loses {', '.join(a.removed)} on {a.acl}: its clients are refused that"
            )
    quotas = [redact((r.inputs.get("spec") or {}).get("quotas") or {}) for r in (was, reg)]
    for key in QUOTA_KEYS:
        before, after = quotas[0].get(key), quotas[1].get(key)
        if before is not None and (after is None or (isinstance(after, (int, float)) and after > before)):
            out.add(
                "access",
                region,
                f"user {user} in {region}: quota {key} widens from {before} to {after if after is not None else 'unlimited'}",
            )


def _exposure(out: Risks, was: Registration, reg: Registration, region: str) -> None:
    def listeners(r: Registration) -> dict[str, dict[str, Any]]:
        spec = r.inputs.get("spec") or {}
        found = (spec.get("kafka") or {}).get("listeners") or []
        return {str(li.get("name")): li for li in found if isinstance(li, dict)} if isinstance(found, list) else {}

    before, after = listeners(was), listeners(reg)
    for name, li in sorted(after.items()):
        prev = before.get(name)
        external = str(li.get("type", "")) in EXTERNAL_LISTENERS
        if prev is None and external:
            out.add(
                "exposure", region, f"{what(reg)} in {region} opens listener {name} outside the cluster: {listener_words(li)}"
            )
        elif prev is not None:
            if external and str(prev.get("type", "")) not in EXTERNAL_LISTENERS:
                out.add(
                    "exposure",
                    region,
                    f"{what(reg)} in {region}: listener {name} becomes reachable outside the cluster ({prev.get('type')} -> {li.get('type')})",
                )
            if prev.get("tls") and not li.get("tls"):
                out.add("exposure", region, f"{what(reg)} in {region}: listener {name} drops TLS")
            if prev.get("authentication") and not li.get("authentication"):
                out.add("exposure", region, f"{what(reg)} in {region}: listener {name} drops authentication")


def _replication(out: Risks, c: Change, was: Registration | None, reg: Registration, region: str) -> None:
    if c.action == "delete":
        out.add("replication", region, f"{what(reg)} stops: records written in its source no longer reach {region}")
    elif c.action in ("update", "replace") and was is not None:
        moved = [
            line
            for line in keyed_diff(redact(was.inputs), redact(reg.inputs))
            if any(k in line for k in ("bootstrapServers", "alias", "topicsPattern", "topicsExcludePattern", "mirrorTopics"))
        ]
        if moved:
            out.add(
                "replication", region, f"{what(reg)} is redirected or replicates other topics: " + "; ".join(moved[:NAMES_SHOWN])
            )


def _dns(out: Risks, c: Change, was: Registration | None, reg: Registration, old_names: set[str]) -> None:
    record = c.type == "aws:route53/record:Record"
    subject = what(reg)
    if c.action == "delete":
        tail = "clients resolving it stop reaching that target" if record else "the records it gates lose that failover signal"
        out.add("dns", "global", f"{subject} is deleted: {tail}")
    elif c.action == "create" and record and str(reg.inputs.get("name")) in old_names:
        out.add(
            "dns",
            "global",
            f"{subject} is added to a name clients already resolve: some of them will now be sent {summarise(reg)}",
        )
    elif c.action in ("update", "replace") and was is not None:
        lines = [
            line for line in keyed_diff(redact(was.inputs), redact(reg.inputs)) if not line.split(":", 1)[0].endswith(".tags")
        ]
        out.add("dns", "global", f"{subject} changes ({c.action}): " + "; ".join(lines[:NAMES_SHOWN] or c.details[:NAMES_SHOWN]))


# --------------------------------------------------------------------------------------- configuration


def required_config(old: Topology | None, new: Topology, stack_config: Path | None) -> dict[str, Any]:
    """Every setting the new state reads (what the offline plan fakes), whether it is new with this change, and
    whether ``Pulumi.<stack>.yaml`` sets it (None when there is no such file to check)."""
    stack = new.environment
    path = stack_config if stack_config is not None else ROOT / f"Pulumi.{stack}.yaml"
    present: set[str] | None = None
    note = ""
    if path.is_file():
        try:
            data = yaml.safe_load(path.read_text()) or {}
            present = {str(k) for k in (data.get("config") or {})} if isinstance(data, dict) else set()
        except (yaml.YAMLError, OSError, AttributeError) as exc:
            note = f"{path} could not be read ({type(exc).__name__}); settings were not checked"
    needed = fake_config(new, "STACK")
    before = set(fake_config(old, "STACK")) if old is not None else set()
    settings = []
    for key in sorted(needed):
        short = key.removeprefix(f"{PROJECT}:")
        secret = not key.endswith(":topology")
        if short.startswith("kubeconfig"):
            command = (
                f"pulumi config set --secret --stack {stack} {short} < path/to/{short.removeprefix('kubeconfig-')}.kubeconfig"
            )
        elif secret:
            command = f"pulumi config set --secret --stack {stack} {short} < path/to/{short}.json"
        else:
            command = f"pulumi config set --stack {stack} {short} stacks/{stack}.yaml"
        settings.append(
            {
                "key": short,
                "secret": secret,
                "new": key not in before,
                "present": None if present is None else (key in present or short in present),
                "command": command,
            }
        )
    checked = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    return {"checked_against": checked if present is not None else None, "note": note, "settings": settings}


# ---------------------------------------------------------------------------------------------- review


def review(
    old: Plan, new: Plan, changes: list[Change], *, stack: str, stack_config: Path | None = None, new_stack: bool = False
) -> dict[str, Any]:
    """The review's sections as plain data: what ``--json`` writes and what ``markdown`` renders."""
    old_by, new_by = old.recording.by_urn(), new.recording.by_urn()
    totals = Counter(c.action for c in changes)
    by_region: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    creates: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    counted: dict[str, Counter[str]] = defaultdict(Counter)
    updates: list[dict[str, Any]] = []
    deletes: dict[str, list[str]] = defaultdict(list)
    for c in changes:
        reg = new_by.get(c.urn) or old_by[c.urn]
        region = region_of(reg, new.topology if c.urn in new_by else old.topology)
        kind = kind_of(c.type)
        by_region[region][c.action][kind] += 1
        if c.action == "create":
            summary = summarise(reg)
            if summary is None:
                counted[region][kind] += 1
            else:
                creates[region][kind].append(f"{what(reg)}: {summary}")
        elif c.action == "delete":
            deletes[region].append(what(old_by[c.urn]) + (" [protected]" if old_by[c.urn].protect else ""))
        else:
            was = old_by[c.urn]
            now = new_by.get(c.urn)
            lines = keyed_diff(redact(was.inputs), redact(now.inputs)) if now is not None else []
            lines += [f"~ {d}" for d in c.details if d.startswith(("protect:", "retainOnDelete:", "[secret]"))]
            if c.action == "replace":
                lines = [f"! {d}" for d in c.details if not d.startswith(("protect:", "retainOnDelete:"))] + lines
            updates.append({"action": c.action, "region": region, "kind": kind, "what": what(reg), "urn": c.urn, "lines": lines})
    config = required_config(None if new_stack else old.topology, new.topology, stack_config)
    return {
        "stack": stack,
        "environment": new.topology.environment,
        "new_stack": new_stack,
        "totals": {a: totals[a] for a in ACTIONS},
        "by_region": {r: {a: dict(sorted(k.items())) for a, k in sorted(acts.items())} for r, acts in sorted(by_region.items())},
        "risks": risks(old, new, changes, config),
        "config": config,
        "updates": updates,
        "deletes": {r: sorted(n) for r, n in sorted(deletes.items())},
        "creates": {
            r: {"summarised": dict(sorted(creates[r].items())), "counted": dict(sorted(counted[r].items()))}
            for r in sorted(creates.keys() | counted.keys())
        },
    }


# --------------------------------------------------------------------------------------------- Markdown


def marker(stack: str) -> str:
    """The hidden line the workflow finds its comment by, so the next push updates it rather than adding one."""
    return f"<!-- kafka-multiregion review: {stack} -->"


@dataclass
class _Section:
    title: str
    lines: list[str]
    collapsed: bool
    fenced: bool
    name: str  # what the truncation note counts it as


def _counts(kinds: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))


def _sections(r: dict[str, Any]) -> list[_Section]:
    sections = []
    if r["risks"]:
        lines = [f"- **{x['category']}** ({x['region']}): {x['text']}" for x in r["risks"]]
        sections.append(_Section(f"### ⚠ What can lose data or access ({len(r['risks'])})", lines, False, False, "risk lines"))
    config = r["config"]
    if config["settings"]:

        def state(s: dict[str, Any]) -> str:
            if s["present"] is None:
                return "not checked"
            if s["present"]:
                return "set"
            before = "" if s["new"] else " (needed before this change too)"
            return f"**missing** from {config['checked_against']}{before}: `{s['command']}`"

        lines = [
            f"- `{s['key']}`{' (secret)' if s['secret'] else ''}{', new' if s['new'] else ''}: {state(s)}"
            for s in config["settings"]
        ]
        lines += [f"- {config['note']}"] if config["note"] else []
        title = f"Configuration pulumi up needs ({sum(s['new'] for s in config['settings'])} new)"
        sections.append(_Section(title, lines, True, False, "configuration lines"))
    by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for u in r["updates"]:
        by_region[u["region"]].append(u)
    for region, items in sorted(by_region.items()):
        lines = []
        for u in items:
            lines.append(f"{SIGNS[u['action']]} {u['action']} {u['what']}")
            lines += [f"{line[0]}     {line[2:]}" for line in u["lines"]]
        sections.append(_Section(f"{region}: {len(items)} to update or replace", lines, True, True, "update lines"))
    for region, names in r["deletes"].items():
        sections.append(
            _Section(f"{region}: {len(names)} to delete", [f"- delete {n}" for n in names], True, True, "delete lines")
        )
    for region, parts in r["creates"].items():
        lines = [f"+ {line}" for lines_ in parts["summarised"].values() for line in lines_]
        if parts["counted"]:
            lines.append(f"+ and {_counts(parts['counted'])}")
        total = sum(map(len, parts["summarised"].values())) + sum(parts["counted"].values())
        sections.append(_Section(f"{region}: {total} to create", lines, True, True, "create lines"))
    return sections


def markdown(r: dict[str, Any], *, max_chars: int = MAX_CHARS, artifact: str = "the workflow artifact offline-plan") -> str:
    """One comment for one stack: marker, header, risks, configuration, updates, deletes, creates; at most
    ``max_chars`` (0: no cap), dropping from the end (creates first, risks last) and saying what was dropped."""
    t = r["totals"]
    head = [marker(r["stack"])]
    if not any(t.values()):
        return "\n".join([*head, f"**{r['stack']}** ({r['environment']}): no changes."]) + "\n"
    status = f"{len(r['risks'])} risk{'s' if len(r['risks']) != 1 else ''}" if r["risks"] else "no risks found"
    new = " (new stack)" if r["new_stack"] else ""
    head.append(
        f"## {r['stack']} ({r['environment']}){new}: {t['create']} to create, {t['update']} to update, "
        f"{t['replace']} to replace, {t['delete']} to delete; {'⚠ ' if r['risks'] else ''}{status}\n"
    )
    head += ["| region | create | update | replace | delete |", "|---|---|---|---|---|"]
    for region, acts in r["by_region"].items():
        cells = [_counts(acts.get(a, {})) for a in ACTIONS]
        head.append(
            f"| {region} | "
            + " | ".join(f"{sum(acts.get(a, {}).values())}: {c}" if c else "" for a, c in zip(ACTIONS, cells, strict=True))
            + " |"
        )
    text = "\n".join(head) + "\n"
    reserve = 600  # the truncation note and closing tags
    dropped: Counter[str] = Counter()
    shown: Counter[str] = Counter()
    for s in _sections(r):
        opening = (f"\n<details><summary>{s.title}</summary>\n\n" if s.collapsed else f"\n{s.title}\n\n") + (
            "```diff\n" if s.fenced else ""
        )
        closing = ("```\n" if s.fenced else "") + ("</details>\n" if s.collapsed else "")
        body = ""
        for line in s.lines:
            if max_chars and len(text) + len(opening) + len(body) + len(line) + 1 + len(closing) + reserve > max_chars:
                dropped[s.name] += 1
                continue
            body += line + "\n"
            shown[s.name] += 1
        if body:
            text += opening + body + closing
    if dropped:
        counts = ", ".join(f"{dropped[n]} of {dropped[n] + shown[n]} {n}" for n in dropped)
        text += (
            f"\n**Truncated to fit one GitHub comment ({max_chars:,} characters):** left out {counts}. "
            f"The full review (Markdown and JSON) and the full diff are in {artifact}.\n"
        )
    return text


def as_json(r: dict[str, Any]) -> str:
    return json.dumps(r, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
