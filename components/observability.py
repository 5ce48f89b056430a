"""Monitoring of one region as Pulumi resources: exporter rules, PodMonitors, alert rules, dashboards.

Owns: wrapping ``components.monitoring`` builders for a region. The exporter-rule ConfigMaps are created
before the Kafka and MirrorMaker resources that reference them (``metrics_config_maps``).

Deliberately not here: what to alert on (``components.monitoring``), the Route53 health-check alarms
(``components.dns``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import monitoring, variants
from components.kube import custom_resource
from stacks.model import Topology


@dataclass(frozen=True)
class ObservabilityArgs:
    topology: Topology
    region: str
    namespace: pulumi.Resource | None = None  # the region's Namespace: everything here is created in it


class Observability(pulumi.ComponentResource):
    """Exporter rules, scraping, alerting and dashboards for one region."""

    metrics_config_maps: list[k8s.core.v1.ConfigMap]
    """The JMX exporter rule ConfigMaps; Kafka and MirrorMaker resources wait for them."""

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kafka-multiregion:index:Observability", name, None, opts)
        t = args.topology
        region = t.region(args.region)
        child = pulumi.ResourceOptions(parent=self, depends_on=[args.namespace] if args.namespace else None)
        self.metrics_config_maps = [
            k8s.core.v1.ConfigMap(f"{name}-{body['metadata']['name']}", metadata=body["metadata"], data=body["data"], opts=child)
            for body in monitoring.metrics_config_maps(t, region)
        ]
        for body in variants.flavor(t).pod_monitors(t, region):  # what scrapes the flavor's pods
            custom_resource(f"{name}-podmonitor-{body['metadata']['name']}", body, child)
        custom_resource(f"{name}-rules", monitoring.prometheus_rule(t, region), child)
        if t.monitoring.dashboards:
            for body in monitoring.dashboard_config_maps(t, region):
                k8s.core.v1.ConfigMap(
                    f"{name}-{body['metadata']['name']}", metadata=body["metadata"], data=body["data"], opts=child
                )
        self.register_outputs({})
