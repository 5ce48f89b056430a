"""The Strimzi flavor: its bodies (``bodies``), its components (``cluster``, ``users``) and the flavor the registry names (``flavor``).

Nothing is imported here: importing one module of the variant does not import the others.
"""
