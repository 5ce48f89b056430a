"""Generated topologies (``tests.generated``): across all four architectures on MirrorMaker 2, and Cluster Linking's
served architectures on Confluent for Kubernetes; every one the generator makes is accepted, plans, keeps every
plan invariant, and its manifests pass the upstream schemas (Strimzi's, or CFK 2.9.3's).

A topology the model refuses here is a rule applied where it should not be (or a generator that strays from
the documented rules): either is a defect, and the failure names the file and the problem. In CI the
examples are derandomized, so a failure there reproduces; locally each run explores anew.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis.strategies import SearchStrategy

from stacks.loader import TopologyError, validate_data
from tests.conftest import run_oracle
from tests.generated import cluster_linking_topologies, topologies
from tests.test_confluent import _check_regions_and_links
from tools import invariants
from tools.harness import Recording, run_program
from tools.plan import Plan, write_plan


@dataclass(frozen=True)
class Family:
    strategy: Callable[[], SearchStrategy[dict[str, Any]]]
    examples: int
    check: Callable[[Recording], None] | None = None  # what the family's plans must also hold


FAMILIES = {
    "mirrormaker2": Family(topologies, int(os.environ.get("KMR_GENERATED_EXAMPLES", "200"))),
    "cluster-linking": Family(
        cluster_linking_topologies, int(os.environ.get("KMR_GENERATED_CL_EXAMPLES", "25")), _check_regions_and_links
    ),
}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_generated_topologies_are_accepted_and_plan_soundly(name, tmp_path_factory):
    family = FAMILIES[name]
    root = tmp_path_factory.mktemp(name)
    planned: list[str] = []
    counter = itertools.count()

    @settings(
        max_examples=family.examples,
        deadline=None,
        derandomize=bool(os.environ.get("CI")),
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(family.strategy())
    def plan_one(data):
        folder = root / f"t{next(counter):04d}"  # hypothesis replays failing examples: never reuse a folder
        folder.mkdir()
        stack = folder / "stack.yaml"
        stack.write_text(yaml.safe_dump(data, sort_keys=False))
        try:
            topology = validate_data(data, str(stack))
        except TopologyError as exc:
            raise AssertionError(f"a valid topology was refused:\n{exc}") from None
        recording = run_program(str(stack), topology)
        problems = invariants.check(recording)
        assert problems == [], f"{stack}:\n" + "\n".join(problems)
        if family.check is not None:
            family.check(recording)
        write_plan(Plan(topology, recording), folder / "plan")
        planned.append(str(stack))

    plan_one()
    assert len(planned) >= family.examples
    result = run_oracle(Path(root))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " 0 problems" in result.stdout or "0 problems" in result.stdout.splitlines()[-1]
