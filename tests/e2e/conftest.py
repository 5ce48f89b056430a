"""End-to-end fixtures: Kafka jars from Maven Central, a broker per region, MirrorMaker 2 per flow.

Without ``java`` the tests skip with a clear message; with ``KMR_REQUIRE_E2E=1`` (set by ``.ci/run`` and
``make e2e``) that skip is a failure, so CI always runs them.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cluster import Broker, Pki, fetch_libs, java


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def libs() -> Path:
    required = bool(os.environ.get("KMR_REQUIRE_E2E"))
    if java() is None or shutil.which("mvn") is None:
        message = "end-to-end Kafka tests need java (17+) and mvn on PATH; skipped"
        if required:
            pytest.fail(message.replace("; skipped", "") + " (KMR_REQUIRE_E2E is set)")
        pytest.skip(message)
    try:
        return fetch_libs()
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def estate(tmp_path: Path, libs: Path) -> Iterator[dict[str, object]]:
    """A workdir, a PKI and a registry of started processes that are always stopped."""
    pki = Pki(tmp_path)
    started: list[object] = []
    yield {"tmp": tmp_path, "pki": pki, "libs": libs, "started": started, "admin_password": secrets.token_urlsafe(18)}
    for thing in reversed(started):
        thing.stop()  # type: ignore[attr-defined]


def start_brokers(estate: dict[str, object], topology, regions: list[str]) -> dict[str, Broker]:  # type: ignore[no-untyped-def]
    brokers = {}
    pki: Pki = estate["pki"]  # type: ignore[assignment]
    for region in regions:
        broker = Broker(
            region=region,
            workdir=estate["tmp"] / region,  # type: ignore[operator]
            keystore=pki.listener_keystore(topology, region),
            admin_password=str(estate["admin_password"]),
        )
        broker.start(estate["libs"])  # type: ignore[arg-type]
        estate["started"].append(broker)  # type: ignore[attr-defined]
        brokers[region] = broker
    return brokers
