"""The dev estate through the kafka-multiregion package, from a Python program of another team."""

from pathlib import Path

import pulumi
import pulumi_kafka_multiregion as kafka_multiregion

config = pulumi.Config()
topology = Path(config.get("topologyFile") or "../../../stacks/dev.yaml").read_text()

estate = kafka_multiregion.KafkaEstate(
    "estate",
    topology=topology,
    # Keyed by each region's `kubernetes.secret_key` in the topology.
    kubeconfigs={
        "kubeconfig-us-east-1": config.require_secret("kubeconfigUsEast1"),
        "kubeconfig-us-west-2": config.require_secret("kubeconfigUsWest2"),
    },
    strimzi_chart=config.get("strimziChart"),
)

pulumi.export("caCertPem", estate.ca_cert_pem)
pulumi.export("regions", estate.regions)
pulumi.export("clients", estate.clients)  # only each password is secret
pulumi.export("flows", estate.flows)
pulumi.export("endpoints", estate.endpoints)
pulumi.export("ordersBootstrap", estate.clients.apply(lambda c: c["orders-service"].bootstrap_servers))
