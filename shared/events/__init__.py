"""Events: articles from different outlets about one happening, grouped above the copy clusters."""
