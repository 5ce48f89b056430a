"""Write the component package's schema: ``python -m provider.schema [--out provider/schema.json] [--check]``.

What `pulumi package get-schema provider` prints (the Python SDK infers it from ``components.package``'s types),
generated in-process, so no Python language host is needed. Committed so a change to the package's interface is
seen in review; ``--check`` exits 1 when the committed file is stale, like ``tools.schema --check``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.package import schema_json

DEFAULT = Path(__file__).resolve().parent / "schema.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m provider.schema")
    parser.add_argument("--out", type=Path, default=DEFAULT)
    parser.add_argument("--check", action="store_true", help="fail when the file is not current")
    args = parser.parse_args(argv)
    text = schema_json()
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale; run: python -m provider.schema", file=sys.stderr)
            return 1
        print(f"{args.out} is current")
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
