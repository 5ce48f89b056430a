"""The write fence in KafkaUsers (``tools.switchover.kube_fence``) on a real API server with Strimzi's KafkaUser CRD: the
patched objects are accepted by the CRD's schema, read back with the fence, lifted back to exactly what the
program rendered, never lose a concurrent writer's change, and an unreachable API server is one bounded line.
Whether the User Operator then makes them Kafka ACLs is its part; the Kafka side of the fence is proved by
``tests/e2e/test_switchover.py`` through the Admin API path, judged by the same read-back.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.access import principals_in
from components.engines.mirrormaker2 import plan as mirror_plan
from components.flavors.strimzi import bodies as strimzi
from stacks.loader import load_topology
from stacks.model import Flow
from tests.moto_server import free_port
from tests.realk8s.cluster import Cluster
from tests.realk8s.engine import Binaries
from tests.realk8s.estate import CHART, ROOT
from tools.switchover.kube_fence import ANNOTATION, EXIT_KUBERNETES, KubeAccess, KubeError, KubeFence, fence_rules

TOPOLOGY = load_topology(str(ROOT / "stacks" / "dev.yaml"))
PRIMARY, STANDBY = "us-east-1", "us-west-2"
PLAN = mirror_plan.plan_flow(TOPOLOGY, Flow(source=PRIMARY, target=STANDBY))


@pytest.fixture(scope="module")
def cluster(engine: Binaries, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(PRIMARY, tmp_path_factory.mktemp("fence"), engine)
    try:
        c.start()
        c.install_crds([CHART / "crds" / "044-Crd-kafkauser.yaml"])
        yield c
    finally:
        c.stop()


@pytest.fixture
def users(cluster: Cluster) -> dict[str, dict[str, Any]]:
    """The region's KafkaUsers as the program renders them, created afresh; name → the rendered object."""
    region = TOPOLOGY.region(PRIMARY)
    s, base = cluster.session(), f"{cluster.url}/api/v1/namespaces"
    if s.get(f"{base}/{region.namespace}", timeout=10).status_code == 404:
        s.post(base, json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": region.namespace}}, timeout=10)
    path = f"{cluster.url}/apis/kafka.strimzi.io/v1/namespaces/{region.namespace}/kafkausers"
    out = {}
    for p in principals_in(TOPOLOGY, PRIMARY):
        body = strimzi.kafka_user(TOPOLOGY, region, p.name, p.acls, p.quotas)
        s.delete(f"{path}/{p.name}", timeout=10)
        r = s.post(path, json=body, timeout=10)
        assert r.status_code == 201, r.text
        out[p.name] = body
    return out


def _fence(cluster: Cluster, tmp_path: Path) -> KubeFence:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(cluster.kubeconfig())
    return KubeFence(KubeAccess.load(PRIMARY, str(kubeconfig), 10.0), TOPOLOGY, PLAN)


def _read(cluster: Cluster, name: str) -> dict[str, Any]:
    obj = cluster.get(f"/apis/kafka.strimzi.io/v1/namespaces/{TOPOLOGY.region(PRIMARY).namespace}/kafkausers/{name}")
    assert obj is not None
    return dict(obj)


def test_fence_put_read_back_and_lifted_to_what_was_rendered(cluster: Cluster, users: dict[str, Any], tmp_path: Path) -> None:
    fence = _fence(cluster, tmp_path)
    rules = fence_rules(TOPOLOGY, PRIMARY, PLAN)
    assert rules and set(rules) < set(users)  # application principals only: MirrorMaker and the admin stay open
    assert fence.fenced() is False

    assert fence.set(True, "switchover us-east-1 -> us-west-2") is True
    assert fence.fenced() is True
    for name, body in users.items():
        stored = _read(cluster, name)
        acls = stored["spec"].get("authorization", {}).get("acls")
        if name in rules:  # the CRD's schema accepted every rule, and the rendered ones are untouched
            assert acls == body["spec"]["authorization"]["acls"] + rules[name]
            assert stored["metadata"]["annotations"][ANNOTATION] == "switchover us-east-1 -> us-west-2"
        else:
            assert stored["spec"] == body["spec"] and ANNOTATION not in (stored["metadata"].get("annotations") or {})
    assert fence.set(True, "again") is False  # idempotent: a resumed step changes nothing

    assert fence.set(False, "") is True
    assert fence.fenced() is False
    for name, body in users.items():
        stored = _read(cluster, name)
        assert stored["spec"] == body["spec"] and ANNOTATION not in (stored["metadata"].get("annotations") or {})


def test_a_concurrent_write_is_kept_and_the_fence_still_lands(cluster: Cluster, users: dict[str, Any], tmp_path: Path) -> None:
    fence = _fence(cluster, tmp_path)
    name = next(iter(fence_rules(TOPOLOGY, PRIMARY, PLAN)))
    read = fence.access.get_user
    raced: list[str] = []

    def stale_read(namespace: str, user: str) -> dict[str, Any]:
        # The first read is answered, then someone else (a `pulumi up`) writes the object before our patch.
        obj = read(namespace, user)
        if user == name and not raced:
            raced.append(user)
            other = copy.deepcopy(obj)
            other["spec"]["quotas"] = {"producerByteRate": 1024}
            r = cluster.session().put(f"{cluster.url}{fence.access.user_path(namespace, user)}", json=other, timeout=10)
            assert r.status_code == 200, r.text
        return obj

    object.__setattr__(fence.access, "get_user", stale_read)  # frozen dataclass: the test's stand-in read
    assert fence.set(True, "switchover") is True and raced == [name]
    stored = _read(cluster, name)
    assert stored["spec"]["quotas"] == {"producerByteRate": 1024}, "the concurrent change was overwritten"
    assert fence.fenced() is True


def test_an_api_server_that_does_not_answer_is_one_bounded_line(tmp_path: Path, cluster: Cluster) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(cluster.kubeconfig().replace(f"127.0.0.1:{cluster.port}", f"127.0.0.1:{free_port()}"))
    fence = KubeFence(KubeAccess.load(PRIMARY, str(kubeconfig), 2.0), TOPOLOGY, PLAN)
    started = time.monotonic()
    with pytest.raises(KubeError) as err:
        fence.set(True, "switchover")
    assert time.monotonic() - started < 10
    assert err.value.status == EXIT_KUBERNETES and "\n" not in str(err.value) and PRIMARY in str(err.value)
