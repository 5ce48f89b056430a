"""Shared fixtures: where the stack files are, a loaded topology from a dict, and the program run under mocks.

Mocks are process-global in Pulumi, so every test that runs the program gets a fresh set through
``tools.plan.harness.run_program`` (one call, one mock monitor, one root stack).
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.loader import validate_data
from stacks.model import Topology
from tests.failover_zone import recordings, server, zone  # noqa: F401 - fixtures shared by the failover tests
from tests.pki_mock import RealPkiMocks
from tests.realk8s.engine import finish_background_build, start_background_build
from tools.plan.harness import Recording, run_program

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
ORACLE = SHARED / "oracle"
STACK_FILES = sorted([*ROOT.glob("stacks/*.yaml"), *ROOT.glob("examples/*.yaml")])
STACK_IDS = [f"{p.parent.name}/{p.name}" for p in STACK_FILES]


def _engine(path: Path) -> str:
    return str((yaml.safe_load(path.read_text()).get("replication") or {}).get("engine", "mirrormaker2"))


# The files whose replication is MirrorMaker 2 (on Strimzi), for tests of MirrorMaker 2 and Strimzi themselves.
MM2_FILES = [p for p in STACK_FILES if _engine(p) == "mirrormaker2"]
MM2_IDS = [f"{p.parent.name}/{p.name}" for p in MM2_FILES]


def raw(name: str) -> dict[str, Any]:
    """A stack file as plain data, for tests that mutate it."""
    path = ROOT / name
    return copy.deepcopy(yaml.safe_load(path.read_text()))


def topology_of(data: dict[str, Any]) -> Topology:
    return validate_data(data, "<test>")


def run_oracle(path: Path) -> subprocess.CompletedProcess[str]:
    """``../shared/oracle/validate.py`` on a folder. CI always has it; elsewhere its absence skips, loudly."""
    if not (ORACLE / "validate.py").exists():
        if os.environ.get("KMR_REQUIRE_E2E"):
            pytest.fail(f"{ORACLE} is missing: the upstream schemas are needed to judge the manifests")
        pytest.skip(f"{ORACLE} not found: the upstream schema checks need ../shared next to the project")
    return subprocess.run([sys.executable, str(ORACLE / "validate.py"), str(path)], capture_output=True, text=True, check=False)


# Under `make test`'s `pytest -n 2 --dist loadgroup`, each expensive kind of test is one scope that a single worker
# runs from start to end, so one worker owns the Kafka brokers (fixed loopback addresses and ports) and one the API
# servers, neither kind ever runs twice at once, and the unit tests, each its own scope, fill both workers. This
# is the scheduler's own seam: xdist's `xdist_group` marks name a group by suffixing the test's id, which pytest 9
# no longer lets a plugin change, so with pytest 9.2 and xdist 3.8 the marks group nothing.
XDIST_GROUPS = {"tests/e2e/": "kafka", "tests/realk8s/": "engine"}


def _scope(nodeid: str) -> str:
    return next((group for folder, group in XDIST_GROUPS.items() if nodeid.startswith(folder)), nodeid)


class _XdistGroups:
    """Registered only where xdist is loaded (``-p no:xdist`` leaves its hook unknown)."""

    @staticmethod
    def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
        if config.getoption("dist") != "loadgroup":
            return None
        from xdist.scheduler import LoadScopeScheduling

        class ByGroup(LoadScopeScheduling):  # type: ignore[misc]
            def _split_scope(self, nodeid: str) -> str:
                return _scope(nodeid)

        return ByGroup(config, log)


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistGroups(), "kafka-multiregion-xdist-groups")
    if not hasattr(config, "workerinput"):  # the controlling process, not an xdist worker
        start_background_build()


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        finish_background_build()


@pytest.fixture
def program() -> Callable[..., Recording]:
    """Run the real program on a stack file (or a topology dict written to a temp file) under fresh mocks."""

    def run(source: str | Path | dict[str, Any], tmp: Path | None = None, *, real_pki: bool = False) -> Recording:
        if isinstance(source, dict):
            assert tmp is not None
            path = tmp / "stack.yaml"
            path.write_text(yaml.safe_dump(source))
            return run_program(str(path), topology_of(source), mocks=RealPkiMocks() if real_pki else None)
        path = ROOT / source
        return run_program(str(path), topology_of(yaml.safe_load(path.read_text())), mocks=RealPkiMocks() if real_pki else None)

    return run
