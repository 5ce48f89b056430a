"""The operator's tools, grouped by job; each group is a package, each command ``python -m tools.<name>``.

``validate``, ``schema`` and ``bench`` are single-module commands; ``plan`` (planning and pull-request diffs) and
``failover`` (Route53 failover, and the Kafka operations of ``switchover``) are packages with a ``__main__``.
Test support lives under ``tests/``, not here.
"""
