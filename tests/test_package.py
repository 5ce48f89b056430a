"""The component package (``components.package``, ``provider/``): its schema, its inputs' checks, and that through
it a program gets exactly the program's estate.

The schema is generated in-process (what `pulumi package get-schema provider` prints, without a Python language
host) and held equal to the committed ``provider/schema.json``. The package is driven as the engine drives it,
through ``EstateProvider.construct`` with the schema's (camelCase) input names, under the same mocks as the offline
plan, and compared registration by registration with the program (``__main__.py``) for the same topology.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.errors import InputPropertiesError

from components.package import PACKAGE, TYPE, EstateProvider, schema_json
from provider import schema as schema_tool
from stacks.loader import load_topology
from tools import validate
from tools.plan.harness import (
    PROJECT,
    EstateMocks,
    RecordingMonitor,
    Registration,
    fake_config,
    is_secret,
    run_program,
    run_under_mocks,
    unwrap,
)

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "provider" / "schema.json"


@pytest.fixture(scope="module")
def provider() -> EstateProvider:
    return EstateProvider()


def package_inputs(path: Path) -> dict[str, Any]:
    """What a caller passes for a stack file: the same values the program's stack settings hold (``fake_config``)."""
    config = fake_config(load_topology(path), str(path))
    inputs: dict[str, Any] = {"topology": path.read_text()}
    kubeconfigs = {k.split(":", 1)[1]: v for k, v in config.items() if k.split(":", 1)[1].startswith("kubeconfig")}
    if kubeconfigs:
        inputs["kubeconfigs"] = kubeconfigs
    if secrets := config.get(f"{PROJECT}:registryClientSecrets"):
        inputs["registryClientSecrets"] = json.loads(secrets)
    return inputs


def run_package(provider: EstateProvider, name: str, inputs: dict[str, Any]) -> tuple[list[Registration], dict[str, Any]]:
    """Construct the package's KafkaEstate under the offline plan's mocks; its registrations and its outputs."""
    mocks = EstateMocks()
    monitor = RecordingMonitor(mocks)

    def program() -> None:
        result = provider.construct(name, TYPE, inputs, None)
        pulumi.export("state", result.state)

    exported = run_under_mocks(program, mocks, monitor, stack=name)
    return monitor.registrations, exported["state"]


# ---------------------------------------------------------------------------------------------- the schema


def test_the_committed_schema_is_the_generated_one(capsys) -> None:
    assert schema_tool.main(["--check"]) == 0, capsys.readouterr().err
    assert json.loads(SCHEMA.read_text()) == json.loads(schema_json())


def test_check_mode_fails_on_a_stale_schema(tmp_path: Path, capsys) -> None:
    stale = tmp_path / "schema.json"
    stale.write_text(SCHEMA.read_text().replace('"caCertPem"', '"caCert"', 1))
    assert schema_tool.main(["--check", "--out", str(stale)]) == 1
    assert "is stale; run: python -m provider.schema" in capsys.readouterr().err


def test_the_schema_types_the_inputs_and_outputs() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert schema["name"] == PACKAGE and list(schema["resources"]) == [TYPE]
    estate = schema["resources"][TYPE]
    assert estate["isComponent"] is True
    inputs = estate["inputProperties"]
    # The topology decides which resources exist: plain (never an output), as text or as an (untyped) object.
    assert inputs["topology"] == {**inputs["topology"], "type": "string", "plain": True}
    assert inputs["topologyObject"]["additionalProperties"]["$ref"] == "pulumi.json#/Any"
    for name in ("strimziChart", "apicurioBundle", "cfkChart"):
        assert inputs[name]["type"] == "string", name
    for name in ("kubeconfigs", "registryClientSecrets"):
        assert inputs[name]["secret"] is True and inputs[name]["additionalProperties"]["type"] == "string", name
    assert estate["requiredInputs"] == []  # topology or topologyObject: checked by the component, with a message
    outputs = estate["properties"]
    assert sorted(estate["required"]) == sorted(outputs) == ["caCertPem", "clients", "endpoints", "flows", "regions"]
    assert outputs["clients"]["additionalProperties"]["$ref"] == f"#/types/{PACKAGE}:index:Client"
    assert outputs["regions"]["additionalProperties"]["$ref"] == f"#/types/{PACKAGE}:index:Region"
    assert outputs["flows"]["items"]["type"] == "string"
    client = schema["types"][f"{PACKAGE}:index:Client"]
    assert client["properties"]["password"]["secret"] is True
    assert client["properties"]["schemaRegistry"]["$ref"] == f"#/types/{PACKAGE}:index:SchemaRegistryClient"
    assert "schemaRegistry" not in client["required"] and "password" in client["required"]
    registry = schema["types"][f"{PACKAGE}:index:SchemaRegistryClient"]
    assert registry["properties"]["clientSecret"]["secret"] is True


# ---------------------------------------------------------------------------------------------- the same estate


def _provider_name(ref: str) -> str:
    """A provider reference (URN::id) by the provider's name: the package's are the component's children."""
    return ref.split("::")[-2] if ref else ""


def _comparable(regs: list[Registration]) -> dict[str, dict[str, Any]]:
    out = {}
    for r in regs:
        key = r.urn if not r.type.startswith("pulumi:providers:") else f"{r.type}::{r.name}"
        out[key] = {
            "inputs": r.inputs,  # secrets kept marked: secret in one is secret in the other
            "provider": _provider_name(r.provider),
            "parent": r.parent if not r.type.startswith("pulumi:providers:") else "",
            "dependencies": sorted(r.dependencies),
            "protect": r.protect,
            "retain_on_delete": r.retain_on_delete,
            "ignore_changes": r.ignore_changes,
        }
    return out


@pytest.mark.parametrize(
    "file",
    [
        "stacks/dev.yaml",  # Strimzi, MirrorMaker 2, kubeconfig regions, DNS
        "examples/schema-registry.yaml",  # the registry with auth: registryClientSecrets
        "examples/cluster-linking-active-passive.yaml",  # the confluent flavor, context regions
    ],
)
def test_through_the_package_a_program_gets_exactly_the_programs_resources(provider: EstateProvider, file: str) -> None:
    path = ROOT / file
    topology = load_topology(path)
    program = run_program(path, topology)
    registrations, _ = run_package(provider, topology.environment, package_inputs(path))
    ours, theirs = _comparable(registrations), _comparable(program.registrations)
    assert sorted(ours) == sorted(theirs), "resources differ"
    different = [k for k in ours if ours[k] != theirs[k] and not k.startswith("pulumi:providers:")]
    assert different == [], f"{len(different)} resources declared differently, first: {different[:3]}"
    # The providers: the same settings (the kubeconfigs from the input, secret as the program's settings are),
    # children of the component rather than of the stack.
    for key in (k for k in ours if k.startswith("pulumi:providers:")):
        assert ours[key]["inputs"] == theirs[key]["inputs"], key
    component = next(r for r in registrations if r.type == TYPE)
    assert {r.parent for r in registrations if r.type.startswith("pulumi:providers:")} == {component.urn}


def test_the_outputs_have_the_schemas_shape(provider: EstateProvider) -> None:
    path = ROOT / "examples" / "schema-registry.yaml"
    topology = load_topology(path)
    _, state = run_package(provider, topology.environment, package_inputs(path))
    schema = json.loads(SCHEMA.read_text())
    assert sorted(state) == sorted(schema["resources"][TYPE]["properties"])
    client_type = schema["types"][f"{PACKAGE}:index:Client"]
    registry_type = schema["types"][f"{PACKAGE}:index:SchemaRegistryClient"]
    assert sorted(state["clients"]) == sorted(topology.users)
    for user, client in state["clients"].items():
        assert set(client_type["required"]) <= set(client) <= set(client_type["properties"]), user
        assert is_secret(client["password"]) and not is_secret(client["bootstrapServers"]), user
        registry = client["schemaRegistry"]
        assert set(registry_type["required"]) <= set(registry) <= set(registry_type["properties"]), user
        assert is_secret(registry["clientSecret"]), user
        assert client["username"] == user and ":" in client["bootstrapServers"], user
    region_type = schema["types"][f"{PACKAGE}:index:Region"]
    assert sorted(state["regions"]) == sorted(topology.region_names)
    for region in state["regions"].values():
        assert sorted(region) == sorted(region_type["properties"])
    assert sorted(state["endpoints"]) == sorted(topology.region_names)
    assert state["flows"] and all(" -> " in f for f in state["flows"])


# ---------------------------------------------------------------------------------------------- the inputs, checked

BROKEN = {
    "not YAML": "environment: dev\nregions: [\n",
    "a key twice": "environment: dev\nenvironment: prod\n",
    "a rule broken": None,  # stacks/dev.yaml with a region of no brokers, below
    "an unknown field": None,
}


def _broken(kind: str) -> str:
    dev = (ROOT / "stacks" / "dev.yaml").read_text()
    if kind == "a rule broken":
        return dev.replace("brokers: 1, controllers: 1", "brokers: 0, controllers: 1", 1)
    if kind == "an unknown field":
        return dev.replace("protect: false", "protect: false\nprotection: true", 1)
    text = BROKEN[kind]
    assert text is not None
    return text


def _validate_messages(text: str, tmp_path: Path, capsys, source: str) -> str:
    """What `python -m tools.validate FILE` prints for the text, with the file's path replaced by ``source``."""
    path = tmp_path / "topology.yaml"
    path.write_text(text)
    assert validate.main([str(path)]) == 2
    return capsys.readouterr().err.replace(f"{path}: ", f"{source}: ").rstrip("\n")


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_bad_topology_is_refused_with_the_validators_messages(provider: EstateProvider, kind, tmp_path, capsys) -> None:
    text = _broken(kind)
    expected = _validate_messages(text, tmp_path, capsys, "topology")
    with pytest.raises(InputPropertiesError) as refused:
        provider.construct("dev", TYPE, {"topology": text}, None)
    assert refused.value.message == f"invalid topology:\n{expected}"
    assert refused.value.errors == []  # the message alone: a property error would have the engine print the text
    if kind in ("a rule broken", "an unknown field"):
        # The object form: the same messages under its own name.
        expected = _validate_messages(text, tmp_path, capsys, "topologyObject")
        with pytest.raises(InputPropertiesError) as refused:
            provider.construct("dev", TYPE, {"topologyObject": yaml.safe_load(text)}, None)
        assert refused.value.message == f"invalid topology:\n{expected}"


def _as_wire_numbers(value: Any) -> Any:
    """What the engine delivers: every number a double."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {k: _as_wire_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_wire_numbers(v) for v in value]
    return value


def test_the_object_form_is_the_same_topology(provider: EstateProvider) -> None:
    path = ROOT / "stacks" / "dev.yaml"
    inputs = package_inputs(path)
    text = inputs.pop("topology")
    inputs["topologyObject"] = _as_wire_numbers(yaml.safe_load(text))
    from_object, _ = run_package(provider, "dev", inputs)
    from_text, _ = run_package(provider, "dev", package_inputs(path))
    assert _comparable(from_object) == _comparable(from_text)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "give the topology once: `topology` (the YAML text of a stack file) or `topologyObject`"),
        ({"topology": "x", "topologyObject": {}}, "; both were given"),
        ({"topology": "DEV"}, "`kubeconfigs` is missing: give each `kind: kubeconfig` region's kubeconfig"),
        ({"kubeconfigs": {"kubeconfig-us-east-1": "x"}}, "`kubeconfigs` has no entry for kubeconfig-us-west-2"),
        (
            {"kubeconfigs": {"kubeconfig-us-east-1": "x", "kubeconfig-us-west-2": ""}},
            "has an empty entry for kubeconfig-us-west-2",
        ),
        ({"strimziChart": 3.0}, "`strimziChart` must be a plain string"),
    ],
)
def test_missing_or_wrong_inputs_are_refused_before_anything_is_registered(provider, inputs, message) -> None:
    dev = (ROOT / "stacks" / "dev.yaml").read_text()
    full = {"topology": dev, "kubeconfigs": {"kubeconfig-us-east-1": "a", "kubeconfig-us-west-2": "b"}}
    given = {**full, **inputs} if inputs else {}
    if given.get("topology") == "DEV":
        given = {"topology": dev}
    with pytest.raises(InputPropertiesError) as refused:
        provider.construct("dev", TYPE, given, None)
    assert message in refused.value.message


def test_registry_client_secrets_must_name_exactly_the_users(provider: EstateProvider) -> None:
    path = ROOT / "examples" / "schema-registry.yaml"
    inputs = package_inputs(path)
    users = sorted(inputs["registryClientSecrets"])
    missing = {**inputs, "registryClientSecrets": dict.fromkeys(users[1:], "s")}
    with pytest.raises(InputPropertiesError, match=f"`registryClientSecrets` has no entry for {users[0]}"):
        provider.construct("prod", TYPE, missing, None)
    extra = {**inputs, "registryClientSecrets": {**inputs["registryClientSecrets"], "ghost": "s"}}
    with pytest.raises(InputPropertiesError, match="`registryClientSecrets` names ghost, not in the topology"):
        provider.construct("prod", TYPE, extra, None)


def test_kubeconfigs_passed_plain_are_secret_in_the_providers(provider: EstateProvider) -> None:
    registrations, _ = run_package(provider, "dev", package_inputs(ROOT / "stacks" / "dev.yaml"))
    k8s = [r for r in registrations if r.type == "pulumi:providers:kubernetes"]
    assert len(k8s) == 2 and all(is_secret(r.inputs["kubeconfig"]) for r in k8s)
    assert all(unwrap(r.inputs["kubeconfig"]).startswith("apiVersion: v1") for r in k8s)


def test_kubeconfigs_arriving_as_one_secret_map_are_checked_and_used(provider: EstateProvider) -> None:
    """A secret value inside a map makes the whole map secret on the way in (the engine's wire format): the map is
    then an output, checked when it resolves."""
    inputs = package_inputs(ROOT / "stacks" / "dev.yaml")
    plain = inputs["kubeconfigs"]

    def with_map(kubeconfigs: dict[str, str]) -> list[Registration]:
        mocks = EstateMocks()
        monitor = RecordingMonitor(mocks)

        def program() -> None:
            provider.construct("dev", TYPE, {**inputs, "kubeconfigs": pulumi.Output.secret(kubeconfigs)}, None)

        run_under_mocks(program, mocks, monitor, stack="dev")
        return monitor.registrations

    k8s = [r for r in with_map(plain) if r.type == "pulumi:providers:kubernetes"]
    assert sorted(unwrap(r.inputs["kubeconfig"]) for r in k8s) == sorted(plain.values())
    assert all(is_secret(r.inputs["kubeconfig"]) for r in k8s)
    with pytest.raises(Exception, match="`kubeconfigs` has no entry for kubeconfig-us-west-2"):
        with_map({"kubeconfig-us-east-1": plain["kubeconfig-us-east-1"]})


# ---------------------------------------------------------------------------------------------- the examples of use

EXAMPLES = ROOT / "docs" / "package-examples"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _schema_names() -> tuple[set[str], set[str]]:
    estate = json.loads(SCHEMA.read_text())["resources"][TYPE]
    return set(estate["inputProperties"]), set(estate["properties"])


def test_the_yaml_example_uses_the_schemas_names_and_devs_kubeconfigs() -> None:
    inputs, outputs = _schema_names()
    project = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text())
    estate = project["resources"]["estate"]
    assert estate["type"] == TYPE and set(estate["properties"]) <= inputs
    assert {m for v in project["outputs"].values() for m in re.findall(r"\$\{estate\.(\w+)\}", v)} == outputs
    dev = load_topology(ROOT / "stacks" / "dev.yaml")
    assert set(estate["properties"]["kubeconfigs"]) == {r.kubernetes.secret_key for r in dev.regions}
    here = EXAMPLES / "yaml"
    assert (here / project["config"]["topologyFile"]["default"]).resolve() == (ROOT / "stacks" / "dev.yaml")
    assert (here / project["packages"][PACKAGE] / "PulumiPlugin.yaml").exists()


def test_the_python_and_typescript_examples_use_the_schemas_names() -> None:
    inputs, outputs = _schema_names()
    tree = ast.parse((EXAMPLES / "python" / "__main__.py").read_text())
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "KafkaEstate")
    assert {k.arg for k in call.keywords} <= {_snake(i) for i in inputs} and "topology" in {k.arg for k in call.keywords}
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and getattr(n.value, "id", "") == "estate"}
    assert used == {_snake(o) for o in outputs}
    ts = (EXAMPLES / "typescript" / "index.ts").read_text()
    body = re.search(r"new kafkaMultiregion\.KafkaEstate\(\"estate\", \{\n(.*?)\n\}\);", ts, re.S)
    assert body is not None
    keys = set(re.findall(r"^    (\w+)[,:]", body.group(1), re.M))
    assert keys <= inputs and "topology" in keys
    assert set(re.findall(r"estate\.(\w+)", ts)) == outputs
    for folder in ("python", "typescript"):
        project = yaml.safe_load((EXAMPLES / folder / "Pulumi.yaml").read_text())
        assert (EXAMPLES / folder / project["packages"][PACKAGE] / "PulumiPlugin.yaml").exists(), folder
