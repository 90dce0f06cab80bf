"""The ``tidings`` command line: bulk ingest, search, and administration."""
