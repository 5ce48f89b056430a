"""Validate stack files: ``python -m tools.validate FILE...``.

Prints ``ok: FILE (N regions, T topics, U users)`` for each valid file and every problem of each invalid one
(path, bad value, fix). Exit status 0 when all are valid, 2 otherwise. Never a traceback for bad input.

Deliberately not here: the rules (``stacks.rules``) and the messages (``stacks.loader``).
"""

from __future__ import annotations

import argparse
import sys

from stacks.loader import TopologyError, load_topology


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.validate", description="Validate topology stack files.")
    parser.add_argument("files", nargs="+", metavar="FILE")
    args = parser.parse_args(argv)
    status = 0
    for path in args.files:
        try:
            t = load_topology(path)
        except TopologyError as exc:
            print(exc, file=sys.stderr)
            status = 2
            continue
        flows = len(t.flows)
        print(f"ok: {path} ({len(t.regions)} regions, {len(t.topics)} topics, {len(t.users)} users, {flows} flows)")
    return status


if __name__ == "__main__":
    sys.exit(main())
