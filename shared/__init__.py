"""Tidings shared library: settings, database models, wire schemas and the pure domain engines.

Every service imports from here; nothing here imports a service.
"""
