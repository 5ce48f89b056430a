"""The MirrorMaker 2 engine: its flow plans and bodies (``bodies``), components (``components``), metrics and alerts (``metrics``), the engine the registry names (``engine``) and the record formats its switchover reads (``records``).

Nothing is imported here: importing one module of the variant does not import the others.
"""
