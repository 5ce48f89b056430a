"""One stack on the real engine: its regions' clusters, the stand-in, a topology copy, and its operations.

Owns: starting a cluster per region of a topology (in parallel) with the cluster prerequisites installed
(Strimzi's CRDs from the shared chart, the Prometheus Operator's when the stack monitors), the stack config a
real deployment has (the topology path, each region's kubeconfig as a secret, the operator chart from the
shared directory as ``strimziChart``, the Apicurio CRD from the oracle as ``apicurioBundle``, and for the
confluent flavor a stand-in CFK chart built in the test's directory as ``cfkChart``), running ``drive``
operations and recording their timings, and reading the state file. Deliberately not here: what a stack must
satisfy (the tests).
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from components.flavors.confluent.bodies import CFK_CHART, CFK_CHART_VERSION_PINNED
from stacks.model.registry import CLIENT_SECRETS_SETTING
from tests.realk8s.cluster import Cluster
from tests.realk8s.drive import PROJECT
from tests.realk8s.engine import Binaries
from tests.realk8s.standin import StandIn
from tools.plan.harness import fake_registry_client_secrets

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
CHART = SHARED / "charts" / "strimzi-kafka-operator"
PROMETHEUS_CRDS = SHARED / "oracle" / "prometheus-operator"
# The Apicurio operator's CRD alone (the first document of its install bundle): the API server validates every
# ApicurioRegistry3 against it; no operator runs here anyway.
APICURIO_CRD = SHARED / "oracle" / "apicurio" / "apicurioregistries3.registry.apicur.io.yaml"
# Confluent for Kubernetes 2.9.3's CRDs, as its chart ships them (see the oracle's README).
CFK_CRDS = SHARED / "oracle" / "confluent"


def cfk_chart(into: Path) -> Path:
    """A local stand-in for the CFK chart (unreachable here): its name and pinned version, and ``crds/`` with the
    CFK 2.9.3 CRDs, which Helm installs before the release, as from the real chart. No templates: no operator
    runs here (the stand-in reports what it would). Built under the test's directory, never in the project."""
    chart = into / CFK_CHART
    (chart / "crds").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v2",
                "name": CFK_CHART,
                "version": CFK_CHART_VERSION_PINNED,
                "appVersion": "2.9.3",
                "description": "TEST STAND-IN: CFK's CRDs only (tests/realk8s)",
            }
        )
    )
    for crd in sorted(CFK_CRDS.glob("platform.confluent.io_*.yaml")):
        (chart / "crds" / crd.name).write_text(crd.read_text())
    return chart


def without_dns(data: dict[str, Any]) -> dict[str, Any]:
    """The topology with its DNS managed elsewhere: no dns section, each region named by endpoint_override."""
    data = {k: v for k, v in data.items() if k != "dns"}
    for region in data["regions"]:
        region["endpoint_override"] = f"kafka.{region['name']}.{data['environment']}.internal.example"
    return data


class Estate:
    def __init__(
        self, name: str, workdir: Path, binaries: Binaries, regions: list[str], *, monitoring: bool, confluent: bool = False
    ) -> None:
        self.name = name
        # The confluent flavor's operator chart, as an air-gapped deployment would set it (``cfkChart``).
        self.cfk_chart = cfk_chart(workdir / "charts") if confluent else None
        self.workdir = workdir
        self.binaries = binaries
        self.clusters = {r: Cluster(r, workdir / "clusters" / r, binaries) for r in regions}
        self.monitoring = monitoring
        self.timings: list[dict[str, Any]] = []
        self.standin: StandIn | None = None
        (workdir / "work").mkdir(parents=True, exist_ok=True)
        (workdir / "state").mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ clusters

    def _crds(self) -> list[Path]:
        crds = sorted((CHART / "crds").glob("*.yaml"))
        if self.monitoring:
            crds += sorted(PROMETHEUS_CRDS.glob("monitoring.coreos.com_*.yaml"))
        return crds

    def start(self) -> Estate:
        def up(cluster: Cluster) -> None:
            cluster.start()
            cluster.install_crds(self._crds())

        with ThreadPoolExecutor(max_workers=len(self.clusters)) as pool:
            list(pool.map(up, self.clusters.values()))
        self.standin = StandIn(list(self.clusters.values())).start()
        return self

    def add_region(self, region: str) -> Cluster:
        """A new region's cluster, joining the stand-in (for the 'add a region' change)."""
        cluster = self.clusters[region] = Cluster(region, self.workdir / "clusters" / region, self.binaries)
        cluster.start()  # stopped by stop() even if this fails
        cluster.install_crds(self._crds())
        assert self.standin is not None
        self.standin.add(cluster)
        return cluster

    def stop(self) -> None:
        if self.standin:
            self.standin.stop()
        for cluster in self.clusters.values():
            cluster.stop()

    # ------------------------------------------------------------------ the stack

    def write_topology(self, data: dict[str, Any]) -> Path:
        path = self.workdir / f"{self.name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def config(self, topology: dict[str, Any]) -> dict[str, list[Any]]:
        config: dict[str, list[Any]] = {
            f"{PROJECT}:topology": [str(self.write_topology(topology)), False],
            f"{PROJECT}:strimziChart": [str(CHART), False],
            f"{PROJECT}:apicurioBundle": [str(APICURIO_CRD), False],
        }
        if self.cfk_chart is not None:
            config[f"{PROJECT}:cfkChart"] = [str(self.cfk_chart), False]
        for region in topology["regions"]:
            access = region["kubernetes"]
            if access["kind"] == "kubeconfig":
                config[f"{PROJECT}:{access['secret_key']}"] = [self.clusters[region["name"]].kubeconfig(), True]
        if secrets := self.registry_client_secrets(topology):
            config[f"{PROJECT}:{CLIENT_SECRETS_SETTING}"] = [json.dumps(secrets), True]
        return config

    @staticmethod
    def registry_client_secrets(topology: dict[str, Any]) -> dict[str, str]:
        """The stack setting registryClientSecrets, where the topology's registry has ``auth`` (empty otherwise)."""
        if not (topology.get("schema_registry") or {}).get("auth"):
            return {}
        return fake_registry_client_secrets(topology.get("users") or {})

    def context_kubeconfig(self, topology: dict[str, Any]) -> Path:
        """One kubeconfig with a context per `kind: context` region, named as the topology names it."""
        merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
        for region in topology["regions"]:
            access = region["kubernetes"]
            if access["kind"] != "context":
                continue
            own = yaml.safe_load(self.clusters[region["name"]].kubeconfig())
            name = access["context"]
            merged["clusters"].append({"name": name, "cluster": own["clusters"][0]["cluster"]})
            merged["users"].append({"name": name, "user": own["users"][0]["user"]})
            merged["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
        path = self.workdir / "contexts.kubeconfig"
        path.touch(mode=0o600)
        path.write_text(yaml.safe_dump(merged))
        return path

    def run(self, op: str, topology: dict[str, Any], label: str | None = None, **extra: Any) -> dict[str, Any]:
        spec = {
            "op": op, "work": str(self.workdir / "work"), "state": str(self.workdir / "state"), "stack": self.name,
            "config": self.config(topology), "pulumi_root": str(self.binaries.pulumi_root),
            "pulumi_home": str(self.binaries.pulumi_home), "kubeconfig": str(self.context_kubeconfig(topology)), **extra,
        }  # fmt: skip
        spec_file = self.workdir / "spec.json"
        spec_file.touch(mode=0o600)
        spec_file.write_text(json.dumps(spec))
        proc = subprocess.run(
            [sys.executable, "-m", "tests.realk8s.drive", str(spec_file)], cwd=ROOT, capture_output=True, text=True, check=False
        )
        spec_file.unlink()
        if proc.returncode != 0 or not proc.stdout.strip():
            raise RuntimeError(f"drive {op} crashed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        self.timings.append({"step": label or op, "seconds": result["seconds"], "ok": result["ok"]})
        return result

    def state_file(self) -> Path:
        return self.workdir / "state" / ".pulumi" / "stacks" / PROJECT / f"{self.name}.json"

    def exported_secrets(self, topology: dict[str, Any]) -> dict[str, list[str]]:
        """Every password and private key the stack generated, decrypted (``pulumi stack export --show-secrets``),
        by resource type. Kept in memory only; tests never print them."""
        target = self.workdir / "export.json"
        result = self.run("export", topology, export_to=str(target))
        assert result["ok"], result.get("error")
        deployment = json.loads(target.read_text())
        target.unlink()
        fields = {
            "random:index/randomPassword:RandomPassword": ("result",),
            "tls:index/privateKey:PrivateKey": ("privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"),
        }
        found: dict[str, list[str]] = {}
        for res in deployment["deployment"].get("resources", []):
            for name in fields.get(res["type"], ()):
                value = _plain((res.get("outputs") or {}).get(name))
                if value:
                    found.setdefault(res["type"], []).append(value)
        return found


def _plain(value: Any) -> Any:
    """A value from an export with --show-secrets: secrets appear as {sig, plaintext}."""
    if isinstance(value, dict) and "plaintext" in value:
        return json.loads(value["plaintext"])
    return value
