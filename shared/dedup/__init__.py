"""Deduplication: exact keys, MinHash/LSH near-duplicate detection, verification, clusters.

The pure engine (``shingles``, ``minhash``, ``similarity``, ``keys``, ``engine``) works on text and numbers
only; ``index`` and ``clusters`` keep the shared, race-free index and the clusters in PostgreSQL.
"""
