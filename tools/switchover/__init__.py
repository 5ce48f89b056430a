"""Kafka switchover, failover and failback of an active-passive stack, run by ``python -m tools.failover``.

Owns: the steps of each operation, their order, the progress record and what ``status`` says of it (``steps``);
the Kafka calls of a MirrorMaker 2 stack, every one bounded, and the write fence through Kafka's Admin API
(``kafka_admin``); the write fence where Strimzi's User Operator keeps it, in the KafkaUsers' specs
(``kube_fence``).

Deliberately not here: parsing arguments and printing (``tools.failover.cli``), Route53 switches
(``tools.failover.actions``), and each replication engine's own operations (MirrorMaker's record formats, Cluster
Linking's mirror-topic steps and REST calls: the engines' folders). No command of its own (``tools.failover`` is
the command), and no imports here, so importing one module of the group does not import the others.
"""
