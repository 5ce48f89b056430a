"""The Pulumi program: load the stack's topology, build providers, build the estate, export its outputs."""

import pulumi

from components import confluent, registry, strimzi
from components.estate import KafkaEstate, KafkaEstateArgs
from components.providers import build_providers
from stacks.loader import TopologyError, load_topology

config = pulumi.Config()
try:
    topology = load_topology(config.require("topology"))
except TopologyError as exc:
    # RunError is reported by Pulumi as a plain message, without a Python traceback.
    raise pulumi.RunError(f"invalid topology:\n{exc}") from None

# strimziChart: where Helm gets the operator chart; a local directory or a mirror where the OCI registry cannot
# be reached (air-gapped clusters, the real-engine tests), the upstream OCI chart otherwise. apicurioBundle: the
# same for the Apicurio Registry operator's install manifests (a local file or a mirror's URL). cfkChart: the same
# for the Confluent for Kubernetes chart (a local chart directory, an OCI reference, or a mirror repository's URL).
try:
    # schema_registry.auth: each application user's client secret in the registry's realm (a secret setting).
    registry_client_secrets = registry.client_secrets(topology, config)
except registry.SettingError as exc:
    raise pulumi.RunError(f"invalid stack settings: {exc}") from None

estate = KafkaEstate(
    topology.environment,
    KafkaEstateArgs(
        topology=topology,
        providers=build_providers(topology, config),
        strimzi_chart=config.get("strimziChart") or strimzi.STRIMZI_CHART,
        apicurio_bundle=config.get("apicurioBundle") or registry.OPERATOR_BUNDLE,
        cfk_chart=config.get("cfkChart") or confluent.CFK_REPO,
        registry_client_secrets=registry_client_secrets,
    ),
)

pulumi.export("ca_cert_pem", estate.ca_cert_pem)
pulumi.export("regions", estate.regions)
pulumi.export("clients", estate.clients)
pulumi.export("flows", estate.flows)
pulumi.export("endpoints", estate.endpoints)
