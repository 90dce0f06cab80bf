"""Ingestion channels as pure functions: feed, wire-format and HTML parsers that map what partners send to
Tidings article fields, Standard Webhooks signing, and the address checks that keep feed polling off
private networks. No I/O against the database or the queue happens here."""
