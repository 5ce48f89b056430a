"""The cluster flavors, one folder each (``strimzi/``, ``confluent/``), and what every flavor answers (``base``).

A flavor says how a regional cluster, its listeners, its users and its topics are declared: it builds a
region's cluster and users components (``build_region``), names the Services holding its load balancers (DNS
reads them) and the addresses and Secrets other parts reach its Kafka by, and gives clients their SASL
settings. Which module is which flavor: ``components.variants``; its model facts: ``stacks.flavors``.

Nothing is imported here: importing one flavor does not import the others.
"""
