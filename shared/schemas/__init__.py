"""Pydantic schemas of the wire format, shared by the services and the client."""
