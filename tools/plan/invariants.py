"""Invariants every rendered plan is held to, whatever topology produced it.

Owns: the checks over what the program registered (a ``tools.plan.harness.Recording``), independent of how the
builders got there: one URN per resource; one Kubernetes object per (cluster, apiVersion, kind, namespace,
name); one Route53 record per (zone, name, type, set identifier) and per (name, type, location); every name
within the limits of the system that receives it (CFK's secretRef names too); every MirrorMaker 2 flow and every
cluster link copying only topics residency allows; every DNS name answering exactly the regions the model says; every client's bootstrap reaching only
regions where that user exists, and naming one cluster (``bootstrap_servers`` one address, each
``bootstrap_servers_by_region`` entry its own region only); no application grant (KafkaUser ACLs, CFK ACL
commands) reaching a name of another owner, in any region, copies included (owners read from the rule in docs/tenants.md
and the plan's own objects, not from ``stacks.ownership``); every flow's and every producer's declared bytes
fitting through the quotas of the brokers leading them; the account-global names two environments must not
share; and (``tools.plan.invariants_upstream``) what CFK requires, health checks on the served port, published
advertised hosts. ``tools.plan``
refuses to present a plan that breaks one (it is a defect of ours, not of the topology); the tests run the
checks over every shipped file and over generated topologies.

Deliberately not here: topology rules (``stacks.rules``, which refuses bad input before anything is planned)
and schema validation of manifests (the upstream oracle).
"""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from typing import Any

from stacks import naming
from stacks.model import Architecture, Topology, registry
from tools.plan import invariants_upstream
from tools.plan.harness import Recording, Registration, unwrap

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")  # each label
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
RECORD = "aws:route53/record:Record"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def _managed(recording: Recording) -> list[Registration]:
    return [r for r in recording.registrations if r.custom and not r.read and not r.type.startswith("pulumi:providers:")]


def _k8s_objects(recording: Recording) -> list[tuple[Registration, dict[str, Any]]]:
    out = []
    for reg in _managed(recording):
        if not reg.type.startswith("kubernetes:"):
            continue
        inputs = unwrap(reg.inputs)
        if reg.type == "kubernetes:helm.sh/v3:Release":
            meta = {"name": inputs.get("name", reg.name), "namespace": inputs.get("namespace", "default")}
            out.append((reg, {"apiVersion": "helm.sh/v3", "kind": "Release", "metadata": meta}))
        else:
            out.append((reg, inputs))
    return out


def check(recording: Recording) -> list[str]:
    """Every violated invariant, one line each; empty when the plan is sound."""
    t = recording.topology
    problems: list[str] = []
    problems += _unique_urns(recording)
    problems += _unique_kubernetes_objects(recording)
    problems += _kubernetes_names(recording)
    problems += _unique_records(recording)
    problems += _residency(recording, t)
    problems += _registry_journal(recording, t)
    problems += _grants_stay_with_their_owner(recording, t)
    problems += _bytes_fit_through_leaders(recording, t)
    problems += _one_cluster_per_bootstrap(recording, t)
    if recording.of_type(RECORD):
        problems += _dns_answers(recording, t)
    problems += invariants_upstream.check(recording, [(reg.provider, body) for reg, body in _k8s_objects(recording)])
    return problems


def _unique_urns(recording: Recording) -> list[str]:
    seen: set[str] = set()
    dupes = sorted({r.urn for r in recording.registrations if r.urn in seen or seen.add(r.urn)})  # type: ignore[func-returns-value]
    return [f"two resources share the URN {urn}" for urn in dupes]


def _unique_kubernetes_objects(recording: Recording) -> list[str]:
    seen: dict[tuple[str, ...], str] = {}
    out = []
    for reg, body in _k8s_objects(recording):
        meta = body.get("metadata") or {}
        kind = str(body.get("kind", reg.type.rsplit(":", 1)[-1]))
        # Namespaced kinds default to "default"; cluster-scoped ones (Namespace) have none.
        key = (reg.provider, str(body.get("apiVersion")), kind, str(meta.get("namespace", "")), str(meta.get("name")))
        if key in seen:
            out.append(f"{kind} {key[3]}/{key[4]} is declared twice on one cluster: {seen[key]} and {reg.urn}")
        seen.setdefault(key, reg.urn)
    return out


def _kubernetes_names(recording: Recording) -> list[str]:
    out = []
    for reg, body in _k8s_objects(recording):
        meta = body.get("metadata") or {}
        kind = str(body.get("kind"))
        name = str(meta.get("name", ""))
        limit, pattern = (63, DNS1123_LABEL) if kind in ("Namespace", "Service") else (253, DNS1123_SUBDOMAIN)
        if len(name) > limit or not pattern.fullmatch(name):
            out.append(f"{kind} name {name!r} is not a DNS-1123 name of at most {limit} characters ({reg.urn})")
        for key, value in (meta.get("labels") or {}).items():
            if len(str(value)) > 63 or not LABEL_VALUE.fullmatch(str(value)):
                out.append(f"{kind} {name}: label {key}={value!r} is not a Kubernetes label value")
        spec = body.get("spec") or {}
        if str(body.get("apiVersion", "")).startswith("platform.confluent.io/"):
            out += _cfk_names(kind, name, spec)
        if kind == "KafkaTopic":
            topic = str(spec.get("topicName", spec.get("name", name)))
            if len(topic) > naming.MAX_TOPIC:
                out.append(f"KafkaTopic {name}: topic name of {len(topic)} characters, past Kafka's {naming.MAX_TOPIC}")
        if kind == "Kafka":
            for listener in spec.get("kafka", {}).get("listeners", []):
                config = listener.get("configuration") or {}
                hosts = [b.get("advertisedHost", "") for b in config.get("brokers", [])]
                hosts += (config.get("bootstrap") or {}).get("alternativeNames", [])
                out += [f"Kafka {name}: {h!r} {p}" for h in hosts if (p := naming.dns_name_problem(h))]
    for reg in _managed(recording):
        if reg.type == "tls:index/certRequest:CertRequest":
            names = unwrap(reg.inputs).get("dnsNames") or []
            out += [f"certificate {reg.name}: SAN {n!r} {p}" for n in names if (p := naming.dns_name_problem(n))]
    return out


CFK_SECRET_REF = 30  # CFK 2.9.3 refuses longer secretRef names


def _cfk_names(kind: str, name: str, spec: dict[str, Any]) -> list[str]:
    """Every secretRef a CFK object names is a DNS label CFK accepts; the brokers' advertised names are DNS names."""
    out = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "secretRef" and (len(str(value)) > CFK_SECRET_REF or not DNS1123_LABEL.fullmatch(str(value))):
                    out.append(f"{kind} {name}: {path}.secretRef {value!r} is not a DNS label of at most {CFK_SECRET_REF}")
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")

    walk(spec, "spec")
    if kind == "Kafka":  # the names its brokers really advertise (not a 'broker-99' one character too long)
        for host in invariants_upstream.advertised_hosts({"apiVersion": "platform.confluent.io/v1beta1", "spec": spec}):
            if problem := naming.dns_name_problem(host):
                out.append(f"{kind} {name}: broker name {host!r} {problem}")
    return out


def _records(recording: Recording) -> list[dict[str, Any]]:
    return [unwrap(r.inputs) for r in recording.of_type(RECORD)]


def _location(record: dict[str, Any]) -> str | None:
    geo = (record.get("geolocationRoutingPolicies") or [None])[0]
    if not geo:
        return None
    return str(geo.get("country") or geo.get("continent") or geo.get("subdivision"))


def _unique_records(recording: Recording) -> list[str]:
    out = []
    by_id: set[tuple[str, ...]] = set()
    by_location: set[tuple[str, ...]] = set()
    for rec in _records(recording):
        name = str(rec.get("name", ""))
        key = (str(rec.get("zoneId")), name, str(rec.get("type")), str(rec.get("setIdentifier")))
        if key in by_id:
            out.append(f"Route53 record {name} {key[2]} (set {key[3]}) is declared twice")
        by_id.add(key)
        location = _location(rec)
        if location is not None:
            if (name, location) in by_location:
                out.append(f"Route53 refuses two geolocation records for {name} at {location}")
            by_location.add((name, location))
        if problem := naming.dns_name_problem(name):
            out.append(f"Route53 record {name[:60]!r} {problem}")
    return out


def _copied(body: dict[str, Any], t: Topology) -> list[tuple[str, str, list[str]]]:
    """(source, target, topic names it may copy from the source) of one replication object, per engine's kind."""
    if body.get("kind") == "KafkaMirrorMaker2":
        target = body["spec"]["target"]["alias"]
        # A prefixed flow's second mirror (the registry's journal, under its own name) names its source by alias.
        aliases = {naming.identity_alias(r): r for r in t.region_names}
        out = []
        for mirror in body["spec"]["mirrors"]:
            source = aliases.get(mirror["source"]["alias"], mirror["source"]["alias"])
            include, exclude = mirror.get("topicsPattern", ""), mirror.get("topicsExcludePattern")
            topics = [n for n in t.topics_in(source) if re.fullmatch(include, n) and not (exclude and re.fullmatch(exclude, n))]
            out.append((source, target, topics))
        return out
    if body.get("kind") == "ClusterLink":
        ids = {naming.kraft_cluster_id(t.environment, r): r for r in t.region_names}
        source = ids.get(body["spec"]["sourceKafkaCluster"].get("clusterID", ""), "?")
        target = body["metadata"]["labels"]["kafka-multiregion.io/region"]
        topics = [m.get("sourceTopicName", m["name"]) for m in body["spec"].get("mirrorTopics", [])]
        return [(source, target, topics)]
    return []


def _residency(recording: Recording, t: Topology) -> list[str]:
    """What each KafkaMirrorMaker2's pattern, or each ClusterLink's mirror topics, copy from its source must be
    allowed to reach its target."""
    out = []
    for reg, body in _k8s_objects(recording):
        for source, target, topics in _copied(body, t):
            if source not in t.region_names:
                out.append(f"{reg.name}: copies from a cluster that is no region of the stack")
                continue
            for topic_name in topics:
                topic = t.topics.get(topic_name)
                if topic is None:
                    out.append(f"{reg.name}: mirrors {topic_name!r}, which is not a declared topic")
                    continue
                if not topic.replicated:
                    out.append(f"{reg.name}: copies {topic_name!r}, which is declared replicated: false")
                if t.architecture is Architecture.PARTITIONED_DOMAIN:
                    allowed = t.domains[topic.domain].allowed_regions if topic.domain in t.domains else ()
                    if target not in allowed or target not in topic.replicate_to:
                        out.append(
                            f"{reg.name}: copies {topic_name!r} to {target}, outside what its domain allows "
                            f"({list(allowed)}) or its replicate_to ({list(topic.replicate_to)})"
                        )
    return out


def _registry_journal(recording: Recording, t: Topology) -> list[str]:
    """The schema registry's journal reaches every registry region but the writer exactly once, from the writer,
    under its own name (the identity policy), and never flows anywhere else (no loop, no prefixed copy)."""
    if not registry.enabled(t):
        return []  # no registry, no journal: a pattern that would match the name copies nothing
    journal = naming.REGISTRY_JOURNAL_TOPIC
    identity = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"
    received: dict[str, list[str]] = defaultdict(list)
    out = []
    for reg, body in _k8s_objects(recording):
        if body.get("kind") != "KafkaMirrorMaker2":
            continue
        target = body["spec"]["target"]["alias"]
        for mirror in body["spec"]["mirrors"]:
            if not re.fullmatch(mirror.get("topicsPattern", ""), journal):
                continue
            source = mirror["source"]["alias"]
            policy = mirror["sourceConnector"]["config"].get("replication.policy.class")
            received[target].append(source)
            if policy != identity:
                out.append(f"{reg.name}: copies the registry journal from {source} with {policy}, not under its own name")
            if source not in (registry.writer(t), naming.identity_alias(registry.writer(t))):
                out.append(f"{reg.name}: copies the registry journal from {source}, which is not the registry writer")
    expected = [r for r in registry.regions(t) if registry.read_only(t, r)]
    for r in expected:
        if len(received.get(r, [])) != 1:
            out.append(f"registry region {r} receives the journal {len(received.get(r, []))} times, not once")
    for r in sorted(set(received) - set(expected)):
        out.append(f"{r} receives the registry journal but runs no read-only registry")
    return out


# ------------------------------------------------------------------------------------ who may touch which name

PLATFORM = "the platform"
DEFAULT_POLICY = "org.apache.kafka.connect.mirror.DefaultReplicationPolicy"
# Names Kafka and Confluent Server keep in every cluster, whether or not the plan shows them.
KAFKA_OWN_TOPICS = ("__consumer_offsets", "__transaction_state", "_confluent-link-metadata", "_confluent-command")


def _readme_owner(t: Topology, name: str) -> str | None:
    """The rule of docs/tenants.md, read independently of the model: the tenant with the longest prefix the name starts
    with, else the default tenant, else nobody's (an estate without tenants)."""
    matches = sorted((len(x.prefix), n) for n, x in t.tenants.items() if name.startswith(x.prefix))
    if matches:
        return matches[-1][1]
    return next((n for n, x in sorted(t.tenants.items()) if x.default), None)


def _region_of(body: dict[str, Any]) -> str:
    return str(((body.get("metadata") or {}).get("labels") or {}).get("kafka-multiregion.io/region", ""))


def _names_in(recording: Recording, t: Topology) -> dict[str, dict[str, dict[str, str | None]]]:
    """Per region, per name space (topic, group, transactionalId): every name the plan makes or Kafka keeps there,
    plus one probe name inside each tenant's prefix and each region's copies of it (a PREFIXED ACL matches names
    that do not exist yet), each with its owner."""
    names: dict[str, dict[str, dict[str, str | None]]] = {
        r: {"topic": {}, "group": {}, "transactionalId": {}} for r in t.region_names
    }
    for r in t.region_names:
        topics, groups, txns = names[r]["topic"], names[r]["group"], names[r]["transactionalId"]
        topics.update(dict.fromkeys(KAFKA_OWN_TOPICS, PLATFORM))
        topics.update(dict.fromkeys((naming.HEARTBEATS_TOPIC, *naming.REGISTRY_TOPICS), PLATFORM))
        groups["__probe"] = PLATFORM
        for source in t.region_names:
            topics[f"{source}.checkpoints.internal"] = PLATFORM
            topics[f"{source}.heartbeats"] = PLATFORM
            topics[f"mm2-offset-syncs.{source}.internal"] = PLATFORM
        for tenant_name, tenant in t.tenants.items():
            for space in (topics, groups, txns):
                space.setdefault(f"{tenant.prefix}probe", tenant_name)
            for source in t.region_names:
                topics.setdefault(f"{source}.{tenant.prefix}probe", tenant_name)
        for topic in t.topics:
            topics.setdefault(topic, _readme_owner(t, topic))
        for user in t.users.values():
            for group in user.groups:
                groups.setdefault(group, _readme_owner(t, group))
    for _, body in _k8s_objects(recording):
        kind, r = body.get("kind"), _region_of(body)
        spec = body.get("spec") or {}
        if kind == "KafkaMirrorMaker2":
            target = spec["target"]
            r = target["alias"]
            if r not in names:
                continue
            for key in ("configStorageTopic", "offsetStorageTopic", "statusStorageTopic"):
                names[r]["topic"][target[key]] = PLATFORM
            names[r]["group"][target["groupId"]] = PLATFORM
            names[r]["transactionalId"][f"{target['groupId']}-0"] = PLATFORM
            for source, _, copied in _copied(body, t):
                for mirror in spec["mirrors"]:
                    policy = mirror["sourceConnector"]["config"].get("replication.policy.class")
                    if mirror["source"]["alias"] not in (source, naming.identity_alias(source)):
                        continue
                    for topic in copied:
                        remote = f"{source}.{topic}" if policy == DEFAULT_POLICY else topic
                        names[r]["topic"].setdefault(remote, _readme_owner(t, topic))
        elif kind == "KafkaConnect" and r in names:
            config = spec.get("config") or {}
            for key in ("config.storage.topic", "offset.storage.topic", "status.storage.topic"):
                if key in config:
                    names[r]["topic"][str(config[key])] = PLATFORM
            if "groupId" in spec:
                names[r]["group"][str(spec["groupId"])] = PLATFORM
        elif kind == "ApicurioRegistry3" and r in names:
            for env in ((spec.get("app") or {}).get("env")) or []:
                if env.get("name") == "APICURIO_KAFKASQL_CONSUMER_GROUP_PREFIX":
                    names[r]["group"][f"{env.get('value')}probe"] = PLATFORM
    return names


def _application_grants(recording: Recording, t: Topology) -> list[tuple[str, str, str, str, str]]:
    """(region, user, name space, name, patternType) of every ALLOW an application user holds in the plan: the
    KafkaUsers' ACLs (Strimzi) and the kafka-acls commands of the ACL job (Confluent for Kubernetes)."""
    out = []
    for _, body in _k8s_objects(recording):
        kind, r = body.get("kind"), _region_of(body)
        name = str((body.get("metadata") or {}).get("name"))
        if kind == "KafkaUser" and name in t.users:
            for acl in ((body.get("spec") or {}).get("authorization") or {}).get("acls", []):
                res = acl["resource"]
                if acl.get("type", "allow") == "allow" and res["type"] in ("topic", "group", "transactionalId"):
                    out.append((r, name, res["type"], res["name"], res.get("patternType", "literal")))
        elif kind == "ConfigMap" and name == naming.CFK_ACLS:
            flags = {"--topic": "topic", "--group": "group", "--transactional-id": "transactionalId"}
            for line in str((body.get("data") or {}).get("apply-acls.sh", "")).splitlines():
                words = shlex.split(line)
                if "--allow-principal" not in words:
                    continue
                user = words[words.index("--allow-principal") + 1].removeprefix("User:")
                flag = next((w for w in words if w in flags), None)
                if user not in t.users or flag is None:
                    continue
                resource = words[words.index(flag) + 1]
                pattern = words[words.index("--resource-pattern-type") + 1] if "--resource-pattern-type" in words else "literal"
                out.append((r, user, flags[flag], resource, "prefix" if pattern == "prefixed" else "literal"))
    return out


def _grants_stay_with_their_owner(recording: Recording, t: Topology) -> list[str]:
    """No grant reaches a name of another owner, in any region, copies included: an application user's ACLs match
    (by Kafka's rule: literal, PREFIXED by plain string prefix, '*') only its tenant's names there (without tenants:
    no name of the platform's)."""
    names = _names_in(recording, t)
    out = []
    for region, user, space, resource, pattern in _application_grants(recording, t):
        owner = t.users[user].tenant if t.tenants else None
        for name, whose in sorted(names.get(region, {}).get(space, {}).items()):
            matched = name.startswith(resource) if pattern == "prefix" else resource in ("*", name)
            if matched and whose != owner and (owner is not None or whose == PLATFORM):
                out.append(
                    f"client {user} in {region}: {pattern} {space} ACL {resource!r} reaches {name!r}, which is "
                    + ("the platform's" if whose == PLATFORM else f"tenant {whose!r}'s")
                )
                break
    return out


# ------------------------------------------------------------------------------------- bytes against quotas


def _busiest(topics: list[tuple[int, float]], brokers: int) -> float:
    """Bytes/s landing on the busiest broker: each topic (partitions, rate) enters through its partitions' leaders,
    at most min(partitions, brokers) brokers, the busiest leading ceil(partitions / brokers) of them."""
    return sum(rate * -(-p // brokers) / p for p, rate in topics)


def _bytes_fit_through_leaders(recording: Recording, t: Topology) -> list[str]:
    """Every flow's declared bytes fit through its leaders' quotas: a quota is per broker, so the busiest broker of
    each end must let the MirrorMaker principal fetch (source) and produce (target) what its topics' leaders there
    carry; the same for an application user's producer quota and the topics its ACLs let it write (their rates
    shared among their writers). Read from the plan: node pools, KafkaTopics, KafkaUsers, KafkaMirrorMaker2s."""
    brokers: dict[str, int] = defaultdict(int)
    partitions: dict[tuple[str, str], int] = {}
    users: dict[tuple[str, str], dict[str, Any]] = {}
    mirrors: list[dict[str, Any]] = []
    for _, body in _k8s_objects(recording):
        kind, r, spec = body.get("kind"), _region_of(body), body.get("spec") or {}
        if kind == "KafkaNodePool" and "broker" in spec.get("roles", []):
            brokers[r] += int(spec.get("replicas", 0))
        elif kind == "KafkaTopic":
            name = str(spec.get("topicName") or body["metadata"]["name"])
            partitions[(r, name)] = int(spec.get("partitions", 1))
        elif kind == "KafkaUser":
            users[(r, str(body["metadata"]["name"]))] = spec
        elif kind == "KafkaMirrorMaker2":
            mirrors.append(body)
    rate = {name: float(topic.bytes_per_second) for name, topic in t.topics.items() if topic.bytes_per_second}
    out = []
    for body in mirrors:
        principal = str(body["spec"]["target"]["groupId"])
        for source, target, copied in _copied(body, t):
            load = [(partitions.get((source, c), 1), rate[c]) for c in copied if c in rate]
            for end, key in ((source, "consumerByteRate"), (target, "producerByteRate")):
                quota = (users.get((end, principal), {}).get("quotas") or {}).get(key)
                if quota is None or not load or not brokers.get(end):
                    continue
                busiest = _busiest(load, brokers[end])
                if quota < busiest:
                    out.append(
                        f"{principal} in {end}: {key} {quota} B/s per broker, but the busiest of its {brokers[end]} "
                        f"brokers leads {busiest:.0f} B/s of the declared rates of what it copies"
                    )
    for (r, user), spec in sorted(users.items()):
        quota = (spec.get("quotas") or {}).get("producerByteRate")
        if user not in t.users or quota is None or not brokers.get(r):
            continue
        load = []
        for topic, topic_rate in sorted(rate.items()):
            if (r, topic) not in partitions:
                continue
            writers = [u for (rr, u), sp in users.items() if rr == r and u in t.users and _may_write(sp, topic)]
            if user not in writers or any((users[(r, w)].get("quotas") or {}).get("producerByteRate") is None for w in writers):
                continue
            load.append((partitions[(r, topic)], topic_rate / len(writers)))
        busiest = _busiest(load, brokers[r])
        if load and quota < busiest - 1e-6:
            out.append(
                f"client {user} in {r}: producerByteRate {quota} B/s per broker, but the busiest of its {brokers[r]} "
                f"brokers leads {busiest:.0f} B/s of the declared rates of the topics it writes"
            )
    return out


def _may_write(spec: dict[str, Any], topic: str) -> bool:
    for acl in (spec.get("authorization") or {}).get("acls", []):
        res = acl["resource"]
        if acl.get("type", "allow") != "allow" or res["type"] != "topic":
            continue
        if not {"Write", "All"} & set(acl.get("operations", [])):
            continue
        name = res["name"]
        if topic.startswith(name) if res.get("patternType") == "prefix" else name in ("*", topic):
            return True
    return False


def resolve(recording: Recording) -> dict[str, frozenset[str]]:
    """Each record name → the regions Route53 may answer with, following CNAMEs to other names of the plan."""
    endpoints = {str(h): region for region, h in (recording.outputs.get("endpoints") or {}).items()}
    targets: dict[str, set[str]] = defaultdict(set)
    for rec in _records(recording):
        targets[str(rec["name"])].update(str(v) for v in rec.get("records") or [])

    def regions(name: str, seen: frozenset[str]) -> frozenset[str]:
        found: set[str] = set()
        for value in targets.get(name, ()):
            if value in endpoints:
                found.add(endpoints[value])
            elif value in targets and value not in seen:
                found |= regions(value, seen | {value})
        return frozenset(found)

    return {name: regions(name, frozenset({name})) for name in targets}


def _dns_answers(recording: Recording, t: Topology) -> list[str]:
    out = []
    answers = resolve(recording)
    for name, expected in sorted(t.dns_answers.items()):
        got = answers.get(name, frozenset())
        if got != expected:
            out.append(f"DNS name {name} answers {sorted(got)}, the topology says {sorted(expected)}")
    for user, client in sorted((recording.outputs.get("clients") or {}).items()):
        where = set(t.user_regions(user))
        for server in str(client.get("bootstrap_servers", "")).split(","):
            host = server.rsplit(":", 1)[0]
            reached = answers.get(host, frozenset())
            if not reached:
                out.append(f"client {user}: bootstrap {host} has no record")
            elif not reached <= where:
                out.append(f"client {user}: bootstrap {host} reaches {sorted(reached - where)}, where {user} does not exist")
    return out


def _one_cluster_per_bootstrap(recording: Recording, t: Topology) -> list[str]:
    """Every client bootstrap names one cluster: ``bootstrap_servers`` is one address (a client treats every
    address of the list as one cluster and rebootstraps to any of them), and each entry of
    ``bootstrap_servers_by_region`` answers exactly its own region. Names are resolved through the plan's Route53
    records, or (DNS managed elsewhere) are the regions' own published names."""
    answers = resolve(recording) if recording.of_type(RECORD) else dict(t.dns_answers)
    out = []
    for user, client in sorted((recording.outputs.get("clients") or {}).items()):
        servers = [s for s in str(client.get("bootstrap_servers", "")).split(",") if s]
        if len(servers) != 1:
            out.append(f"client {user}: bootstrap_servers names {len(servers)} addresses, not one cluster: {servers}")
        for region, server in sorted((client.get("bootstrap_servers_by_region") or {}).items()):
            reached = answers.get(str(server).rsplit(":", 1)[0], frozenset())
            if reached != {region}:
                out.append(f"client {user}: bootstrap_servers_by_region[{region}] {server} answers {sorted(reached)}")
        if set(client.get("bootstrap_servers_by_region") or {}) != set(client.get("regions") or ()) - {
            r for r in t.region_names if not t.live(r)
        } and any(t.live(r) for r in client.get("regions") or ()):
            out.append(f"client {user}: bootstrap_servers_by_region does not list one bootstrap per live region of it")
    return out


def global_names(recording: Recording) -> set[tuple[str, ...]]:
    """Names that are global to an AWS account or a hosted zone: two environments must not share one."""
    names: set[tuple[str, ...]] = set()
    for reg in recording.of_type(ALARM):
        names.add(
            (
                "cloudwatch-alarm",
                reg.provider.split("::")[3] if reg.provider.count("::") >= 3 else "",
                str(unwrap(reg.inputs).get("name")),
            )
        )
    for rec in _records(recording):
        names.add(
            ("route53-record", str(rec.get("zoneId")), str(rec.get("name")), str(rec.get("type")), str(rec.get("setIdentifier")))
        )
    return names
