"""Ingest service: validates articles, stores them durably, answers 202 and queues the work."""
