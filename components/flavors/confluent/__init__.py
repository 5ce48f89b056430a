"""The Confluent for Kubernetes flavor: its bodies (``bodies``) and its components and flavor (``flavor``).

Nothing is imported here: importing one module of the variant does not import the others.
"""
