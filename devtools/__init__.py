"""Developer tooling: `make run`, `make test` and the benchmarks. Not imported by the services."""
