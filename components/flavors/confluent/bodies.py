"""Pure builders for one region run by Confluent for Kubernetes (CFK 2.9.3, ``platform.confluent.io/v1beta1``).

Owns: the bodies of the KRaftController, the Kafka (KRaft, our listener certificate and environment CA, SASL/PLAIN
over TLS on the internal listener and on a load-balanced external one whose brokers advertise the same DNS names
as the Strimzi flavor, ``authorization: simple`` with the admin and operator as super users, the brokers' Admin
REST API behind basic authentication), the KafkaRestClass that CFK's topic and link controllers call, a KafkaTopic
per hosted topic, and the ACL job: CFK has no user or ACL resource without RBAC (``ConfluentRolebinding`` needs the
Metadata Service), so every principal's ACLs are applied by a Kubernetes Job running ``kafka-acls --add`` as the
admin, and its client quotas by ``kafka-configs`` (idempotent; an ACL removed from the topology is not removed from
Kafka by it: see docs/cluster-linking.md).

Users are SASL/PLAIN principals listed in the listeners' ``plain-users.json`` Secret: CFK 2.9.3 has no SCRAM
listener type. Secret values never appear here: builders give the shapes, the components fill them with outputs.

Deliberately not here: Pulumi resources (``.flavor`` beside this module), Cluster Linking
(``components.engines.cluster_linking``), shapes every flavor shares (``components.kube``).
"""

from __future__ import annotations

import hashlib
import json
import shlex
from typing import Any

from components import kube, monitoring, variants
from stacks import naming
from stacks.flavors import CFK_CHART_VERSION, CFK_EXTERNAL_PORT, CP_VERSION
from stacks.model import SUPER_USERS, Quotas, Region, Topology

API = "platform.confluent.io/v1beta1"
CFK_CHART = "confluent-for-kubernetes"
CFK_REPO = "https://packages.confluent.io/helm"
CFK_CHART_VERSION_PINNED = CFK_CHART_VERSION


def chart_source(ref: str) -> tuple[str, str | None]:
    """The stack setting ``cfkChart`` as Helm's chart and repository: an http(s) URL is a chart repository holding
    ``confluent-for-kubernetes`` (the default, Confluent's, or a mirror), anything else the chart itself (a local
    chart directory, an ``oci://`` reference)."""
    if ref.startswith(("https://", "http://")):
        return CFK_CHART, ref
    return ref, None


SERVER_IMAGE = f"confluentinc/cp-server:{CP_VERSION}"
INIT_IMAGE = "confluentinc/confluent-init-container:2.9.3"
INTERNAL_PORT = 9071  # CFK's internal listener
EXTERNAL_PORT = CFK_EXTERNAL_PORT  # CFK's external listener; its load balancers listen here
REST_PORT = 8090  # the brokers' embedded Admin REST API

Manifest = kube.Manifest


def internal_bootstrap(region: Region) -> str:
    return f"{region.cluster_name}.{region.namespace}.svc.cluster.local:{INTERNAL_PORT}"


def rest_endpoint(region: Region) -> str:
    return f"https://{region.cluster_name}.{region.namespace}.svc.cluster.local:{REST_PORT}"


def bootstrap_service(region: Region) -> str:
    """CFK's load-balancer Service of the external listener's bootstrap."""
    return f"{region.cluster_name}-bootstrap-lb"


def broker_service(region: Region, broker: int) -> str:
    return f"{region.cluster_name}-{broker}-lb"


def operator_values(region: Region) -> dict[str, Any]:
    """Helm values of the CFK operator: watch only this namespace (no cluster role)."""
    return {"namespaced": True, "namespaceList": [region.namespace]}


def _auth() -> dict[str, Any]:
    return {"type": "plain", "jaasConfig": {"secretRef": naming.CFK_USERS_SECRET}}


def kraft_controller(topology: Topology, region: Region) -> Manifest:
    k = region.kafka
    spec: dict[str, Any] = {
        "replicas": k.controllers,
        "image": {"application": SERVER_IMAGE, "init": INIT_IMAGE},
        "dataVolumeCapacity": k.storage.size,
        # Pinned, so every ClusterLink can name its source cluster before that cluster exists.
        "clusterID": naming.kraft_cluster_id(topology.environment, region.name),
        "tls": {"secretRef": naming.CFK_TLS_SECRET},
        "listeners": {"controller": {"tls": {"enabled": True}, "authentication": _auth()}},
        "podTemplate": _pod(region),
    }
    if k.storage.storage_class:
        spec["storageClass"] = {"name": k.storage.storage_class}
    return {
        "apiVersion": API,
        "kind": "KRaftController",
        "metadata": kube.meta(topology, region, naming.CFK_KRAFT, "kafka"),
        "spec": spec,
    }


def _pod(region: Region) -> dict[str, Any]:
    r = region.kafka.resources
    return {"resources": {"requests": {"cpu": r.cpu, "memory": r.memory}, "limits": {"memory": r.memory}}}


def kafka(topology: Topology, region: Region) -> Manifest:
    k = region.kafka
    config = {**kube.broker_defaults(region), **k.config}
    spec: dict[str, Any] = {
        "replicas": k.brokers,
        "image": {"application": SERVER_IMAGE, "init": INIT_IMAGE},
        "dataVolumeCapacity": k.storage.size,
        "tls": {"secretRef": naming.CFK_TLS_SECRET},
        "listeners": {
            "internal": {"tls": {"enabled": True}, "authentication": _auth()},
            "replication": {"tls": {"enabled": True}, "authentication": _auth()},
            "external": {
                "tls": {"enabled": True},
                "authentication": _auth(),
                "externalAccess": {
                    "type": "loadBalancer",
                    # Brokers advertise broker-<id>.<region name>: the Strimzi flavor's names, so DNS is unchanged.
                    "loadBalancer": {"domain": topology.region_dns_name(region.name), "brokerPrefix": "broker-"},
                },
            },
        },
        "authorization": {"type": "simple", "superUsers": [f"User:{u}" for u in SUPER_USERS]},
        "configOverrides": {"server": [f"{key}={_value(v)}" for key, v in sorted(config.items())]},
        "dependencies": {"kRaftController": {"clusterRef": {"name": naming.CFK_KRAFT}}},
        "services": {
            "kafkaRest": {
                "authentication": {"type": "basic", "basic": {"secretRef": naming.CFK_REST_USERS_SECRET}},
            }
        },
        "podTemplate": _pod(region),
        # CFK: the destination of a cluster link stores the source's SASL credentials encrypted with this secret's
        # password, and refuses the link without one. Every region has it, so a link may later point either way.
        "passwordEncoder": {"secretRef": naming.CFK_PASSWORD_ENCODER_SECRET},
    }
    if k.storage.storage_class:
        spec["storageClass"] = {"name": k.storage.storage_class}
    if k.zones:
        spec["rackAssignment"] = {"nodeLabels": [kube.ZONE_LABEL]}
    if topology.monitoring_enabled:
        # The same exporter rules as the Strimzi flavor (so every alert reads the same names), plus the link's.
        rules = monitoring.kafka_rules(topology)
        for _name, extra in variants.engine(topology).exporter_rules(topology, region.name):
            rules = rules + extra
        spec["metrics"] = {"prometheus": {"rules": [_cfk_rule(r) for r in rules]}}
    metadata = kube.meta(topology, region, region.cluster_name, "kafka")
    # `up` waits until CFK reports the cluster deployed (its CRD's status.phase): the DNS component reads the
    # load-balancer Services CFK creates for it, which do not exist before (the Strimzi flavor waits for Ready).
    metadata["annotations"] = {**metadata.get("annotations", {}), "pulumi.com/waitFor": "jsonpath={.status.phase}=RUNNING"}
    return {"apiVersion": API, "kind": "Kafka", "metadata": metadata, "spec": spec}


def _cfk_rule(rule: dict[str, Any]) -> dict[str, Any]:
    # CFK's rule shape takes the same keys as the JMX exporter's; values are strings there.
    out = {k: v for k, v in rule.items() if k in ("pattern", "name", "type", "labels")}
    if "value" in rule:
        out["value"] = str(rule["value"])
    return out


def _value(v: object) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def kafka_rest_class(topology: Topology, region: Region) -> Manifest:
    """How CFK's controllers reach this region's Admin REST API (topics, cluster links), as the admin."""
    return {
        "apiVersion": API,
        "kind": "KafkaRestClass",
        "metadata": kube.meta(topology, region, naming.CFK_REST_CLASS, "kafka"),
        "spec": {
            "kafkaClusterRef": {"name": region.cluster_name, "namespace": region.namespace},
            "kafkaRest": {
                "endpoint": rest_endpoint(region),
                "authentication": {"type": "basic", "basic": {"secretRef": naming.CFK_REST_CLIENT_SECRET}},
                "tls": {"secretRef": naming.CFK_TLS_SECRET},
            },
        },
    }


def topic(topology: Topology, region: Region, name: str) -> Manifest:
    t = topology.topics[name]
    spec: dict[str, Any] = {
        "name": name,
        "partitionCount": t.partitions,
        "replicas": t.replication_factor,
        "kafkaRestClassRef": {"name": naming.CFK_REST_CLASS, "namespace": region.namespace},
    }
    if t.config:
        spec["configs"] = {k: _value(v) for k, v in sorted(t.config.items())}
    return {
        "apiVersion": API,
        "kind": "KafkaTopic",
        "metadata": kube.meta(topology, region, naming.topic_resource_name(name), "topic"),
        "spec": spec,
    }


# ------------------------------------------------------------------------------------------- users and ACLs

_RESOURCE_FLAG = {"topic": "--topic", "group": "--group", "transactionalId": "--transactional-id", "cluster": "--cluster"}
_PATTERN = {"literal": "literal", "prefix": "prefixed"}


def acl_commands(region: Region, principal: str, acls: list[dict[str, Any]]) -> list[str]:
    """One ``kafka-acls --add`` per rule, in the Strimzi ACL shape every principal's ACLs are built in."""
    out = []
    for rule in acls:
        res = rule["resource"]
        effect = "--allow-principal" if rule["type"] == "allow" else "--deny-principal"
        words = [effect, f"User:{principal}"]
        for op in rule["operations"]:
            words += ["--operation", op]
        words += [_RESOURCE_FLAG[res["type"]]]
        if res["type"] != "cluster":
            words += [res["name"], "--resource-pattern-type", _PATTERN[res.get("patternType", "literal")]]
        host = rule.get("host", "*")
        if host != "*":
            words += ["--allow-host" if rule["type"] == "allow" else "--deny-host", host]
        out.append(" ".join(shlex.quote(w) for w in words))
    return out


def quota_command(principal: str, quotas: Quotas) -> str:
    """The principal's client quotas (the same Kafka keys the Strimzi flavor's KafkaUser sets), as kafka-configs args."""
    values = ",".join(f"{k}={v}" for k, v in sorted(quotas.model_dump(exclude_none=True).items()))
    return f"--alter --entity-type users --entity-name {shlex.quote(principal)} --add-config {shlex.quote(values)}"


def acl_script(region: Region, commands: list[str], quotas: list[str] | None = None) -> str:
    """ACLs added with kafka-acls, then quotas set with kafka-configs, each as the admin."""
    login = f"--bootstrap-server {internal_bootstrap(region)} --command-config /mnt/admin/client.properties"
    lines = [f"kafka-acls {login} --add {c}" for c in commands]
    lines += [f"kafka-configs {login} {q}" for q in quotas or []]
    return "set -eu\n" + "".join(f"{line}\n" for line in lines)


def acl_config_map(topology: Topology, region: Region, script: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": kube.meta(topology, region, naming.CFK_ACLS, "user"),
        "data": {"apply-acls.sh": script},
    }


def acl_job(topology: Topology, region: Region, script: str) -> Manifest:
    """The Job that applies the ACLs. Its pod template carries the script's hash: a Job's template cannot change,
    so a changed list makes the provider replace the Job (same name), which runs it again."""
    digest = hashlib.sha256(script.encode()).hexdigest()
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": kube.meta(topology, region, naming.CFK_ACLS, "user"),
        "spec": {
            "backoffLimit": 10,
            "template": {
                "metadata": {"annotations": {"kafka-multiregion.io/acls-sha256": digest}},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "containers": [
                        {
                            "name": "kafka-acls",
                            "image": SERVER_IMAGE,
                            "command": ["bash", "/mnt/acls/apply-acls.sh"],
                            "volumeMounts": [
                                {"name": "acls", "mountPath": "/mnt/acls"},
                                {"name": "admin", "mountPath": "/mnt/admin", "readOnly": True},
                                {"name": "tls", "mountPath": "/mnt/tls", "readOnly": True},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "acls", "configMap": {"name": naming.CFK_ACLS}},
                        {"name": "admin", "secret": {"secretName": naming.CFK_ADMIN_CLIENT_SECRET}},
                        {"name": "tls", "secret": {"secretName": naming.CFK_TLS_SECRET}},
                    ],
                },
            },
        },
    }


def admin_client_properties(password: str) -> str:
    """The ACL job's login (called inside ``Output.apply`` with the secret password; the result stays secret)."""
    jaas = (
        f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{naming.ADMIN_USER}" password="{password}";'
    )
    return (
        "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n"
        f"sasl.jaas.config={jaas}\n"
        "ssl.truststore.type=PEM\nssl.truststore.location=/mnt/tls/cacerts.pem\n"
    )


def plain_users(passwords: dict[str, str]) -> str:
    """``plain-users.json``: every principal of the region and its password (inside ``Output.apply``)."""
    return json.dumps(dict(sorted(passwords.items())), sort_keys=True)


def basic_users(password: str) -> str:
    """The REST API's ``basic.txt`` (server side: user: password, role) for the admin."""
    return f"{naming.ADMIN_USER}: {password},admin\n"


def password_encoder(password: str) -> str:
    """``password-encoder.txt`` of the Kafka's password encoder (CFK's format; ``oldPassword=`` only to rotate)."""
    return f"password={password}\n"


def plain_login(user: str, password: str) -> str:
    """``plain.txt`` of a client login (a cluster link's credentials on its source)."""
    return f"username={user}\npassword={password}\n"
