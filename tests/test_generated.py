"""Generated topologies (``tests.generated``): across all four architectures on MirrorMaker 2, and Cluster Linking's
served architectures on Confluent for Kubernetes; every one the generator makes is accepted, plans, keeps every
plan invariant, and its manifests pass the upstream schemas (Strimzi's, or CFK 2.9.3's).

A topology the model refuses here is a rule applied where it should not be (or a generator that strays from
the documented rules): either is a defect, and the failure names the file and the problem. In CI the
examples are derandomized, so a failure there reproduces; locally each run explores anew.
"""

from __future__ import annotations

import itertools
import json
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
from tests.conftest import ROOT, run_oracle
from tests.generated import cluster_linking_topologies, topologies
from tests.test_confluent import _check_regions_and_links
from tools.plan import invariants
from tools.plan.cli import write_plan
from tools.plan.harness import Recording, run_program
from tools.plan.recorded import Plan


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


def _schema_paths(node: dict[str, Any], defs: dict[str, Any], path: str = "", depth: int = 0) -> set[str]:
    """Every field path of the JSON schema ('.regions[].kafka.brokers', '.topics{}.config')."""
    if depth > 12:
        return set()
    if "$ref" in node:
        return _schema_paths(defs[node["$ref"].rsplit("/", 1)[-1]], defs, path, depth + 1)
    out: set[str] = set()
    for branch in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(branch, []):
            out |= _schema_paths(sub, defs, path, depth + 1)
    for key, sub in (node.get("properties") or {}).items():
        out |= {f"{path}.{key}"} | _schema_paths(sub, defs, f"{path}.{key}", depth + 1)
    if isinstance(node.get("items"), dict):
        out |= _schema_paths(node["items"], defs, f"{path}[]", depth + 1)
    if isinstance(node.get("additionalProperties"), dict):
        out |= _schema_paths(node["additionalProperties"], defs, f"{path}{{}}", depth + 1)
    return out


MAPPINGS = ("domains", "tenants", "topics", "users")  # their keys are names, not fields


def _data_paths(value: Any, path: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            here = f"{path}{{}}" if path.rsplit(".", 1)[-1] in MAPPINGS else f"{path}.{key}"
            if path.endswith(".config") or path.endswith("}.config"):
                continue  # Kafka's own keys, judged by the key tables
            out |= {here} | _data_paths(sub, here)
    elif isinstance(value, list):
        for item in value:
            out |= _data_paths(item, f"{path}[]")
    return out


def test_the_generator_reaches_every_field_of_the_schema():
    """Issue 25: classes of defects hid where the generator never went. Every field a user may write is drawn by one
    of the two families (derandomized, 300 examples each)."""
    schema = json.loads((ROOT / "stacks/topology.schema.json").read_text())
    fields = _schema_paths(schema, schema.get("$defs", {}))
    reached: set[str] = set()
    for family in FAMILIES.values():

        @settings(max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
        @given(family.strategy())
        def collect(data):
            reached.update(_data_paths(data))

        collect()
    # YAML merge keys ('<<') are syntax the schema admits, not settings.
    assert sorted(f for f in fields - reached if "<<" not in f) == []
