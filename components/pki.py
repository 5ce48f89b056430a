"""The environment's certificate authority and every region's external-listener certificate.

Owns: one CA per environment (so every client and MirrorMaker trusts all regions with one bundle) and, per
region, a key and a certificate signed by it whose SANs are every name a client may use to reach that region
(``components.kube.listener_names``: its own bootstrap name, each broker's advertised name and the
environment-wide failover names). Certificates renew early, before they expire.

Deliberately not here: putting the PEMs into Kubernetes (``components.flavors.strimzi.cluster`` does, as Secrets), and
Strimzi's internal cluster CA (the operator owns it).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_tls as tls

from components.kube import listener_names
from stacks.model import KeyAlgorithm, Topology

# Server certificates for a TLS listener; the CA may only sign.
LEAF_USES = ["digital_signature", "key_encipherment", "server_auth"]
CA_USES = ["cert_signing", "crl_signing", "digital_signature"]


@dataclass(frozen=True)
class PkiArgs:
    topology: Topology


@dataclass(frozen=True)
class ListenerCert:
    cert_chain_pem: pulumi.Output[str]  # the leaf followed by the CA
    private_key_pem: pulumi.Output[str]  # a Pulumi secret


def _key(name: str, algorithm: KeyAlgorithm, parent: pulumi.Resource) -> tls.PrivateKey:
    if algorithm is KeyAlgorithm.ECDSA:
        args = tls.PrivateKeyArgs(algorithm="ECDSA", ecdsa_curve="P256")
    else:
        args = tls.PrivateKeyArgs(algorithm="RSA", rsa_bits=3072)
    return tls.PrivateKey(
        name,
        args,
        opts=pulumi.ResourceOptions(
            parent=parent, additional_secret_outputs=["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"]
        ),
    )


class Pki(pulumi.ComponentResource):
    """The environment CA and one listener certificate per region."""

    ca_cert_pem: pulumi.Output[str]
    """The CA certificate (PEM) every client and MirrorMaker trusts; public."""

    listener_certs: dict[str, ListenerCert]
    """Per region: the listener's certificate chain and its private key (secret)."""

    def __init__(self, name: str, args: PkiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kafka-multiregion:index:Pki", name, None, opts)
        topology = args.topology
        sec = topology.security
        child = pulumi.ResourceOptions(parent=self)
        ca_key = _key(f"{name}-ca-key", sec.key_algorithm, self)
        ca = tls.SelfSignedCert(
            f"{name}-ca",
            tls.SelfSignedCertArgs(
                private_key_pem=ca_key.private_key_pem,
                is_ca_certificate=True,
                subject=tls.SelfSignedCertSubjectArgs(
                    common_name=f"kafka-multiregion {topology.environment} CA", organization="kafka-multiregion"
                ),
                validity_period_hours=sec.ca_validity_days * 24,
                early_renewal_hours=sec.early_renewal_days * 24,
                allowed_uses=CA_USES,
            ),
            opts=child,
        )
        self.ca_cert_pem = ca.cert_pem
        self.listener_certs = {}
        for region_name in topology.region_names:
            region = topology.region(region_name)
            names = listener_names(topology, region)
            key = _key(f"{region_name}-listener-key", sec.key_algorithm, self)
            csr = tls.CertRequest(
                f"{region_name}-listener-csr",
                tls.CertRequestArgs(
                    private_key_pem=key.private_key_pem,
                    subject=tls.CertRequestSubjectArgs(
                        common_name=_common_name(names[0], region_name), organization="kafka-multiregion"
                    ),
                    dns_names=names,
                ),
                opts=child,
            )
            cert = tls.LocallySignedCert(
                f"{region_name}-listener-cert",
                tls.LocallySignedCertArgs(
                    cert_request_pem=csr.cert_request_pem,
                    ca_private_key_pem=ca_key.private_key_pem,
                    ca_cert_pem=ca.cert_pem,
                    validity_period_hours=sec.cert_validity_days * 24,
                    early_renewal_hours=sec.early_renewal_days * 24,
                    allowed_uses=LEAF_USES,
                ),
                opts=child,
            )
            self.listener_certs[region_name] = ListenerCert(
                cert_chain_pem=pulumi.Output.concat(cert.cert_pem, ca.cert_pem),
                private_key_pem=pulumi.Output.secret(key.private_key_pem),
            )
        self.register_outputs({"ca_cert_pem": self.ca_cert_pem})


# X.509 bounds the common name at 64 characters (RFC 5280, ub-common-name); clients check the SANs anyway.
MAX_COMMON_NAME = 64


def _common_name(dns_name: str, region: str) -> str:
    """The region's DNS name when it fits (as every existing certificate has it), else the region code."""
    return dns_name if len(dns_name) <= MAX_COMMON_NAME else region
