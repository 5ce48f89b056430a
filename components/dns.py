"""Route53: health checks per region and the records of ``components.dns_records``, pointing at real endpoints.

Owns: reading each region's load-balancer hostnames from the Services its cluster flavor creates for the public listener
(after the Kafka resource is Ready; the topology's ``endpoint_override`` wins) and from the Ingress the Apicurio
operator creates for a registry region's registry (after the ApicurioRegistry3 is Ready), the Route53 health checks
(endpoint checks: TCP, or CloudWatch-metric with its alarm for private endpoints; the switch and gate of each
failover group), and the records with their routing policies. Each region's records and health checks use that
region's AWS provider, so a region leaves with its own DNS.

Deliberately not here: which records exist (``components.dns_records``); providers (passed in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import variants
from components.dns_records import (
    Bootstrap,
    Broker,
    CheckRef,
    CheckRole,
    CheckType,
    DnsName,
    HealthCheckSpec,
    RegistryIngress,
    health_checks,
    records,
)
from components.providers import Providers
from stacks import naming
from stacks.model import ListenerType, Topology

ALARM_NAMESPACE = "KafkaMultiregion"
ALARM_METRIC = "BootstrapReachable"


@dataclass(frozen=True)
class DnsArgs:
    topology: Topology
    providers: Providers
    kafkas: dict[str, pulumi.CustomResource]  # each region's Kafka resource: its Services exist once it is Ready
    # each registry region's ApicurioRegistry3: its Ingress exists once it is Ready
    registries: dict[str, pulumi.CustomResource] = field(default_factory=dict)


def _hostname(service: k8s.core.v1.Service | k8s.networking.v1.Ingress) -> pulumi.Output[str]:
    """The load balancer's hostname (or IP) from a Service's or an Ingress's status."""

    def pick(status: Any) -> str:
        lb = getattr(status, "load_balancer", None)
        ingress = (getattr(lb, "ingress", None) or [None])[0]
        return str(getattr(ingress, "hostname", None) or getattr(ingress, "ip", None) or "")

    return service.status.apply(pick)


def _read_lb_hostname(
    key: str, namespace: str, service: str, kafka: pulumi.CustomResource, opts: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    """Read a Service the cluster flavor's operator created and return its load balancer's hostname.

    The id depends on the Kafka resource's id: unknown during a first preview, so the read waits for `up`
    (when the Kafka is Ready and its Services exist) instead of failing on a Service that is not there yet.
    """
    sid = pulumi.Output.all(kafka.id).apply(lambda _: f"{namespace}/{service}")
    return _hostname(k8s.core.v1.Service.get(key, sid, opts=opts))


def _read_ingress_hostname(
    key: str, namespace: str, registry: pulumi.CustomResource, opts: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    """The load balancer of the Ingress the Apicurio operator made for a registry, read once the registry is Ready
    (its id known only then, as for ``_read_lb_hostname``)."""
    iid = pulumi.Output.all(registry.id).apply(lambda _: f"{namespace}/{naming.registry_ingress()}")
    return _hostname(k8s.networking.v1.Ingress.get(key, iid, opts=opts))


class Dns(pulumi.ComponentResource):
    """Health checks and records for every DNS name of the environment."""

    endpoints: dict[str, pulumi.Output[str]]
    """Region → the hostname its bootstrap records point at."""
    health_check_ids: dict[str, pulumi.Output[str]]
    """Region → its endpoint health check's id."""

    def __init__(self, name: str, args: DnsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kafka-multiregion:index:Dns", name, None, opts)
        t = args.topology
        home = args.providers.global_aws
        if t.dns is None or home is None:
            raise ValueError("Dns is only built for a topology with a dns section (and its AWS providers)")
        zone = aws.route53.get_zone_output(
            name=t.dns.zone, private_zone=False, opts=pulumi.InvokeOptions(provider=home, parent=self)
        )
        self.endpoints = {}
        brokers: dict[tuple[str, int], pulumi.Output[str]] = {}
        flavor = variants.flavor(t)  # which Services hold the load balancers
        ingresses: dict[str, pulumi.Output[str]] = {}
        for name_ in t.region_names:
            region = t.region(name_)
            kafka = args.kafkas[name_]
            read = pulumi.ResourceOptions(parent=self, provider=args.providers.regions[name_].kubernetes)

            if region.endpoint_override:
                self.endpoints[name_] = pulumi.Output.from_input(region.endpoint_override)
            else:
                svc = flavor.bootstrap_service(region)
                self.endpoints[name_] = _read_lb_hostname(f"{name_}-bootstrap-service", region.namespace, svc, kafka, read)
            for b in t.broker_ids(name_):
                if region.kafka.listener_type is ListenerType.LOADBALANCER:
                    svc = flavor.broker_service(region, b)
                    brokers[(name_, b)] = _read_lb_hostname(f"{name_}-broker-{b}-service", region.namespace, svc, kafka, read)
                else:
                    brokers[(name_, b)] = self.endpoints[name_]  # one address routes to every broker (model rule)
            if name_ in args.registries:
                ingresses[name_] = _read_ingress_hostname(
                    f"{name_}-registry-ingress", region.namespace, args.registries[name_], read
                )
        self.health_check_ids = {}
        ids: dict[CheckRef, pulumi.Output[str]] = {}
        for spec in health_checks(t):  # children come first, so a gate can name them
            check = self._health_check(t, spec, ids, _regional_aws(args.providers, spec.region))
            ids[spec.ref] = check.id
            if spec.ref.role is not CheckRole.ENDPOINT:
                continue
            self.health_check_ids[spec.region] = check.id
            if t.monitoring_enabled:
                # Route53 publishes health-check metrics in us-east-1 only, hence the global provider.
                aws.cloudwatch.MetricAlarm(
                    f"{spec.region}-health-check-alarm",
                    aws.cloudwatch.MetricAlarmArgs(
                        name=f"kafka-multiregion-{t.environment}-{spec.region}-health-check",
                        alarm_description=f"Route53 considers Kafka in {spec.region} down: DNS is failing clients over",
                        namespace="AWS/Route53",
                        metric_name="HealthCheckStatus",
                        dimensions={"HealthCheckId": check.id},
                        statistic="Minimum",
                        period=60,
                        evaluation_periods=1,
                        threshold=1,
                        comparison_operator="LessThanThreshold",
                        treat_missing_data="breaching",
                    ),
                    opts=pulumi.ResourceOptions(parent=self, provider=home),
                )
        for rec in records(t):
            target = rec.target
            value: pulumi.Input[str]
            if isinstance(target, Bootstrap):
                value = self.endpoints[target.region]
            elif isinstance(target, Broker):
                value = brokers[(target.region, target.node)]
            elif isinstance(target, RegistryIngress):
                value = ingresses[target.region]
            else:
                assert isinstance(target, DnsName)
                value = target.name
            provider = _regional_aws(args.providers, rec.region) if rec.region else home
            aws.route53.Record(
                f"{name}-{rec.key}",
                aws.route53.RecordArgs(
                    zone_id=zone.zone_id,
                    name=rec.name,
                    type="CNAME",
                    ttl=rec.ttl,
                    records=[value],
                    set_identifier=rec.set_identifier,
                    health_check_id=ids[rec.health_check] if rec.health_check else None,
                    failover_routing_policies=[aws.route53.RecordFailoverRoutingPolicyArgs(type=rec.failover)]
                    if rec.failover
                    else None,
                    latency_routing_policies=(
                        [aws.route53.RecordLatencyRoutingPolicyArgs(region=rec.latency_region)] if rec.latency_region else None
                    ),
                    geolocation_routing_policies=([_geo(rec.geolocation)] if rec.geolocation else None),
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
        self.register_outputs({"endpoints": self.endpoints, "health_check_ids": self.health_check_ids})

    def _health_check(
        self, t: Topology, spec: HealthCheckSpec, ids: dict[CheckRef, pulumi.Output[str]], provider: aws.Provider
    ) -> aws.route53.HealthCheck:
        opts = pulumi.ResourceOptions(parent=self, provider=provider)
        tags = spec.tags
        if spec.type is CheckType.CALCULATED:
            if spec.ref.role is CheckRole.SWITCH:
                # tools.failover turns a switch off by inverting it and tagging who did: `pulumi up` (with or
                # without --refresh) must leave both as they are, or it would fail clients back by itself.
                opts = pulumi.ResourceOptions(parent=self, provider=provider, ignore_changes=["invertHealthcheck", "tags"])
            return aws.route53.HealthCheck(
                spec.key,
                aws.route53.HealthCheckArgs(
                    type="CALCULATED",
                    child_healthchecks=[ids[c] for c in spec.children],
                    child_health_threshold=spec.threshold,
                    tags=tags,
                ),
                opts=opts,
            )
        if spec.type is CheckType.TCP:
            return aws.route53.HealthCheck(
                spec.key,
                aws.route53.HealthCheckArgs(
                    type="TCP",
                    fqdn=self.endpoints[spec.region],
                    port=spec.port,
                    request_interval=spec.interval,
                    failure_threshold=spec.failure_threshold,
                    tags=tags,
                ),
                opts=opts,
            )
        # Route53 checkers sit outside the VPC: a private endpoint is judged by an alarm on a metric that an
        # in-VPC probe publishes (KafkaMultiregion/BootstrapReachable, 1 when a TLS handshake succeeds).
        alarm = aws.cloudwatch.MetricAlarm(
            f"{spec.region}-bootstrap-alarm",
            aws.cloudwatch.MetricAlarmArgs(
                name=spec.alarm_name,
                namespace=ALARM_NAMESPACE,
                metric_name=ALARM_METRIC,
                dimensions={"Environment": t.environment, "Region": spec.region},
                statistic="Minimum",
                period=60,
                evaluation_periods=spec.failure_threshold,
                threshold=1,
                comparison_operator="LessThanThreshold",
                treat_missing_data="breaching",
            ),
            opts=opts,
        )
        return aws.route53.HealthCheck(
            spec.key,
            aws.route53.HealthCheckArgs(
                type="CLOUDWATCH_METRIC",
                cloudwatch_alarm_name=alarm.name,
                cloudwatch_alarm_region=spec.region,
                insufficient_data_health_status="Unhealthy",
                tags=tags,
            ),
            opts=opts,
        )


def _regional_aws(providers: Providers, region: str) -> aws.Provider:
    provider = providers.regions[region].aws
    if provider is None:
        raise ValueError(f"no AWS provider for {region}: the topology has no dns section")
    return provider


def _geo(code: str) -> aws.route53.RecordGeolocationRoutingPolicyArgs:
    if code == "*":
        return aws.route53.RecordGeolocationRoutingPolicyArgs(country="*")
    if len(code) == 2 and code not in {"EU", "NA", "SA", "AS", "AF", "OC", "AN"}:
        return aws.route53.RecordGeolocationRoutingPolicyArgs(country=code)
    return aws.route53.RecordGeolocationRoutingPolicyArgs(continent=code)
