"""Building the per-region providers, once, in one place.

Owns: one ``pulumi_kubernetes.Provider`` and one ``pulumi_aws.Provider`` per region, from the topology's
access settings (a kubeconfig in a Pulumi secret config key, or a context name). No AWS provider at all when
the topology has no ``dns`` section (DNS managed elsewhere): nothing else uses AWS, and a provider resource
alone would make the engine load the AWS plugin. Components receive these
and never build their own, so one component class serves every region and a resource can never land in the
wrong region by a default provider.

Deliberately not here: anything region-specific beyond credentials (components decide what to create).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from stacks.model import ContextAccess, Topology

# Route53 is global, and publishes its health-check metrics in us-east-1 only: alarms on them live there.
GLOBAL_AWS_REGION = "us-east-1"


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


def build_providers(topology: Topology, config: pulumi.Config) -> Providers:
    """One Kubernetes and one AWS provider per region, keyed by region name, and the global AWS provider."""
    with_aws = topology.dns is not None
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
            # require_secret keeps the kubeconfig a secret in the state and in every output.
            k8s_args = k8s.ProviderArgs(
                kubeconfig=config.require_secret(access.secret_key), enable_config_map_mutable=True, enable_secret_mutable=True
            )
        providers[name] = RegionProviders(
            kubernetes=k8s.Provider(f"k8s-{name}", k8s_args),
            aws=aws.Provider(f"aws-{name}", aws.ProviderArgs(region=name)) if with_aws else None,
        )
    global_aws = aws.Provider("aws-global", aws.ProviderArgs(region=GLOBAL_AWS_REGION)) if with_aws else None
    return Providers(regions=providers, global_aws=global_aws)
