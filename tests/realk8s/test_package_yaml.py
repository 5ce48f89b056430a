"""The component package proved from a language nobody here wrote the program in: the Pulumi YAML example
(docs/package-examples/yaml) declares the estate through the package and runs `up`, `preview --expect-no-changes`
and `destroy` on the real engine, against one real API server per region, creating exactly the Kubernetes objects
the Python program declares for the same topology.

No Python language host binary is served here, so the engine cannot start the package's plugin itself
(PulumiPlugin.yaml says `runtime: python`): the test starts it (``python provider``, what the language host would
run; it prints its port) and attaches the engine to it with ``PULUMI_DEBUG_PROVIDERS=kafka-multiregion:<port>``,
Pulumi's way to run a provider under a debugger (the engine then tells it its address with ``Attach``). The YAML
language host is the real one (engine/build.sh builds pulumi-yaml and puts it beside the CLI). Everything else is
as a user runs it: the example's Pulumi.yaml unchanged but for its relative paths, the topology through
`fn::readFile`, the kubeconfigs as secret config.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from components.package import PACKAGE, TYPE
from stacks.loader import validate_data
from tests.realk8s.drive import engine_env
from tests.realk8s.engine import Binaries
from tests.realk8s.estate import APICURIO_CRD, CHART, ROOT, Estate, without_dns
from tests.realk8s.test_lifecycle import _key, assert_nothing_left, read_back
from tools.plan.harness import is_secret, run_program, unwrap

EXAMPLE = ROOT / "docs" / "package-examples" / "yaml" / "Pulumi.yaml"
STACK = "dev"


class YamlEstate(Estate):
    """The clusters of ``Estate``; the stack is the YAML project's."""

    project = ""

    def state_file(self) -> Path:
        return self.workdir / "state" / ".pulumi" / "stacks" / self.project / f"{self.name}.json"


@contextlib.contextmanager
def package_plugin(log: Path) -> Iterator[int]:
    """The package's plugin, started as the Python language host would start it, but with no engine address (the
    engine gives it with ``Attach``); its port."""
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, str(ROOT / "provider")], cwd=ROOT, stdout=subprocess.PIPE, stderr=err)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()
        if not line.isdigit():
            proc.kill()
            proc.wait()
            raise RuntimeError(f"the package's plugin did not start: {line!r}\n{log.read_text()[-3000:]}")
        yield int(line)
    finally:
        proc.kill()
        proc.wait()


def program_dir(into: Path) -> Path:
    """The example, as a user's project directory: its paths relative to this repository made absolute."""
    project = yaml.safe_load(EXAMPLE.read_text())
    project["packages"][PACKAGE] = str(ROOT / "provider")
    project["config"]["topologyFile"]["default"] = str(ROOT / "stacks" / "dev.yaml")
    into.mkdir(parents=True, exist_ok=True)
    (into / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    return into


def stack_of(estate: YamlEstate, program: Path, topology_file: Path, port: int) -> auto.Stack:
    env = engine_env(
        {"state": str(estate.workdir / "state"), "pulumi_home": str(estate.binaries.pulumi_home), "kubeconfig": None}
    )
    env["PULUMI_DEBUG_PROVIDERS"] = f"{PACKAGE}:{port}"
    opts = auto.LocalWorkspaceOptions(
        work_dir=str(program),
        pulumi_home=str(estate.binaries.pulumi_home),
        pulumi_command=auto.PulumiCommand(root=str(estate.binaries.pulumi_root)),
        env_vars=env,
        secrets_provider="passphrase",
    )
    stack = auto.create_or_select_stack(stack_name=STACK, work_dir=str(program), opts=opts)
    config = {
        "topologyFile": auto.ConfigValue(str(topology_file)),
        "kubeconfigUsEast1": auto.ConfigValue(estate.clusters["us-east-1"].kubeconfig(), secret=True),
        "kubeconfigUsWest2": auto.ConfigValue(estate.clusters["us-west-2"].kubeconfig(), secret=True),
        "strimziChart": auto.ConfigValue(str(CHART)),
        "apicurioBundle": auto.ConfigValue(str(APICURIO_CRD)),
    }
    stack.set_all_config(config)
    return stack


def run(stack: auto.Stack, op: str, timings: list[dict[str, Any]], **kwargs: Any) -> list[list[str]]:
    """One operation; its steps (op, URN; reads left out), or the engine's error diagnostics as the failure."""
    steps: list[list[str]] = []
    errors: list[str] = []

    def on_event(event: auto.EngineEvent) -> None:
        if (diag := event.diagnostic_event) is not None and diag.severity == "error":
            errors.append(f"{diag.urn or ''}: {diag.message}")
        pre = event.resource_pre_event
        if pre is not None and pre.metadata.op != auto.OpType.READ:
            steps.append([pre.metadata.op.value, pre.metadata.urn])

    started = time.monotonic()
    try:
        getattr(stack, op)(on_event=on_event, **kwargs)
    except auto.CommandError as exc:
        pytest.fail(f"{op} failed:\n" + ("\n".join(errors) or str(exc)[-6000:]))
    label = op + (" --expect-no-changes" if kwargs.get("expect_no_changes") else "")
    timings.append({"step": label, "seconds": round(time.monotonic() - started, 1)})
    return sorted(steps)


def _masked(value: Any) -> Any:
    """Inputs with what differs between any two deployments masked: generated passwords and keys (secrets), and
    certificates (issued afresh; the mocks answer placeholders)."""
    if is_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items() if k != "__defaults"}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, str) and "-----BEGIN" in value:
        return "[pem]"
    return value


def _default(resource: dict[str, Any]) -> bool:
    """A default provider, which the engine creates for a package no resource names a provider of."""
    return resource["type"].startswith("pulumi:providers:") and resource["urn"].rsplit("::", 1)[-1].startswith("default")


def kubernetes_objects(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Kubernetes objects by type and name (what both the engine's URNs and the mocks' identify a resource with),
    with their masked inputs. A Secret's stringData is as the Kubernetes provider keeps it for any program: data."""
    objects = {}
    for r in resources:
        if r["type"].startswith("kubernetes:") and r.get("custom", True) and not r.get("read"):
            inputs = _masked(r["inputs"])
            if r["type"] == "kubernetes:core/v1:Secret" and "stringData" in inputs:
                inputs["data"] = inputs.pop("stringData")
            if r["type"].startswith("kubernetes:helm.sh/"):
                # Helm's release, not an API object: the provider fills in Helm's defaults; the chart is where the
                # stack setting points (a local copy here, the program's plan has the upstream one).
                inputs = {k: _without_empty(inputs.get(k)) for k in ("name", "namespace", "version", "values")}
            objects[_key(r["urn"])] = inputs
    return objects


def _without_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_empty(v) for k, v in value.items() if v not in ([], {}, None)}
    return value


def test_a_yaml_program_declares_the_estate_through_the_package(engine: Binaries, tmp_path: Path, report) -> None:
    if not (engine.pulumi_root / "bin" / "pulumi-language-yaml").exists():
        message = "pulumi-language-yaml is not beside the CLI: run `make engine` (engine/build.sh builds it)"
        if os.environ.get("KMR_REQUIRE_E2E"):
            pytest.fail(message)
        pytest.skip(message)
    data = without_dns(yaml.safe_load((ROOT / "stacks" / "dev.yaml").read_text()))
    topology = validate_data(data, "<test>")
    assert sorted(topology.region_names) == ["us-east-1", "us-west-2"], "the example names dev's two kubeconfigs"
    program = program_dir(tmp_path / "program")
    YamlEstate.project = yaml.safe_load(EXAMPLE.read_text())["name"]
    estate = YamlEstate(STACK, tmp_path, engine, list(topology.region_names), monitoring=topology.monitoring_enabled)
    topology_file = estate.write_topology(data)
    figures: dict[str, Any] = {}
    report["package (Pulumi YAML)"] = figures
    timings: list[dict[str, Any]] = []
    started = time.monotonic()
    try:
        estate.start()
        timings.append({"step": "clusters", "seconds": round(time.monotonic() - started, 1)})
        with package_plugin(tmp_path / "plugin.log") as port:
            stack = stack_of(estate, program, topology_file, port)
            # A broken topology first: refused before anything is registered, in the validator's words.
            broken = tmp_path / "broken.yaml"
            broken.write_text(topology_file.read_text().replace("protect: false", "protect: false\nprotection: true"))
            stack.set_config("topologyFile", auto.ConfigValue(str(broken)))
            with pytest.raises(auto.CommandError) as refused:
                stack.preview(color="never")
            said = str(refused.value)
            assert "KafkaEstate resource 'estate' has a problem: invalid topology:" in said, said
            assert "topology: protection: unknown key 'protection'; did you mean 'protect'?" in said, said
            stack.set_config("topologyFile", auto.ConfigValue(str(topology_file)))
            made = run(stack, "up", timings)
            state = yaml.safe_load(estate.state_file().read_text())["checkpoint"]["latest"]["resources"]

            # The Python program for the same topology (its offline plan: the program under the plan's mocks).
            planned = run_program(topology_file, topology).registrations
            # By type and name; the component is named by each program ('estate' in the example, the environment
            # in the program), and the engine adds default providers (for the package, tls and random).
            theirs = {_key(r.urn) for r in planned if not r.read and r.type != TYPE}
            ours = {_key(r["urn"]) for r in state if r["type"] not in ("pulumi:pulumi:Stack", TYPE) and not _default(r)}
            assert ours == theirs, f"only here: {sorted(ours - theirs)[:10]}; only in the program: {sorted(theirs - ours)[:10]}"
            assert {op for op, _ in made} == {"create"} and {u for _, u in made} == {r["urn"] for r in state}
            component = next(r for r in state if r["type"] == TYPE)
            assert component["urn"].endswith(f"::{TYPE}::estate")
            objects = kubernetes_objects(state)
            expected = kubernetes_objects(
                [{"urn": r.urn, "type": r.type, "custom": r.custom, "read": r.read, "inputs": r.inputs} for r in planned]
            )
            assert objects.keys() == expected.keys()
            differ = sorted(k for k in objects if unwrap(objects[k]) != unwrap(expected[k]))
            assert differ == [], f"{len(differ)} objects unlike the program's, first: {differ[:5]}"
            figures["resources"] = len(made)
            figures["kubernetes_objects"] = len(objects)
            figures["objects_read_back"] = read_back(estate)

            outputs = stack.outputs()
            assert sorted(outputs["clients"].value) == sorted(topology.users)
            assert sorted(outputs["regions"].value) == sorted(topology.region_names)
            assert outputs["caCertPem"].value.startswith("-----BEGIN CERTIFICATE-----")

            # Every resource evaluated again (the package constructed the estate anew), none to change.
            again = run(stack, "preview", timings, expect_no_changes=True)
            assert sorted(u for op, u in again if op == "same") == sorted(r["urn"] for r in state), again
            gone = run(stack, "destroy", timings)
            assert {op for op, _ in gone} == {"delete"} and {u for _, u in gone} == {r["urn"] for r in state}
        for cluster in estate.clusters.values():
            assert_nothing_left(cluster)
    finally:
        if estate.standin:
            assert estate.standin.errors == [], "\n".join(estate.standin.errors)
        estate.stop()
    figures["timings"] = timings
    figures["seconds"] = round(time.monotonic() - started, 1)
