"""The Cluster Linking engine: the engine the registry names, its bodies, metrics and alerts (``engine``), and its switchover operations (``links``, ``switchover``).

Nothing is imported here: importing one module of the variant does not import the others.
"""
