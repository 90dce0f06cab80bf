"""The Tidings services: one application per folder; none imports another."""
