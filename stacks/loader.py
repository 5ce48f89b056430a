"""Reading a stack file into a validated ``Topology``, and turning every failure into a message a person can act on.

Owns: the YAML reading rules (one mapping per file, no duplicate keys, bounded size and aliases, UTF-8),
the one way a ``Topology`` is made (``validate_data``: the model, then the cross-field rules of ``stacks.rules``),
the path notation used in messages (``regions[1].kafka.brokers``, ``topics.orders.replication_factor``),
the "did you mean" suggestions, and ``TopologyError``, the one exception that leaves this module.

Deliberately not here: the model (``stacks.model``), the rules themselves (``stacks.rules``) and how a tool prints
or exits (``tools``).
"""

from __future__ import annotations

import difflib
import functools
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from stacks import rules
from stacks.model import Topology

MAX_FILE_BYTES = 1_000_000
MAX_VALUES = 500_000  # a 2,000-topic, 500-user estate is about 20,000
MAX_DEPTH = 40
EXTENSION_PREFIX = "x-"


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    value: str | None = None

    def render(self, source: str) -> str:
        got = f" (got {self.value})" if self.value is not None else ""
        where = f"{self.path}: " if self.path else ""
        return f"{source}: {where}{self.message}{got}"


class TopologyError(Exception):
    """A stack file that cannot become a topology; ``problems`` lists every reason with its path."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(p.render(source) for p in problems))


class _Refused(yaml.YAMLError):
    """A YAML document we refuse although PyYAML would read it; the message already says the fix."""


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present


class _StrictLoader(_BaseLoader):  # type: ignore[valid-type, misc]
    """Safe loading that refuses duplicate keys (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # '<<: *defaults' (YAML 1.1 merge keys): its keys may be overridden, that is the point
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, typing.Hashable) and key in seen:
                line = key_node.start_mark.line + 1
                raise _Refused(f"line {line}: key {key!r} appears twice in one mapping; keep one")
            seen.add(key)
        # SafeConstructor.construct_mapping flattens merge keys itself (explicit keys win over merged ones).
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _check_size(root: Any) -> None:
    """Bound nesting and the expanded size. Aliases share nodes, so a few lines can stand for billions of
    values ("billion laughs"); walking the document with a budget catches that before anything else does."""
    budget = MAX_VALUES
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise _Refused(f"expands to more than {MAX_VALUES} values (nested YAML aliases?); write the values out plainly")
        if depth > MAX_DEPTH:
            raise _Refused(f"nesting deeper than {MAX_DEPTH} levels; a topology is never that deep")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def read_bytes(path: Path | str) -> bytes:
    """The file's bytes; ``TopologyError`` when it is missing, a directory or unreadable."""
    source = str(path)
    p = Path(path)
    try:
        if p.is_dir():
            raise TopologyError(source, [Problem("", "is a directory; give the path of a stack file such as stacks/dev.yaml")])
        return p.read_bytes()
    except FileNotFoundError:
        raise TopologyError(
            source, [Problem("", "no such file; check the path (stack files live in stacks/ and examples/)")]
        ) from None
    except OSError as exc:
        raise TopologyError(source, [Problem("", f"cannot be read ({exc.strerror}); check its permissions")]) from None


def parse_yaml(raw: bytes, source: str) -> Any:
    if len(raw) > MAX_FILE_BYTES:
        raise TopologyError(source, [Problem("", f"is {len(raw)} bytes; a topology file is at most {MAX_FILE_BYTES} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TopologyError(source, [Problem("", f"is not UTF-8 text (byte {exc.start}); save it as UTF-8")]) from None
    if not text.strip():
        raise TopologyError(source, [Problem("", "is empty; start from stacks/dev.yaml")])
    try:
        loader = _StrictLoader(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
        _check_size(data)
    except _Refused as exc:
        raise TopologyError(source, [Problem("", f"is refused: {exc}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc)
        raise TopologyError(source, [Problem("", f"is not valid YAML: {where}{what}; fix the syntax there")]) from None
    except RecursionError:
        raise TopologyError(source, [Problem("", "nests too deeply to be a topology")]) from None
    if data is None:
        raise TopologyError(source, [Problem("", "holds no settings (only comments); start from stacks/dev.yaml")])
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise TopologyError(
            source, [Problem("", f"holds {kind}, not a mapping; a topology starts with keys such as 'environment:'")]
        )
    # Top-level 'x-' keys hold anchors for reuse (the Compose convention); they are not settings.
    return {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith(EXTENSION_PREFIX))}


def load_topology(path: Path | str) -> Topology:
    """Read and validate a stack file. The only exception it raises for bad input is ``TopologyError``."""
    return _validated(read_bytes(path), str(path))


@functools.lru_cache(maxsize=8)
def _validated(raw: bytes, source: str) -> Topology:
    # Keyed by the file's bytes, so an edited file is read afresh. An offline plan validates a stack file twice
    # (the tool before it runs the program, then the program itself); the model is frozen, so they can share it.
    # Failures raise and are not cached.
    return validate_data(parse_yaml(raw, source), source)


def validate_data(data: Any, source: str) -> Topology:
    """The topology ``data`` declares: the model's classes check each value, then ``stacks.rules`` every rule that
    spans fields; ``TopologyError`` with every problem found otherwise."""
    try:
        topology = Topology.model_validate(data)
        errors = rules.check(topology)
    except ValidationError as exc:
        raise TopologyError(source, _problems(exc, data)) from None
    except RecursionError:
        raise TopologyError(source, [Problem("", "nests too deeply to be a topology")]) from None
    if errors:
        raise TopologyError(source, [Problem(format_path(loc), msg, _show(_value_at(data, loc))) for loc, msg in errors])
    return topology


# ------------------------------------------------------------------------------------------ messages


def format_path(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "." in part or " " in part:
            out += f"[{part!r}]"
        else:
            out += ("." if out else "") + part
    return out


_TAGS = {
    "kubeconfig",
    "context",
    "mirrormaker2",
    "cluster-linking",
    "function-after",
    "function-plain",
    "str",
    "int",
    "float",
    "bool",
}


def _clean_loc(loc: tuple[str | int, ...], data: Any) -> tuple[str | int, ...]:
    """Drop pydantic's union-member segments (discriminator tags, 'function-after') that are not in the file."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(part, str) and part in _TAGS and not (isinstance(node, dict) and part in node):
            continue
        if part == "[key]":
            continue
        out.append(part)
        node = _step(node, part)
    return tuple(out)


def _step(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _value_at(data: Any, loc: tuple[str | int, ...]) -> Any:
    node = data
    for part in loc:
        node = _step(node, part)
    return node


def _fields_at(loc: tuple[str | int, ...], data: Any) -> list[str]:
    """Field names of the model that sits at ``loc`` (for "did you mean")."""
    candidates: list[Any] = [Topology]
    node = data
    for part in loc:
        nxt: list[Any] = []
        for ann in candidates:
            for model in _models_in(ann, node):
                if isinstance(part, str) and part in model.model_fields:
                    nxt.append(model.model_fields[part].annotation)
            if isinstance(part, int) or not any(_models_in(ann, node)):
                nxt.extend(_inner(ann))
        candidates = nxt
        node = _step(node, part)
    names: set[str] = set()
    for ann in candidates:
        for model in _models_in(ann, node):
            names.update(model.model_fields)
    return sorted(names)


def _models_in(ann: Any, node: Any) -> list[type[BaseModel]]:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    if typing.get_origin(ann) in (typing.Union, types.UnionType, typing.Annotated):
        return [m for a in typing.get_args(ann) for m in _models_in(a, node)]
    return []


def _inner(ann: Any) -> list[Any]:
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return [i for a in args for i in _inner(a)]
    if origin is tuple:
        return [args[0]] if args else []
    if origin is dict:
        return [args[1]] if len(args) == 2 else []
    return []


_FIXES: dict[str, str] = {
    "missing": "add it",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "int_from_float": "write a whole number",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write a string (quote it)",
    "dict_type": "write a mapping of keys to values",
    "model_type": "write a mapping of keys to values",
    "tuple_type": "write a list",
    "list_type": "write a list",
}


def _problems(exc: ValidationError, data: Any) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        ctx = err.get("ctx") or {}
        loc = _clean_loc(tuple(err["loc"]), data)
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        value = _show(err.get("input")) if kind != "missing" else None
        if kind == "extra_forbidden":
            key = loc[-1] if loc else ""
            known = _fields_at(loc[:-1], data)
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            if str(key) in known:  # a discriminated union: another variant of this section has the key
                hint = "it belongs to another kind of this section (e.g. the other replication engine), not this one; remove it"
            else:
                hint = f"did you mean {close[0]!r}?" if close else f"known keys here: {', '.join(known)}"
            problems.append(Problem(format_path(loc), f"unknown key {key!r}; {hint}"))
            continue
        if kind == "union_tag_invalid":
            msg = f"{ctx.get('discriminator')} {ctx.get('tag')!r} is not one of {ctx.get('expected_tags')}"
            value = None
        elif kind == "union_tag_not_found":
            msg = f"say which kind this is with the key {ctx.get('discriminator')}"
        fix = _FIXES.get(kind)
        if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than", "too_short", "too_long"):
            fix = "change the value to fit the limit"
        elif kind in ("enum", "literal_error"):
            fix = f"use one of {ctx.get('expected')}"
        elif kind == "string_pattern_mismatch":
            fix = "correct the format"
        text = f"{msg}; {fix}" if fix else msg
        problems.append(Problem(format_path(loc), text, value))
    return problems


def _show(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict | list):
        text = f"a {'mapping' if isinstance(value, dict) else 'list'} of {len(value)}"
        return text
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
