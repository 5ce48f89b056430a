"""The estate as a Pulumi component package: ``KafkaEstate`` for programs in any language (YAML, TypeScript, Go,
C#, another Python program), served by the Python SDK's component provider host.

Owns: the package's inputs and outputs as Python types (the SDK infers the package schema from them; the committed
copy is ``provider/schema.json``), turning the inputs into what the program's own estate takes (the topology
through the program's loader, with its messages; the kubeconfigs and registry client secrets as secrets; the chart
settings with the program's defaults), the per-region providers as the component's children, and the provider the
host serves (``EstateProvider``: the SDK's ``ComponentProvider`` plus the ``secret`` marks the SDK cannot infer).
The plugin's entry point is ``provider/__main__.py`` (``PulumiPlugin.yaml`` beside it); docs/component.md.

Deliberately not here: what the estate holds. ``KafkaEstate`` here is ``components.estate.KafkaEstate`` with
package-shaped inputs and outputs; it composes exactly the program's estate (``_compose``), so every resource
and name below the component is the program's. Only the providers differ: children of the component here (a
package cannot read the caller's stack settings), top-level resources of the stack in the program.

No ``from __future__ import annotations`` in this module: the SDK reads the annotations as objects.
"""

import contextlib
import inspect
import json
import math
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

import pulumi
import yaml
from pulumi.errors import InputPropertiesError
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult
from pulumi.provider.server import ComponentInitError
from pulumi.runtime import rpc

from components import estate, registry
from components.flavors.confluent import bodies as confluent
from components.flavors.strimzi import bodies as strimzi
from components.providers import build_providers
from stacks.loader import TopologyError, parse_yaml, validate_data
from stacks.model import ContextAccess, Topology

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "kafka-multiregion"
TYPE = f"{PACKAGE}:index:KafkaEstate"  # the program's component type: the same token in both
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

# What the SDK's inference cannot say: which inputs and output fields are secrets (schema `secret: true`). SDKs
# generated from the schema mark these inputs secret before they leave the caller; the component marks them
# secret again on arrival, for callers that pass them plain.
SECRET_INPUTS = ("kubeconfigs", "registryClientSecrets")
SECRET_FIELDS = {"Client": ("password",), "SchemaRegistryClient": ("clientSecret",)}

# Where a topology's problems are said to be: the input's name, as a file's path is for tools.validate.
TEXT_SOURCE, OBJECT_SOURCE = "topology", "topologyObject"


# ------------------------------------------------------------------------------------------ inputs


class KafkaEstateArgs(TypedDict, total=False):
    """The inputs of ``KafkaEstate``. Give the topology as ``topology`` (YAML text) or ``topologyObject``."""

    topology: str
    """The environment's topology as YAML text: a stacks/<env>.yaml document (read it with fn::readFile,
    readFileSync, open(...).read()). Validated by the program's own loader, with the messages `python -m
    tools.validate` prints. Plain: the topology decides which resources exist, so it cannot be a resource output."""
    topology_object: dict[str, Any]
    """The same topology as an object (what the YAML text parses to), for programs that build it. Validated as
    the YAML text is. Untyped in this schema: the topology's alternatives (a region's `kubernetes` is a kubeconfig
    or a context), its enumerations and its `int | string` settings are beyond what the schema inference can
    express; its shape is stacks/topology.schema.json. Whole numbers arrive as JSON numbers and are taken as
    integers."""
    kubeconfigs: pulumi.Input[dict[str, pulumi.Input[str]]]
    """Each `kind: kubeconfig` region's kubeconfig (YAML text), keyed by the region's `kubernetes.secret_key` (the
    stack setting the program reads it from). Secret. A `kind: context` region uses that context of the
    kubeconfig the Kubernetes provider plugin sees ($KUBECONFIG or ~/.kube/config)."""
    strimzi_chart: str
    """Where Helm gets the Strimzi operator chart: a local chart directory, a mirror, or the upstream OCI chart
    (the default, also when empty). The program's stack setting strimziChart."""
    apicurio_bundle: str
    """The Apicurio Registry operator's install manifests: a local file or a mirror's URL; upstream by default
    (also when empty). The program's stack setting apicurioBundle."""
    cfk_chart: str
    """The Confluent for Kubernetes chart: a local chart directory, an OCI reference or a mirror repository's URL;
    Confluent's repository by default (also when empty). The program's stack setting cfkChart."""
    registry_client_secrets: pulumi.Input[dict[str, pulumi.Input[str]]]
    """With schema_registry.auth: each application user's client secret in the registry's OIDC realm, keyed by
    user (exactly the topology's users). Secret. The program's stack setting registryClientSecrets."""


# ------------------------------------------------------------------------------------------ outputs
#
# The fields are named as the schema names them (camelCase). The SDK renames the fields of a complex output from
# Python to schema names only where the output itself is of that type, not inside a map of them (clients,
# regions), so these keep one name on both sides, whatever the SDK does.


class Region(TypedDict):
    """One region's Kafka cluster."""

    clusterName: pulumi.Output[str]
    """The Kafka cluster's name."""
    namespace: pulumi.Output[str]
    """The Kubernetes namespace it runs in."""
    internalBootstrap: pulumi.Output[str]
    """host:port of the bootstrap address inside the cluster (MirrorMaker, in-cluster clients)."""
    externalBootstrap: pulumi.Output[str]
    """host:port of the bootstrap address clients outside the cluster use."""


class SchemaRegistryClient(TypedDict):
    """How an application user reaches the schema registry (with a schema_registry section)."""

    url: str
    """The registry's API: the shared name where it follows the writer, else the writer's regional name."""
    regionalUrls: dict[str, str]
    """Region -> that region's registry API (every region serves reads)."""
    writer: str
    """The region whose registry accepts new schemas."""
    properties: dict[str, str]
    """The serdes' settings (the registry URL; with auth, the token endpoint and client id)."""
    clientSecret: NotRequired[pulumi.Output[str]]
    """With auth: the user's client secret in the realm (the input registryClientSecrets). Secret."""


class Client(TypedDict):
    """An application user's connection settings."""

    bootstrapServers: str
    """host:port of one cluster: the name DNS gates, or one region's."""
    bootstrapServersByRegion: dict[str, str]
    """Region -> host:port of that region's cluster (the regions where the user exists)."""
    regions: list[str]
    """The regions where the user exists."""
    username: str
    """The SASL user name."""
    properties: dict[str, str]
    """Kafka client properties (security protocol, SASL mechanism, rebootstrap, DNS lookup)."""
    caCertPem: pulumi.Output[str]
    """The environment CA (PEM) the client trusts."""
    password: pulumi.Output[str]
    """The SASL password. Secret."""
    schemaRegistry: NotRequired[SchemaRegistryClient]
    """The schema registry, where the topology has one."""


# ------------------------------------------------------------------------------------------ the component


class KafkaEstate(estate.KafkaEstate):
    """One environment's multi-region Apache Kafka estate, declared from its typed topology: every region's Kafka
    (Strimzi or Confluent for Kubernetes), users, certificates, replication (MirrorMaker 2 or Cluster Linking),
    monitoring, schema registry and, with a dns section, the Route53 failover names. One estate per stack: the
    resources below it are named by the topology (regions, topics, users), as in the kafka-multiregion program."""

    ca_cert_pem: pulumi.Output[str]
    """The environment CA (PEM): the one bundle clients and MirrorMaker trust in every region."""
    regions: dict[str, Region]  # type: ignore[assignment]  # the program's shape renamed to the schema's
    """Region -> its cluster name, namespace, internal and external bootstrap addresses."""
    clients: dict[str, Client]  # type: ignore[assignment]  # the program's shape renamed to the schema's
    """Application user -> its connection settings; only the password (and registry client secret) is secret."""
    flows: pulumi.Output[list[str]]
    """Replication flows as 'source -> target'."""
    endpoints: dict[str, pulumi.Output[str]]
    """Region -> the load-balancer hostname its DNS names point at (known once the cluster is up)."""

    def __init__(self, name: str, args: KafkaEstateArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # The inputs are checked before anything is registered (a map that arrives as an output: when it resolves).
        topology = topology_of(args)
        kubeconfigs = _secret_entries(args.get("kubeconfigs"), _kubeconfig_keys(topology), "kubeconfigs", _KUBECONFIG_PURPOSE)
        client_secrets = _secret_entries(
            args.get("registry_client_secrets"), _registry_users(topology), "registryClientSecrets", _CLIENT_SECRET_PURPOSE
        )
        charts = {k: _plain_string(args, k) for k in ("strimzi_chart", "apicurio_bundle", "cfk_chart")}
        # The component first, then its providers as its children, then the program's estate below it.
        pulumi.ComponentResource.__init__(self, TYPE, name, None, opts)
        self._compose(
            estate.KafkaEstateArgs(
                topology=topology,
                providers=build_providers(topology, kubeconfigs.__getitem__, parent=self),
                strimzi_chart=charts["strimzi_chart"] or strimzi.STRIMZI_CHART,
                apicurio_bundle=charts["apicurio_bundle"] or registry.OPERATOR_BUNDLE,
                cfk_chart=charts["cfk_chart"] or confluent.CFK_REPO,
                registry_client_secrets=client_secrets,
            )
        )
        # _compose set the outputs in the program's shape (snake_case keys, what its stack exports): renamed here.
        program_regions: Mapping[str, Mapping[str, Any]] = cast(Any, self.regions)
        program_clients: Mapping[str, Mapping[str, Any]] = cast(Any, self.clients)
        self.regions = {r: _region(v) for r, v in program_regions.items()}
        self.clients = {u: _client(v) for u, v in program_clients.items()}
        self.register_outputs(
            {
                "caCertPem": self.ca_cert_pem,
                "regions": self.regions,
                "clients": self.clients,
                "flows": self.flows,
                "endpoints": self.endpoints,
            }
        )


def _region(program: Mapping[str, pulumi.Output[str]]) -> Region:
    return Region(
        clusterName=program["cluster_name"],
        namespace=program["namespace"],
        internalBootstrap=program["internal_bootstrap"],
        externalBootstrap=program["external_bootstrap"],
    )


def _client(program: Mapping[str, Any]) -> Client:
    client = Client(
        bootstrapServers=program["bootstrap_servers"],
        bootstrapServersByRegion=program["bootstrap_servers_by_region"],
        regions=program["regions"],
        username=program["username"],
        properties=program["properties"],
        caCertPem=program["ca_cert_pem"],
        password=program["password"],
    )
    if sr := program.get("schema_registry"):
        client["schemaRegistry"] = SchemaRegistryClient(
            url=sr["url"], regionalUrls=sr["regional_urls"], writer=sr["writer"], properties=sr["properties"]
        )
        if "client_secret" in sr:
            client["schemaRegistry"]["clientSecret"] = sr["client_secret"]
    return client


# ------------------------------------------------------------------------------------------ inputs, checked


def topology_of(args: Mapping[str, Any]) -> Topology:
    """The topology from ``topology`` (YAML text) or ``topologyObject``, read by the program's loader: every problem
    in one error, each line as `python -m tools.validate` prints it for a file, the input's name for the path."""
    text, data = args.get("topology"), args.get("topology_object")
    if (text is None) == (data is None):
        which = "both were given" if text is not None else "neither was given"
        raise _refused(
            f"give the topology once: `topology` (the YAML text of a stack file) or `topologyObject` (the same as an object); {which}"
        )
    try:
        if text is not None:
            if not isinstance(text, str):
                raise _refused(
                    f"`topology` must be plain YAML text, known when the program runs (got {_kind(text)}): it decides "
                    "which resources exist, so it cannot come from a resource output or a secret"
                )
            return validate_data(parse_yaml(text.encode("utf-8"), TEXT_SOURCE), TEXT_SOURCE)
        if not isinstance(data, dict) or not _plain(data):
            raise _refused(
                f"`topologyObject` must be a plain object, known when the program runs (got {_kind(data)}): it decides "
                "which resources exist, so no part of it can come from a resource output or a secret"
            )
        # As YAML text through the same reading: the same refusals (size, top-level `x-` keys) and messages.
        raw = yaml.safe_dump(_whole_numbers(data), sort_keys=False, allow_unicode=True).encode("utf-8")
        return validate_data(parse_yaml(raw, OBJECT_SOURCE), OBJECT_SOURCE)
    except TopologyError as exc:
        raise _refused(f"invalid topology:\n{exc}") from None


def _refused(message: str) -> InputPropertiesError:
    """The engine shows the message as the component's problem. An empty list of property errors, not none: the
    SDK's server needs one to build the error (and one naming `topology` would have the engine print its value)."""
    return InputPropertiesError(message, [])


def _kind(value: Any) -> str:
    if isinstance(value, pulumi.Output):
        return "an output"
    return f"a {type(value).__name__}"


def _plain(value: Any) -> bool:
    """Plain data all the way down: no outputs, unknowns, secrets, resources or assets."""
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return not rpc.is_rpc_secret(value) and all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _whole_numbers(value: Any) -> Any:
    """Numbers cross the wire as doubles: 6.0 is the 6 the caller wrote."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


_KUBECONFIG_PURPOSE = "give each `kind: kubeconfig` region's kubeconfig under its `kubernetes.secret_key`"
_CLIENT_SECRET_PURPOSE = (
    "schema_registry.auth needs one client secret per application user (its client secret in the registry's realm)"
)


def _kubeconfig_keys(topology: Topology) -> list[str]:
    return sorted({r.kubernetes.secret_key for r in topology.regions if not isinstance(r.kubernetes, ContextAccess)})


def _registry_users(topology: Topology) -> list[str]:
    """As the program (``registry.client_secrets``): one secret per user where the registry has auth, else none."""
    sr = topology.schema_registry
    return sorted(topology.users) if sr is not None and sr.auth is not None else []


def _secret_entries(given: Any, wanted: list[str], prop: str, purpose: str) -> dict[str, pulumi.Output[str]]:
    """``wanted`` -> its value in the map input ``prop``, each a Pulumi secret. A map whose keys are known is checked
    now; one that arrives as an output (a secret value inside makes the whole map secret on the way in) is checked
    when it resolves, before any value is used."""
    if not wanted:
        return {}
    if given is None:
        raise _refused(f"`{prop}` is missing: {purpose} ({', '.join(wanted)})")
    # Kubeconfigs beyond the topology's are harmless (one map may serve several stacks); a registry secret for a
    # user the topology lacks is a mistake, as the program says of its setting.
    strict = prop == "registryClientSecrets"
    if isinstance(given, dict) and not rpc.is_rpc_secret(given):
        _check_entries(given, wanted, prop, purpose, strict=strict)
        return {k: pulumi.Output.secret(given[k]) for k in wanted}
    whole: pulumi.Output[Any] = pulumi.Output.from_input(given).apply(
        lambda m: _check_entries(m, wanted, prop, purpose, strict=strict)
    )
    return {k: pulumi.Output.secret(whole.apply(_entry(k))) for k in wanted}


def _entry(key: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda entries: str(entries[key])


def _check_entries(given: Any, wanted: list[str], prop: str, purpose: str, *, strict: bool) -> Any:
    if not isinstance(given, dict):
        raise _refused(f"`{prop}` must be a map of strings (got {_kind(given)}): {purpose}")
    missing = [k for k in wanted if k not in given]
    if missing:
        raise _refused(f"`{prop}` has no entry for {', '.join(missing)}: {purpose}")
    unknown = sorted(set(given) - set(wanted)) if strict else []
    if unknown:
        raise _refused(f"`{prop}` names {', '.join(unknown)}, not in the topology; remove them (expected: {', '.join(wanted)})")
    empty = [k for k in wanted if isinstance(given[k], str | None) and not given[k]]
    if empty:
        raise _refused(f"`{prop}` has an empty entry for {', '.join(empty)}: {purpose}")
    return given


_SCHEMA_NAMES = {"strimzi_chart": "strimziChart", "apicurio_bundle": "apicurioBundle", "cfk_chart": "cfkChart"}


def _plain_string(args: Mapping[str, Any], key: str) -> str:
    value = args.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _refused(f"`{_SCHEMA_NAMES[key]}` must be a plain string, known when the program runs (got {_kind(value)})")
    return value


# ------------------------------------------------------------------------------------------ the provider


class EstateProvider(ComponentProvider):
    """The SDK's component provider (what ``component_provider_host`` serves) for ``KafkaEstate``, with two
    additions: the `secret` marks in the schema, and input refusals reported as such (the SDK reports any exception
    a component raises with a Python traceback around it)."""

    def __init__(self) -> None:
        super().__init__([KafkaEstate], PACKAGE, None, VERSION)
        assert self.schema is not None  # inferred by the SDK just now
        self.schema = json.dumps(_finish(json.loads(self.schema)))

    def construct(
        self, name: str, resource_type: str, inputs: Mapping[str, Any], options: pulumi.ResourceOptions | None = None
    ) -> ConstructResult:
        try:
            return super().construct(name, resource_type, inputs, options)  # type: ignore[arg-type]
        except ComponentInitError as exc:
            if isinstance(exc.inner, InputPropertiesError):
                raise exc.inner from None
            raise


def _finish(schema: dict[str, Any]) -> dict[str, Any]:
    """The inferred schema with the `secret` marks, and descriptions as generated SDKs show them: docstrings
    reflowed (one line per paragraph), and not repeated on a map's values or a list's items."""
    inputs = schema["resources"][TYPE]["inputProperties"]
    for name in SECRET_INPUTS:
        inputs[name]["secret"] = True
    for type_name, fields in SECRET_FIELDS.items():
        for name in fields:
            schema["types"][f"{PACKAGE}:index:{type_name}"]["properties"][name]["secret"] = True
    return cast(dict[str, Any], _descriptions(schema))


def _descriptions(node: Any) -> Any:
    if isinstance(node, list):
        return [_descriptions(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _descriptions(v) for k, v in node.items()}
    if isinstance(out.get("description"), str):
        paragraphs = inspect.cleandoc(out["description"]).split("\n\n")
        out["description"] = "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)
    for inner in ("items", "additionalProperties"):
        if isinstance(out.get(inner), dict) and out[inner].get("description") == out.get("description"):
            del out[inner]["description"]
    return out


def schema_json() -> str:
    """The package schema as committed (provider/schema.json): what `pulumi package get-schema provider` prints,
    formatted stably."""
    schema = EstateProvider().schema
    assert schema is not None
    return json.dumps(json.loads(schema), indent=2, sort_keys=True) + "\n"


def serve(argv: list[str]) -> None:
    """Serve the package to the engine: what ``component_provider_host`` does (the SDK's provider server around the
    component provider; it prints the port, then serves until the engine stops it), with ``EstateProvider``, and
    one RPC the SDK's server lacks: ``Attach``, which the engine calls on a provider it attaches to instead of
    starting (``PULUMI_DEBUG_PROVIDERS=kafka-multiregion:<port>``) to tell it the engine's address.

    ``argv``: the engine's address (what the language host passes; none when started to be attached), then flags."""
    import argparse
    import asyncio
    import sys

    import grpc  # type: ignore[import-untyped]
    from google.protobuf import empty_pb2
    from pulumi.provider.server import ProviderServicer
    from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
    from pulumi.runtime.proto import provider_pb2_grpc

    class Servicer(ProviderServicer):  # type: ignore[misc]
        async def Attach(self, request: Any, context: Any) -> Any:  # noqa: N802 - the gRPC method's name
            self.engine_address = request.address
            return empty_pb2.Empty()

    parser = argparse.ArgumentParser(prog="python provider", description="The kafka-multiregion package's plugin")
    parser.add_argument("engine", nargs="?", default="", help="the Pulumi engine's address")
    known, _ = parser.parse_known_args(argv)

    async def run() -> None:
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        servicer = Servicer(EstateProvider(), argv, engine_address=known.engine)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        port = server.add_insecure_port(address="127.0.0.1:0")
        await server.start()
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await server.wait_for_termination()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
