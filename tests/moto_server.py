"""Test support: a moto server process on a free loopback port, and seeding it with the program's Route53.

Owns: starting ``python -m moto.server`` (a process of its own, so its state is apart from in-process
``mock_aws`` tests and it can be stopped like a real endpoint going away), waiting for it (bounded), resetting
it, a boto3 client straight to it (for seeding and for reading back what the tool left), and ``seed``: the
health checks and records the Pulumi program declares for a stack (``tests.route53_seed``, the calls of
``tools.failover.route53``), with the fake load balancer hostnames of the mocks.

Deliberately not here: faults (``tests.fault_proxy``) and what the tests expect.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import boto3

from components.dns_records import TAG_SWITCHED_OFF
from tests import route53_seed
from tools.plan.harness import Recording

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MotoServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto server did not start within 30 s")

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=5).close()

    def client(self) -> Any:
        return boto3.client(
            "route53",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def seed(r53: Any, rec: Recording, *, private_twin: bool = False) -> str:
    """Create the stack's public zone and apply the program's declared checks and records; return the zone id.

    ``private_twin`` first creates a private zone of the same name, as a VPC's split-horizon DNS would have.
    """
    zone = rec.topology.dns.zone
    if private_twin:
        r53.create_hosted_zone(
            Name=zone, CallerReference="private", HostedZoneConfig={"PrivateZone": True},
            VPC={"VPCRegion": "us-east-1", "VPCId": "vpc-12345678"},
        )  # fmt: skip
    zid = str(r53.create_hosted_zone(Name=zone, CallerReference="public")["HostedZone"]["Id"]).rsplit("/", maxsplit=1)[-1]
    route53_seed.apply(r53, rec, zid)
    return zid


def switch_state(r53: Any) -> dict[str, tuple[bool, str | None]]:
    """Every check's (inverted, switched-off mark), read straight from the server."""
    checks = r53.list_health_checks()["HealthChecks"]
    out = {}
    for hc in checks:
        tags = r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=hc["Id"])["ResourceTagSet"]["Tags"]
        mark = next((t["Value"] for t in tags if t["Key"] == TAG_SWITCHED_OFF), None)
        out[hc["Id"]] = (bool(hc["HealthCheckConfig"].get("Inverted")), mark)
    return out
