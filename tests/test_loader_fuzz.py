"""The loader under random input: whatever bytes or mutations arrive, the only exception that escapes is
``TopologyError`` (never a KeyError, a RecursionError or a pydantic internals error)."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stacks.loader import TopologyError, parse_yaml, validate_data
from tests.conftest import STACK_FILES

VALID = [yaml.safe_load(p.read_text()) for p in STACK_FILES]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True), st.text(max_size=30))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)


def _load(raw: bytes) -> None:
    try:
        validate_data(parse_yaml(raw, "fuzz.yaml"), "fuzz.yaml")
    except TopologyError as exc:
        assert exc.problems, "a TopologyError always says what is wrong"


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_only_ever_raise_a_topology_error(raw):
    _load(raw)


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("abc:-[]{}&*!|>'\"#\n 0123,.?%@`")), max_size=200))
def test_random_yaml_like_text_only_ever_raises_a_topology_error(text):
    _load(text.encode())


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@SETTINGS
@given(st.sampled_from(range(len(VALID))), st.data())
def test_random_mutations_of_valid_files_only_ever_raise_a_topology_error(index, data):
    doc = copy.deepcopy(VALID[index])
    paths = _paths(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent: Any = doc
        try:
            for part in path[:-1]:
                parent = parent[part]
            action = data.draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = data.draw(values)
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[data.draw(st.text(max_size=10))] = data.draw(values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    _load(yaml.safe_dump(doc).encode())
