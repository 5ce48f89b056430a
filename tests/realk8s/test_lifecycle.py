"""Every stack and example on the real Pulumi engine against real API servers, DNS managed elsewhere.

Per stack: `preview`, `up`, each object read back from its region's API server (the real CRD schemas and CEL
rules accepted it, and kept every field), `preview --expect-no-changes`, the state searched for every
generated password and private key, a change (a topic and a user; a region for one example) whose preview
lists exactly the steps the offline plan predicts and whose `up` makes them; for protected stacks the removal
of a protected topic refused, then the protection lifted; finally `destroy` leaving nothing behind.
"""

from __future__ import annotations

import base64
import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.loader import validate_data
from tests.realk8s.cluster import Cluster
from tests.realk8s.engine import Binaries
from tests.realk8s.estate import ROOT, Estate, without_dns
from tools.plan.diff import replaced
from tools.plan.harness import Registration, run_program, unwrap
from tools.plan.recorded import region_of

SYSTEM_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}


def _owned(data: dict[str, Any], name: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A new topic's name and the keys that place a new topic and user where the topology lets them live: a
    partitioned domain's first domain, a multi-tenant estate's first tenant (its prefix, every region it has)."""
    if data.get("domains"):
        return name, {"domain": sorted(data["domains"])[0]}, {}
    if data.get("tenants"):
        tenant, spec = sorted(data["tenants"].items())[0]
        user = {"tenant": tenant, **({"regions": spec["regions"]} if "regions" in spec else {})}
        return f"{spec['prefix']}{name}", {}, user
    return name, {}, {}


def added_names(data: dict[str, Any]) -> tuple[str, str]:
    """The topic the change adds that something reads, and the one nothing refers to (the protected one)."""
    return _owned(data, "audit-log")[0], _owned(data, "audit-archive")[0]


def add_topic_and_user(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    rf = min(r["kafka"]["brokers"] for r in data["regions"])
    log, archive = added_names(data)
    _, topic_keys, user_keys = _owned(data, "")
    data["topics"][log] = {"partitions": 3, "replication_factor": rf, **topic_keys}
    data["topics"][archive] = {"partitions": 1, "replication_factor": rf, **topic_keys}
    group = log if user_keys else "audit-service"  # a tenant's groups carry its prefix too
    data["users"]["audit-service"] = {
        **user_keys,
        "groups": [group],
        "acls": [
            {"resource": {"type": "topic", "name": log}, "operations": ["Read", "Describe"]},
            {"resource": {"type": "group", "name": group}, "operations": ["Read"]},
        ],
    }
    return data


def add_secondary_region(data: dict[str, Any]) -> dict[str, Any]:
    """Active-passive: one more standby region (its cluster is started by the test)."""
    data = copy.deepcopy(data)
    first = data["regions"][0]
    data["regions"].append(
        {
            "name": "eu-west-1",
            "role": "secondary",
            "kubernetes": {"kind": "kubeconfig", "secret_key": "kubeconfig-eu-west-1"},
            "kafka": copy.deepcopy(first["kafka"]),
            "endpoint_override": f"kafka.eu-west-1.{data['environment']}.internal.example",
        }
    )
    return data


@dataclass(frozen=True)
class Case:
    file: str
    change: Callable[[dict[str, Any]], dict[str, Any]] = add_topic_and_user
    # A second change that adds a region (its cluster is started first), or None.
    add_region: Callable[[dict[str, Any]], dict[str, Any]] | None = None


# Every stack and example is a case; what one needs beyond the default change is said here.
CHANGES = {"dev": Case("stacks/dev.yaml", add_region=add_secondary_region)}
CASES = {
    path.stem: CHANGES.get(path.stem, Case(str(path.relative_to(ROOT))))
    for path in sorted([*ROOT.glob("stacks/*.yaml"), *ROOT.glob("examples/*.yaml")])
}
# `make test` runs one lifecycle per flavor: dev (Strimzi, MirrorMaker 2, a region added) and the confluent flavor's
# active-passive Cluster Linking; every other stack and example is left to `make test-all`.
IN_MAKE_TEST = {"dev", "cluster-linking-active-passive"}
assert not IN_MAKE_TEST - set(CASES), f"make test names stacks that are gone: {sorted(IN_MAKE_TEST - set(CASES))}"


@pytest.fixture
def estate_for(tmp_path: Path, engine: Binaries) -> Iterator[Callable[[dict[str, Any]], Estate]]:
    started: list[Estate] = []

    def start(topology: dict[str, Any]) -> Estate:
        t = validate_data(topology, "<test>")
        estate = Estate(
            t.environment,
            tmp_path,
            engine,
            [r["name"] for r in topology["regions"]],
            monitoring=t.monitoring_enabled,
            confluent=t.cluster_flavor == "confluent",
        )
        started.append(estate)
        return estate.start()

    yield start
    for estate in started:
        if estate.standin:
            assert estate.standin.errors == [], "\n".join(estate.standin.errors)
        estate.stop()


# ---------------------------------------------------------------------------------------------- helpers


def _key(urn: str) -> str:
    """Type and name of a URN. The engine's URNs carry every ancestor's type (KafkaEstate$Credentials$...), the
    SDK's mock monitor only the parent's, so the two are compared by what both identify a resource with."""
    *_, qualified_type, name = urn.split("::")
    return f"{qualified_type.rsplit('$', 1)[-1]}::{name}"


def _ops(result: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for op, urn in result["steps"]:
        out.setdefault(op, set()).add(_key(urn))
    return out


def _planned(data: dict[str, Any], tmp: Path, name: str) -> dict[str, Registration]:
    """The offline plan's resources (the program under mocks), by URN."""
    path = tmp / f"predict-{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return {r.urn: r for r in run_program(str(path), validate_data(data, str(path))).registrations if not r.read}


def protected_deletes(before: dict[str, Any], after: dict[str, Any], tmp: Path) -> list[Registration]:
    """The protected resources the offline plan says a change deletes (what the engine must refuse): for a removed
    topic, its topic resource in every region that declares one (a cluster link's mirror topic is the link's)."""
    old, new = _planned(before, tmp, "before-removal"), _planned(after, tmp, "after-removal")
    return sorted((old[u] for u in old.keys() - new.keys() if old[u].protect), key=lambda r: r.urn)


def predicted_steps(base: dict[str, Any], changed: dict[str, Any], tmp: Path) -> dict[str, set[str]]:
    """What the offline plan (the program under mocks) says a change does: new URNs are creates, URNs whose
    inputs differ are updates or, where a changed field is one Kubernetes will not change in place
    (``tools.plan.diff.replaced``), replacements (the engine's three steps), URNs gone are deletes."""
    before, after = _planned(base, tmp, "base"), _planned(changed, tmp, "changed")
    changed = [
        u for u in set(before) & set(after) if after[u].custom and unwrap(after[u].inputs) != unwrap(before[u].inputs)
    ]  # fmt: skip
    replacements = {u for u in changed if replaced(after[u].type, unwrap(before[u].inputs), unwrap(after[u].inputs))}
    steps = {
        "create": {_key(u) for u in set(after) - set(before)},
        "delete": {_key(u) for u in set(before) - set(after)},
        "update": {_key(u) for u in set(changed) - replacements},
        **{op: {_key(u) for u in replacements} for op in ("delete-replaced", "replace", "create-replacement")},
    }
    return {op: urns for op, urns in steps.items() if urns}


def _steps_diff(made: dict[str, set[str]], expected: dict[str, set[str]]) -> str:
    """Per operation, the steps made but not predicted (+) and predicted but not made (-)."""
    lines = []
    for op in sorted(set(made) | set(expected)):
        lines += [f"{op} + {k}" for k in sorted(made.get(op, set()) - expected.get(op, set()))]
        lines += [f"{op} - {k}" for k in sorted(expected.get(op, set()) - made.get(op, set()))]
    return "steps unlike the offline plan's:\n" + "\n".join(lines)


def _region_of(resource: dict[str, Any]) -> str | None:
    provider = resource.get("provider", "")
    name = provider.split("::")[-2] if "::" in provider else ""
    return name.removeprefix("k8s-") if name.startswith("k8s-") else None


def _path(cluster: Cluster, api_version: str, kind: str, namespace: str | None, name: str) -> str:
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    # The API server's own plural (ApicurioRegistry3 → apicurioregistries3: not kind + "s").
    served = (cluster.get(base) or {}).get("resources", [])
    plural = next((r["name"] for r in served if r["kind"] == kind and "/" not in r["name"]), kind.lower() + "s")
    return f"{base}/namespaces/{namespace}/{plural}/{name}" if namespace else f"{base}/{plural}/{name}"


def _contains(live: Any, declared: Any, where: str, problems: list[str]) -> None:
    """Every declared field is in the live object with the same value (the API server pruned or changed nothing)."""
    if isinstance(declared, dict):
        if not isinstance(live, dict):
            problems.append(f"{where}: live {type(live).__name__}, declared an object")
            return
        for k, v in declared.items():
            if k not in live:
                problems.append(f"{where}.{k}: declared, not in the live object (pruned by the schema?)")
            else:
                _contains(live[k], v, f"{where}.{k}", problems)
    elif isinstance(declared, list):
        if not isinstance(live, list) or len(live) != len(declared):
            problems.append(f"{where}: live {live!r}, declared {declared!r}")
            return
        for i, (lv, dv) in enumerate(zip(live, declared, strict=True)):
            _contains(lv, dv, f"{where}[{i}]", problems)
    elif str(live) != str(declared) and live != declared:
        problems.append(f"{where}: live {live!r}, declared {declared!r}")


def read_back(estate: Estate) -> int:
    """Each Kubernetes object in the state, from its region's API server: present, and every declared field of
    a custom resource kept as declared. Returns how many objects were checked."""
    state = yaml.safe_load(estate.state_file().read_text())  # JSON is YAML
    problems: list[str] = []
    checked = 0
    for res in state["checkpoint"]["latest"]["resources"]:
        typ = res["type"]
        region = _region_of(res)
        if not typ.startswith("kubernetes:") or region is None or typ.startswith("kubernetes:helm.sh"):
            continue
        inputs = unwrap(res.get("inputs") or {})
        meta = inputs.get("metadata") or {}
        cluster = estate.clusters[region]
        live = cluster.get(_path(cluster, inputs["apiVersion"], inputs["kind"], meta.get("namespace"), meta["name"]))
        checked += 1
        if live is None:
            problems.append(f"{region}: {res['urn']} is not in the API server")
            continue
        if "spec" in inputs:
            _contains(live.get("spec"), inputs["spec"], f"{region}:{inputs['kind']}/{meta['name']}.spec", problems)
    assert not problems, "\n".join(problems)
    return checked


def assert_secrets_encrypted(estate: Estate, topology: dict[str, Any]) -> int:
    generated = estate.exported_secrets(topology)
    assert generated.get("random:index/randomPassword:RandomPassword"), "no generated password found in the export"
    assert generated.get("tls:index/privateKey:PrivateKey"), "no generated private key found in the export"
    text = estate.state_file().read_text()
    values = [v for vs in generated.values() for v in vs] + list(estate.registry_client_secrets(topology).values())
    leaked = [
        i for i, v in enumerate(values)
        if v in text or base64.b64encode(v.encode()).decode() in text or v.replace("\n", "\\n") in text
    ]  # fmt: skip
    # Counts only: the values themselves are never printed.
    assert leaked == [], f"{len(leaked)} of {len(values)} generated secrets are in the state file in plain text"
    return len(values)


def assert_nothing_left(cluster: Cluster, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        namespaces = {n["metadata"]["name"] for n in cluster.get("/api/v1/namespaces")["items"]}
        leftovers = sorted(namespaces - SYSTEM_NAMESPACES)
        for plural in ("kafkas", "kafkanodepools", "kafkatopics", "kafkausers", "kafkamirrormaker2s"):
            leftovers += [
                f"{plural}/{o['metadata']['name']}" for o in cluster.get(f"/apis/kafka.strimzi.io/v1/{plural}")["items"]
            ]
        for kind in ("clusterroles", "clusterrolebindings"):
            items = cluster.get(f"/apis/rbac.authorization.k8s.io/v1/{kind}")["items"]
            leftovers += [f"{kind}/{o['metadata']['name']}" for o in items if "strimzi" in o["metadata"]["name"]]
        if not leftovers:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{cluster.region}: left behind after destroy: {leftovers}")
        time.sleep(1)


# ---------------------------------------------------------------------------------------------- the test


def _apply_change(estate: Estate, before: dict[str, Any], after: dict[str, Any], tmp_path: Path, what: str, when: str) -> None:
    """preview and up make exactly the steps the offline plan predicts; then the objects read back, and no diff."""
    expected = predicted_steps(before, after, tmp_path)
    preview = estate.run("preview", after, f"preview ({what})")
    assert preview["ok"], preview.get("error")
    assert _ops(preview) == expected, _steps_diff(_ops(preview), expected)
    up = estate.run("up", after, f"up ({what})")
    assert up["ok"], up.get("error")
    assert _ops(up) == expected, _steps_diff(_ops(up), expected)
    read_back(estate)
    same = estate.run("preview", after, f"preview --expect-no-changes ({when})", expect_no_changes=True)
    assert same["ok"] and same["steps"] == [], same.get("error") or same["steps"]


@pytest.mark.parametrize("name", [pytest.param(name, marks=() if name in IN_MAKE_TEST else pytest.mark.full) for name in CASES])
def test_stack_lifecycle_on_the_real_engine(name: str, estate_for, report, tmp_path: Path) -> None:
    case = CASES[name]
    base = without_dns(yaml.safe_load((ROOT / case.file).read_text()))
    estate = estate_for(base)
    figures: dict[str, Any] = {}
    report[name] = figures

    preview = estate.run("preview", base, "preview (empty stack)")
    assert preview["ok"], preview.get("error")
    creates = _ops(preview)
    assert set(creates) == {"create"}, f"a first preview only creates: {sorted(creates)}"

    up = estate.run("up", base, "up")
    assert up["ok"], up.get("error")
    assert _ops(up) == creates, "up did not make what preview announced"
    figures["resources"] = len(creates["create"])
    figures["objects_read_back"] = read_back(estate)

    same = estate.run("preview", base, "preview --expect-no-changes", expect_no_changes=True)
    assert same["ok"] and same["steps"] == [], same.get("error") or same["steps"]

    figures["secrets_checked"] = assert_secrets_encrypted(estate, base)

    changed = case.change(base)
    _apply_change(estate, base, changed, tmp_path, "change", "after change")

    if case.add_region is not None:
        grown = case.add_region(changed)
        for region in {r["name"] for r in grown["regions"]} - set(estate.clusters):
            estate.add_region(region)
        _apply_change(estate, changed, grown, tmp_path, "add a region", "after adding a region")
        changed = grown

    if validate_data(changed, "<test>").protect:
        removed = copy.deepcopy(changed)
        archive = added_names(changed)[1]
        del removed["topics"][archive]
        expected = protected_deletes(changed, removed, tmp_path)
        assert expected, "the offline plan deletes no protected topic resource"
        refused = estate.run("up", removed, "up removing a protected topic")
        topology = validate_data(changed, "<test>")
        # The engine refuses exactly the protected topic resources the offline plan deletes (one per region that
        # declares one).
        protected = sorted(d["urn"].rsplit("::", 1)[-1] for d in refused["diagnostics"] if "protected" in d["message"])
        assert not refused["ok"] and protected == sorted(r.urn.rsplit("::", 1)[-1] for r in expected), refused[
            "diagnostics"
        ] or refused.get("error")
        for reg in expected:
            region, meta = region_of(reg, topology), reg.inputs["metadata"]
            cluster = estate.clusters[region]
            path = _path(cluster, reg.inputs["apiVersion"], reg.inputs["kind"], meta.get("namespace"), meta["name"])
            assert cluster.get(path) is not None, f"{region}: the protected topic was deleted"
        # Retiring a protected environment: lift the protection first (protect: false also drops retainOnDelete).
        changed = {**changed, "protect": False}
        lifted = estate.run("up", changed, "up with protect: false")
        assert lifted["ok"], lifted.get("error")
    gone = estate.run("destroy", changed, "destroy")
    assert gone["ok"], gone.get("error")
    for cluster in estate.clusters.values():
        assert_nothing_left(cluster)
    figures["timings"] = estate.timings
