"""Text handling: normalisation, the plain newsroom format, URL canonicalisation, content hashes."""
