"""The Pulumi program: check the stack's settings, build providers, build the estate, export its outputs."""

import pulumi

from components.estate import KafkaEstate, KafkaEstateArgs
from components.providers import build_providers
from components.settings import SettingsError, read_settings

config = pulumi.Config()
try:
    # Every setting at once (topology, kubeconfigs, registry client secrets, charts, aws:), before any resource.
    settings = read_settings(config, pulumi.get_stack())
except SettingsError as exc:
    # RunError is reported by Pulumi as a plain message, without a Python traceback.
    raise pulumi.RunError(str(exc)) from None

estate = KafkaEstate(
    settings.topology.environment,
    KafkaEstateArgs(
        topology=settings.topology,
        providers=build_providers(settings.topology, config.require_secret, settings.aws),  # kubeconfigs stay secrets
        strimzi_chart=settings.strimzi_chart,
        apicurio_bundle=settings.apicurio_bundle,
        cfk_chart=settings.cfk_chart,
        registry_client_secrets=settings.registry_client_secrets,
    ),
)

pulumi.export("ca_cert_pem", estate.ca_cert_pem)
pulumi.export("regions", estate.regions)
pulumi.export("clients", estate.clients)
pulumi.export("flows", estate.flows)
pulumi.export("endpoints", estate.endpoints)
