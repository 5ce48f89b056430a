"""What every rule reports: the path inside the topology, and the message with the fix.

Owns: ``Loc`` (a path inside the topology, as pydantic writes one) and ``Errors`` (the list each rule appends its
``(path, message)`` to; ``stacks.loader`` turns each into a ``Problem`` with the value found at the path).

Deliberately not here: the rules (the other ``stacks.rules`` modules) and the messages' rendering (``stacks.loader``).
"""

from __future__ import annotations

Loc = tuple[str | int, ...]
Errors = list[tuple[Loc, str]]
