"""Route53 failover: ``python -m tools.failover`` (``__main__.py`` runs ``cli.main``).

Owns: the command (``cli``: arguments, output, exit statuses, and driving the Kafka operations of
``tools.switchover``); what each verb changes and applying it (``actions``); reading one stack's Route53 state with
bounded calls and the errors an operator sees (``zone``); judging a snapshot against the stack and what Route53 would
answer (``answer``); the zone a stack declares, for ``--offline`` (``offline``), through the translation of the
declared DNS resources into Route53 API calls (``route53``).

Deliberately not here: the Kafka side of switchover, failover and failback (``tools.switchover``), deciding the
records (``components.dns_records``), and seeding a test zone with those calls (``tests/route53_seed.py``). No
imports here, so importing one module of the group does not import the others.
"""
