"""Real-engine fixtures: the built binaries, and a started estate (one cluster per region) per stack.

Without the binaries (no Go, no `make engine`) the tests skip with the reason; with ``KMR_REQUIRE_E2E=1``
(set by ``.ci/run``) that is a failure, as for the Kafka end-to-end tests: CI always runs them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realk8s.engine import Binaries, MissingError, binaries

REPORT = Path(__file__).resolve().parent / ".cache" / "report.json"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/realk8s/" in str(item.fspath):
            item.add_marker(pytest.mark.realk8s)


@pytest.fixture(scope="session")
def engine() -> Binaries:
    try:
        return binaries()
    except MissingError as exc:
        if os.environ.get("KMR_REQUIRE_E2E"):
            pytest.fail(f"{exc} (KMR_REQUIRE_E2E is set: the real-engine tests must run)")
        pytest.skip(f"real-engine tests skipped: {exc}")


@pytest.fixture(scope="session")
def report() -> Iterator[dict[str, object]]:
    """Timings per stack and step, written to tests/realk8s/.cache/report.json (the closing note quotes it)."""
    data: dict[str, object] = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    yield data
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
