"""Benchmarks: speed and quality figures, written to ``benchmarks/results/*.json``."""
