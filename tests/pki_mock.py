"""Test support: real keys and certificates for the mocks, issued with ``cryptography`` from what pulumi-tls was asked.

Owns: turning the inputs of ``tls.PrivateKey``, ``tls.SelfSignedCert``, ``tls.CertRequest`` and
``tls.LocallySignedCert`` into the PEMs the provider would return (``issue``), and ``RealPkiMocks``, the program's
mocks answering with them (``program(..., real_pki=True)`` in ``conftest.py``), so tests can verify chains and SANs
and the end-to-end test can serve them from real brokers. Only tests use it: nothing here runs under ``pulumi up``
or in a tool (``tools.plan`` answers with placeholders, so two plans are byte-identical).

Deliberately not here: the rest of the mocks (``tools.plan.harness.EstateMocks``).
"""

from __future__ import annotations

import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tools.plan.harness import EstateMocks, unwrap

USES = {
    "digital_signature": "digital_signature",
    "key_encipherment": "key_encipherment",
    "cert_signing": "key_cert_sign",
    "crl_signing": "crl_sign",
}


def _name(subject: dict[str, Any] | None) -> x509.Name:
    subject = subject or {}
    attrs = []
    if subject.get("organization"):
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject["organization"]))
    if subject.get("commonName"):
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, subject["commonName"]))
    return x509.Name(attrs)


def _load_key(pem: Any) -> Any:
    return serialization.load_pem_private_key(str(unwrap(pem)).encode(), password=None)


def _build(
    *, subject: x509.Name, issuer: x509.Name, public_key: Any, signer: Any, inputs: dict[str, Any], is_ca: bool, sans: list[str]
) -> str:
    now = datetime.datetime.now(datetime.UTC)
    hours = int(inputs.get("validityPeriodHours", 24))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=hours))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    uses = set(inputs.get("allowedUses", []))
    flags = {v: (k in uses) for k, v in USES.items()}
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=flags["digital_signature"],
            content_commitment=False,
            key_encipherment=flags["key_encipherment"],
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=flags["key_cert_sign"],
            crl_sign=flags["crl_sign"],
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    if "server_auth" in uses or "client_auth" in uses:
        ekus = [ExtendedKeyUsageOID.SERVER_AUTH] if "server_auth" in uses else []
        ekus += [ExtendedKeyUsageOID.CLIENT_AUTH] if "client_auth" in uses else []
        builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    cert = builder.sign(signer, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def issue(typ: str, inputs: dict[str, Any]) -> dict[str, Any]:
    if typ.endswith(":PrivateKey"):
        key: Any
        if inputs.get("algorithm") == "RSA":
            key = rsa.generate_private_key(public_exponent=65537, key_size=int(inputs.get("rsaBits", 2048)))
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        return {"privateKeyPem": pem.decode(), "publicKeyPem": pub.decode()}
    if typ.endswith(":SelfSignedCert"):
        key = _load_key(inputs["privateKeyPem"])
        name = _name(inputs.get("subject"))
        return {
            "certPem": _build(
                subject=name,
                issuer=name,
                public_key=key.public_key(),
                signer=key,
                inputs=inputs,
                is_ca=bool(inputs.get("isCaCertificate")),
                sans=list(inputs.get("dnsNames", [])),
            )
        }
    if typ.endswith(":CertRequest"):
        key = _load_key(inputs["privateKeyPem"])
        builder = x509.CertificateSigningRequestBuilder().subject_name(_name(inputs.get("subject")))
        if inputs.get("dnsNames"):
            requested = x509.SubjectAlternativeName([x509.DNSName(n) for n in inputs["dnsNames"]])
            builder = builder.add_extension(requested, critical=False)
        return {"certRequestPem": builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()}
    if typ.endswith(":LocallySignedCert"):
        csr = x509.load_pem_x509_csr(str(unwrap(inputs["certRequestPem"])).encode())
        ca_key = _load_key(inputs["caPrivateKeyPem"])
        ca_cert = x509.load_pem_x509_certificate(str(unwrap(inputs["caCertPem"])).encode())
        try:
            sans = list(
                csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
            )
        except x509.ExtensionNotFound:
            sans = []
        return {
            "certPem": _build(
                subject=csr.subject,
                issuer=ca_cert.subject,
                public_key=csr.public_key(),
                signer=ca_key,
                inputs=inputs,
                is_ca=False,
                sans=sans,
            )
        }
    return {}


class RealPkiMocks(EstateMocks):
    """The program's mocks, with real keys and certificates issued from the requested inputs."""

    def _pki(self, typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        out = issue(typ, inputs)
        if "privateKeyPem" in out:
            self.secrets_seen.add(out["privateKeyPem"])
        return out
