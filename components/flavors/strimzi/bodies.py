"""Pure builders for the Strimzi custom resources and Kubernetes objects of one region.

Owns: the bodies (plain dicts, as ``kubectl apply`` would take them) of the Kafka cluster, its node pools,
its topics and its users (their ACLs rendered by ``components.access``), the operator's Helm values, and the
names of the Services and Secrets Strimzi creates or reads. Everything is derived from a validated ``Topology``
and nothing else, so the same function serves the Pulumi components, the plan tool and the tests.

Deliberately not here: Pulumi resources (``.cluster``, ``.users`` beside this module), shapes every flavor
shares (labels, Secrets, namespaces, the listener's names: ``components.kube``), secret values (the builders
take names of Secrets, never their contents), and MirrorMaker 2 (``components.engines.mirrormaker2``).
"""

from __future__ import annotations

from typing import Any

from components import kube
from components.monitoring import KAFKA_METRICS, METRICS_KEY
from stacks import naming
from stacks.flavors import NODEPORT_BOOTSTRAP, STRIMZI_EXTERNAL_PORT
from stacks.model import SUPER_USERS, Quotas, Region, Topology

API = "kafka.strimzi.io/v1"
STRIMZI_CHART = "oci://quay.io/strimzi-helm/strimzi-kafka-operator"
STRIMZI_VERSION = "1.2.0"

INTERNAL_LISTENER = "tls"
INTERNAL_PORT = 9093
# Not "external": Strimzi gives a listener named "external" on 9094 legacy Service names; "public" gets the
# regular ones (<cluster>-kafka-public-bootstrap, <cluster>-<pool>-public-<node id>).
EXTERNAL_LISTENER = "public"
EXTERNAL_PORT = STRIMZI_EXTERNAL_PORT


def metrics_config(config_map: str) -> dict[str, Any]:
    """Strimzi's ``metricsConfig`` section pointing at one of our exporter-rule ConfigMaps."""
    return {"type": "jmxPrometheusExporter", "valueFrom": {"configMapKeyRef": {"name": config_map, "key": METRICS_KEY}}}


def internal_bootstrap(region: Region) -> str:
    """The in-cluster TLS bootstrap address Strimzi gives the cluster's bootstrap Service."""
    return f"{region.cluster_name}-kafka-bootstrap.{region.namespace}.svc:{INTERNAL_PORT}"


def external_bootstrap_service(region: Region) -> str:
    """The Service Strimzi creates for the public listener's bootstrap (its load balancer)."""
    return f"{region.cluster_name}-kafka-{EXTERNAL_LISTENER}-bootstrap"


def broker_pool(region: Region) -> str:
    return "dual-role" if region.kafka.combined else "broker"


def external_broker_service(region: Region, node_id: int) -> str:
    """The per-broker Service of the public listener (ListenersUtils.backwardsCompatiblePerBrokerServiceName)."""
    return f"{region.cluster_name}-{broker_pool(region)}-{EXTERNAL_LISTENER}-{node_id}"


def listener_cert_secret(region: Region) -> str:
    return naming.listener_cert_secret(region.cluster_name)


def cluster_ca_secret(region: Region) -> str:
    """Strimzi's own cluster CA (internal listener), created by the operator."""
    return naming.cluster_ca_secret(region.cluster_name)


def env_ca_secret() -> str:
    """The environment CA bundle copied into every region, trusted for every region's external listener."""
    return naming.ENV_CA_SECRET


password_secret = naming.password_secret
topic_resource_name = naming.topic_resource_name


# ------------------------------------------------------------------------------------- namespace, operator


def operator_values() -> dict[str, Any]:
    """Helm values of the Strimzi operator: watch only the Kafka namespace, pinned images, restricted security."""
    return {
        "watchNamespaces": [],  # the release namespace itself is always watched
        "watchAnyNamespace": False,
        "defaultImageTag": STRIMZI_VERSION,
        "replicas": 1,
        "resources": {"requests": {"cpu": "200m", "memory": "384Mi"}, "limits": {"memory": "384Mi"}},
    }


# ------------------------------------------------------------------------------------------------- kafka


def kafka(topology: Topology, region: Region) -> kube.Manifest:
    k = region.kafka
    external_config: dict[str, Any] = {
        "brokerCertChainAndKey": {
            "secretName": listener_cert_secret(region),
            "certificate": "tls.crt",
            "key": "tls.key",
        },
        "bootstrap": {"alternativeNames": kube.bootstrap_names(topology, region)},
        "brokers": [{"broker": b, "advertisedHost": topology.broker_dns_name(region.name, b)} for b in k.broker_ids],
    }
    kind = k.listener_type.value
    if kind in ("route", "ingress"):
        # Routed by SNI: Strimzi requires (ingress) or takes (route) the host of each; ours are the names clients use.
        external_config["bootstrap"]["host"] = topology.region_dns_name(region.name)
        for broker in external_config["brokers"]:
            broker["host"] = broker["advertisedHost"]
    elif kind == "nodeport":
        external_config["bootstrap"]["nodePort"] = NODEPORT_BOOTSTRAP  # what clients and the health check dial
    spec: dict[str, Any] = {
        "kafka": {
            "version": k.version,
            "listeners": [
                {
                    "name": INTERNAL_LISTENER,
                    "port": INTERNAL_PORT,
                    "type": "internal",
                    "tls": True,
                    "authentication": {"type": "scram-sha-512"},
                },
                {
                    "name": EXTERNAL_LISTENER,
                    "port": EXTERNAL_PORT,
                    "type": k.listener_type.value,
                    "tls": True,
                    "authentication": {"type": "scram-sha-512"},
                    "configuration": external_config,
                },
            ],
            "authorization": {"type": "simple", "superUsers": list(SUPER_USERS)},
            "config": {**kube.broker_defaults(region), **k.config},
        },
        "entityOperator": {"topicOperator": {}, "userOperator": {}},
    }
    if k.zones:
        spec["kafka"]["rack"] = {"topologyKey": kube.ZONE_LABEL}
    if topology.monitoring_enabled:
        spec["kafka"]["metricsConfig"] = metrics_config(KAFKA_METRICS)
        if topology.monitoring.kafka_exporter:
            spec["kafkaExporter"] = {"topicRegex": ".*", "groupRegex": ".*"}
        if topology.monitoring.cruise_control:
            spec["cruiseControl"] = {}
    metadata = kube.meta(topology, region, region.cluster_name, "kafka")
    # pulumi-kubernetes waits for Strimzi's Ready condition, so its Services exist before DNS reads them.
    metadata["annotations"] = {"pulumi.com/waitFor": "condition=Ready"}
    return {"apiVersion": API, "kind": "Kafka", "metadata": metadata, "spec": spec}


def node_pools(topology: Topology, region: Region) -> list[kube.Manifest]:
    k = region.kafka
    pools: list[tuple[str, int, list[str]]]
    if k.combined:
        pools = [(broker_pool(region), k.brokers, ["controller", "broker"])]
    else:
        pools = [("controller", k.controllers, ["controller"]), (broker_pool(region), k.brokers, ["broker"])]
    out = []
    for name, replicas, roles in pools:
        volume: dict[str, Any] = {
            "id": 0,
            "type": "persistent-claim",
            "size": k.storage.size,
            # The volume outlives the pod and the pool: deleting a pool must never delete the data.
            "deleteClaim": False,
            "kraftMetadata": "shared",
        }
        if k.storage.storage_class:
            volume["class"] = k.storage.storage_class
        spec: dict[str, Any] = {
            "replicas": replicas,
            "roles": roles,
            "storage": {"type": "jbod", "volumes": [volume]},
            "resources": {
                "requests": {"cpu": k.resources.cpu, "memory": k.resources.memory},
                "limits": {"memory": k.resources.memory},
            },
        }
        if k.zones:
            spec["template"] = {"pod": _zone_spread(region, name)}
        out.append(
            {
                "apiVersion": API,
                "kind": "KafkaNodePool",
                "metadata": kube.meta(topology, region, name, "kafka", **{"strimzi.io/cluster": region.cluster_name}),
                "spec": spec,
            }
        )
    return out


def _zone_spread(region: Region, pool: str) -> dict[str, Any]:
    """Pin the pool to the declared zones and spread it evenly across them (rack awareness needs both)."""
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": kube.ZONE_LABEL, "operator": "In", "values": sorted(region.kafka.zones)}]}
                    ]
                }
            }
        },
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": kube.ZONE_LABEL,
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"strimzi.io/pool-name": pool, "strimzi.io/cluster": region.cluster_name}},
            }
        ],
    }


def topic(topology: Topology, region: Region, name: str) -> kube.Manifest:
    t = topology.topics[name]
    spec: dict[str, Any] = {"partitions": t.partitions, "replicas": t.replication_factor}
    resource_name = topic_resource_name(name)
    if resource_name != name:
        spec["topicName"] = name
    if t.config:
        spec["config"] = dict(sorted(t.config.items()))
    return kafka_topic(topology, region, name, "topic", spec)


def kafka_topic(topology: Topology, region: Region, name: str, component: str, spec: dict[str, Any]) -> kube.Manifest:
    """A KafkaTopic for ``name`` with ``spec`` as given (application topics above; the registry's own)."""
    return {
        "apiVersion": API,
        "kind": "KafkaTopic",
        "metadata": kube.meta(
            topology, region, topic_resource_name(name), component, **{"strimzi.io/cluster": region.cluster_name}
        ),
        "spec": spec,
    }


# ------------------------------------------------------------------------------------------------- users


def kafka_user(
    topology: Topology, region: Region, name: str, acls: list[dict[str, Any]] | None, quotas: Quotas | None = None
) -> kube.Manifest:
    """A SCRAM-SHA-512 KafkaUser whose password we supply; ``acls=None`` means no authorization section (super users)."""
    spec: dict[str, Any] = {
        "authentication": {
            "type": "scram-sha-512",
            "password": {"valueFrom": {"secretKeyRef": {"name": password_secret(name), "key": "password"}}},
        }
    }
    if acls is not None:
        spec["authorization"] = {"type": "simple", "acls": acls}
    if quotas is not None and not quotas.empty:
        spec["quotas"] = {_camel(k): v for k, v in sorted(quotas.model_dump(exclude_none=True).items())}
    return {
        "apiVersion": API,
        "kind": "KafkaUser",
        "metadata": kube.meta(topology, region, name, "user", **{"strimzi.io/cluster": region.cluster_name}),
        "spec": spec,
    }


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


# ------------------------------------------------------------------------------------------------- monitoring


def pod_monitors(topology: Topology, region: Region) -> list[kube.Manifest]:
    def monitor(name: str, selector: dict[str, Any], endpoints: list[dict[str, Any]]) -> kube.Manifest:
        return {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PodMonitor",
            "metadata": {"name": name, "namespace": region.namespace, "labels": kube.labels(topology, region.name, "monitoring")},
            "spec": {
                "selector": selector,
                "namespaceSelector": {"matchNames": [region.namespace]},
                "podMetricsEndpoints": endpoints,
            },
        }

    relabel = [
        {"action": "labelmap", "regex": "__meta_kubernetes_pod_label_(strimzi_io_.+)", "replacement": "$1"},
        {"sourceLabels": ["__meta_kubernetes_namespace"], "targetLabel": "namespace", "action": "replace"},
        {"sourceLabels": ["__meta_kubernetes_pod_name"], "targetLabel": "kubernetes_pod_name", "action": "replace"},
        {"targetLabel": "kafka_region", "replacement": region.name, "action": "replace"},
    ]
    kinds = {
        "matchExpressions": [
            {"key": "strimzi.io/kind", "operator": "In", "values": ["Kafka", "KafkaMirrorMaker2", "KafkaConnect"]}
        ]
    }
    return [
        monitor("kafka-resources", kinds, [{"path": "/metrics", "port": "tcp-prometheus", "relabelings": relabel}]),
        monitor(
            "strimzi-cluster-operator",
            {"matchLabels": {"strimzi.io/kind": "cluster-operator"}},
            [{"path": "/metrics", "port": "http"}],
        ),
        monitor(
            "strimzi-entity-operator",
            {"matchLabels": {"app.kubernetes.io/name": "entity-operator"}},
            [{"path": "/metrics", "port": "healthcheck-to"}, {"path": "/metrics", "port": "healthcheck-uo"}],
        ),
    ]
