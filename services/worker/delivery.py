"""Outbound delivery of saved-search matches as signed webhooks — issue 5."""
