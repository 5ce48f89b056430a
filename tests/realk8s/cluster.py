"""One throwaway Kubernetes control plane per region: etcd, kube-apiserver and kube-controller-manager.

Owns: the certificates of each cluster (its own CA, serving certificate, admin client certificate and service
account keys, generated here), starting the three processes on free loopback ports, waiting until the API
server is ready, its kubeconfig (what a platform team hands out per region), installing CRDs, a small REST
client for the tests and the stand-in, and stopping everything.

Deliberately not here: a scheduler or kubelet (pods never run; ``standin`` reports what a kubelet would), and
anything the program under test creates.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.realk8s.engine import Binaries


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    org: str | None = None,
    sans: list[x509.GeneralName] | None = None,
    client: bool = False,
) -> x509.Certificate:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, subject)]
    if org:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    name = x509.Name(attrs)
    issuer_name, issuer_key = issuer if issuer else (name, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    # Key identifiers and key usage: strict verifiers (Python's default since 3.13) insist on them.
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False, decipher_only=False,
        ),
        critical=True,
    )  # fmt: skip
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if not ca:
        usage = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client else x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Cluster:
    """A region's control plane. ``start`` returns once the API server answers /readyz."""

    region: str
    workdir: Path
    binaries: Binaries
    port: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    # ------------------------------------------------------------------ certificates and kubeconfig

    def _pki(self) -> None:
        d = self.workdir
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _cert(f"{self.region}-ca", ca_key, None, ca=True)
        ca_id = (ca.subject, ca_key)
        server_key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = [
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes.default.svc"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("10.96.0.1")),
        ]
        server = _cert("kube-apiserver", server_key, ca_id, sans=sans)
        admin_key = ec.generate_private_key(ec.SECP256R1())
        # system:masters: the administrator a real kubeconfig would carry, authorized by RBAC's bootstrap roles.
        admin = _cert("admin", admin_key, ca_id, org="system:masters", client=True)
        sa_key = ec.generate_private_key(ec.SECP256R1())
        files = {
            "ca.crt": _pem(ca),
            "server.crt": _pem(server),
            "server.key": _pem_key(server_key),
            "admin.crt": _pem(admin),
            "admin.key": _pem_key(admin_key),
            "sa.key": _pem_key(sa_key),
            "sa.pub": sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        }
        for name, data in files.items():
            (d / name).write_bytes(data)
            os.chmod(d / name, 0o600)

    def kubeconfig(self) -> str:
        """The region's kubeconfig (admin client certificate embedded), as a platform team would hand it out."""
        d = self.workdir

        def b64(name: str) -> str:
            return base64.b64encode((d / name).read_bytes()).decode()

        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": self.region, "cluster": {"server": self.url, "certificate-authority-data": b64("ca.crt")}}],
                "users": [
                    {"name": "admin", "user": {"client-certificate-data": b64("admin.crt"), "client-key-data": b64("admin.key")}}
                ],
                "contexts": [{"name": self.region, "context": {"cluster": self.region, "user": "admin"}}],
                "current-context": self.region,
            }
        )

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ processes

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - owned by the process until stop()
        self.processes.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir))

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._pki()
        d, b = self.workdir, self.binaries
        etcd_port, peer_port = free_port(), free_port()
        self._spawn(
            "etcd",
            [
                str(b.etcd), "--name", "default", "--data-dir", str(d / "etcd"),
                "--listen-client-urls", f"http://127.0.0.1:{etcd_port}", "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
                "--listen-peer-urls", f"http://127.0.0.1:{peer_port}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
                "--initial-cluster", f"default=http://127.0.0.1:{peer_port}",
                # A test store thrown away afterwards: durability costs seconds per `up` and buys nothing here.
                "--unsafe-no-fsync", "--log-level", "warn",
            ],
        )  # fmt: skip
        self.port = free_port()
        self._spawn(
            "kube-apiserver",
            [
                str(b.kube_apiserver), "--etcd-servers", f"http://127.0.0.1:{etcd_port}",
                "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(self.port),
                "--cert-dir", str(d / "apiserver-certs"),
                "--tls-cert-file", str(d / "server.crt"), "--tls-private-key-file", str(d / "server.key"),
                "--client-ca-file", str(d / "ca.crt"), "--authorization-mode", "Node,RBAC",
                "--service-account-issuer", "https://kubernetes.default.svc",
                "--service-account-key-file", str(d / "sa.pub"), "--service-account-signing-key-file", str(d / "sa.key"),
                "--service-cluster-ip-range", "10.96.0.0/16", "--profiling=false", "--v=1",
                # The `kubernetes` Service cannot have a loopback endpoint, and nothing in a pod uses it here.
                "--endpoint-reconciler-type", "none",
            ],
        )  # fmt: skip
        self.wait_ready()
        (d / "controller-manager.kubeconfig").write_text(self.kubeconfig())
        self._spawn(
            "kube-controller-manager",
            [
                str(b.kube_controller_manager), "--kubeconfig", str(d / "controller-manager.kubeconfig"),
                # Serving is for metrics and health probes, which nothing here scrapes.
                "--secure-port", "0", "--leader-elect=false",
                "--service-account-private-key-file", str(d / "sa.key"), "--root-ca-file", str(d / "ca.crt"),
                "--use-service-account-credentials=false", "--v=1",
            ],
        )  # fmt: skip

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for p in self.processes:
                if p.poll() is not None:
                    raise RuntimeError(f"{self.region}: {p.args[0]} exited with {p.returncode}; see {self.workdir}")
            try:
                r = self.session().get(f"{self.url}/readyz", timeout=5)
                if r.status_code == 200:
                    return
                last = r.text[-300:]
            except requests.RequestException as exc:
                last = str(exc)[:300]
            time.sleep(0.5)
        raise RuntimeError(f"{self.region}: API server not ready after {timeout:.0f} s: {last}")

    def stop(self) -> None:
        # Killed, not terminated: a throwaway cluster has nothing to flush (etcd runs without fsync and its data is
        # thrown away with the test's directory), and kube-apiserver's graceful shutdown took 10-20 s per cluster.
        for p in reversed(self.processes):
            p.kill()
        for p in reversed(self.processes):
            p.wait()
        self.processes.clear()

    # ------------------------------------------------------------------ REST

    def session(self) -> requests.Session:
        s = requests.Session()
        # Otherwise REQUESTS_CA_BUNDLE (set on many machines) silently replaces the cluster's own CA.
        s.trust_env = False
        s.verify = str(self.workdir / "ca.crt")
        s.cert = (str(self.workdir / "admin.crt"), str(self.workdir / "admin.key"))
        return s

    def install_crds(self, paths: list[Path]) -> None:
        """Create CRDs (the cluster's prerequisites: Strimzi's from its chart, the Prometheus Operator's) and
        wait until each is Established, so custom resources are accepted."""
        s = self.session()
        names = []
        for path in paths:
            for doc in yaml.safe_load_all(path.read_text()):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                r = s.post(f"{self.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=doc, timeout=30)
                if r.status_code not in (201, 409):
                    raise RuntimeError(f"{self.region}: CRD {path.name}: {r.status_code} {r.text[:500]}")
                names.append(doc["metadata"]["name"])
        deadline = time.monotonic() + 60
        for name in names:
            while True:
                crd = s.get(f"{self.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}", timeout=10).json()
                conditions = {c["type"]: c["status"] for c in (crd.get("status") or {}).get("conditions") or []}
                if conditions.get("Established") == "True":
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.region}: CRD {name} not established: {conditions}")
                time.sleep(0.2)

    def get(self, path: str) -> Any:
        r = self.session().get(f"{self.url}{path}", timeout=30)
        if r.status_code == 404:
            return None
        r.raise_for_status()
        return r.json()
