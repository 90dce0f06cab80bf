"""Feed polling tasks — issue 6."""
