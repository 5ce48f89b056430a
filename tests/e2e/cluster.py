"""A real, single-node KRaft Kafka per region and MirrorMaker 2 in dedicated mode, on 127.0.0.1 only.

Owns: fetching the jars (Maven, cached in ``tests/e2e/.cache``), writing each broker's config (a SASL_SSL
listener with SCRAM-SHA-512 and the StandardAuthorizer; a loopback PLAINTEXT listener for the controller and
inter-broker traffic), formatting storage with the admin's SCRAM credential, starting and stopping processes,
issuing listener certificates by the PKI component's rules, and applying users, ACLs and topics exactly as
the project renders them (``components.access``, ``components.flavors.strimzi.bodies``).

Deliberately not here: the scenarios (``test_replication.py``). Test support only.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from components.access import principals_in
from components.engines.mirrormaker2 import bodies as mirror
from components.engines.mirrormaker2 import plan as mirror_plan
from components.kube import listener_names
from components.pki import CA_USES, LEAF_USES
from stacks.model import Topology
from tests import pki_mock

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
LIBS = CACHE / "libs"
ADMIN = "kafka-admin"

LOG4J = """status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
logger.mirror.name = org.apache.kafka.connect.mirror
logger.mirror.level = INFO
"""


def java() -> str | None:
    return shutil.which("java")


def fetch_libs() -> Path:
    """The Kafka and MirrorMaker jars, resolved from Maven Central once and cached (git-ignored)."""
    marker = LIBS / ".complete"
    if marker.exists():
        return LIBS
    result = subprocess.run(
        ["mvn", "-q", "-B", "-f", str(HERE / "pom.xml"), "dependency:copy-dependencies", f"-DoutputDirectory={LIBS}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"mvn could not resolve the Kafka artifacts:\n{result.stdout}\n{result.stderr}")
    marker.touch()
    return LIBS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Pki:
    """The environment CA and listener certificates, issued as the Pki component asks pulumi-tls to."""

    workdir: Path
    ca_key: str = ""
    ca_cert: str = ""

    def __post_init__(self) -> None:
        key = pki_mock.issue("tls:index/privateKey:PrivateKey", {"algorithm": "ECDSA"})["privateKeyPem"]
        self.ca_key = key
        self.ca_cert = pki_mock.issue(
            "tls:index/selfSignedCert:SelfSignedCert",
            {
                "privateKeyPem": key,
                "isCaCertificate": True,
                "subject": {"commonName": "kafka-multiregion e2e CA", "organization": "kafka-multiregion"},
                "validityPeriodHours": 24,
                "allowedUses": CA_USES,
            },
        )["certPem"]
        (self.workdir / "ca.crt").write_text(self.ca_cert)

    @property
    def ca_file(self) -> Path:
        return self.workdir / "ca.crt"

    def listener_keystore(self, topology: Topology, region: str) -> Path:
        """Key and chain for a region's listener: the component's SANs, plus ``localhost`` because the
        region's DNS names cannot resolve on this machine (the clients connect to localhost)."""
        names = [*listener_names(topology, topology.region(region)), "localhost"]
        key = pki_mock.issue("tls:index/privateKey:PrivateKey", {"algorithm": "ECDSA"})["privateKeyPem"]
        csr = pki_mock.issue(
            "tls:index/certRequest:CertRequest",
            {"privateKeyPem": key, "subject": {"commonName": names[0], "organization": "kafka-multiregion"}, "dnsNames": names},
        )["certRequestPem"]
        cert = pki_mock.issue(
            "tls:index/locallySignedCert:LocallySignedCert",
            {
                "certRequestPem": csr,
                "caPrivateKeyPem": self.ca_key,
                "caCertPem": self.ca_cert,
                "validityPeriodHours": 24,
                "allowedUses": LEAF_USES,
            },
        )["certPem"]
        path = self.workdir / f"{region}-keystore.pem"
        path.write_text(key + cert + self.ca_cert)
        return path


@dataclass
class Broker:
    region: str
    workdir: Path
    keystore: Path
    admin_password: str
    port: int = field(default_factory=free_port)
    internal_port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    # Multi-address estates (``tests.e2e.estate``): the address to bind, the name:port clients are told (a load
    # balancer in front of EXTERNAL), and a second SASL_SSL listener on the address itself for MirrorMaker's
    # target side and the test's own readers, as Strimzi's internal listener is.
    host: str = "127.0.0.1"
    node_id: int = 1
    advertised: str | None = None
    replication_keystore: Path | None = None
    replication_port: int = field(default_factory=free_port)

    @property
    def bootstrap(self) -> str:
        return f"localhost:{self.port}" if self.advertised is None else f"{self.host}:{self.replication_port}"

    def config(self) -> str:
        data = self.workdir / "data"
        h = self.host
        listeners = f"CONTROLLER://{h}:{self.controller_port},INTERNAL://{h}:{self.internal_port},EXTERNAL://{h}:{self.port}"
        advertised = f"INTERNAL://{h}:{self.internal_port},EXTERNAL://{self.advertised or f'localhost:{self.port}'}"
        protocols = "CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL"
        replication: list[str] = []
        if self.replication_keystore is not None:
            listeners += f",REPLICATION://{h}:{self.replication_port}"
            advertised += f",REPLICATION://{h}:{self.replication_port}"
            protocols += ",REPLICATION:SASL_SSL"
            replication = [
                "listener.name.replication.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "listener.name.replication.ssl.keystore.type=PEM",
                f"listener.name.replication.ssl.keystore.location={self.replication_keystore}",
            ]
        return "\n".join(
            [
                "process.roles=broker,controller",
                f"node.id={self.node_id}",
                f"controller.quorum.voters={self.node_id}@{h}:{self.controller_port}",
                f"listeners={listeners}",
                f"advertised.listeners={advertised}",
                f"listener.security.protocol.map={protocols}",
                "inter.broker.listener.name=INTERNAL",
                "controller.listener.names=CONTROLLER",
                "sasl.enabled.mechanisms=SCRAM-SHA-512",
                "listener.name.external.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "listener.name.external.ssl.keystore.type=PEM",
                f"listener.name.external.ssl.keystore.location={self.keystore}",
                *replication,
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                # The loopback PLAINTEXT listeners (controller, inter-broker) act as ANONYMOUS.
                f"super.users=User:ANONYMOUS;User:{ADMIN}",
                "allow.everyone.if.no.acl.found=false",
                f"log.dirs={data}",
                "num.partitions=1",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                "unclean.leader.election.enable=false",
                "",
            ]
        )

    def start(self, libs: Path) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        props = self.workdir / "server.properties"
        props.write_text(self.config())
        (self.workdir / "log4j2.properties").write_text(LOG4J.format(log=self.workdir / "server.log"))
        if not (self.workdir / "data" / "meta.properties").exists():
            scram = f"SCRAM-SHA-512=[name={ADMIN},password={self.admin_password}]"
            run_java(
                libs,
                "kafka.tools.StorageTool",
                ["format", "-t", uuid.uuid4().hex[:22], "-c", str(props), "--add-scram", scram],
                self.workdir,
            )
        self.process = spawn_java(libs, "kafka.Kafka", [str(props)], self.workdir, heap="512m")
        wait_for_port(self.port, self.process, self.workdir / "server.log", host=self.host)

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


def in_namespace(hosts: Path, cmd: list[str]) -> list[str]:
    """``cmd`` in a mount namespace of its own whose /etc/hosts is ``hosts`` (bind-mounted: edits in place show
    at once); the machine's /etc/hosts is never touched."""
    return ["unshare", "-m", "sh", "-c", f'mount --bind "{hosts}" /etc/hosts && exec "$@"', "sh", *cmd]


def _java_cmd(libs: Path, main: str, args: list[str], workdir: Path, heap: str) -> list[str]:
    return [
        java() or "java",
        # Name lookups follow the hosts file at once (the JVM caches them for 30 s by default).
        "-Dsun.net.inetaddr.ttl=0",
        f"-Xmx{heap}",
        "-XX:+UseSerialGC",
        f"-Dlog4j2.configurationFile={workdir / 'log4j2.properties'}",
        "-Djava.net.preferIPv4Stack=true",
        "-cp",
        f"{libs}/*",
        main,
        *args,
    ]


def run_java(libs: Path, main: str, args: list[str], workdir: Path) -> None:
    log_config = workdir / "log4j2.properties"
    if not log_config.exists():
        log_config.write_text(LOG4J.format(log=workdir / "tool.log"))
    result = subprocess.run(
        _java_cmd(libs, main, args, workdir, "256m"), capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"{main} failed: {result.stdout}\n{result.stderr}")


def spawn_java(
    libs: Path, main: str, args: list[str], workdir: Path, heap: str, hosts: Path | None = None
) -> subprocess.Popen[bytes]:
    out = (workdir / "stdout.log").open("ab")
    cmd = _java_cmd(libs, main, args, workdir, heap)
    return subprocess.Popen(
        in_namespace(hosts, cmd) if hosts else cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 90, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited ({process.returncode}); see {log}:\n{_tail(log)}")
        with socket.socket() as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"port {port} not open after {timeout} s; see {log}:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


def stop_process(process: subprocess.Popen[bytes] | None, hard: bool = False) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGKILL if hard else signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# ----------------------------------------------------------------------------------------- clients


def client_config(broker: Broker, user: str, password: str, ca: Path, **extra: Any) -> dict[str, Any]:
    return {
        "bootstrap.servers": broker.bootstrap,
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": user,
        "sasl.password": password,
        "ssl.ca.location": str(ca),
        "ssl.endpoint.identification.algorithm": "https",
        "broker.address.family": "v4",
        **extra,
    }


_RESOURCE = {
    "topic": ResourceType.TOPIC,
    "group": ResourceType.GROUP,
    "cluster": ResourceType.BROKER,
    "transactionalId": ResourceType.TRANSACTIONAL_ID,
}
_OPERATION = {
    "Read": AclOperation.READ, "Write": AclOperation.WRITE, "Create": AclOperation.CREATE, "Delete": AclOperation.DELETE,
    "Alter": AclOperation.ALTER, "Describe": AclOperation.DESCRIBE, "ClusterAction": AclOperation.CLUSTER_ACTION,
    "AlterConfigs": AclOperation.ALTER_CONFIGS, "DescribeConfigs": AclOperation.DESCRIBE_CONFIGS,
    "IdempotentWrite": AclOperation.IDEMPOTENT_WRITE, "All": AclOperation.ALL,
}  # fmt: skip


def acl_bindings(user: str, acls: list[dict[str, Any]]) -> list[AclBinding]:
    """The rendered KafkaUser ACLs as the Admin API's bindings (what the User Operator does)."""
    out = []
    for acl in acls:
        res = acl["resource"]
        rtype = _RESOURCE[res["type"]]
        name = "kafka-cluster" if res["type"] == "cluster" else res["name"]
        pattern = ResourcePatternType.PREFIXED if res.get("patternType") == "prefix" else ResourcePatternType.LITERAL
        permission = AclPermissionType.ALLOW if acl["type"] == "allow" else AclPermissionType.DENY
        for op in acl["operations"]:
            out.append(AclBinding(rtype, name, pattern, f"User:{user}", acl.get("host", "*"), _OPERATION[op], permission))
    return out


def set_quotas(libs: Path, broker: Broker, ca: Path, user: str, quotas: dict[str, Any]) -> None:
    """A user's client quotas, as the User Operator applies a KafkaUser's spec.quotas (Kafka's own ConfigCommand)."""
    props = broker.workdir / "admin-client.properties"
    props.write_text(
        "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{ADMIN}" password="{broker.admin_password}";\n'
        f"ssl.truststore.type=PEM\nssl.truststore.location={ca}\n"
    )
    config = ",".join(f"{k}={v}" for k, v in sorted(quotas.items()))
    args = ["--bootstrap-server", broker.bootstrap, "--command-config", str(props), "--alter"]
    run_java(
        libs,
        "kafka.admin.ConfigCommand",
        [*args, "--entity-type", "users", "--entity-name", user, "--add-config", config],
        broker.workdir,
    )


def provision(
    topology: Topology,
    region: str,
    broker: Broker,
    ca: Path,
    passwords: dict[str, str],
    libs: Path | None = None,
    *,
    topics: bool = True,
) -> None:
    """Users, ACLs, quotas (when ``libs`` is given) and topics of one region, exactly as rendered, applied by the
    admin over SASL_SSL."""
    admin = AdminClient(client_config(broker, ADMIN, broker.admin_password, ca))
    upserts = []
    bindings: list[AclBinding] = []
    for principal in principals_in(topology, region):
        if principal.name == ADMIN:
            continue
        upserts.append(
            UserScramCredentialUpsertion(
                principal.name, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), passwords[principal.name].encode()
            )
        )
        if principal.acls:
            bindings += acl_bindings(principal.name, principal.acls)
    for fut in admin.alter_user_scram_credentials(upserts).values():
        fut.result(timeout=30)
    if bindings:
        for fut in admin.create_acls(bindings).values():
            fut.result(timeout=30)
    for principal in principals_in(topology, region):
        if libs is not None and principal.quotas is not None:
            set_quotas(libs, broker, ca, principal.name, principal.quotas.model_dump(exclude_none=True))
    new = [NewTopic(t, num_partitions=topology.topics[t].partitions, replication_factor=1) for t in topology.topics_in(region)]
    if new and topics:
        for name, fut in admin.create_topics(new).items():
            try:
                fut.result(timeout=30)
            except KafkaException as exc:  # pragma: no cover - reported with the topic name
                raise RuntimeError(f"creating {name} in {region}: {exc}") from exc


@dataclass
class MirrorMaker:
    plan: mirror_plan.FlowPlan
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    def start(
        self,
        libs: Path,
        topology: Topology,
        brokers: dict[str, Broker],
        ca: Path,
        password: str,
        bootstrap: dict[str, str] | None = None,
        hosts: Path | None = None,
    ) -> Path:
        props = self.write(topology, brokers, ca, password, bootstrap)
        self.process = spawn_java(
            libs, "org.apache.kafka.connect.mirror.MirrorMaker", [str(props)], self.workdir, heap="768m", hosts=hosts
        )
        return props

    def write(
        self, topology: Topology, brokers: dict[str, Broker], ca: Path, password: str, bootstrap: dict[str, str] | None = None
    ) -> Path:
        """The rendered mm2.properties, with each cluster reached at ``bootstrap`` (default: the broker's)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        pw = self.workdir / "credentials.properties"
        pw.write_text(f"password={password}\n")
        pw.chmod(0o600)
        access = {
            alias: mirror.ClusterAccess(
                bootstrap=(bootstrap or {}).get(alias, brokers[alias].bootstrap), ca_file=str(ca), password_file=str(pw)
            )
            for alias in (self.plan.source, self.plan.target)
        }
        props = self.workdir / "mm2.properties"
        props.write_text(mirror.mm2_properties(topology, self.plan, access))
        (self.workdir / "log4j2.properties").write_text(LOG4J.format(log=self.workdir / "mm2.log"))
        return props

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
