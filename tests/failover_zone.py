"""Test support: a seeded Route53 zone in the moto server, the fault proxy in front of it, and ``tools.failover``
run against it as an operator runs it (a process, over HTTP); the fixtures ``server``, ``recordings`` and
``zone`` (registered for every test by ``tests/conftest.py``).

Deliberately not here: the moto server itself (``tests.moto_server``), faults (``tests.fault_proxy``), scenarios.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.dns_records import TAG_ENV, TAG_REGION, TAG_ROLE, TAG_SWITCHED_OFF
from stacks.loader import validate_data
from tests.fault_proxy import FaultProxy
from tests.moto_server import CREDENTIALS, MotoServer, seed, switch_state
from tools.plan.harness import ROOT, Recording, run_program


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    s = MotoServer()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def recordings() -> Callable[[Path], Recording]:
    cache: dict[Path, Recording] = {}

    def get(path: Path) -> Recording:
        if path not in cache:
            cache[path] = run_program(str(path), validate_data(yaml.safe_load(path.read_text()), str(path)))
        return cache[path]

    return get


class Zone:
    """One seeded zone, the proxy in front of it, and the tool run against it."""

    def __init__(self, server: MotoServer, rec: Recording, stack: Path, proxy: FaultProxy) -> None:
        self.server, self.rec, self.stack, self.proxy = server, rec, stack, proxy
        self.r53 = server.client()
        self.env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": proxy.url}
        self.env.pop("AWS_PROFILE", None)

    def run(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, float]:
        cmd = [
            sys.executable,
            "-m",
            "tools.failover",
            *args,
            "--stack",
            str(self.stack),
            "--call-timeout",
            "1",
            "--deadline",
            "20",
        ]
        start = time.monotonic()
        p = subprocess.run(cmd, env=env or self.env, capture_output=True, text=True, timeout=90, cwd=ROOT, check=False)
        assert "Traceback" not in p.stderr, p.stderr
        return p.returncode, p.stdout + p.stderr, time.monotonic() - start

    def check_id(self, role: str, region: str) -> str:
        (found,) = [
            hc["Id"]
            for hc in self.r53.list_health_checks()["HealthChecks"]
            if (tags := self._tags(hc["Id"])).get(TAG_ROLE, "endpoint") == role
            and tags.get(TAG_REGION) == region
            and tags.get(TAG_ENV) == self.rec.topology.environment
        ]
        return str(found)

    def _tags(self, hc_id: str) -> dict[str, str]:
        tags = self.r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=hc_id)["ResourceTagSet"]["Tags"]
        return {t["Key"]: t["Value"] for t in tags}

    def switches(self) -> dict[str, tuple[bool, bool]]:
        """Each check's (inverted, marked as switched off by the tool), read straight from the server."""
        return {i: (inv, mark is not None) for i, (inv, mark) in switch_state(self.r53).items()}

    def read_back(self) -> tuple[Any, dict[str, tuple[bool, bool]]]:
        """The whole of Route53 as the server holds it: every zone's record sets with each check's configuration
        and tags (all but the switches' state), and each check's (inverted, marked) as ``switches`` reads it."""
        zones = self.r53.list_hosted_zones()["HostedZones"]
        records = {
            z["Id"]: self.r53.list_resource_record_sets(HostedZoneId=z["Id"], MaxItems="300")["ResourceRecordSets"] for z in zones
        }
        checks = {
            hc["Id"]: (
                {k: v for k, v in hc["HealthCheckConfig"].items() if k != "Inverted"},
                {k: v for k, v in self._tags(hc["Id"]).items() if k != TAG_SWITCHED_OFF},
            )
            for hc in self.r53.list_health_checks()["HealthChecks"]
        }
        return (records, checks), self.switches()

    def answers(self, text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if " answers with " in line]


@pytest.fixture
def zone(server: MotoServer, recordings: Callable[[Path], Recording]) -> Iterator[Callable[..., Zone]]:
    proxies: list[FaultProxy] = []

    def make(stack: str | Path, *, private_twin: bool = False) -> Zone:
        path = stack if isinstance(stack, Path) else ROOT / stack
        server.reset()
        rec = recordings(path)
        seed(server.client(), rec, private_twin=private_twin)
        proxies.append(FaultProxy(server.port))
        return Zone(server, rec, path, proxies[-1])

    yield make
    for p in proxies:
        p.stop()
