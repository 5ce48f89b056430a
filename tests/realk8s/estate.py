"""One stack on the real engine: its regions' clusters, the stand-in, a topology copy, and its operations.

Owns: starting a cluster per region of a topology (in parallel) with the cluster prerequisites installed
(Strimzi's CRDs from the shared chart, the Prometheus Operator's when the stack monitors), the stack config a
real deployment has (the topology path, each region's kubeconfig as a secret, the operator chart from the
shared directory as ``strimziChart``, the Apicurio CRD from the oracle as ``apicurioBundle``), running ``drive`` operations and recording their timings, and reading
the state file. Deliberately not here: what a stack must satisfy (the tests).
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from tests.realk8s.cluster import Cluster
from tests.realk8s.drive import PROJECT
from tests.realk8s.engine import Binaries
from tests.realk8s.standin import StandIn

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
CHART = SHARED / "charts" / "strimzi-kafka-operator"
PROMETHEUS_CRDS = SHARED / "oracle" / "prometheus-operator"
# The Apicurio operator's CRD alone (the first document of its install bundle): the API server validates every
# ApicurioRegistry3 against it; no operator runs here anyway.
APICURIO_CRD = SHARED / "oracle" / "apicurio" / "apicurioregistries3.registry.apicur.io.yaml"


def without_dns(data: dict[str, Any]) -> dict[str, Any]:
    """The topology with its DNS managed elsewhere: no dns section, each region named by endpoint_override."""
    data = {k: v for k, v in data.items() if k != "dns"}
    for region in data["regions"]:
        region["endpoint_override"] = f"kafka.{region['name']}.{data['environment']}.internal.example"
    return data


class Estate:
    def __init__(self, name: str, workdir: Path, binaries: Binaries, regions: list[str], *, monitoring: bool) -> None:
        self.name = name
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
        for region in topology["regions"]:
            access = region["kubernetes"]
            if access["kind"] == "kubeconfig":
                config[f"{PROJECT}:{access['secret_key']}"] = [self.clusters[region["name"]].kubeconfig(), True]
        return config

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
