"""Write the topology's JSON Schema: ``python -m tools.schema [--out stacks/topology.schema.json] [--check]``.

Editors point at it (``# yaml-language-server: $schema=...`` in each stack file) for completion and
inline errors. ``--check`` exits 1 when the committed file is stale. The schema covers field shapes only;
the cross-field rules run in ``tools.validate``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stacks.model import Topology

DEFAULT = Path(__file__).resolve().parent.parent / "stacks" / "topology.schema.json"


def render() -> str:
    schema = Topology.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "kafka-multiregion topology"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.schema")
    parser.add_argument("--out", type=Path, default=DEFAULT)
    parser.add_argument("--check", action="store_true", help="fail when the file is not current")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale; run: python -m tools.schema", file=sys.stderr)
            return 1
        print(f"{args.out} is current")
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
