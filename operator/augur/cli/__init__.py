"""The ``augur`` command line."""
