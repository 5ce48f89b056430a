"""Monitoring: which metrics, exporters and dashboards a topology asks for.

Owns: ``Monitoring`` (on for prod when unset: ``Topology.monitoring_enabled``).

Deliberately not here: the metrics, alerts and dashboards (``components.monitoring``, ``components.observability``).
"""

from __future__ import annotations

from pydantic import Field

from stacks.model.base import Strict


class Monitoring(Strict):
    enabled: bool | None = Field(default=None, description="Metrics and alerts; on for prod when unset.")
    kafka_exporter: bool = Field(default=True, description="Kafka Exporter for consumer-group lag.")
    cruise_control: bool = Field(default=False, description="Cruise Control for rebalancing.")
    dashboards: bool = Field(default=True, description="Grafana dashboards as ConfigMaps.")
