"""The write fence where Strimzi's User Operator keeps it: DENY rules in each application KafkaUser's
``spec.authorization.acls``, written through the region's Kubernetes API.

Why there: the User Operator reconciles every ACL of a KafkaUser's principal to that KafkaUser's spec, so DENY
ACLs added beside it through Kafka's Admin API are deleted at its next reconciliation (every two minutes by
default), while rules in the spec are created by it and kept. ``User:*`` rules would survive it too, but would
also stop the reverse flow's principal, which writes the same topics into the old primary next.

Owns: the fence's rules (``fence_rules``, which ``tools.switchover.kafka_admin`` also renders as the Admin API's bindings,
so both paths put and judge the same entries), reading a kubeconfig (server, CA, client certificate or token),
adding and removing the rules with a JSON patch guarded by the object's ``resourceVersion`` (a concurrent
writer, such as ``pulumi up``, makes the patch fail and be retried on what it wrote, never lost), and reading
them back. Deliberately not here: whether Kafka enforces them yet (``Cluster.fenced`` reads Kafka's ACLs, which
the User Operator writes from the spec), and when to fence (``tools.switchover.steps``).

The rules stay in the spec while the region is the standby (failback lifts them). The program does not render
them, so a ``pulumi up`` that rewrites a fenced KafkaUser (its ACLs or quotas changed) replaces the list and
drops the fence; the annotation ``kafka-multiregion/write-fence`` on each fenced KafkaUser shows it is there.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import functools
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
import yaml

from components.access import principals_in
from components.engines.mirrormaker2 import plan as mirror_plan
from stacks.model import Topology
from tools.failover.zone import FailoverError

EXIT_KUBERNETES = 10
# On the KafkaUser, for whoever reads it (kubectl, a dashboard): which operation fenced it.
ANNOTATION = "kafka-multiregion/write-fence"
API = "kafka.strimzi.io/v1"


class KubeError(FailoverError):
    """A region's Kubernetes API refused or did not answer in time."""

    status = EXIT_KUBERNETES


def fence_rules(topology: Topology, region: str, plan: mirror_plan.FlowPlan) -> dict[str, list[dict[str, Any]]]:
    """Per application principal of ``region``: DENY Write on each topic the flow mirrors, and DENY Read on every
    group (consumers stop committing, so their last offsets can be translated exactly). DENY wins over ALLOW."""
    rules: list[dict[str, Any]] = [
        {"type": "deny", "resource": {"type": "topic", "name": t, "patternType": "literal"}, "operations": ["Write"], "host": "*"}
        for t in plan.topics
    ]
    rules.append(
        {
            "type": "deny",
            "resource": {"type": "group", "name": "*", "patternType": "literal"},
            "operations": ["Read"],
            "host": "*",
        }
    )
    return {p.name: rules for p in principals_in(topology, region) if p.kind == "application"}


@dataclass(frozen=True)
class KubeAccess:
    """One region's API server as its kubeconfig's current context describes it."""

    region: str
    server: str
    verify: str | bool
    cert: tuple[str, str] | None
    token: str | None
    timeout: float

    @classmethod
    def load(cls, region: str, path: str, timeout: float) -> KubeAccess:
        try:
            with open(path, encoding="utf-8") as f:
                config = yaml.safe_load(f)
            context = _named(config, "contexts", config["current-context"])["context"]
            cluster = _named(config, "clusters", context["cluster"])["cluster"]
            user = _named(config, "users", context["user"])["user"]
            verify: str | bool = _file(cluster, "certificate-authority") or True
            if cluster.get("insecure-skip-tls-verify"):
                raise ValueError("insecure-skip-tls-verify is refused: the fence must reach the real cluster")
            cert_file, key_file = _file(user, "client-certificate"), _file(user, "client-key")
            cert = (cert_file, key_file) if cert_file and key_file else None
            token = user.get("token")
            if cert is None and not token:
                raise ValueError("its user has neither a client certificate and key nor a token")
            return cls(region, str(cluster["server"]).rstrip("/"), verify, cert, token, timeout)
        except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
            raise FailoverError(f"kubeconfig of {region} ({path}): {type(exc).__name__}: {exc}") from None

    @functools.cached_property
    def _session(self) -> requests.Session:
        # One per region for the command: every read and patch reuses its TLS connection.
        s = requests.Session()
        s.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise replace the cluster's own CA
        s.verify, s.cert = self.verify, self.cert
        if self.token:
            s.headers["Authorization"] = f"Bearer {self.token}"
        return s

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> requests.Response:
        try:
            return self._session.request(method, f"{self.server}{path}", timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise KubeError(f"{self.region}: Kubernetes did not answer {what}: {type(exc).__name__}") from None

    def user_path(self, namespace: str, name: str) -> str:
        return f"/apis/{API}/namespaces/{namespace}/kafkausers/{name}"

    def get_user(self, namespace: str, name: str) -> dict[str, Any]:
        r = self._call("GET", self.user_path(namespace, name), f"reading KafkaUser {namespace}/{name}")
        if r.status_code != 200:
            raise KubeError(f"{self.region}: reading KafkaUser {namespace}/{name}: HTTP {r.status_code} {_reason(r)}")
        body: dict[str, Any] = r.json()
        return body

    def patch_user(self, namespace: str, name: str, ops: list[dict[str, Any]]) -> bool:
        """Apply a JSON patch; False when its ``test`` failed (someone wrote the object since it was read)."""
        r = self._call(
            "PATCH",
            self.user_path(namespace, name),
            f"patching KafkaUser {namespace}/{name}",
            json=ops,
            headers={"Content-Type": "application/json-patch+json"},
            params={"fieldManager": "kafka-multiregion-fence"},
        )
        # A failed ``test`` is a 422 with no field causes (a schema violation names its fields): someone wrote
        # the object since it was read. ``set`` reads it again, and tells the two apart by its resourceVersion.
        if r.status_code == 422 and not _causes(r):
            return False
        if r.status_code != 200:
            raise KubeError(f"{self.region}: patching KafkaUser {namespace}/{name}: HTTP {r.status_code} {_reason(r)}")
        return True


class KubeFence:
    """The fence of one region, put and read back through its KafkaUsers."""

    def __init__(self, access: KubeAccess, topology: Topology, plan: mirror_plan.FlowPlan) -> None:
        self.access, self.namespace = access, topology.region(access.region).namespace
        self.rules = fence_rules(topology, access.region, plan)

    def fenced(self) -> bool | None:
        """True: every KafkaUser has every rule; False: none has any; None: in between."""
        have = want = 0
        for name, rules in self.rules.items():
            acls = _acls(self.access.get_user(self.namespace, name))
            have += sum(rule in acls for rule in rules)
            want += len(rules)
        return True if have == want else (False if have == 0 else None)

    def set(self, on: bool, operation: str) -> bool:
        """Put or lift the rules on every KafkaUser; whether anything had to change."""
        changed = False
        for name, rules in self.rules.items():
            for _attempt in range(5):
                user = self.access.get_user(self.namespace, name)
                acls = _acls(user)
                kept = [a for a in acls if a not in rules]
                wanted = kept + rules if on else kept
                if wanted == acls:
                    break
                if "authorization" not in user.get("spec", {}):
                    raise KubeError(f"{self.access.region}: KafkaUser {name} has no authorization section to fence")
                ops: list[dict[str, Any]] = [
                    {"op": "test", "path": "/metadata/resourceVersion", "value": user["metadata"]["resourceVersion"]},
                    {"op": "replace", "path": "/spec/authorization/acls", "value": wanted},
                ]
                annotations = user["metadata"].get("annotations")
                key = ANNOTATION.replace("~", "~0").replace("/", "~1")
                if on:
                    ops.append(
                        {"op": "add", "path": f"/metadata/annotations/{key}", "value": operation}
                        if annotations is not None
                        else {"op": "add", "path": "/metadata/annotations", "value": {ANNOTATION: operation}}
                    )
                elif annotations and ANNOTATION in annotations:
                    ops.append({"op": "remove", "path": f"/metadata/annotations/{key}"})
                if self.access.patch_user(self.namespace, name, ops):
                    changed = True
                    break
                again = self.access.get_user(self.namespace, name)["metadata"]["resourceVersion"]
                if again == user["metadata"]["resourceVersion"]:
                    raise KubeError(f"{self.access.region}: KafkaUser {name}: the API server refused the fence's patch")
            else:
                raise KubeError(f"{self.access.region}: KafkaUser {name} kept changing under the fence; run again")
        return changed


def load_all(paths: Mapping[str, str], timeout: float) -> dict[str, KubeAccess]:
    return {region: KubeAccess.load(region, path, timeout) for region, path in paths.items()}


def _named(config: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    for item in config.get(kind) or []:
        if item.get("name") == name:
            return dict(item)
    raise KeyError(f"{kind[:-1]} {name!r} is not in the kubeconfig")


def _file(section: dict[str, Any], key: str) -> str | None:
    """A credential file: the kubeconfig's path, or its inline ``-data`` written to a private temporary file."""
    if section.get(key):
        return str(section[key])
    data = section.get(f"{key}-data")
    if not data:
        return None
    # requests takes files only; mkstemp makes it 0600, and it does not outlive the command.
    fd, path = tempfile.mkstemp(prefix="kmr-kube-", suffix=".pem")
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64decode(data))
    atexit.register(_remove, path)
    return path


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _acls(user: dict[str, Any]) -> list[dict[str, Any]]:
    return list(user.get("spec", {}).get("authorization", {}).get("acls") or [])


def _causes(r: requests.Response) -> list[Any]:
    try:
        return list((r.json().get("details") or {}).get("causes") or [])
    except (ValueError, AttributeError):
        return []


def _reason(r: requests.Response) -> str:
    try:
        return str(r.json().get("message", ""))[:300]
    except ValueError:
        return r.text[:300]
