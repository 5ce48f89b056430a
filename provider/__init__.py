"""The kafka-multiregion component package's plugin directory (PulumiPlugin.yaml, the entry point, the schema).

The code is ``components.package``; this directory holds what the Pulumi CLI runs and reads. A directory of its own
because the plugin runs the directory's ``__main__.py``, and the repository root's is the program.
"""
