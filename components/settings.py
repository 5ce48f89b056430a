"""The stack settings the program reads, checked all at once before anything is registered.

Owns: which settings a stack needs for its topology and how each is set (``topology``; ``kubeconfig-<region>``,
a secret, per region whose ``kubernetes`` is ``kind: kubeconfig``; ``registryClientSecrets``, a secret map, with
``schema_registry.auth``; the optional ``strimziChart``, ``apicurioBundle`` and ``cfkChart``; and, with a ``dns``
section, the ``aws:`` settings the AWS providers take), reading them, and ``SettingsError``: one message naming
every missing or unsafe setting with the exact ``pulumi config set`` command that fixes it, so a new stack is
set up in one round rather than one failed ``up`` per setting. ``Pulumi.yaml`` declares the same settings for
``pulumi config`` (a test holds the two together).

Deliberately not here: what a setting means to the estate (the components that take it), the topology's own
rules (``stacks.loader``, ``stacks.rules``), the registry secrets' rules against the users
(``components.registry.client_secrets``) and which ``aws:`` settings the providers take
(``components.providers.read_aws``); both report into the one message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

import pulumi

from components import registry
from components.flavors.confluent import bodies as confluent
from components.flavors.strimzi import bodies as strimzi
from components.providers import AwsSettings, read_aws
from stacks.loader import TopologyError, load_topology
from stacks.model import ContextAccess, Topology
from stacks.model.registry import CLIENT_SECRETS_SETTING

TOPOLOGY = "topology"


class OptionalSetting(NamedTuple):
    """A setting with a default in the code (Pulumi.yaml declares the same default)."""

    key: str
    default: str
    what: str


# Where Helm and the Kubernetes provider get the operators: the upstream locations by default; a local directory,
# file or a mirror where those cannot be reached (air-gapped clusters, the real-engine tests).
STRIMZI_CHART = OptionalSetting("strimziChart", strimzi.STRIMZI_CHART, "the Strimzi operator's Helm chart")
APICURIO_BUNDLE = OptionalSetting("apicurioBundle", registry.OPERATOR_BUNDLE, "the Apicurio Registry operator's install bundle")
CFK_CHART = OptionalSetting("cfkChart", confluent.CFK_REPO, "the Confluent for Kubernetes chart's repository")
OPTIONAL = (STRIMZI_CHART, APICURIO_BUNDLE, CFK_CHART)


class SettingsError(Exception):
    """Settings the stack lacks or holds unsafely; the message names each with its fix, one per line."""


@dataclass(frozen=True)
class Settings:
    topology: Topology
    strimzi_chart: str
    apicurio_bundle: str
    cfk_chart: str
    registry_client_secrets: dict[str, pulumi.Output[str]]
    aws: AwsSettings


def kubeconfig_keys(topology: Topology) -> dict[str, str]:
    """Setting key -> the region reached with it, for every region whose kubeconfig is a stack secret."""
    keys: dict[str, str] = {}
    for region in topology.regions:
        if not isinstance(region.kubernetes, ContextAccess):
            keys.setdefault(region.kubernetes.secret_key, region.name)
    return keys


def set_kubeconfig(stack: str, key: str, region: str) -> str:
    return f"pulumi config set --secret --stack {stack} {key} < path/to/{region}.kubeconfig"


def set_client_secret(stack: str, user: str) -> str:
    return f"pulumi config set --secret --stack {stack} --path '{CLIENT_SECRETS_SETTING}.{user}' CLIENT_SECRET"


def read_settings(config: pulumi.Config, stack: str) -> Settings:
    """Every setting the program reads, checked; ``SettingsError`` lists all that are missing or unsafe."""
    path = config.get(TOPOLOGY)
    if not path:
        raise SettingsError(
            _message(stack, [f"{TOPOLOGY} is not set: `pulumi config set --stack {stack} {TOPOLOGY} stacks/{stack}.yaml`"])
        )
    try:
        topology = load_topology(path)
    except TopologyError as exc:
        # Every other setting depends on the topology (which kubeconfigs, whether AWS is used): fix it first.
        raise SettingsError(f"invalid topology:\n{exc}") from None
    problems: list[str] = []
    for key, region in kubeconfig_keys(topology).items():
        command = set_kubeconfig(stack, key, region)
        if config.get(key) is None:
            problems.append(f"{key} is not set ({region}'s cluster): `{command}`")
        elif not pulumi.runtime.is_config_secret(config.full_key(key)):
            problems.append(f"{key} is stored in plain text: `pulumi config rm --stack {stack} {key}`, then `{command}`")
    client_secrets = _registry_client_secrets(topology, config, stack, problems)
    charts = {}
    for setting in OPTIONAL:
        value = config.get(setting.key)
        if value is not None and not value.strip():
            problems.append(
                f"{setting.key} is empty: remove it (`pulumi config rm --stack {stack} {setting.key}`) for {setting.default}"
            )
        charts[setting.key] = value or setting.default
    aws_settings = AwsSettings()
    if topology.dns is not None:  # without DNS in Route53 there is no AWS provider to configure
        aws_settings, aws_problems = read_aws(stack)
        problems += aws_problems
    if problems:
        raise SettingsError(_message(stack, problems))
    return Settings(
        topology=topology,
        strimzi_chart=charts[STRIMZI_CHART.key],
        apicurio_bundle=charts[APICURIO_BUNDLE.key],
        cfk_chart=charts[CFK_CHART.key],
        registry_client_secrets=client_secrets,
        aws=aws_settings,
    )


def _registry_client_secrets(
    topology: Topology, config: pulumi.Config, stack: str, problems: list[str]
) -> dict[str, pulumi.Output[str]]:
    sr = topology.schema_registry
    if sr is None or sr.auth is None or not topology.users:
        return {}
    try:
        given = config.get_object(CLIENT_SECRETS_SETTING)
    except json.JSONDecodeError:
        given = None
    if not given:  # unset, or Pulumi.yaml's default {}: one command per user
        problems += [
            f"{CLIENT_SECRETS_SETTING}.{user} is not set (its client secret in the registry's realm): "
            f"`{set_client_secret(stack, user)}`"
            for user in sorted(topology.users)
        ]
        return {}
    try:
        return registry.client_secrets(topology, config)
    except registry.SettingError as exc:
        problems.append(str(exc))
        return {}


def _message(stack: str, problems: list[str]) -> str:
    lines = [f"stack {stack!r} is missing settings or holds them unsafely ({len(problems)}); nothing was registered:"]
    return "\n".join([*lines, *(f"  {p}" for p in problems)])
