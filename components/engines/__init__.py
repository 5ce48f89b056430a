"""The replication engines, one folder each (``mirrormaker2/``, ``cluster_linking/``), and what every engine
answers (``base``). Which module is which engine: ``components.variants``.

Nothing is imported here: importing one engine does not import the others.
"""
