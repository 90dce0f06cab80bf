"""Outbound delivery of saved-search matches as Standard Webhooks: settings, signing, target checks."""
