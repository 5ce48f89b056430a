"""One resource in a reviewer's words: what it is, what to check when it is created, what changed in it.

Owns: naming a registered resource as a reviewer would (``topic orders``, ``node pool broker of eu-west-1``,
``DNS record prod.kafka.example.com (CNAME, eu-west-1)``); the properties worth reading per kind when one is
created (brokers, storage, RF, partitions, retention, listeners, ACLs, quotas, a flow's topics); and keyed
diffs of two input bodies: lists of named things matched by name, plain lists as sets, a flow's topic regex as
names, ACLs by (resource type, name, pattern, host, allow/deny) with their operations as a set, so removing one
ACL or adding one operation reads as exactly that.

Deliberately not here: judging what is risky, assembling or rendering the review (``tools.plan.review``); deciding
what is created, updated or replaced (``tools.plan.diff``). Everything here reads redacted values only.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.plan.harness import Registration, redact

# Lists of objects are matched by the first of these keys every element has (and no two share): listeners,
# volumes and containers by name, MirrorMaker's clusters by alias, a node pool's volumes by id.
LIST_KEYS = ("name", "alias", "id", "broker", "setIdentifier")
ACL_PATHS = ("spec.authorization.acls",)
NAMES_SHOWN = 12  # names listed in one line before "and N more"


def names_line(labels: list[str]) -> str:
    """Up to NAMES_SHOWN names, then how many more."""
    shown = ", ".join(labels[:NAMES_SHOWN])
    return shown + (f" and {len(labels) - NAMES_SHOWN} more" if len(labels) > NAMES_SHOWN else "")


def kind_of(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def resource_name(reg: Registration) -> str:
    meta = reg.inputs.get("metadata") or {}
    return str(meta.get("name") or reg.name)


def what(reg: Registration) -> str:
    """The resource in words: ``topic orders``, ``user analytics``, ``DNS record prod.kafka.example.com (CNAME)``."""
    kind, spec, inputs = kind_of(reg.type), redact(reg.inputs.get("spec") or {}), redact(reg.inputs)
    if not reg.custom:
        return f"{kind} {reg.name}"
    if kind == "KafkaTopic":
        return f"topic {spec.get('topicName') or spec.get('name') or resource_name(reg)}"
    if kind == "KafkaUser":
        return f"user {resource_name(reg)}"
    if kind == "Kafka":
        return f"Kafka cluster {resource_name(reg)}"
    if kind == "KafkaNodePool":
        cluster = ((reg.inputs.get("metadata") or {}).get("labels") or {}).get("strimzi.io/cluster")
        return f"node pool {resource_name(reg)}" + (f" of {cluster}" if cluster else "")
    if kind == "Namespace":
        return f"namespace {resource_name(reg)}"
    if kind == "KafkaMirrorMaker2":
        sources = sorted({str((m.get("source") or {}).get("alias", "?")) for m in spec.get("mirrors") or []})
        return f"MirrorMaker 2 replication {', '.join(sources)} -> {(spec.get('target') or {}).get('alias', '?')}"
    if kind == "ClusterLink":
        return f"cluster link {resource_name(reg)}"
    if reg.type == "aws:route53/record:Record":
        set_id = f", {inputs['setIdentifier']}" if inputs.get("setIdentifier") else ""
        return f"DNS record {inputs.get('name', reg.name)} ({inputs.get('type', '?')}{set_id})"
    if reg.type == "aws:route53/healthCheck:HealthCheck":
        return f"health check {reg.name}"
    if reg.type == "random:index/randomPassword:RandomPassword":
        return f"password {reg.name}"
    return f"{kind} {resource_name(reg)}"


def _v(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _duration(ms: Any) -> str:
    try:
        value = int(ms)
    except (TypeError, ValueError):
        return str(ms)
    if value < 0:
        return "forever"
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if value >= size and value % size == 0:
            return f"{value // size} {unit}"
    return f"{value} ms"


# ------------------------------------------------------------------------------------------ keyed diffs


@dataclass(frozen=True)
class AclChange:
    user: str
    acl: str  # the ACL in words: "topic orders (prefix, any host)"
    added: tuple[str, ...]  # operations granted (all of them for a new ACL)
    removed: tuple[str, ...]  # operations taken away (all of them for a removed ACL)
    status: str  # new | gone | changed


def acl_key(acl: dict[str, Any]) -> tuple[str, str, str, str, str]:
    res = acl.get("resource") or {}
    pattern = str(res.get("patternType") or res.get("pattern") or "literal")
    return (
        str(res.get("type", "?")),
        str(res.get("name", "*")),
        pattern,
        str(acl.get("host", "*")),
        str(acl.get("type", "allow")),
    )


def acl_words(key: tuple[str, str, str, str, str]) -> str:
    rtype, name, pattern, host, allow = key
    where = "any host" if host == "*" else f"host {host}"
    return ("deny " if allow == "deny" else "") + f"{rtype} {name} ({pattern}, {where})"


def operations(acl: dict[str, Any]) -> set[str]:
    ops = acl.get("operations") or ([acl["operation"]] if acl.get("operation") else [])
    return {str(o) for o in ops}


def acl_changes(user: str, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[AclChange]:
    """ACLs matched by (resource type, name, pattern, host, allow/deny); operations compared as sets."""
    a: dict[tuple[str, str, str, str, str], set[str]] = defaultdict(set)
    b: dict[tuple[str, str, str, str, str], set[str]] = defaultdict(set)
    for acl in old:
        a[acl_key(acl)] |= operations(acl)
    for acl in new:
        b[acl_key(acl)] |= operations(acl)
    out = []
    for key in sorted(a.keys() | b.keys()):
        gained, lost = tuple(sorted(b.get(key, set()) - a.get(key, set()))), tuple(sorted(a.get(key, set()) - b.get(key, set())))
        if gained or lost:
            status = "new" if key not in a else "gone" if key not in b else "changed"
            out.append(AclChange(user, acl_words(key), gained, lost, status))
    return out


def _acl_lines(changes: list[AclChange]) -> list[str]:
    lines = []
    for c in changes:
        if c.status == "new":
            lines.append(f"+ ACL {c.acl}: added, allows {', '.join(c.added)}")
        elif c.status == "gone":
            lines.append(f"- ACL {c.acl}: removed, it allowed {', '.join(c.removed)}")
        else:
            parts = [f"+ {', '.join(c.added)}"] if c.added else []
            parts += [f"- {', '.join(c.removed)}"] if c.removed else []
            sign = "~" if c.added and c.removed else "+" if c.added else "-"
            lines.append(f"{sign} ACL {c.acl}: operations {'; '.join(parts)}")
    return lines


def _list_key(items: list[Any]) -> str | None:
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in LIST_KEYS:
        values = [i.get(key) for i in items]
        if all(v is not None for v in values):
            return key
    return None


def _entries_diff(a: dict[Any, Any], b: dict[Any, Any], where: Callable[[Any], str]) -> list[str]:
    """Entries of two mappings matched by key: added, removed, and (recursively) what changed in the others."""
    out: list[str] = []
    for k in sorted(a.keys() | b.keys()):
        sub = where(k)
        if k not in a:
            out.append(f"+ {sub}: {_v(b[k])}")
        elif k not in b:
            out.append(f"- {sub}: {_v(a[k])}")
        else:
            out += keyed_diff(a[k], b[k], sub)
    return out


def keyed_diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Lines ``"<sign> <path>: ..."`` (sign ``+``, ``-`` or ``~``) saying what changed from ``a`` to ``b``.

    Lists of named objects are matched by name (not index), lists of plain values compared as sets, multi-line
    strings line by line, ACL lists by what each ACL grants: removing one element reads as that removal.
    """
    if a == b:
        return []
    if path in ACL_PATHS and isinstance(a, list) and isinstance(b, list):
        return _acl_lines(acl_changes("", a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return _entries_diff(a, b, lambda k: f"{path}.{k}" if path else str(k))
    if isinstance(a, list) and isinstance(b, list):
        key = _list_key(a) if len(a) >= len(b) else _list_key(b)
        key = key if key and _list_key(a + b) == key else None
        by_a = {str(i[key]): i for i in a} if key else {}
        by_b = {str(i[key]): i for i in b} if key else {}
        if key and len(by_a) == len(a) and len(by_b) == len(b):
            return _entries_diff(by_a, by_b, lambda name: f"{path}[{name}]")
        if all(not isinstance(i, (dict, list)) for i in a + b):
            ca, cb = Counter(map(_v, a)), Counter(map(_v, b))
            if ca == cb:
                return [f"~ {path}: reordered"]
            out = [f"+ {path}: {v}" for v in sorted((cb - ca).elements())]
            return out + [f"- {path}: {v}" for v in sorted((ca - cb).elements())]
        out = []
        for i in range(max(len(a), len(b))):
            out += keyed_diff(a[i] if i < len(a) else None, b[i] if i < len(b) else None, f"{path}[{i}]")
        return out
    if isinstance(a, str) and isinstance(b, str) and path.endswith("Pattern") and ("|" in a or "|" in b):
        # A replication flow's topics are one regex alternation: a topic added reads as that topic, not the regex.
        la, lb = alternatives(a), alternatives(b)
        out = [f"+ {path}: {x}" for x in lb if x not in set(la)]
        return out + [f"- {path}: {x}" for x in la if x not in set(lb)] or [f"~ {path}: reordered"]
    if isinstance(a, str) and isinstance(b, str) and ("\n" in a or "\n" in b):
        la, lb = a.splitlines(), b.splitlines()
        out = [f"+ {path}: {line}" for line in lb if line not in set(la)]
        return out + [f"- {path}: {line}" for line in la if line not in set(lb)] or [f"~ {path}: lines reordered"]
    if a is None:
        return [f"+ {path}: {_v(b)}"]
    if b is None:
        return [f"- {path}: {_v(a)}"]
    return [f"~ {path}: {_v(a)} -> {_v(b)}"]


def alternatives(pattern: str) -> list[str]:
    """The names in a regex alternation of escaped names (``orders|eu\\-west\\-1\\.orders``), unescaped."""
    return [re.sub(r"\\(.)", r"\1", part) for part in re.split(r"(?<!\\)\|", pattern)]


# ------------------------------------------------------------------------------------ create summaries


def summarise(reg: Registration) -> str | None:
    """The properties a reviewer checks for a new resource of this kind; None for kinds only counted."""
    kind, spec = kind_of(reg.type), redact(reg.inputs.get("spec") or {})
    inputs = redact(reg.inputs)
    if kind == "KafkaTopic":
        config = spec.get("config") or spec.get("configs") or {}  # Strimzi's name, then Confluent's
        partitions = spec.get("partitions", spec.get("partitionCount", "?"))
        parts = [f"{partitions} partitions", f"RF {spec.get('replicas', spec.get('replicationFactor', '?'))}"]
        if "retention.ms" in config:
            parts.append(f"retention {_duration(config['retention.ms'])}")
        parts += [f"{k} {config[k]}" for k in ("min.insync.replicas", "cleanup.policy") if k in config]
        return ", ".join(parts)
    if kind == "KafkaNodePool":
        volumes = (spec.get("storage") or {}).get("volumes") or [spec.get("storage") or {}]
        disk = ", ".join(f"{v.get('size', '?')} {v.get('class', '')}".strip() for v in volumes)
        requests = (spec.get("resources") or {}).get("requests") or {}
        return f"{spec.get('replicas', '?')} x {'+'.join(spec.get('roles') or ['?'])}, storage {disk}" + (
            f", cpu {requests.get('cpu')}, memory {requests.get('memory')}" if requests else ""
        )
    if kind == "Kafka":
        kafka = spec.get("kafka") or {}
        listeners = kafka.get("listeners") or spec.get("listeners") or []
        shown = "; ".join(listener_words(li) for li in listeners) if isinstance(listeners, list) else ", ".join(sorted(listeners))
        image = spec.get("image") or {}
        shown_image = image.get("application", "?") if isinstance(image, dict) else image
        parts = [f"version {kafka['version']}" if "version" in kafka else f"image {shown_image}"]
        if spec.get("replicas"):
            parts.append(f"{spec['replicas']} brokers, {spec.get('dataVolumeCapacity', '?')} each")
        auth = (kafka.get("authorization") or spec.get("authorization") or {}).get("type")
        return ", ".join(parts + ([f"authorization {auth}"] if auth else []) + [f"listeners: {shown or 'none'}"])
    if kind == "KafkaUser":
        acls = (spec.get("authorization") or {}).get("acls") or []
        # ACLs granting the same operations on the same kind of resource read as one: "Read on topics a, b, c".
        grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
        for a in acls:
            rtype, name, pattern, host, allow = acl_key(a)
            where = "" if (pattern, host) == ("literal", "*") else f" ({pattern}{'' if host == '*' else ', host ' + host})"
            grouped[(("deny " if allow == "deny" else "") + ", ".join(sorted(operations(a))), rtype)].append(name + where)
        shown = "; ".join(f"{ops} on {rtype} {', '.join(names)}" for (ops, rtype), names in grouped.items())
        quotas = spec.get("quotas") or {}
        text = f"auth {(spec.get('authentication') or {}).get('type', 'none')}, {len(acls)} ACLs" + (
            f": {shown}" if shown else ""
        )
        return text + (f"; quotas {', '.join(f'{k} {v}' for k, v in sorted(quotas.items()))}" if quotas else "")
    if kind == "KafkaMirrorMaker2":
        mirrors = spec.get("mirrors") or []
        names = [t for m in mirrors for t in alternatives(str(m.get("topicsPattern", "?")))]
        topics = f"{len(names)}: {names_line(names)}" if len(names) > 1 else ", ".join(names)
        excluded = "; ".join(str(m["topicsExcludePattern"]) for m in mirrors if m.get("topicsExcludePattern"))
        return f"topics {topics}" + (f", excluding {excluded}" if excluded else "")
    if kind == "ClusterLink":
        mirrored = [str(t.get("name")) for t in spec.get("mirrorTopics") or [] if isinstance(t, dict)]
        filters = [f.get("accessFilter") or {} for f in spec.get("aclFilters") or [] if isinstance(f, dict)]
        principals = [str(f.get("principal")) for f in filters]
        return f"mirrors {len(mirrored)} topics: {names_line(mirrored)}" + (
            f"; syncs the ACLs of {names_line(principals)}" if principals else ""
        )
    if reg.type == "aws:route53/record:Record":
        targets = inputs.get("records") or [a.get("name") for a in inputs.get("aliases") or []]
        routing = [k.removesuffix("RoutingPolicies") for k in sorted(inputs) if k.endswith("RoutingPolicies")]
        return (
            f"-> {', '.join(map(str, targets))}"
            + (f", ttl {inputs['ttl']}" if "ttl" in inputs else "")
            + (f", {'/'.join(routing)} routing" if routing else "")
        )
    if reg.type == "aws:route53/healthCheck:HealthCheck" and inputs.get("type") == "CALCULATED":
        children = inputs.get("childHealthchecks") or []
        if not children:  # a switch: healthy or not as tools.failover sets it
            return "calculated, no children: a switch set by hand (inverted to fail over)"
        return f"calculated, healthy while {inputs.get('childHealthThreshold', '?')} of {len(children)} health checks are"
    if reg.type == "aws:route53/healthCheck:HealthCheck":
        target = f"{inputs.get('fqdn')}:{inputs.get('port')}" if inputs.get("fqdn") else inputs.get("type", "?")
        return f"{inputs.get('type', '?')} {target}, every {inputs.get('requestInterval', '?')} s, {inputs.get('failureThreshold', '?')} failures"
    return None


def listener_words(li: dict[str, Any]) -> str:
    auth = (li.get("authentication") or {}).get("type", "no authentication")
    return f"{li.get('name', '?')} {li.get('type', '?')}:{li.get('port', '?')} {'tls' if li.get('tls') else 'plaintext'} {auth}"
