"""Dedup maintenance tasks (index expiry) — issue 3."""
