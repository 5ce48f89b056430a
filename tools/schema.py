"""The topology's JSON Schema and the reference generated from it: ``python -m tools.schema [--check]``.

    python -m tools.schema            write stacks/topology.schema.json and docs/topology.md
    python -m tools.schema --check    exit 1 when either committed file is not what the model makes (make test)

Owns: rendering the schema from the model (``Topology.model_json_schema()``) plus what pydantic cannot put in it
but the validator does accept or refuse, so an editor agrees with ``tools.validate`` where a schema can: top-level
``x-`` keys and YAML merge keys (``<<``) accepted, as the loader accepts them; the region-code pattern, DNS-label
names (environment, namespace, users, domains), Kafka's topic-name characters, at least two regions, the Kafka
versions Strimzi runs, an odd controller count; and the replication section chosen by ``engine`` the way the
model's discriminator chooses it (MirrorMaker 2 when the key is left out). Every pattern comes from the model's
own constants, never a copy. And rendering ``docs/topology.md``, the key-by-key reference, from that schema.

Deliberately not here: the cross-field rules a schema cannot express (``tools.validate`` runs them, with the
path, the bad value and the fix), and what any key means beyond its description (the model owns those texts).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from stacks.loader import EXTENSION_PREFIX
from stacks.model import AWS_REGION_RE, DNS1123_LABEL_RE, KAFKA_VERSIONS, TOPIC_NAME_RE, Topology

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "stacks" / "topology.schema.json"
REFERENCE = ROOT / "docs" / "topology.md"

MERGE_KEY = "<<"
_MERGE = {
    "description": "A YAML merge key (`<<: *anchor`): the anchored mapping's keys, which keys written beside it override.",
    "anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}],
}


def _dns_label_names(max_length: int) -> dict[str, Any]:
    """Mapping keys that must be DNS labels (a merge key is a key too)."""
    label = {"pattern": DNS1123_LABEL_RE.pattern, "maxLength": max_length}
    return {"anyOf": [{"const": MERGE_KEY}, label]}


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def schema() -> dict[str, Any]:
    out: dict[str, Any] = Topology.model_json_schema()
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["title"] = "kafka-multiregion topology"
    defs, top = out["$defs"], out["properties"]
    # The loader drops top-level 'x-' keys (they hold anchors) and resolves merge keys in every mapping.
    out["patternProperties"] = {
        f"^{EXTENSION_PREFIX}": {"description": "Not a setting: a place for YAML anchors (`x-pool: &pool {...}`), ignored."}
    }
    for node in list(_objects(out)):  # listed first: the merge key's own schema holds objects
        node.setdefault("properties", {})[MERGE_KEY] = _MERGE
    # Rules the model checks in validators, where pydantic writes no schema.
    top["environment"]["pattern"] = DNS1123_LABEL_RE.pattern
    top["regions"]["minItems"] = 2
    top["users"]["propertyNames"] = _dns_label_names(63)
    top["domains"]["propertyNames"] = _dns_label_names(20)
    topic_name = {"pattern": TOPIC_NAME_RE.pattern, "not": {"enum": [".", ".."]}}
    top["topics"]["propertyNames"] = {"anyOf": [{"const": MERGE_KEY}, topic_name]}
    region = defs["Region"]["properties"]
    region["name"]["pattern"] = AWS_REGION_RE.pattern
    region["namespace"]["pattern"] = DNS1123_LABEL_RE.pattern
    kafka = defs["KafkaCluster"]["properties"]
    kafka["version"]["enum"] = list(KAFKA_VERSIONS)
    kafka["controllers"]["not"] = {"multipleOf": 2}
    kafka["zones"]["uniqueItems"] = True
    # The model picks the replication class by `engine`, MirrorMaker 2 when it is left out; a plain oneOf would
    # refuse `replication: {}` (both classes accept it), which the validator takes.
    mm2, links = (b["$ref"] for b in top["replication"].pop("oneOf"))
    top["replication"].update(
        {
            "if": {"required": ["engine"], "properties": {"engine": {"const": "cluster-linking"}}},
            "then": {"$ref": links},
            "else": {"$ref": mm2},
        }
    )
    return out


def render() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


# ------------------------------------------------------------------------------------------ the reference


def _anchor(name: str) -> str:
    return name.lower()


def _enum_values(node: dict[str, Any]) -> list[Any] | None:
    if "enum" in node:
        return list(node["enum"])
    if "const" in node:
        return [node["const"]]
    return None


def _code(value: Any) -> str:
    return f"`{json.dumps(value) if not isinstance(value, str) else value}`"


class _Reference:
    """Markdown tables, one per object of the schema, in the order a reader meets them from the top."""

    def __init__(self, full: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = full["$defs"]
        self.order: list[str] = []

    def ref(self, node: dict[str, Any]) -> str | None:
        ref = node.get("$ref")
        return str(ref).rsplit("/", 1)[-1] if ref else None

    def kind(self, node: dict[str, Any]) -> str:
        """The type of a value, in words, with links to the objects it holds."""
        name = self.ref(node)
        if name is not None:
            target = self.defs[name]
            values = _enum_values(target)
            if values is not None:
                return "one of " + ", ".join(_code(v) for v in values)
            if name not in self.order:
                self.order.append(name)
            return f"[{name}](#{_anchor(name)})"
        for combinator in ("anyOf", "oneOf"):
            if combinator in node:
                parts = [self.kind(n) for n in node[combinator] if n.get("type") != "null"]
                nullable = any(n.get("type") == "null" for n in node[combinator])
                return " or ".join(parts) + (" or null" if nullable else "")
        if "if" in node:
            return f"{self.kind(node['then'])} when `engine: cluster-linking`, else {self.kind(node['else'])}"
        values = _enum_values(node)
        if values is not None:
            return "one of " + ", ".join(_code(v) for v in values)
        typ = node.get("type")
        if typ == "array":
            return "list of " + self.kind(node.get("items", {})) + self.limits(node)
        if typ == "object":
            values_node = node.get("additionalProperties")
            if isinstance(values_node, dict):
                return "mapping of name to " + self.kind(values_node) + self.limits(node)
            return "mapping"
        if typ is None:
            return "any value"
        return str(typ) + self.limits(node)

    def limits(self, node: dict[str, Any]) -> str:
        said: list[str] = []
        checks: list[tuple[str, Callable[[Any], str]]] = [
            ("minimum", lambda v: f">= {v}"),
            ("exclusiveMinimum", lambda v: f"> {v}"),
            ("maximum", lambda v: f"<= {v}"),
            ("minLength", lambda v: f"at least {v} characters"),
            ("maxLength", lambda v: f"at most {v} characters"),
            ("minItems", lambda v: f"at least {v}"),
            ("maxItems", lambda v: f"at most {v}"),
            ("pattern", lambda v: f"matching `{v}`"),
        ]
        said += [fmt(node[key]) for key, fmt in checks if key in node]
        if node.get("uniqueItems"):
            said.append("no repeats")
        if node.get("not") == {"multipleOf": 2}:
            said.append("odd")
        names = node.get("propertyNames")
        if names:
            rule = next((b for b in names.get("anyOf", [names]) if "const" not in b), names)
            said.append(f"names {self.limits(rule).strip(' ()')}")
        return f" ({', '.join(said)})" if said else ""

    def table(self, node: dict[str, Any]) -> list[str]:
        required = set(node.get("required", []))
        rows = ["| key | type | default | description |", "|---|---|---|---|"]
        for key, prop in sorted(node.get("properties", {}).items()):
            if key == MERGE_KEY:
                continue
            default = "required" if key in required else (_code(prop["default"]) if "default" in prop else "")
            description = " ".join(str(prop.get("description", "")).split())
            cells = [f"`{key}`", self.kind(prop), default, description]
            # '|' would end the cell; '<name>' would be taken for an HTML tag and vanish.
            cells = [c.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;") for c in cells]
            rows.append("| " + " | ".join(cells) + " |")
        return rows

    def render(self, full: dict[str, Any]) -> str:
        lines = [
            "# Topology reference",
            "",
            "<!-- Generated by `python -m tools.schema` from stacks/topology.schema.json; do not edit by hand. -->",
            "",
            "Every key of a topology file, generated from the JSON Schema that editors use "
            "(`stacks/topology.schema.json`, itself generated from `stacks/model/`); `make test` fails when this page "
            "is stale. A key's type here is what the schema checks; the rules that span keys (replication factor "
            "against brokers, roles per architecture, residency, names that collide...) are checked by "
            "`python -m tools.validate`, which prints each problem with its path, the bad value and the fix. How to "
            "write a file, with examples: [Writing a topology](topologies.md).",
            "",
            "Any mapping may use YAML merge keys (`<<: *anchor`), and top-level keys starting with "
            f"`{EXTENSION_PREFIX}` are ignored, so they can hold the anchors.",
            "",
            "## Topology",
            "",
            " ".join(str(full.get("description", "")).split()),
            "",
            *self.table(full),
        ]
        done: set[str] = set()
        while len(done) < len(self.order):
            name = next(n for n in self.order if n not in done)
            done.add(name)
            node = self.defs[name]
            lines += ["", f"## {name}", ""]
            if node.get("description"):
                lines += [" ".join(str(node["description"]).split()), ""]
            lines += self.table(node)
        return "\n".join(lines) + "\n"


def render_reference(full: dict[str, Any] | None = None) -> str:
    full = full if full is not None else schema()
    return _Reference(full).render(full)


# ------------------------------------------------------------------------------------------ entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.schema", description="Write (or --check) the schema and the reference."
    )
    parser.add_argument("--out", type=Path, default=DEFAULT, help="the JSON Schema (default stacks/topology.schema.json)")
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="the Markdown reference (default docs/topology.md)")
    parser.add_argument("--check", action="store_true", help="exit 1 when either file is not current; write nothing")
    args = parser.parse_args(argv)
    full = schema()
    wanted = {args.out: json.dumps(full, indent=2, sort_keys=True) + "\n", args.reference: render_reference(full)}
    if args.check:
        stale = [path for path, text in wanted.items() if (path.read_text() if path.exists() else "") != text]
        for path in stale:
            print(f"{path} is stale; run: python -m tools.schema", file=sys.stderr)
        if not stale:
            print(" and ".join(str(p) for p in wanted) + " are current")
        return 1 if stale else 0
    for path, text in wanted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
