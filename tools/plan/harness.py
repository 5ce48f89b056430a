"""Running the real Pulumi program offline, under Pulumi mocks, and recording everything it registers.

Owns: the mocks (what a provider would answer: ids, echoed state, placeholder PEMs, random passwords returned as
secrets), a monitor that records each registration with its parent, provider, protection and dependencies, and
``run_program``, which executes ``__main__.py`` itself, so the tests and ``tools.plan`` exercise exactly the code
``pulumi up`` runs. ``run_under_mocks`` is the runtime under both
(the benchmark's baselines use it too): one mock monitor, one root stack, and a collector kept quiet meanwhile.

Deliberately not here: judging or printing what was recorded (``tools.plan.cli``, the tests); real keys and
certificates for tests that verify chains and SANs (``tests/pki_mock.py``: mocks derived from ``EstateMocks``, passed
to ``run_program``).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from stacks.model import ContextAccess, Topology
from stacks.model.registry import CLIENT_SECRETS_SETTING

PROJECT = "kafka-multiregion"
ROOT = Path(__file__).resolve().parents[2]
SECRET_SIG = rpc._special_secret_sig


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    provider: str
    protect: bool
    retain_on_delete: bool
    dependencies: list[str]
    inputs: dict[str, Any]  # secrets kept as {SECRET_SIG: ..., "value": ...}
    read: bool = False  # a read of an existing resource (Resource.get), not something the program manages
    ignore_changes: tuple[str, ...] = ()  # properties `pulumi up` leaves as they are in the cloud


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == SECRET_SIG


def unwrap(value: Any) -> Any:
    """The value with secret markers removed (for code that needs the plain data, never for printing)."""
    if is_secret(value):
        return unwrap(value.get("value"))
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def redact(value: Any) -> Any:
    """The value with every secret replaced by '[secret]' (for anything written or printed)."""
    if is_secret(value):
        inner = value.get("value")
        # A secret map (a Secret's stringData) keeps its keys, so the manifest keeps its shape.
        return dict.fromkeys(inner, "[secret]") if isinstance(inner, dict) else "[secret]"
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class RecordingMonitor(pmocks.MockMonitor):
    """The stock mock monitor, plus a record of every registration with the options the engine would see."""

    def __init__(self, mocks: pmocks.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, response.urn, custom=bool(request.custom))
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self._record(request, response.urn, custom=True, read=True)
        return response

    def _record(self, request: Any, urn: str, *, custom: bool, read: bool = False) -> None:
        self.registrations.append(
            Registration(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=custom,
                provider=request.provider,
                protect=bool(getattr(request, "protect", False)),
                retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
                dependencies=list(request.dependencies),
                inputs=_keep_secrets(request.properties if read else request.object),
                read=read,
                ignore_changes=tuple(getattr(request, "ignoreChanges", ())),
            )
        )


def _keep_secrets(struct: Any) -> dict[str, Any]:
    """Inputs as plain data without losing which values are secret (the stock path unwraps them)."""
    return _ints(json_format.MessageToDict(struct)) if struct is not None else {}


def _ints(value: Any) -> Any:
    # protobuf Struct carries every number as a double; manifests want 6, not 6.0.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


class EstateMocks(pmocks.Mocks):
    """What the providers would answer.

    Keys and certificates are deterministic placeholders, so two offline plans are byte-identical (``_pki``; the
    tests that check chains and SANs override it with real ones: ``tests/pki_mock.py``).
    """

    def __init__(self) -> None:
        self.secrets_seen: set[str] = set()

    def new_resource(self, args: pmocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        typ = args.typ
        if typ == "random:index/randomPassword:RandomPassword":
            digest = hashlib.sha256(f"pw:{args.name}".encode()).hexdigest()
            state["result"] = "Pw" + digest[:30]
            self.secrets_seen.add(state["result"])
        elif typ.startswith("tls:index/"):
            state.update(self._pki(typ, args.name, args.inputs))
        elif typ.startswith("pulumi:providers:kubernetes") and isinstance(args.inputs.get("kubeconfig"), str):
            self.secrets_seen.add(args.inputs["kubeconfig"])
        elif typ == "kubernetes:core/v1:Service" and args.resource_id:
            # A read of a Service Strimzi created: answer with a load balancer hostname like AWS's.
            state["status"] = {"loadBalancer": {"ingress": [{"hostname": lb_hostname(args.resource_id)}]}}
        elif typ == "kubernetes:networking.k8s.io/v1:Ingress" and args.resource_id:
            # A read of the Ingress an operator created: its load balancer, in the region of the reading provider.
            region = args.provider.split("::")[3].removeprefix("k8s-") if args.provider else "unknown"
            digest = hashlib.sha256(f"{region}/{args.resource_id}".encode()).hexdigest()[:16]
            state["status"] = {"loadBalancer": {"ingress": [{"hostname": f"k8s-ingress-{digest}.elb.{region}.amazonaws.com"}]}}
        return f"{args.name}-id", state

    def call(self, args: pmocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "aws:route53/getZone:getZone":
            name = str(args.args.get("name", "example.com")).rstrip(".")
            return {"zoneId": zone_id(name), "name": name + ".", "id": zone_id(name)}, []
        return {}, []

    # ------------------------------------------------------------------ pki

    def _pki(self, typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        tag = hashlib.sha256(name.encode()).hexdigest()[:16]
        if typ.endswith(":PrivateKey"):
            key = f"-----BEGIN PRIVATE KEY-----\nmock-{tag}\n-----END PRIVATE KEY-----\n"
            self.secrets_seen.add(key)
            return {"privateKeyPem": key, "publicKeyPem": f"mock-public-{tag}"}
        if typ.endswith(":CertRequest"):
            return {"certRequestPem": f"-----BEGIN CERTIFICATE REQUEST-----\nmock-{tag}\n-----END CERTIFICATE REQUEST-----\n"}
        return {"certPem": f"-----BEGIN CERTIFICATE-----\nmock-{tag}\n-----END CERTIFICATE-----\n"}


def zone_id(zone: str) -> str:
    return "Z" + hashlib.sha256(zone.rstrip(".").encode()).hexdigest()[:12].upper()


def lb_hostname(service_id: str) -> str:
    """A deterministic NLB-style hostname for ``namespace/service`` (the region is the cluster name's prefix)."""
    svc = service_id.rsplit("/", maxsplit=1)[-1]
    region = "-".join(svc.split("-", maxsplit=3)[:3])
    digest = hashlib.sha256(service_id.encode()).hexdigest()[:16]
    return f"{svc.replace('-', '')[:20]}-{digest}.elb.{region}.amazonaws.com"


@dataclass
class Recording:
    topology: Topology
    registrations: list[Registration]
    outputs: dict[str, Any]
    secrets: set[str]

    def of_type(self, type_token: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_token]

    def by_urn(self) -> dict[str, Registration]:
        return {r.urn: r for r in self.registrations}


def fake_config(topology: Topology, stack_file: str) -> dict[str, str]:
    """The stack config a real `pulumi up` would have: the topology path and one kubeconfig per region."""
    config = {f"{PROJECT}:topology": stack_file}
    for region in topology.regions:
        if not isinstance(region.kubernetes, ContextAccess):
            # A recognisable, unique fake; the secret-hygiene tests search every output for it.
            token = hashlib.sha256(f"kubeconfig:{region.name}".encode()).hexdigest()[:24]
            config[f"{PROJECT}:{region.kubernetes.secret_key}"] = (
                f"apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: kubeconfig-secret-{token}\n"
            )
    if topology.schema_registry is not None and topology.schema_registry.auth is not None and topology.users:
        config[f"{PROJECT}:{CLIENT_SECRETS_SETTING}"] = json.dumps(fake_registry_client_secrets(topology.users))
    return config


def fake_registry_client_secrets(users: Iterable[str]) -> dict[str, str]:
    """What an OIDC realm would have issued each user: recognisable and unique, for the secret-hygiene checks."""
    return {u: "registry-client-secret-" + hashlib.sha256(f"registry:{u}".encode()).hexdigest()[:20] for u in sorted(users)}


def run_program(stack_file: str | Path, topology: Topology, *, mocks: EstateMocks | None = None) -> Recording:
    """Execute ``__main__.py`` under mocks with the stack's config; return everything it registered.

    The caller validates the topology first (``stacks.loader.load_topology``) so bad input never reaches here.
    ``mocks``: what the providers answer (``EstateMocks`` unless given; tests pass one issuing real certificates).
    """
    mocks = mocks if mocks is not None else EstateMocks()
    monitor = RecordingMonitor(mocks)
    config = fake_config(topology, str(stack_file))
    mocks.secrets_seen.update(v for k, v in config.items() if not k.endswith(":topology"))
    if secrets := config.get(f"{PROJECT}:{CLIENT_SECRETS_SETTING}"):
        mocks.secrets_seen.update(json.loads(secrets).values())
    main = ROOT / "__main__.py"
    code = compile(main.read_text(encoding="utf-8"), str(main), "exec")

    def program() -> None:
        # exec rather than runpy: the SDK records every caller frame of every resource, and runpy adds three.
        exec(code, {"__name__": "__pulumi_program__", "__file__": str(main)})

    exported = run_under_mocks(program, mocks, monitor, stack=topology.environment, config=config)
    return Recording(topology=topology, registrations=monitor.registrations, outputs=exported, secrets=mocks.secrets_seen)


def run_under_mocks(
    program: Callable[[], None],
    mocks: pmocks.Mocks,
    monitor: pmocks.MockMonitor,
    *,
    stack: str,
    config: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``program`` as a Pulumi program under ``mocks``; return the stack's exports.

    Shared by ``run_program`` and the benchmark's baselines, so both sides pay the same runtime costs. Exports
    are read back serialized, leaf by leaf, so a secret output stays marked as one.
    """
    config = config or {}
    settings.ROOT.set(None)  # a fresh root Stack per run: exports must not leak between runs
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config, secret_keys=[k for k in config if not k.endswith(":topology")])
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    with _fewer_collections():
        _sync_await(run_pulumi_func(program))
        root = settings.get_root_resource()
        struct = _sync_await(rpc.serialize_properties(getattr(root, "outputs", {}), {}))
    return dict(_ints(json_format.MessageToDict(struct)))


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Keep the cyclic garbage collector from walking the whole heap over and over while a program runs.

    Registering a resource allocates hundreds of short-lived objects (tasks, futures, Outputs), so with the
    default thresholds a plan spent half its time in collections that free little. Everything alive before the
    run (modules, the topology) is frozen out of collection, and young collections come 140 times less often.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
