"""Planning and pull-request diffs: ``python -m tools.plan`` (``__main__.py`` runs ``cli.main``).

Owns: running the real program offline under Pulumi mocks and recording what it registers (``harness``); the plan
as the other modules read it (``recorded``: ``Plan`` and the region of each registration); the invariants every
plan is held to (``invariants``, ``invariants_upstream``); presenting a plan and the command (``cli``); the diff
of two plans by URN (``diff``), the base side of a diff planned with a git ref's own code (``refplan``), and the
reviewer's view of a diff (``review``, ``review_elements``).

Deliberately not here: validation rules (``stacks``), resource bodies (``components``), failing over
(``tools.failover``), and test support (real certificates for the mocks: ``tests/pki_mock.py``). No imports here,
so importing one module of the group does not import the others.
"""
