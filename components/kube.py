"""Kubernetes shapes every variant's bodies share, and the two resources that register a body.

Owns: the labels and metadata of every object we generate, a region's Namespace, a Secret's shape (values are
filled in by the component, as Pulumi secrets), the names a region's external listener answers to (they are
certificate SANs and the brokers' advertised names, whatever the flavor), the broker settings every flavor starts
from, Kubernetes quantities as numbers, what protects what holds data (``protected``), and ``namespace_resource``, ``custom_resource`` and
``secret_resource``, which turn a body into a Pulumi resource.

Deliberately not here: anything one flavor or engine decides (``components.flavors.*``, ``components.engines.*``);
the names themselves (``stacks.naming``, ``Topology``).
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from stacks import naming
from stacks.model import Region, Topology

Manifest = dict[str, Any]

ZONE_LABEL = "topology.kubernetes.io/zone"


def labels(topology: Topology, region: str, component: str) -> dict[str, str]:
    return naming.labels(topology.environment, region, component)


def meta(topology: Topology, region: Region, name: str, component: str, **extra: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": region.namespace,
        "labels": {**labels(topology, region.name, component), **extra},
    }


def namespace(topology: Topology, region: Region) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": region.namespace, "labels": labels(topology, region.name, "namespace")},
    }


def secret(topology: Topology, region: Region, name: str, component: str, keys: tuple[str, ...]) -> Manifest:
    """A Secret's shape with placeholder values; the component fills ``stringData`` with secret Outputs."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta(topology, region, name, component),
        "type": "Opaque",
        "stringData": dict.fromkeys(keys, ""),
    }


def bootstrap_names(topology: Topology, region: Region) -> list[str]:
    """Names that resolve to this region's bootstrap: its own, then the environment-wide failover,
    latency or domain names that can point here (a client failing over by DNS must pass hostname checks)."""
    own = topology.region_dns_name(region.name)
    shared = [topology.bootstrap_name, *(topology.domain_dns_name(d) for d in sorted(region.domains))]
    return [own, *(n for n in shared if n is not None and n != own)]


def external_bootstrap(topology: Topology, region: str) -> str:
    """The region's public bootstrap address, whatever the flavor: its own DNS name (the DNS component points it at
    the load balancer) and the port its listener serves clients on."""
    return f"{topology.region_dns_name(region)}:{topology.client_port(region)}"


def listener_names(topology: Topology, region: Region) -> list[str]:
    """Every name a client may reach this region's external listener by; all are certificate SANs."""
    brokers = [topology.broker_dns_name(region.name, b) for b in topology.broker_ids(region.name)]
    return [*bootstrap_names(topology, region), *brokers]


def broker_defaults(region: Region) -> dict[str, Any]:
    """What a production cluster expects unless the topology overrides it.

    Replication factor min(3, brokers) and min ISR one less (at least 1): one broker may be down and
    producers with acks=all keep writing. No unclean leader election (it loses acknowledged records), no
    topic auto-creation (topics are declared, so typos fail instead of creating topics).
    """
    rf = min(3, region.kafka.brokers)
    min_isr = max(1, rf - 1)
    return {
        "default.replication.factor": rf,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": rf,
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": min_isr,
        "unclean.leader.election.enable": False,
        "auto.create.topics.enable": False,
    }


def protected(topology: Topology, region: Region, parent: pulumi.Resource) -> pulumi.ResourceOptions:
    """The options of everything in ``region`` that holds data (its namespace, Kafka, node pools, topics): protected
    (``protect``, per stack) and retained in the cluster if it ever leaves the program (``retainOnDelete``)."""
    # Deleting the namespace deletes the volumes in it; it is as precious as the cluster. A region being
    # decommissioned gives up both protections, so removing it afterwards really removes it.
    guarded = topology.protect and not region.decommission
    return pulumi.ResourceOptions(parent=parent, protect=guarded, retain_on_delete=guarded)


def namespace_resource(name: str, topology: Topology, region: Region, opts: pulumi.ResourceOptions) -> k8s.core.v1.Namespace:
    """The region's Namespace (``namespace``) as ``<name>-namespace``."""
    return k8s.core.v1.Namespace(f"{name}-namespace", metadata=namespace(topology, region)["metadata"], opts=opts)


def operator(
    name: str,
    region: Region,
    *,
    release: str,
    chart: str,
    version: str,
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
    repo: str | None = None,
) -> k8s.helm.v3.Release:
    """A flavor's operator as a Helm release in the region's namespace (``opts`` make it wait for the namespace).
    ``up`` waits for its Deployment (and its CRDs) before any custom resource is sent, and a failed install is
    rolled back."""
    return k8s.helm.v3.Release(
        name,
        k8s.helm.v3.ReleaseArgs(
            name=release,
            chart=chart,
            version=version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo) if repo else None,
            namespace=region.namespace,
            values=values,
            skip_await=False,
            atomic=True,
        ),
        opts=opts,
    )


def quantity_bytes(quantity: str) -> int:
    """A Kubernetes memory or storage quantity (``4Gi``, ``500M``) in bytes."""
    units = {
        "Ki": 2**10,
        "Mi": 2**20,
        "Gi": 2**30,
        "Ti": 2**40,
        "Pi": 2**50,
        "k": 10**3,
        "M": 10**6,
        "G": 10**9,
        "T": 10**12,
        "P": 10**15,
    }
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity)
    assert m, quantity
    return int(float(m.group(1)) * units.get(m.group(2), 1))


def cpu_cores(cpu: str) -> float:
    """A Kubernetes CPU quantity (``500m``, ``2``) in cores."""
    return int(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)


def custom_resource(name: str, body: dict[str, Any], opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """Wrap a builder's manifest as a CustomResource (type token kubernetes:<group/version>:<Kind>)."""
    extra = {k: v for k, v in body.items() if k not in ("apiVersion", "kind", "metadata")}
    return k8s.apiextensions.CustomResource(
        name, api_version=body["apiVersion"], kind=body["kind"], metadata=body["metadata"], opts=opts, **extra
    )


def secret_resource(
    name: str, body: dict[str, Any], data: dict[str, pulumi.Input[str]], opts: pulumi.ResourceOptions
) -> k8s.core.v1.Secret:
    """Wrap a builder's Secret shape, filling ``stringData`` with values kept secret end to end."""
    # The Secret class marks the whole of stringData (and data) secret itself; wrapping each value again would
    # only add Outputs.
    return k8s.core.v1.Secret(name, metadata=body["metadata"], type=body["type"], string_data=data, opts=opts)
