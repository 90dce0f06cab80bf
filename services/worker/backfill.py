"""Backfill tasks: re-tag recent articles after a rule or tagger change — issue 4."""
