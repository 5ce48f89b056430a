"""Building the per-region providers, once, in one place.

Owns: one ``pulumi_kubernetes.Provider`` and one ``pulumi_aws.Provider`` per region, from the topology's
access settings (a kubeconfig in a Pulumi secret config key, or a context name). No AWS provider at all when
the topology has no ``dns`` section (DNS managed elsewhere): nothing else uses AWS, and a provider resource
alone would make the engine load the AWS plugin. Components receive these
and never build their own, so one component class serves every region and a resource can never land in the
wrong region by a default provider.

Also owns which of the stack's ``aws:`` settings those AWS providers take (``read_aws``). Explicit providers do
not read the stack's ``aws:`` namespace the way Pulumi's default AWS provider does, so without this an
``aws:profile`` or ``aws:assumeRoles`` a Pulumi user set would be silently ignored: the settings in
``AWS_SETTINGS`` are passed to every AWS provider, ``aws:region`` is not (each provider is pinned to its
region), static keys are refused (they belong in the environment, not the stack), and any other ``aws:``
setting draws a warning that it is not used. Everything else comes from the environment as the AWS SDK finds it.

Deliberately not here: anything region-specific beyond credentials (components decide what to create); checking
the program's own settings (``components.settings``, which collects the problems ``read_aws`` reports).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from stacks.model import ContextAccess, Topology

# Route53 is global, and publishes its health-check metrics in us-east-1 only: alarms on them live there.
GLOBAL_AWS_REGION = "us-east-1"

# The stack's aws: settings every AWS provider of the program takes (setting -> ProviderArgs keyword), and the
# shape each must have. Credentials selection only: these decide who the program is in AWS, never what it builds.
AWS_SETTINGS: dict[str, tuple[str, str]] = {
    "profile": ("profile", "string"),
    "sharedConfigFiles": ("shared_config_files", "list"),
    "sharedCredentialsFiles": ("shared_credentials_files", "list"),
    "assumeRoles": ("assume_roles", "roles"),
    "allowedAccountIds": ("allowed_account_ids", "list"),
    "forbiddenAccountIds": ("forbidden_account_ids", "list"),
}
# The keys of one aws:assumeRoles entry, as pulumi-aws 7 names them (-> ProviderAssumeRoleArgs keyword).
ASSUME_ROLE_KEYS = {
    "roleArn": "role_arn",
    "sessionName": "session_name",
    "externalId": "external_id",
    "duration": "duration",
    "policy": "policy",
    "policyArns": "policy_arns",
    "sourceIdentity": "source_identity",
    "tags": "tags",
    "transitiveTagKeys": "transitive_tag_keys",
}
# Static keys in the stack would be a second place for credentials that rotate; the SDK reads them from the
# environment (or a profile) for every provider alike.
AWS_REFUSED = {
    "accessKey": "AWS_ACCESS_KEY_ID",
    "secretKey": "AWS_SECRET_ACCESS_KEY",
    "token": "AWS_SESSION_TOKEN",
}


@dataclass(frozen=True)
class AwsSettings:
    """What every AWS provider of the program takes from the stack's ``aws:`` settings (ProviderArgs keywords)."""

    args: Mapping[str, Any] = field(default_factory=dict)

    def provider_args(self, region: str) -> aws.ProviderArgs:
        kwargs = dict(self.args)
        if "assume_roles" in kwargs:
            kwargs["assume_roles"] = [aws.ProviderAssumeRoleArgs(**role) for role in kwargs["assume_roles"]]
        return aws.ProviderArgs(region=region, **kwargs)


def _stack_aws_keys() -> list[str]:
    """Every aws: setting the stack has (the SDK offers no listing; its config store is the one place)."""
    from pulumi.runtime import config as runtime_config

    keys = {*runtime_config.CONFIG.get(), *runtime_config.get_config_env()}
    return sorted(k.removeprefix("aws:") for k in keys if k.startswith("aws:"))


def read_aws(stack: str) -> tuple[AwsSettings, list[str]]:
    """The stack's aws: settings the providers take, and every problem with one of them (with its fix)."""
    config = pulumi.Config("aws")
    args: dict[str, Any] = {}
    problems: list[str] = []
    for key in _stack_aws_keys():
        if key in AWS_REFUSED:
            problems.append(
                f"aws:{key}: static AWS keys are not taken from the stack; remove it (`pulumi config rm --stack {stack} "
                f"aws:{key}`) and use a profile (aws:profile) or the environment ({AWS_REFUSED[key]})"
            )
        elif key == "assumeRole":
            problems.append(
                f"aws:assumeRole is pulumi-aws 6's form; pulumi-aws 7 reads a list: `pulumi config rm --stack {stack} "
                f"aws:assumeRole` then `pulumi config set --stack {stack} --path 'aws:assumeRoles[0].roleArn' ROLE_ARN`"
            )
        elif key not in AWS_SETTINGS and key != "region":
            # A setting the default provider would honour: say it is not used rather than ignore it silently.
            pulumi.log.warn(
                f"aws:{key} is set but this program's AWS providers do not take it (they take aws:"
                + ", aws:".join(AWS_SETTINGS)
                + "; aws:region is per provider)"
            )
    for key, (keyword, shape) in AWS_SETTINGS.items():
        raw = config.get(key)
        if raw is None:
            continue
        value: Any = raw
        if shape != "string":
            try:
                value = json.loads(raw)
            except ValueError:
                value = None
        wrong = _shape_problem(key, shape, value)
        if wrong:
            problems.append(wrong.replace("STACK", stack))
        else:
            args[keyword] = value
    if "assume_roles" in args:
        args["assume_roles"] = [{ASSUME_ROLE_KEYS[k]: v for k, v in role.items()} for role in args["assume_roles"]]
    return AwsSettings(args), problems


def _shape_problem(key: str, shape: str, value: Any) -> str | None:
    if shape == "string":
        return None if isinstance(value, str) and value else f"aws:{key} is empty; set it or remove it"
    if shape == "list":
        if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            return None
        return f"aws:{key} must be a list of strings; set it with `pulumi config set --stack STACK --path 'aws:{key}[0]' VALUE`"
    if not (isinstance(value, list) and value and all(isinstance(r, dict) for r in value)):
        return (
            f"aws:{key} must be a list of roles; set it with "
            f"`pulumi config set --stack STACK --path 'aws:{key}[0].roleArn' ROLE_ARN`"
        )
    for i, role in enumerate(value):
        unknown = sorted(set(role) - set(ASSUME_ROLE_KEYS))
        if unknown:
            return f"aws:{key}[{i}] has unknown key(s) {', '.join(unknown)}; known keys: {', '.join(ASSUME_ROLE_KEYS)}"
        if not isinstance(role.get("roleArn"), str) or not role["roleArn"]:
            return (
                f"aws:{key}[{i}] has no roleArn; run `pulumi config set --stack STACK --path 'aws:{key}[{i}].roleArn' ROLE_ARN`"
            )
    return None


@dataclass(frozen=True)
class RegionProviders:
    kubernetes: k8s.Provider
    aws: aws.Provider | None  # None when DNS is managed elsewhere

    @property
    def all(self) -> list[pulumi.ProviderResource]:
        """For ``ResourceOptions(providers=...)`` of a region's components."""
        return [p for p in (self.kubernetes, self.aws) if p is not None]


@dataclass(frozen=True)
class Providers:
    regions: dict[str, RegionProviders]
    global_aws: aws.Provider | None  # us-east-1: hosted-zone lookup and the alarms on Route53 health checks


def build_providers(
    topology: Topology,
    kubeconfig: Callable[[str], pulumi.Input[str]],
    aws_settings: AwsSettings | None = None,
    parent: pulumi.Resource | None = None,
) -> Providers:
    """One Kubernetes and one AWS provider per region, keyed by region name, and the global AWS provider; every
    AWS provider with the stack's credential settings (``read_aws``, checked before anything is registered).
    ``kubeconfig`` gives a ``kind: kubeconfig`` region's kubeconfig (a secret) by its ``secret_key``: the stack's
    setting for the program, the component's input for the package (which also makes itself the parent)."""
    aws_settings = aws_settings or AwsSettings()
    with_aws = topology.dns is not None
    opts = pulumi.ResourceOptions(parent=parent)
    providers = {}
    for name in topology.region_names:
        region = topology.region(name)
        access = region.kubernetes
        # ConfigMaps and Secrets change in place. The provider's default replaces one whose data changes, and with
        # our fixed names that is delete-then-create: a dashboard gone for a moment, a KafkaUser's password Secret
        # missing while the User Operator reconciles, and a preview that says "replace" where the offline plan
        # (and the reviewer) sees an update. The real engine found it: the tenants dashboard on adding a user.
        if isinstance(access, ContextAccess):
            k8s_args = k8s.ProviderArgs(context=access.context, enable_config_map_mutable=True, enable_secret_mutable=True)
        else:
            k8s_args = k8s.ProviderArgs(
                kubeconfig=kubeconfig(access.secret_key), enable_config_map_mutable=True, enable_secret_mutable=True
            )
        providers[name] = RegionProviders(
            kubernetes=k8s.Provider(f"k8s-{name}", k8s_args, opts),
            aws=aws.Provider(f"aws-{name}", aws_settings.provider_args(name), opts) if with_aws else None,
        )
    global_aws = aws.Provider("aws-global", aws_settings.provider_args(GLOBAL_AWS_REGION), opts) if with_aws else None
    return Providers(regions=providers, global_aws=global_aws)
