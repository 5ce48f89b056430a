"""Test support: an active-passive estate on two loopback addresses, reached by its DNS names, with Route53 in a
moto server and name resolution that follows it, for ``tools.failover``'s switch operations.

Owns: the stack file; per region (us-east-1 on 127.0.0.1, us-west-2 on 127.0.0.2) a KRaft broker whose external
listener carries the program's listener certificate and advertises the region's broker name on port 9094, a
load-balancer process on ``address:9094`` in front of it (``tests.e2e.lb``: what the hook closes), and a
replication listener on the address itself (MirrorMaker's target side and the test's readers, as Strimzi's
internal listener); users, ACLs and topics as rendered for the forward and the failback topology; a moto server
seeded with the program's Route53; a hosts file rewritten every 0.2 s from what Route53 would answer (read from
moto, computed by ``tools.failover.answer``), bind-mounted as /etc/hosts only into the processes that resolve
names (clients, MirrorMaker, the tool) with ``unshare -m``; MirrorMaker flows prepared for the hook; client
processes (``tests.e2e.client_app``, ``ClientApp.java``) from the ``clients`` output; and running the tool.

Deliberately not here: the scenarios and their figures (``test_switchover.py``).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from components.access import all_principals
from components.engines.mirrormaker2 import plan as mirror_plan
from components.estate import client_settings
from components.flavors.strimzi.bodies import EXTERNAL_PORT
from stacks.loader import validate_data
from stacks.model import Flow, Topology
from tests.e2e.cluster import ADMIN, Broker, MirrorMaker, Pki, _java_cmd, in_namespace, provision, stop_process
from tests.moto_server import CREDENTIALS, MotoServer, seed
from tools.failover.answer import answers, match
from tools.failover.zone import read
from tools.plan.harness import ROOT, run_program

HOSTS = {"us-east-1": "127.0.0.1", "us-west-2": "127.0.0.2"}
PRIMARY, SECONDARY = "us-east-1", "us-west-2"
TOPIC = "orders"
PARTITIONS = 3
GROUPS = ("orders-app", "orders-java")
HERE = Path(__file__).resolve().parent


def stack(failback_from: str | None = None) -> dict[str, Any]:
    kafka = {"brokers": 1, "controllers": 1, "combined": True}
    replication: dict[str, Any] = {"rpo_seconds": 8, "rto_seconds": 180}
    if failback_from:
        replication["failback_from"] = failback_from
    return {
        "environment": "e2e",
        "architecture": "active-passive",
        "protect": False,
        "regions": [
            {"name": r, "role": role, "kubernetes": {"kind": "context", "context": f"e2e-{r}"}, "kafka": kafka}
            for r, role in ((PRIMARY, "primary"), (SECONDARY, "secondary"))
        ],
        "topics": {TOPIC: {"partitions": PARTITIONS, "replication_factor": 1}},
        "users": {
            "orders-app": {
                "groups": list(GROUPS),
                "acls": [
                    {"resource": {"type": "topic", "name": TOPIC}, "operations": ["Read", "Write", "Describe"]},
                    *({"resource": {"type": "group", "name": g}, "operations": ["Read", "Describe"]} for g in GROUPS),
                ],
            }
        },
        "replication": replication,
        "dns": {"zone": "kafka.example.com"},
    }


def replication_keystore(pki: Pki, region: str) -> Path:
    """Key and certificate of a region's replication listener, naming its address (as Strimzi's cluster CA names
    its internal services), signed by the same CA so one truststore serves both listeners."""
    ca_key = serialization.load_pem_private_key(pki.ca_key.encode(), None)
    ca = x509.load_pem_x509_certificate(pki.ca_cert.encode())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{region}-replication")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=24))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOSTS[region]))]), critical=False)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = pki.workdir / f"{region}-replication.pem"
    path.write_text(pem.decode() + cert.public_bytes(serialization.Encoding.PEM).decode() + pki.ca_cert)
    return path


class Estate:
    def __init__(self, tmp: Path, libs: Path) -> None:
        self.tmp, self.libs = tmp, libs
        self.run_dir = tmp / "run"
        (self.run_dir / "flows").mkdir(parents=True)
        self.stack_file = tmp / "e2e.yaml"
        self.stack_file.write_text(yaml.safe_dump(stack()))
        self.topology = validate_data(stack(), "e2e")
        self.back = validate_data(stack(failback_from=SECONDARY), "e2e")
        self.pki = Pki(tmp)
        self.admin_password = secrets.token_urlsafe(18)
        self.passwords = {p: secrets.token_urlsafe(18) for p in {*all_principals(self.topology), *all_principals(self.back)}}
        self.hosts = tmp / "hosts"
        self.hosts.write_text("")
        self.processes: list[subprocess.Popen[bytes]] = []
        self.brokers: dict[str, Broker] = {}
        self.moto = MotoServer()
        seed(self.moto.client(), run_program(self.stack_file, self.topology))
        self._resolving = True
        self.resolver = threading.Thread(target=self._resolve_loop, daemon=True)
        self._resolve_once()
        self.resolver.start()

    # ------------------------------------------------------------------------------------- names

    def names(self) -> dict[str, str]:
        """Every name a process here resolves → its address; the shared name as Route53 would answer now."""
        t = self.topology
        out = {}
        for region, ip in HOSTS.items():
            out[t.region_dns_name(region)] = ip
            for b in t.region(region).kafka.broker_ids:
                out[t.broker_dns_name(region, b)] = ip
        snap = read(self.moto.client(), t)
        found = match(t, snap)
        regions = [r for a in answers(t, snap, found.endpoints, t.bootstrap_name) for r in a.regions]
        if regions:
            out[t.bootstrap_name] = HOSTS[regions[0]]
        return out

    def _resolve_once(self) -> None:
        text = "127.0.0.1 localhost\n" + "".join(f"{ip} {name}\n" for name, ip in sorted(self.names().items()))
        if self.hosts.read_text() != text:
            with self.hosts.open("r+") as f:  # in place: the bind mounts see the same file
                f.truncate(0)
                f.write(text)

    def _resolve_loop(self) -> None:
        while self._resolving:
            with contextlib.suppress(Exception):  # a moto hiccup: the next round answers
                self._resolve_once()
            time.sleep(0.2)

    def answering(self) -> str:
        return next(r for r, ip in HOSTS.items() if self.names()[self.topology.bootstrap_name] == ip)

    # ------------------------------------------------------------------------------------- Kafka

    def start(self) -> None:
        for region, ip in HOSTS.items():
            (node,) = self.topology.region(region).kafka.broker_ids
            broker = Broker(
                region=region,
                workdir=self.tmp / region,
                keystore=self.pki.listener_keystore(self.topology, region),
                admin_password=self.admin_password,
                host=ip,
                node_id=node,
                advertised=f"{self.topology.broker_dns_name(region, node)}:{EXTERNAL_PORT}",
                replication_keystore=replication_keystore(self.pki, region),
            )
            broker.start(self.libs)
            self.brokers[region] = broker
            self.start_balancer(region)
        for region, broker in self.brokers.items():
            provision(self.topology, region, broker, self.pki.ca_file, self.passwords)
            provision(self.back, region, broker, self.pki.ca_file, self.passwords, topics=False)
        for t in (self.topology, self.back):
            for plan in mirror_plan.flow_plans(t):
                self.prepare_flow(t, plan)

    def start_balancer(self, region: str) -> None:
        broker = self.brokers[region]
        cmd = [sys.executable, "-m", "tests.e2e.lb", f"{broker.host}:{EXTERNAL_PORT}", f"{broker.host}:{broker.port}",
               str(self.run_dir / f"lb-{region}.ctl"), "--parent", str(os.getpid())]  # fmt: skip
        self.processes.append(subprocess.Popen(cmd, cwd=ROOT, start_new_session=True))
        for _ in range(100):
            if (self.run_dir / f"lb-{region}.ctl.state").exists():
                return
            time.sleep(0.1)
        raise RuntimeError(f"load balancer of {region} did not start")

    def prepare_flow(self, topology: Topology, plan: mirror_plan.FlowPlan) -> None:
        """mm2.properties as rendered: the source by its external name (through its load balancer), the target on
        its replication listener; and the command the hook starts it with."""
        flow = self.run_dir / "flows" / plan.name
        mm = MirrorMaker(plan, flow)
        bootstrap = {plan.source: f"{topology.region_dns_name(plan.source)}:{EXTERNAL_PORT}"}
        props = mm.write(topology, self.brokers, self.pki.ca_file, self.passwords[plan.name], bootstrap)
        cmd = _java_cmd(self.libs, "org.apache.kafka.connect.mirror.MirrorMaker", [str(props)], flow, "768m")
        (flow / "cmd.json").write_text(json.dumps(in_namespace(self.hosts, cmd)))

    def plan(self, source: str, target: str) -> mirror_plan.FlowPlan:
        return mirror_plan.plan_flow(self.topology, Flow(source=source, target=target))

    def hook(self, action: str, subject: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "tests.e2e.hook", action, subject], env=self.env(), cwd=ROOT, check=True, timeout=60
        )

    # ------------------------------------------------------------------------------------- the tool

    def env(self) -> dict[str, str]:
        env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": self.moto.url, "KMR_E2E_RUN": str(self.run_dir)}
        env.pop("AWS_PROFILE", None)
        return env

    def kafka_file(self) -> Path:
        pw = self.tmp / "admin-password"
        pw.write_text(self.admin_password)
        path = self.tmp / "kafka.json"
        # The admin reaches each cluster on its replication listener (production: the internal listener through a
        # port-forward), so closing a region's listener to clients does not cut the tool off.
        bootstrap = {r: b.bootstrap for r, b in self.brokers.items()}
        path.write_text(json.dumps({"password_file": str(pw), "ca_file": str(self.pki.ca_file),
                                    "mirror_deployment": "dedicated", "bootstrap": bootstrap}))  # fmt: skip
        return path

    def tool_args(self, *args: str, hook: bool | str = True, wait: int = 90) -> list[str]:
        """The arguments ``tool`` gives ``python -m tools.failover`` (``hook``: a module to use as the hook)."""
        out = [*args, "--stack", str(self.stack_file), "--call-timeout", "5"]
        if args[0] in ("switchover", "failover", "failback"):
            out += ["--kafka", str(self.kafka_file()), "--wait", str(wait)]
            if hook:
                out += ["--hook", f"{sys.executable} -m {hook if isinstance(hook, str) else 'tests.e2e.hook'}"]
        return out

    def tool(
        self, *args: str, hook: bool | str = True, timeout: float = 400, interrupt: str | None = None, wait: int = 90
    ) -> tuple[int, str, float]:
        """``python -m tools.failover`` as an operator runs it, resolving names through the served hosts file;
        with ``interrupt`` (``after:STEP``, ``mid:STEP``), killed with SIGKILL there (``tests.e2e.interrupt``)."""
        entry = ["tools.failover"] if interrupt is None else ["tests.e2e.interrupt", interrupt]
        cmd = [sys.executable, "-m", *entry, *self.tool_args(*args, hook=hook, wait=wait)]
        start = time.monotonic()
        p = subprocess.run(
            in_namespace(self.hosts, cmd), env=self.env(), cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
        out = p.stdout + p.stderr
        killed = f" (killed at {interrupt})" if interrupt else ""
        print(f"\n$ python -m tools.failover {' '.join(args)}{killed}\n{out}", flush=True)
        assert "Traceback" not in out, out
        return p.returncode, out, time.monotonic() - start

    # ------------------------------------------------------------------------------------- clients

    def client_file(self, user: str) -> dict[str, Any]:
        """The ``clients`` output entry of ``user`` (``components.estate.client_settings``) with its secrets."""
        return {**client_settings(self.topology, user), "password": self.passwords[user], "ca_file": str(self.pki.ca_file)}

    def python_client(self, mode: str, name: str, *extra: str) -> tuple[Path, Path]:
        conf = self.tmp / f"{name}.json"
        conf.write_text(json.dumps(self.client_file("orders-app")))
        log, stop = self.tmp / f"{name}.log", self.tmp / f"{name}.stop"
        cmd = [sys.executable, "-m", "tests.e2e.client_app", mode, str(conf), str(log), str(stop), *extra]
        out = (self.tmp / f"{name}.out").open("ab")
        self.processes.append(
            subprocess.Popen(in_namespace(self.hosts, cmd), cwd=ROOT, start_new_session=True, stdout=out, stderr=out)
        )
        return log, stop

    def java_client(self, mode: str, name: str, arg: str) -> tuple[Path, Path]:
        c = self.client_file("orders-app")
        props = {
            "bootstrap.servers": c["bootstrap_servers"],
            **c["properties"],
            "sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{c["username"]}" password="{c["password"]}";',
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": c["ca_file"],
        }
        conf = self.tmp / f"{name}.properties"
        conf.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        log, stop = self.tmp / f"{name}.log", self.tmp / f"{name}.stop"
        workdir = self.tmp / name
        workdir.mkdir()
        (workdir / "log4j2.properties").write_text("status = error\nrootLogger.level = WARN\n")
        cmd = _java_cmd(self.libs, str(HERE / "ClientApp.java"), [mode, str(conf), str(log), str(stop), arg], workdir, "256m")
        self.processes.append(subprocess.Popen(in_namespace(self.hosts, cmd), cwd=ROOT, start_new_session=True,
                                               stdout=(workdir / "out.log").open("ab"), stderr=subprocess.STDOUT))  # fmt: skip
        return log, stop

    # ------------------------------------------------------------------------------------- reading back

    def admin_config(self, region: str, **extra: Any) -> dict[str, Any]:
        b = self.brokers[region]
        return {
            "bootstrap.servers": b.bootstrap, "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": ADMIN, "sasl.password": self.admin_password, "ssl.ca.location": str(self.pki.ca_file),
            "ssl.endpoint.identification.algorithm": "https", **extra,
        }  # fmt: skip

    def stop(self) -> None:
        self._resolving = False
        for pid_file in (self.run_dir / "flows").glob("*/pid"):
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.killpg(int(pid_file.read_text()), signal.SIGKILL)
        for p in self.processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        for b in self.brokers.values():
            stop_process(b.process, hard=True)
        self.moto.stop()
