"""Creation order the API server enforces and mocks do not: a namespaced object created before its Namespace is
refused ("namespaces "kafka" not found"). Found by the real engine (tests/realk8s) on the prod stack."""

from __future__ import annotations

import pytest

from tests.conftest import STACK_FILES, STACK_IDS
from tools.plan.harness import Registration, unwrap


def _closure(reg: Registration, by_urn: dict[str, Registration]) -> set[str]:
    seen: set[str] = set()
    todo = list(reg.dependencies)
    while todo:
        urn = todo.pop()
        if urn not in seen and urn in by_urn:
            seen.add(urn)
            todo += by_urn[urn].dependencies
    return seen


@pytest.mark.parametrize("path", STACK_FILES, ids=STACK_IDS)
def test_every_namespaced_object_waits_for_its_namespace(program, path):
    rec = program(path.relative_to(path.parents[1]))
    by_urn = rec.by_urn()
    namespaces = {
        (r.provider, unwrap(r.inputs)["metadata"]["name"]): r.urn
        for r in rec.registrations
        if r.type == "kubernetes:core/v1:Namespace"
    }
    late = []
    for reg in rec.registrations:
        inputs = unwrap(reg.inputs)
        namespace = (inputs.get("metadata") or {}).get("namespace") or inputs.get("namespace")
        if not reg.custom or reg.read or not namespace or not reg.type.startswith("kubernetes:"):
            continue
        if namespaces[(reg.provider, namespace)] not in _closure(reg, by_urn):
            late.append(reg.urn)
    assert late == [], f"{len(late)} objects may be sent before their namespace exists:\n" + "\n".join(late[:10])
