"""TEST STAND-IN for what no process here can do: Strimzi's operator and the kubelet reporting back.

Owns, per cluster, in a background thread, what those would write once their work is done:
- as the kubelet: every Pod Running and Ready (``status`` only), so the controller manager's ReplicaSet and
  Deployment controllers report the Strimzi operator's Deployment available, which Helm waits for; a Job's
  pod Succeeded instead (its containers exited 0), so the controller manager's Job controller completes the Job
  (the confluent flavor's ACL job), which pulumi-kubernetes waits for;
- as Strimzi's operator: for each ``Kafka`` the Services the operator creates for its listeners (owned by the
  Kafka, so the garbage collector removes them with it), load-balancer hostnames in the status of the
  external ones, node ids in each ``KafkaNodePool``'s status, ``Ready`` with the listener addresses in the
  Kafka's status, and ``Ready`` in the status of every other Strimzi resource;
- as the Apicurio Registry operator: ``Ready`` in the status of each ``ApicurioRegistry3`` (its Deployment
  available), which the program waits for;
- as Confluent for Kubernetes: ``phase: RUNNING`` in the status of each CFK ``Kafka``, which the program waits for.

Deliberately not here: any spec, or any object the program itself creates (the stand-in writes only ``status``
and the objects the operator itself would create); brokers, MirrorMaker or data (the Kafka end-to-end tests
run those); pods' containers (nothing runs).
"""

from __future__ import annotations

import datetime
import hashlib
import threading
import traceback
from typing import Any

import requests

from tests.realk8s.cluster import Cluster

STRIMZI = "/apis/kafka.strimzi.io/v1"
APICURIO = "/apis/registry.apicur.io/v1"
CONFLUENT = "/apis/platform.confluent.io/v1beta1"
# Kinds whose status is only "Ready" (plural → extra status fields the operator reports).
SIMPLE_KINDS = ("kafkatopics", "kafkausers", "kafkamirrormaker2s", "kafkaconnects", "kafkaconnectors")
PUBLIC_LISTENER_SERVICE_TYPES = {"loadbalancer": "LoadBalancer", "nodeport": "NodePort"}


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ready(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    return conditions.get("Ready") == "True" and status.get("observedGeneration") == obj["metadata"].get("generation")


def lb_hostname(region: str, service: str) -> str:
    """What a cloud load balancer controller would write; ``.invalid`` so nothing can ever resolve it."""
    return f"{service}.{region}.lb.standin.invalid"


class StandIn:
    """Runs until ``stop``; ``errors`` keeps what went wrong (a test asserts it stays empty)."""

    def __init__(self, clusters: list[Cluster], interval: float = 0.3) -> None:
        self.clusters = clusters
        self.interval = interval
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="standin", daemon=True)
        self._sessions = {c.region: c.session() for c in clusters}

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def add(self, cluster: Cluster) -> None:
        """A cluster started later (a region added by a change)."""
        self._sessions[cluster.region] = cluster.session()
        self.clusters.append(cluster)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for cluster in self.clusters:
                try:
                    self.tick(cluster)
                except requests.ConnectionError:
                    pass  # a cluster being stopped at teardown
                except Exception:  # kept for the test to report: the loop must go on
                    if len(self.errors) < 50:
                        self.errors.append(f"{cluster.region}: {traceback.format_exc(limit=3)}")

    # ------------------------------------------------------------------ one pass over a cluster

    def tick(self, cluster: Cluster) -> None:
        s = self._sessions[cluster.region]
        self._kubelet(cluster, s)
        pools = self._list(cluster, s, f"{STRIMZI}/kafkanodepools")
        for kafka in self._list(cluster, s, f"{STRIMZI}/kafkas"):
            if not kafka["metadata"].get("deletionTimestamp") and not _ready(kafka):
                self._kafka(cluster, s, kafka, pools)
        for plural in SIMPLE_KINDS:
            for obj in self._list(cluster, s, f"{STRIMZI}/{plural}"):
                if not obj["metadata"].get("deletionTimestamp") and not _ready(obj):
                    self._put_status(cluster, s, plural, obj, self._simple_status(plural, obj))
        for obj in self._list(cluster, s, f"{CONFLUENT}/kafkas"):
            # As CFK once the brokers are deployed (its CRD: phase PROVISIONING, then RUNNING).
            if not obj["metadata"].get("deletionTimestamp") and (obj.get("status") or {}).get("phase") != "RUNNING":
                status = {"phase": "RUNNING", "observedGeneration": obj["metadata"].get("generation")}
                self._put_status(cluster, s, "kafkas", obj, status, api=CONFLUENT)
        for obj in self._list(cluster, s, f"{APICURIO}/apicurioregistries3"):
            if not obj["metadata"].get("deletionTimestamp") and not _ready(obj):
                now = _now()
                ready = {"type": "Ready", "status": "True", "reason": "ActiveDeploymentsAvailable", "message": "",
                         "lastTransitionTime": now, "lastUpdateTime": now}  # fmt: skip
                status = {"observedGeneration": obj["metadata"].get("generation"), "conditions": [ready]}
                self._put_status(cluster, s, "apicurioregistries3", obj, status, api=APICURIO)

    def _list(self, cluster: Cluster, s: requests.Session, path: str) -> list[dict[str, Any]]:
        r = s.get(f"{cluster.url}{path}", timeout=10)
        if r.status_code in (404, 429, 503):
            return []  # CRD not installed, or just installed and not served yet: the next pass sees it
        r.raise_for_status()
        return list(r.json().get("items", []))

    def _kubelet(self, cluster: Cluster, s: requests.Session) -> None:
        for pod in self._list(cluster, s, "/api/v1/pods"):
            meta, status = pod["metadata"], pod.get("status") or {}
            conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
            if meta.get("deletionTimestamp") or conditions.get("Ready") == "True" or status.get("phase") == "Succeeded":
                continue
            now = _now()
            if any(o.get("kind") == "Job" for o in meta.get("ownerReferences") or []):
                self._pod_status(cluster, s, pod, _succeeded(pod, status, now))
                continue
            pod["status"] = {
                **status,
                "phase": "Running",
                "startTime": status.get("startTime", now),
                "podIP": "10.244.0.10",
                "conditions": [
                    {"type": t, "status": "True", "lastTransitionTime": now}
                    for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
                ],
                "containerStatuses": [
                    {
                        "name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": True, "started": True,
                        "restartCount": 0, "state": {"running": {"startedAt": now}},
                    }
                    for c in pod["spec"]["containers"]
                ],
            }  # fmt: skip
            self._pod_status(cluster, s, pod, pod["status"])

    def _pod_status(self, cluster: Cluster, s: requests.Session, pod: dict[str, Any], status: dict[str, Any]) -> None:
        meta = pod["metadata"]
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/status"
        r = s.put(f"{cluster.url}{path}", json={**pod, "status": status}, timeout=10)
        if r.status_code not in (200, 404, 409):
            raise RuntimeError(f"pod status {meta['name']}: {r.status_code} {r.text[:300]}")

    # ------------------------------------------------------------------ what the operator does for a Kafka

    def _kafka(self, cluster: Cluster, s: requests.Session, kafka: dict[str, Any], pools: list[dict[str, Any]]) -> None:
        meta = kafka["metadata"]
        name, ns = meta["name"], meta["namespace"]
        mine = [p for p in pools if (p["metadata"].get("labels") or {}).get("strimzi.io/cluster") == name]
        # Node ids: controller-only pools first, then the rest, by name (what a fresh cluster gets).
        mine.sort(key=lambda p: (p["spec"].get("roles") != ["controller"], p["metadata"]["name"]))
        next_id, brokers = 0, []
        for pool in mine:
            ids = list(range(next_id, next_id + int(pool["spec"]["replicas"])))
            next_id += len(ids)
            if "broker" in pool["spec"].get("roles", []):
                brokers += [(pool["metadata"]["name"], i) for i in ids]
            status = {"observedGeneration": pool["metadata"].get("generation"), "nodeIds": ids,
                      "replicas": len(ids), "roles": pool["spec"].get("roles", []), "clusterId": _cluster_id(name)}  # fmt: skip
            self._put_status(cluster, s, "kafkanodepools", pool, status)
        owner = {"apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka", "name": name, "uid": meta["uid"],
                 "controller": True, "blockOwnerDeletion": True}  # fmt: skip
        listeners_status = []
        for listener in kafka["spec"]["kafka"].get("listeners", []):
            lname, port, ltype = listener["name"], int(listener["port"]), listener["type"]
            if ltype == "internal":
                host = f"{name}-kafka-bootstrap.{ns}.svc"
                self._service(cluster, s, ns, f"{name}-kafka-bootstrap", "ClusterIP", port, owner, name)
                self._service(cluster, s, ns, f"{name}-kafka-brokers", "ClusterIP", port, owner, name, headless=True)
            else:
                svc_type = PUBLIC_LISTENER_SERVICE_TYPES.get(ltype, "ClusterIP")
                bootstrap = f"{name}-kafka-{lname}-bootstrap"
                host = self._service(cluster, s, ns, bootstrap, svc_type, port, owner, name) or bootstrap
                for pool, node in brokers:
                    self._service(cluster, s, ns, f"{name}-{pool}-{lname}-{node}", svc_type, port, owner, name)
            listeners_status.append(
                {"name": lname, "bootstrapServers": f"{host}:{port}", "addresses": [{"host": host, "port": port}]}
            )
        status = {
            "observedGeneration": meta.get("generation"),
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": _now()}],
            "listeners": listeners_status,
            "kafkaVersion": kafka["spec"]["kafka"].get("version"),
            "kafkaMetadataState": "KRaft",
            "clusterId": _cluster_id(name),
            "operatorLastSuccessfulVersion": "1.2.0",
            "kafkaNodePools": [{"name": p["metadata"]["name"]} for p in mine],
            "registeredNodeIds": list(range(next_id)),
        }
        self._put_status(cluster, s, "kafkas", kafka, status)

    def _service(
        self,
        cluster: Cluster,
        s: requests.Session,
        ns: str,
        name: str,
        svc_type: str,
        port: int,
        owner: dict[str, Any],
        kafka: str,
        *,
        headless: bool = False,
    ) -> str | None:
        """Create the Service if missing; for a LoadBalancer, report its hostname. Returns that hostname."""
        base = f"{cluster.url}/api/v1/namespaces/{ns}/services"
        existing = s.get(f"{base}/{name}", timeout=10)
        if existing.status_code == 404:
            body: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": name, "namespace": ns, "ownerReferences": [owner],
                    "labels": {"strimzi.io/cluster": kafka, "strimzi.io/kind": "Kafka", "strimzi.io/name": f"{kafka}-kafka"},
                },
                "spec": {
                    "type": svc_type,
                    "selector": {"strimzi.io/cluster": kafka, "strimzi.io/kind": "Kafka"},
                    "ports": [{"name": "tcp", "port": port, "targetPort": port, "protocol": "TCP"}],
                },
            }  # fmt: skip
            if headless:
                body["spec"]["clusterIP"] = "None"
            r = s.post(base, json=body, timeout=10)
            if r.status_code not in (201, 409):
                raise RuntimeError(f"service {ns}/{name}: {r.status_code} {r.text[:300]}")
            existing = s.get(f"{base}/{name}", timeout=10)
        svc = existing.json()
        if svc_type != "LoadBalancer":
            return None
        hostname = lb_hostname(cluster.region, name)
        if (svc.get("status") or {}).get("loadBalancer", {}).get("ingress") != [{"hostname": hostname}]:
            svc["status"] = {"loadBalancer": {"ingress": [{"hostname": hostname}]}}
            r = s.put(f"{base}/{name}/status", json=svc, timeout=10)
            if r.status_code not in (200, 409):
                raise RuntimeError(f"service status {ns}/{name}: {r.status_code} {r.text[:300]}")
        return hostname

    # ------------------------------------------------------------------ everything else

    def _simple_status(self, plural: str, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        status: dict[str, Any] = {
            "observedGeneration": meta.get("generation"),
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": _now()}],
        }
        if plural == "kafkatopics":
            status["topicName"] = (obj.get("spec") or {}).get("topicName") or meta["name"]
        elif plural == "kafkausers":
            status["username"] = meta["name"]
            status["secret"] = meta["name"]
        elif plural in ("kafkamirrormaker2s", "kafkaconnects"):
            status["url"] = f"http://{meta['name']}-connect-api.{meta['namespace']}.svc:8083"
            status["replicas"] = (obj.get("spec") or {}).get("replicas", 1)
        return status

    def _put_status(
        self,
        cluster: Cluster,
        s: requests.Session,
        plural: str,
        obj: dict[str, Any],
        status: dict[str, Any],
        api: str = STRIMZI,
    ) -> None:
        meta = obj["metadata"]
        obj = {**obj, "status": status}
        path = f"{api}/namespaces/{meta['namespace']}/{plural}/{meta['name']}/status"
        r = s.put(f"{cluster.url}{path}", json=obj, timeout=10)
        if r.status_code not in (200, 404, 409):  # 409: changed meanwhile, the next pass retries
            raise RuntimeError(f"{plural} status {meta['name']}: {r.status_code} {r.text[:300]}")


def _succeeded(pod: dict[str, Any], status: dict[str, Any], now: str) -> dict[str, Any]:
    """A run-to-completion pod's status once every container exited 0 (what the kubelet reports)."""
    return {
        **status,
        "phase": "Succeeded",
        "startTime": status.get("startTime", now),
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": "False", "reason": "PodCompleted", "lastTransitionTime": now},
            {"type": "Ready", "status": "False", "reason": "PodCompleted", "lastTransitionTime": now},
        ],
        "containerStatuses": [
            {
                "name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False, "started": False,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}},
            }
            for c in pod["spec"]["containers"]
        ],
    }  # fmt: skip


def _cluster_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:22]
